#!/usr/bin/env bash
# End-to-end check of the test bed (run after tests/bed/setup.sh):
#   1. postgres:16 with POSTGRES_PASSWORD: host psql through a published
#      127.0.0.1 port, wrong password refused, `docker exec pg_dump` works
#   2. mariadb:11 with MARIADB_*: host client through a published port,
#      `docker exec mariadb-dump` works, healthcheck.sh passes
#   3. docker-compose (v1) with healthchecks + depends_on service_healthy,
#      container-to-container traffic by service name, a published port,
#      and `down -v` removing containers, network and volumes
#   4. host servers from services.sh (postgres + mariadb) start, answer, stop
#   5. a `docker build` FROM berth/debian:bookworm (via a build arg): venv,
#      node, npm, and pip over TLS to PyPI (BED_VERIFY_OFFLINE=1 skips that)
# Prints "verify: <check> ok" per check and exits non-zero on the first failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TAG="berth-bed-verify-$$"
PROJECT="berthbedverify$$"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cleanup() {
	docker rm -fv "$TAG-pg" "$TAG-mdb" >/dev/null 2>&1 || true
	docker rmi -f "$TAG-app" >/dev/null 2>&1 || true
	docker-compose -p "$PROJECT" -f "$HERE/compose-smoke.yml" down -v >/dev/null 2>&1 || true
	[ -z "${PG_DIR:-}" ] || "$HERE/services.sh" stop "$PG_DIR" 2>/dev/null || true
	[ -z "${MDB_DIR:-}" ] || "$HERE/services.sh" stop "$MDB_DIR" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
	echo "verify: FAILED: $*" >&2
	exit 1
}

wait_for() { # seconds cmd...
	local n="$1"
	shift
	local deadline=$((SECONDS + n))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

# 1. postgres image
t=$SECONDS
port="$(free_port)"
docker run -d --name "$TAG-pg" -e POSTGRES_PASSWORD=secret -p "127.0.0.1:$port:5432" postgres:16 >/dev/null
wait_for 60 docker exec "$TAG-pg" pg_isready -U postgres || fail "postgres:16 not ready"
wait_for 30 env PGPASSWORD=secret psql -h 127.0.0.1 -p "$port" -U postgres -Atc 'select 1' ||
	fail "host psql through 127.0.0.1:$port"
[ "$(PGPASSWORD=secret psql -h 127.0.0.1 -p "$port" -U postgres -Atc 'select 6*7')" = 42 ] || fail "psql query"
if PGPASSWORD=wrong psql -h 127.0.0.1 -p "$port" -U postgres -Atc 'select 1' >/dev/null 2>&1; then
	fail "postgres accepted a wrong password"
fi
dump="$(docker exec "$TAG-pg" pg_dump -U postgres postgres)" || fail "docker exec pg_dump"
grep -q 'PostgreSQL database dump' <<<"$dump" || fail "pg_dump output"
docker rm -fv "$TAG-pg" >/dev/null
echo "verify: postgres:16 image ok ($((SECONDS - t))s)"

# 2. mariadb image
t=$SECONDS
port="$(free_port)"
docker run -d --name "$TAG-mdb" -e MARIADB_ROOT_PASSWORD=secret -e MARIADB_DATABASE=app \
	-e MARIADB_USER=app -e MARIADB_PASSWORD=apppw -p "127.0.0.1:$port:3306" mariadb:11 >/dev/null
wait_for 90 docker exec "$TAG-mdb" healthcheck.sh --connect || fail "mariadb:11 not healthy"
wait_for 30 mariadb -h 127.0.0.1 -P "$port" -u app -papppw app -e 'select 1' ||
	fail "host mariadb client through 127.0.0.1:$port"
mariadb -h 127.0.0.1 -P "$port" -u app -papppw app -e 'create table t (x int); insert into t values (42)'
dump="$(docker exec "$TAG-mdb" mariadb-dump -uroot -psecret app)" || fail "docker exec mariadb-dump"
# shellcheck disable=SC2016 # literal backticks
grep -q 'INSERT INTO `t` VALUES' <<<"$dump" || fail "mariadb-dump output"
docker exec "$TAG-mdb" mysqldump -uapp -papppw app >/dev/null || fail "docker exec mysqldump"
docker rm -fv "$TAG-mdb" >/dev/null
echo "verify: mariadb:11 image ok ($((SECONDS - t))s)"

# 3. docker-compose v1
t=$SECONDS
export BED_SMOKE_PG_PORT
BED_SMOKE_PG_PORT="$(free_port)"
compose=(docker-compose -p "$PROJECT" -f "$HERE/compose-smoke.yml")
"${compose[@]}" up -d >/dev/null 2>&1 || { "${compose[@]}" logs --no-color | tail -n 40 >&2; fail "compose up"; }
wait_for 60 sh -c "docker-compose -p $PROJECT -f '$HERE/compose-smoke.yml' logs app | grep -q app-connected-to-db" ||
	{ "${compose[@]}" logs --no-color | tail -n 40 >&2; fail "compose app did not reach db"; }
wait_for 30 env PGPASSWORD=pgpw psql -h 127.0.0.1 -p "$BED_SMOKE_PG_PORT" -U postgres -d app -Atc 'select 1' ||
	fail "compose published port"
"${compose[@]}" down -v >/dev/null 2>&1 || fail "compose down -v"
left="$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")"
left+="$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")"
left+="$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")"
[ -z "$left" ] || fail "compose down -v left: $left"
echo "verify: docker-compose healthcheck/depends_on/network/ports/down -v ok ($((SECONDS - t))s)"

# 4. host servers
t=$SECONDS
eval "$("$HERE/services.sh" postgres 2>/dev/null)"
PG_DIR="$BED_PG_DIR"
[ "$(PGPASSWORD="$BED_PG_PASSWORD" psql "$BED_PG_URL" -Atc 'select 1')" = 1 ] || fail "host postgres"
eval "$("$HERE/services.sh" mariadb 2>/dev/null)"
MDB_DIR="$BED_MARIADB_DIR"
mariadb -h "$BED_MARIADB_HOST" -P "$BED_MARIADB_PORT" -u"$BED_MARIADB_USER" -p"$BED_MARIADB_PASSWORD" \
	"$BED_MARIADB_DB" -e 'select 1' >/dev/null || fail "host mariadb"
"$HERE/services.sh" stop "$PG_DIR" 2>/dev/null
"$HERE/services.sh" stop "$MDB_DIR" 2>/dev/null
PG_DIR="" MDB_DIR=""
echo "verify: host postgres + mariadb servers ok ($((SECONDS - t))s)"

# 5. base image for app containers, used through a build arg as generated
#    Dockerfiles do; TLS to PyPI from a build (skip: BED_VERIFY_OFFLINE=1)
t=$SECONDS
ctx="$(mktemp -d)"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE_IMAGE=debian:bookworm
FROM ${BASE_IMAGE}
ARG ONLINE=1
RUN python3 -m venv /venv && /venv/bin/python -c 'import ssl' && node -e 'process.exit(0)' && npm --version >/dev/null \
 && if [ "$ONLINE" = 1 ]; then curl -sSf -o /dev/null https://pypi.org/simple/pip/ && /venv/bin/pip install -q six==1.17.0; fi
DOCKERFILE
online=1
[ "${BED_VERIFY_OFFLINE:-0}" != 1 ] || online=0
docker build -q -t "$TAG-app" --build-arg BASE_IMAGE=berth/debian:bookworm --build-arg "ONLINE=$online" "$ctx" >/dev/null 2>"$ctx/build.log" ||
	{ tail -n 20 "$ctx/build.log" >&2; rm -rf "$ctx"; fail "docker build FROM berth/debian:bookworm"; }
docker rmi "$TAG-app" >/dev/null
rm -rf "$ctx"
echo "verify: berth/debian:bookworm build (python3 venv, node, npm$([ "$online" = 0 ] || echo ', pip over TLS')) ok ($((SECONDS - t))s)"

echo "verify: all checks ok"
