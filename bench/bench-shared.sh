#!/bin/sh
# Shared servers (issue 13): five Django projects with PostgreSQL and Redis
# each, per-project stacks against the same five with PostgreSQL from
# `shared` (one PostgreSQL, a database and a user each; one Redis, an ACL
# user and key prefix each). Reports the total container
# memory of each setup (`docker stats --no-stream`, every container of the
# five projects and of the shared services) and the ratio, and `stackctl
# start` of one project with its own database against one in shared mode
# with the shared server already running (from stopped containers each
# run). Needs the engine, the bed's python:3.12-slim, postgres:16 and
# redis:7, and django-admin (tests/bed/setup.sh, .ci/install-deps).
# Usage: bench-shared.sh OUTDIR (tools on PATH).
set -eu
out=$1
work=$(mktemp -d)
runs=${BENCH_SHARED_RUNS:-8}
n=${BENCH_SHARED_PROJECTS:-5}
shared=bench-shared-$$
names() { i=1; while [ "$i" -le "$n" ]; do echo "$1$i"; i=$((i + 1)); done; }
cleanup() {
    for h in own shared; do
        for p in $(names "b$h"); do
            BERTH_HOME="$work/$h" stackctl -q down "$p" --with-data --yes >/dev/null 2>&1 || true
        done
    done
    BERTH_HOME="$work/shared" shared -q down --yes >/dev/null 2>&1 || true
    docker volume rm "$shared-postgres-data" "$shared-redis-data" >/dev/null 2>&1 || true
    docker network rm "$shared" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/own" "$work/shared"
printf 'shared:\n  name: %s\n' "$shared" > "$work/shared/config.yaml"

# The sum of MemUsage of the containers whose names start with one of $@.
memory() {
    docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' | awk -v pre="$*" '
        BEGIN { n = split(pre, ps, " ") }
        { ok = 0; for (i = 1; i <= n; i++) if (index($1, ps[i]) == 1) ok = 1
          if (!ok) next
          v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
          f = (u == "GiB") ? 1024 : (u == "KiB" || u == "kB") ? 1 / 1024 : (u == "B") ? 1 / 1048576 : 1
          total += v * f; count++ }
        END { printf "%.1f %d\n", total, count }'
}

setup() { # HOME-KIND EXTRA-ARGS...
    kind=$1; shift
    for p in $(names "b$kind"); do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        (cd "$work" && BERTH_HOME="$work/$kind" stackgen -q new django "$p" --dir "$work/$p" \
            --services postgres,redis --port "$port" "$@" --json | BERTH_HOME="$work/$kind" registry -q add -)
        BERTH_HOME="$work/$kind" stackctl -q start "$p" --timeout 900s
    done
}

setup own
sleep 5
# shellcheck disable=SC2046 # one word a project name
own=$(memory $(names bown))
for p in $(names bown); do BERTH_HOME="$work/own" stackctl -q stop "$p"; done
setup shared --shared postgres,redis
sleep 5
# shellcheck disable=SC2046 # one word a project name
sh=$(memory $(names bshared) "$shared-")

hyperfine --warmup 1 --runs "$runs" --export-json "$work/start.json" \
    --prepare "BERTH_HOME=$work/own stackctl -q stop bown1 >/dev/null 2>&1" \
    --command-name 'stackctl start (own PostgreSQL)' \
    "BERTH_HOME=$work/own stackctl -q start bown1" \
    --prepare "BERTH_HOME=$work/shared stackctl -q stop bshared1 >/dev/null 2>&1" \
    --command-name 'stackctl start (shared PostgreSQL and Redis running)' \
    "BERTH_HOME=$work/shared stackctl -q start bshared1" >&2

python3 - "$work" "$own" "$sh" "$n" > "$out/shared.md" <<'PY'
import json, sys
work, own, sh, n = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4]
print(f"# shared servers: {n} Django projects with PostgreSQL and Redis\n")
print("| setup | containers | memory MiB |")
print("|---|---|---|")
print(f"| per-project stacks | {own[1]} | {float(own[0]):.1f} |")
print(f"| PostgreSQL and Redis from shared | {sh[1]} | {float(sh[0]):.1f} |")
print(f"\nratio shared / per-project: {float(sh[0]) / float(own[0]):.2f}\n")
print("| command | mean ms | stddev ms | median ms | min ms | max ms |")
print("|---|---|---|---|---|---|")
for r in json.load(open(f"{work}/start.json"))["results"]:
    t = [x * 1000 for x in r["times"]]
    print(f"| {r['command']} | {r['mean']*1000:.0f} | {r['stddev']*1000:.0f} | {r['median']*1000:.0f} | {min(t):.0f} | {max(t):.0f} |")
PY
cat "$out/shared.md"
