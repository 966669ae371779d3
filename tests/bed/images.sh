#!/usr/bin/env bash
# Build the test bed's container images locally (no registry is reachable):
# a Debian bookworm rootfs made by mmdebstrap, streamed into `docker import`.
#
#   tests/bed/images.sh [postgres] [mariadb] [base]    (default: all three)
#
#   postgres -> postgres:16, postgres:15   (Debian's PostgreSQL 15)
#   mariadb  -> mariadb:11, mariadb:10, mysql:8   (Debian's MariaDB 10.11)
#   base     -> berth/debian:bookworm   (python3, pip, venv, nodejs, npm, curl)
#
# An image is reused when every tag exists with the label berth.bed.recipe
# equal to the hash of this script plus the image's own files; otherwise it
# is rebuilt.  Env:
#   BERTH_IMAGES_REBUILD=1    rebuild even when up to date
#   BERTH_DEBIAN_MIRROR       default http://deb.debian.org/debian
#   BERTH_DEBIAN_SECURITY     default http://deb.debian.org/debian-security
#   BERTH_BED_LOG_DIR         where mmdebstrap logs go (default /tmp/berth-bed)
#   BERTH_BED_TMPDIR          mmdebstrap's work dir (default /dev/shm if tmpfs)
# Prints one line per image: "image NAME: built|up to date (tags) [Ns]".
# Needs a running engine (tests/bed/dockerd.sh) and mmdebstrap, as root.
#
# The mmdebstrap hooks below are single-quoted on purpose: mmdebstrap runs
# them with the chroot directory as $1.
# shellcheck disable=SC2016
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${BERTH_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
LOG_DIR="${BERTH_BED_LOG_DIR:-/tmp/berth-bed}"
mkdir -p "$LOG_DIR"

# mmdebstrap's chroot goes to a tmpfs when there is one with room: on this
# kind of VM the disk is slow at many small writes/unlinks, and the base image
# took 260 s on disk against ~50 s on /dev/shm.
if [ -z "${BERTH_BED_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(stat -f -c %T /dev/shm)" = tmpfs ] &&
	[ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -gt 3000000 ]; then
	BERTH_BED_TMPDIR=/dev/shm
fi
MMDEBSTRAP_TMPDIR="${BERTH_BED_TMPDIR:-${TMPDIR:-/tmp}}"

BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Common mmdebstrap options: minbase, no recommends, no docs/man/locales.
MMDEBSTRAP_OPTS=(
	--variant=minbase --mode=root --format=tar
	--aptopt='APT::Install-Recommends "false"'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
)

recipe_hash() { # files...
	cat "${BASH_SOURCE[0]}" "$@" | sha256sum | cut -c1-16
}

# up_to_date HASH TAG...: all tags exist and carry the recipe label.
up_to_date() {
	local hash="$1" tag
	shift
	[ "${BERTH_IMAGES_REBUILD:-0}" != 1 ] || return 1
	for tag in "$@"; do
		[ "$(docker image inspect -f '{{index .Config.Labels "berth.bed.recipe"}}' "$tag" 2>/dev/null)" = "$hash" ] || return 1
	done
}

# build NAME HASH "TAGS" "PACKAGES" [--stopsignal SIG] -- HOOK_OPTS... -- IMPORT_CHANGES...
build() {
	local name="$1" hash="$2" tags="$3" pkgs="$4"
	shift 4
	local stopsignal=""
	if [ "${1:-}" = --stopsignal ]; then
		stopsignal="$2"
		shift 2
	fi
	[ "$1" = -- ] && shift
	local hooks=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		hooks+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	local changes=() c
	for c in "$@"; do changes+=(--change "$c"); done
	changes+=(--change "LABEL berth.bed.recipe=$hash")

	# shellcheck disable=SC2086 # tags is a space-separated list
	set -- $tags
	local first="$1" t start=$SECONDS
	if up_to_date "$hash" "$@"; then
		echo "image $name: up to date ($*)"
		return 0
	fi

	local tmp="berth-bed-rootfs:$name"
	local log="$LOG_DIR/mmdebstrap-$name.log"
	TMPDIR="$MMDEBSTRAP_TMPDIR" mmdebstrap "${MMDEBSTRAP_OPTS[@]}" --include="$pkgs" "${hooks[@]}" \
		bookworm - \
		"deb $MIRROR bookworm main" \
		"deb $MIRROR bookworm-updates main" \
		"deb $SECURITY bookworm-security main" \
		</dev/null 2>"$log" |
		docker import "${changes[@]}" - "$tmp" >/dev/null ||
		{
			echo "image $name: FAILED, see $log" >&2
			tail -n 30 "$log" >&2
			return 1
		}

	if [ -n "$stopsignal" ]; then
		# `docker import --change` cannot set STOPSIGNAL: one metadata-only layer.
		local tflags=()
		for t in "$@"; do tflags+=(-t "$t"); done
		printf 'FROM %s\nSTOPSIGNAL %s\n' "$tmp" "$stopsignal" |
			docker build -q "${tflags[@]}" - >/dev/null 2>>"$log" ||
			{
				echo "image $name: docker build (STOPSIGNAL layer) FAILED, see $log" >&2
				return 1
			}
		docker rmi "$tmp" >/dev/null
	else
		for t in "$@"; do docker tag "$tmp" "$t"; done
		docker rmi "$tmp" >/dev/null
	fi
	docker image prune -f --filter "label=berth.bed.recipe" >/dev/null 2>&1 || true
	echo "image $name: built ($*) in $((SECONDS - start))s, $(docker image inspect -f '{{.Size}}' "$first" | awk '{printf "%d MB", $1/1000000}')"
}

q() { printf '%q' "$1"; }

# JIT support pulls in libllvm14 + libz3 (~130 MB); tests never need JIT.
# Without llvmjit.so PostgreSQL just reports jit as unavailable.
PG_DROP_JIT='chroot "$1" dpkg --purge --force-depends libllvm14 libz3-4 >/dev/null 2>&1 && rm -rf "$1/usr/lib/postgresql/15/lib/llvmjit.so" "$1/usr/lib/postgresql/15/lib/llvmjit_types.bc" "$1/usr/lib/postgresql/15/lib/bitcode"'

build_postgres() {
	local ep="$HERE/postgres-entrypoint.sh"
	build postgres "$(recipe_hash "$ep")" "postgres:16 postgres:15" \
		"postgresql-15,postgresql-client-15,xz-utils,zstd" \
		--stopsignal SIGINT -- \
		--customize-hook='rm -rf "$1/etc/postgresql/15/main" "$1/var/lib/postgresql/15"' \
		--customize-hook="$PG_DROP_JIT" \
		--customize-hook="install -m 0755 $(q "$ep") \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
		--customize-hook='mkdir -p "$1/docker-entrypoint-initdb.d" "$1/var/lib/postgresql/data" "$1/run/postgresql"' \
		--customize-hook='chroot "$1" chown -R postgres:postgres /var/lib/postgresql /run/postgresql' \
		--customize-hook='chmod 3777 "$1/run/postgresql"' \
		-- \
		"ENV PATH=/usr/lib/postgresql/15/bin:$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'ENV PGDATA=/var/lib/postgresql/data' \
		'ENV PG_MAJOR=15' \
		'VOLUME /var/lib/postgresql/data' \
		'EXPOSE 5432' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["postgres"]'
}

build_mariadb() {
	local ep="$HERE/mariadb-entrypoint.sh" hc="$HERE/mariadb-healthcheck.sh"
	build mariadb "$(recipe_hash "$ep" "$hc")" "mariadb:11 mariadb:10 mysql:8" \
		"mariadb-server,mariadb-client,xz-utils,zstd" -- \
		--customize-hook='rm -rf "$1/var/lib/mysql" && mkdir -p "$1/var/lib/mysql" "$1/run/mysqld" "$1/docker-entrypoint-initdb.d"' \
		--customize-hook='chroot "$1" chown mysql:mysql /var/lib/mysql /run/mysqld' \
		--customize-hook='printf "[mysqld]\nbind-address = 0.0.0.0\nport = 3306\nskip-name-resolve\nhost-cache-size = 0\n" >"$1/etc/mysql/mariadb.conf.d/99-docker.cnf"' \
		--customize-hook="install -m 0755 $(q "$ep") \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
		--customize-hook="install -m 0755 $(q "$hc") \"\$1/usr/local/bin/healthcheck.sh\"" \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'VOLUME /var/lib/mysql' \
		'EXPOSE 3306' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["mariadbd"]'
}

# Local CA certificates of the host (/usr/local/share/ca-certificates): the
# sandbox's egress goes through a TLS-intercepting proxy whose CA is installed
# there, so builds of app images (pip/npm) need it too.  Copied into the base
# image and activated with update-ca-certificates; part of its recipe hash.
HOST_CA_DIR=/usr/local/share/ca-certificates
host_cas() { [ -d "$HOST_CA_DIR" ] && find "$HOST_CA_DIR" -name '*.crt' -type f | sort; }
COPY_HOST_CAS='if [ -n "$(find /usr/local/share/ca-certificates -name "*.crt" -type f 2>/dev/null)" ]; then cp -r /usr/local/share/ca-certificates/. "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null 2>&1; fi'

build_base() {
	local cas=()
	mapfile -t cas < <(host_cas)
	build base "$(recipe_hash "${cas[@]}")" "berth/debian:bookworm" \
		"python3,python3-pip,python3-venv,nodejs,npm,curl,ca-certificates" -- \
		--customize-hook="$COPY_HOST_CAS" \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
		'CMD ["bash"]'
}

# One build at a time (tests may call this concurrently).
exec 9>"${TMPDIR:-/tmp}/berth-bed-images.lock"
flock 9

if ! docker info >/dev/null 2>&1; then
	echo "images.sh: no docker engine; run tests/bed/dockerd.sh first" >&2
	exit 1
fi

[ "$#" -gt 0 ] || set -- postgres mariadb base
for img in "$@"; do
	case "$img" in
	postgres) build_postgres ;;
	mariadb) build_mariadb ;;
	base) build_base ;;
	*)
		echo "images.sh: unknown image '$img' (postgres|mariadb|base)" >&2
		exit 2
		;;
	esac
done
