#!/bin/sh
# stackctl status for 20 registered projects with running containers (one
# engine query for all of them) against `docker-compose ps` run for each of
# them, in one hyperfine run; then, on a small warm stack (an HTTP app
# without a healthcheck, image present, containers stopped): `stackctl
# start` against `docker-compose up -d` plus a curl loop until the first
# 200, the time from the app's first 200 to the return of `stackctl start`,
# and `stackctl exec` against `docker exec`. The report goes to
# OUTDIR/stackctl.md; STACKCTL_BENCH_PROJECTS=0 skips the status part.
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
status_bench() {
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
}
: > "$out/stackctl.md"
if [ "$n" -gt 0 ]; then
    status_bench
fi

# A small warm stack: the app answers HTTP a moment after its container starts.
app="$prefix-app"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/$app"
cat > "$work/$app/compose.yaml" <<YAML
services:
  web:
    image: berth/debian:bookworm
    command: ["python3", "-m", "http.server", "8000"]
    stop_signal: SIGINT
    ports: ["127.0.0.1:$port:8000"]
    labels:
      berth.bench: "$prefix"
YAML
registry add "$work/$app" --name "$app" --port "$port" >/dev/null 2>&1
stackctl start "$app" --timeout 120 2>"$work/start.log" || { cat "$work/start.log" >&2; exit 1; }
stackctl stop "$app" --timeout 5 >/dev/null 2>&1
compose="docker-compose -p $app -f $work/$app/compose.yaml"
curl_loop="until curl -fsS -o /dev/null http://127.0.0.1:$port/ 2>/dev/null; do sleep 0.02; done"
hyperfine --warmup 1 --runs 10 --export-json "$work/start.json" \
    --prepare "stackctl stop $app --timeout 5" \
    --command-name "stackctl start (returns when the app answers)" "stackctl start $app" \
    --command-name "docker-compose up -d, then curl until the first 200" "$compose up -d 2>/dev/null && $curl_loop" >&2

# From the app's first 200 (a poller every 5 ms) to start's return.
python3 - "$app" "$port" 10 > "$work/lag.txt" <<'PY'
import subprocess, sys, threading, time, urllib.request
app, port, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lags = []
for _ in range(runs):
    subprocess.run(["stackctl", "stop", app, "--timeout", "5"], check=True, stderr=subprocess.DEVNULL)
    first = []
    def poll():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        first.append(time.monotonic())
                        return
            except Exception:
                pass
            time.sleep(0.005)
    t = threading.Thread(target=poll)
    t.start()
    subprocess.run(["stackctl", "start", app], check=True, stderr=subprocess.DEVNULL, timeout=180)
    done = time.monotonic()
    t.join(timeout=5)
    if first:
        lags.append((done - first[0]) * 1000)
lags.sort()
print(f"{lags[len(lags) // 2]:.0f} {lags[-1]:.0f} {len(lags)}")
PY
read -r lag_median lag_max lag_runs < "$work/lag.txt"

stackctl start "$app" >/dev/null 2>&1
container=$(docker ps -q --filter "label=com.docker.compose.project=$app" | head -n 1)
hyperfine --warmup 3 --runs 30 -N --export-json "$work/exec.json" \
    --command-name "stackctl exec $app -- true" "stackctl exec $app -- true" \
    --command-name "docker exec CONTAINER true" "docker exec $container true" >&2
# stackctl's own work before it becomes the engine's CLI, apart from the
# engine's noise: the same two with a `docker` that is /bin/true.
mkdir -p "$work/fakebin"
ln -sf /bin/true "$work/fakebin/docker"
sc=$(command -v stackctl)
hyperfine --warmup 5 --runs 100 -N --export-json "$work/exec-own.json" \
    --command-name "stackctl exec (docker = /bin/true)" "env PATH=$work/fakebin $sc exec $app -- true" \
    --command-name "docker exec (docker = /bin/true)" "env PATH=$work/fakebin docker exec $container true" >&2

python3 - "$work/start.json" "$work/exec.json" "$work/exec-own.json" "$lag_median" "$lag_max" "$lag_runs" "$(docker-compose version --short 2>/dev/null)" >> "$out/stackctl.md" <<'PY'
import json, statistics, sys
start = json.load(open(sys.argv[1]))["results"]
exe = json.load(open(sys.argv[2]))["results"]
own = json.load(open(sys.argv[3]))["results"]
lag_median, lag_max, lag_runs, compose = sys.argv[4:8]
def row(r):
    med = statistics.median(r["times"]) * 1000
    return (f"| {r['command']} | {r['mean']*1000:.0f} | {med:.0f} | {r['stddev']*1000:.0f} "
            f"| {min(r['times'])*1000:.0f} | {max(r['times'])*1000:.0f} |")
head = "| command | mean (ms) | median (ms) | stddev (ms) | min (ms) | max (ms) |\n|---|---:|---:|---:|---:|---:|"
print("\n# stackctl start of a warm small stack (one HTTP app without a healthcheck)\n")
print(head)
for r in start:
    print(row(r))
ours, theirs = start
print(f"\n`stackctl start` takes **{ours['mean']/theirs['mean']:.2f}x** the time of `docker-compose up -d` "
      f"(v{compose}) followed by a curl loop (20 ms) until the first 200.")
print(f"From the app's first 200 (polled every 5 ms) to the return of `stackctl start`: "
      f"median **{lag_median} ms**, max {lag_max} ms ({lag_runs} starts).\n")
print("# stackctl exec against docker exec\n")
print(head)
for r in exe:
    print(row(r))
ours, theirs = exe
over = (ours["mean"] - theirs["mean"]) * 1000
over_med = (statistics.median(ours["times"]) - statistics.median(theirs["times"])) * 1000
print(f"\n`stackctl exec` overhead over `docker exec`: **{over:.1f} ms** mean, {over_med:.1f} ms median.")
print("\nstackctl's own work, the engine's CLI replaced by /bin/true:\n")
print(head)
for r in own:
    print(row(r))
ours, theirs = own
own_med = (statistics.median(ours["times"]) - statistics.median(theirs["times"])) * 1000
print(f"\nOverhead: **{own_med:.1f} ms** median, {(ours['mean'] - theirs['mean']) * 1000:.1f} ms mean.")
PY
cat "$out/stackctl.md"
