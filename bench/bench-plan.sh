#!/bin/sh
# `stackctl plan` of a running 10-service stack (started by stackctl, so
# every container carries its config-hash label) against what the same
# question costs with compose: `docker-compose config` (the desired side)
# plus `docker-compose ps` (the actual side). hyperfine when installed,
# else a timed loop. Then a one-service change: `stackctl apply` against
# `docker-compose up -d` of the whole stack. The report goes to OUTDIR/plan.md. Needs a running
# Docker engine, docker-compose and the test bed's image berth/debian:bookworm.
# Cleans up what it starts.
# Usage: bench-plan.sh OUTDIR (tools on PATH; BENCH_LABEL names the build).
set -eu
out=$1
n=${PLAN_BENCH_SERVICES:-10}
runs=${PLAN_BENCH_RUNS:-20}
label=${BENCH_LABEL:-release build}
if ! docker info >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    echo "bench: plan needs a running Docker engine and docker-compose; skipped" >&2
    exit 0
fi
if ! docker image inspect berth/debian:bookworm >/dev/null 2>&1; then
    echo "bench: image berth/debian:bookworm missing (tests/bed/images.sh); skipped" >&2
    exit 0
fi
work=$(mktemp -d)
name="planbench$$"
cleanup() {
    docker-compose -p "$name" -f "$work/$name/compose.yaml" down -t 1 >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME" "$work/$name"
{
    echo "services:"
    i=1
    while [ "$i" -le "$n" ]; do
        cat <<EOF
  svc$i:
    image: berth/debian:bookworm
    command: ["sleep", "infinity"]
    init: true
    restart: unless-stopped
    environment:
      INDEX: "$i"
EOF
        i=$((i + 1))
    done
} > "$work/$name/compose.yaml"
registry add "$work/$name" --name "$name" >/dev/null 2>&1
stackctl start "$name" --timeout 120 2>"$work/start.log" || { cat "$work/start.log" >&2; exit 1; }
stackctl plan "$name" >/dev/null || { echo "bench: the plan after start is not empty" >&2; exit 1; }
compose="docker-compose -p $name -f $work/$name/compose.yaml"
ours="stackctl plan $name"
theirs="$compose config >/dev/null && $compose ps >/dev/null"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --warmup 2 --runs "$runs" --export-json "$work/plan.json" \
        --command-name "stackctl plan ($n services)" "$ours" \
        --command-name "docker-compose config + ps" "$theirs" >&2
    python3 - "$work/plan.json" "$n" "$label" "$(docker-compose version --short 2>/dev/null)" > "$out/plan.md" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
n, label, compose = sys.argv[2], sys.argv[3], sys.argv[4]
print(f"# stackctl plan of a running {n}-service stack ({label})\n")
print("| command | mean (ms) | median (ms) | stddev (ms) | min (ms) | max (ms) |")
print("|---|---:|---:|---:|---:|---:|")
for r in results:
    print(f"| {r['command']} | {r['mean']*1000:.1f} | {statistics.median(r['times'])*1000:.1f} "
          f"| {r['stddev']*1000:.1f} | {min(r['times'])*1000:.1f} | {max(r['times'])*1000:.1f} |")
ours, theirs = results
print(f"\n`stackctl plan` is **{theirs['mean']/ours['mean']:.0f}x** faster than "
      f"`docker-compose config` + `docker-compose ps` (v{compose}) on the same project "
      f"({ours['mean']*1000:.0f} ms against {theirs['mean']*1000:.0f} ms).")
PY
else
    loop() {
        t0=$(date +%s%N)
        i=0
        while [ "$i" -lt "$runs" ]; do
            sh -c "$1" >/dev/null 2>&1 || true
            i=$((i + 1))
        done
        t1=$(date +%s%N)
        echo $(((t1 - t0) / runs / 1000000))
    }
    a=$(loop "$ours")
    b=$(loop "$theirs")
    {
        echo "# stackctl plan of a running $n-service stack ($label; no hyperfine: mean of a $runs-run loop)"
        echo
        echo "| command | mean (ms) |"
        echo "|---|---:|"
        echo "| stackctl plan ($n services) | $a |"
        echo "| docker-compose config + ps | $b |"
    } > "$out/plan.md"
fi

# A one-service change: `stackctl apply` against `docker-compose up -d` of
# the whole stack (which recreates the one changed service too), each after
# its own edit of svc1's INDEX; a few timed runs each.
apply_runs=${PLAN_BENCH_APPLY_RUNS:-5}
ms() { echo $(($(date +%s%N) / 1000000)); }
flip() { sed -i "0,/INDEX: \"[^\"]*\"/s//INDEX: \"$1\"/" "$work/$name/compose.yaml"; }
ours_ms=""
theirs_ms=""
k=1
while [ "$k" -le "$apply_runs" ]; do
    flip "a$k"
    t0=$(ms)
    stackctl apply "$name" --yes >/dev/null 2>&1
    ours_ms="$ours_ms $(($(ms) - t0))"
    flip "b$k"
    t0=$(ms)
    $compose -f "$work/$name/.berth/compose.hash.yaml" up -d >/dev/null 2>&1
    theirs_ms="$theirs_ms $(($(ms) - t0))"
    # Back to what stackctl recorded, for the next apply.
    stackctl apply "$name" --yes >/dev/null 2>&1
    k=$((k + 1))
done
# The lists are our own numbers, split on purpose.
# shellcheck disable=SC2086
median() { echo "$@" | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# shellcheck disable=SC2086
{
    echo
    echo "# A one-service change of the running $n-service stack ($label; $apply_runs runs each)"
    echo
    echo "| command | median (ms) | runs (ms) |"
    echo "|---|---:|---|"
    echo "| stackctl apply --yes (recreates svc1) | $(median $ours_ms) |$ours_ms |"
    echo "| docker-compose up -d (whole stack; recreates svc1) | $(median $theirs_ms) |$theirs_ms |"
} >> "$out/plan.md"
cat "$out/plan.md"
