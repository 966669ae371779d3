#!/bin/sh
# stackctl status for 20 registered projects with running containers (one
# engine query for all of them) against `docker-compose ps` run for each of
# them, in one hyperfine run; the ratio goes to OUTDIR/stackctl.md.
# Needs a running Docker engine, docker-compose and the test bed's image
# berth/debian:bookworm (tests/bed/images.sh). Cleans up what it starts.
# Usage: bench-stackctl.sh OUTDIR (tools on PATH).
set -eu
out=$1
n=${STACKCTL_BENCH_PROJECTS:-20}
if ! docker info >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    echo "bench: stackctl needs a running Docker engine and docker-compose; skipped" >&2
    exit 0
fi
if ! docker image inspect berth/debian:bookworm >/dev/null 2>&1; then
    echo "bench: image berth/debian:bookworm missing (tests/bed/images.sh); skipped" >&2
    exit 0
fi
work=$(mktemp -d)
prefix="scbench$$"
cleanup() {
    for id in $(docker ps -aq --filter "label=berth.bench=$prefix"); do
        docker rm -f -v "$id" >/dev/null 2>&1 || true
    done
    for id in $(docker network ls -q --filter "label=berth.bench=$prefix"); do
        docker network rm "$id" >/dev/null 2>&1 || true
    done
    i=1
    while [ "$i" -le "$n" ]; do
        docker network rm "$prefix-$i""_default" >/dev/null 2>&1 || true
        i=$((i + 1))
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME"

names=""
ps_loop="$work/compose-ps.sh"
echo 'set -e' > "$ps_loop"
i=1
while [ "$i" -le "$n" ]; do
    name="$prefix-$i"
    mkdir -p "$work/$name"
    cat > "$work/$name/compose.yaml" <<EOF
services:
  box:
    image: berth/debian:bookworm
    command: ["sleep", "infinity"]
    init: true
    labels:
      berth.bench: "$prefix"
EOF
    registry add "$work/$name" --name "$name" >/dev/null 2>&1
    echo "docker-compose -p $name -f $work/$name/compose.yaml ps >/dev/null" >> "$ps_loop"
    names="$names $name"
    i=$((i + 1))
done
# shellcheck disable=SC2086 # the names are ours: scbenchPID-N
stackctl start $names --timeout 120 2>"$work/start.log" || { cat "$work/start.log" >&2; exit 1; }
running=$(stackctl status --json | jq '[.[] | select(.status == "running")] | length')
echo "bench: $running of $n projects running" >&2

hyperfine --warmup 2 --runs 10 --export-json "$work/status.json" \
    --command-name "stackctl status --json ($n projects)" "stackctl status --json" \
    --command-name "docker-compose ps, once per project ($n)" "sh $ps_loop" >&2

python3 - "$work/status.json" "$n" "$running" "$(docker-compose version --short 2>/dev/null)" > "$out/stackctl.md" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
n, running, compose = sys.argv[2], sys.argv[3], sys.argv[4]
ours, theirs = results[0], results[1]
print(f"# stackctl status: {n} projects with running containers ({running} running)\n")
print("| command | mean (ms) | stddev (ms) | min (ms) | max (ms) |")
print("|---|---:|---:|---:|---:|")
for r in results:
    print(f"| {r['command']} | {r['mean']*1000:.1f} | {r['stddev']*1000:.1f} | {min(r['times'])*1000:.1f} | {max(r['times'])*1000:.1f} |")
print(f"\n`stackctl status` is **{theirs['mean']/ours['mean']:.1f}x** faster than running "
      f"`docker-compose ps` (v{compose}) for each project: one engine query instead of {n} processes.")
PY
cat "$out/stackctl.md"
