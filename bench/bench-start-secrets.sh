#!/bin/sh
# stackctl start with the project's secrets in the store (read, decrypted
# and handed to compose through its environment) against the same project
# under `secrets: plain` (the value in .env). One PostgreSQL service, no
# published port; each run starts from stopped containers (--prepare stops
# them). Needs the engine and the postgres:16 image (tests/bed/setup.sh).
# Usage: bench-start-secrets.sh OUTDIR (tools on PATH).
set -eu
out=$1
work=$(mktemp -d)
runs=${BENCH_START_RUNS:-8}
cleanup() {
    for h in store plain; do
        BERTH_HOME="$work/$h" stackctl -q down "bench-$h" --yes >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
for h in store plain; do
    mkdir -p "$work/$h" "$work/bench-$h"
    # shellcheck disable=SC2016 # compose interpolates ${DB_PASSWORD}, not the shell
    printf 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${DB_PASSWORD}\n' \
        > "$work/bench-$h/compose.yaml"
    BERTH_HOME="$work/$h" registry -q add "$work/bench-$h" >/dev/null
done
printf 'secrets: plain\n' > "$work/plain/config.yaml"
printf 'DB_PASSWORD=plain-bench-password\n' > "$work/bench-plain/.env"
BERTH_HOME="$work/store" secrets -q set bench-store DB_PASSWORD --generate alnum32

hyperfine --warmup 1 --runs "$runs" --export-json "$work/start.json" \
    --prepare "BERTH_HOME=$work/store stackctl -q stop bench-store >/dev/null 2>&1" \
    --command-name 'stackctl start (secrets in the store)' \
    "BERTH_HOME=$work/store stackctl -q start bench-store" \
    --prepare "BERTH_HOME=$work/plain stackctl -q stop bench-plain >/dev/null 2>&1" \
    --command-name 'stackctl start (secrets: plain)' \
    "BERTH_HOME=$work/plain stackctl -q start bench-plain" >&2

python3 - "$work" > "$out/start-secrets.md" <<'PY'
import json, sys
rs = json.load(open(f"{sys.argv[1]}/start.json"))["results"]
print("# stackctl start, secrets in the store against plain\n")
print("| command | mean ms | stddev ms | median ms | min ms | max ms |")
print("|---|---|---|---|---|---|")
for r in rs:
    t = [x * 1000 for x in r["times"]]
    print(f"| {r['command']} | {r['mean']*1000:.0f} | {r['stddev']*1000:.0f} | {r['median']*1000:.0f} | {min(t):.0f} | {max(t):.0f} |")
print(f"\nstore minus plain (medians): {(rs[0]['median'] - rs[1]['median']) * 1000:.0f} ms")
PY
cat "$out/start-secrets.md"
