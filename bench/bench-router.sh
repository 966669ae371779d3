#!/bin/sh
# The shared router's route update latency: from the engine's `start` event
# of a project's app container to the first 200 at https://NAME.test through
# Caddy, median over N starts (default 20), against the same app answering
# on its own host port (the app's start-up, which the first figure
# includes). Each round stops the app (`docker stop -t 0`), waits for the
# router's 502, then `docker start`s it and polls with curl every ~10 ms;
# the event's time is the engine's own (`docker events`, TimeNano).
# Needs a running Docker engine, docker-compose, curl, python3 and the bed's
# images caddy:2 and python:3.12-slim (tests/bed/images.sh). Cleans up what
# it starts. Report: OUTDIR/router.md. Usage: bench-router.sh OUTDIR.
set -eu
out=$1
n=${ROUTER_BENCH_STARTS:-20}
if ! docker info >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    echo "bench: router needs a running Docker engine and docker-compose; skipped" >&2
    exit 0
fi
for image in caddy:2 python:3.12-slim; do
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        echo "bench: image $image missing (tests/bed/images.sh); skipped" >&2
        exit 0
    fi
done
work=$(mktemp -d)
name="rbench$$"
app="rb$$app"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http=$(free_port)
https=$(free_port)
appport=$(free_port)
export BERTH_HOME="$work/home"
cleanup() {
    shared router down --yes -q >/dev/null 2>&1 || true
    stackctl down "$app" --yes -q >/dev/null 2>&1 || true
    docker network rm "$name" >/dev/null 2>&1 || true
    cp "$BERTH_HOME/shared/router.log" "$out/router.log" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$BERTH_HOME" "$work/$app"
printf 'shared:\n  name: %s\n  router: {http_port: %s, https_port: %s}\n' "$name" "$http" "$https" > "$BERTH_HOME/config.yaml"
cat > "$work/$app/compose.yaml" <<EOF
services:
  web:
    image: python:3.12-slim
    init: true
    command: ["python3", "-m", "http.server", "8000"]
    ports: ["127.0.0.1:$appport:8000"]
EOF
certgen init -q >/dev/null
registry add "$work/$app" --name "$app" -q
shared router up -q
stackctl start "$app" -q
container=$(docker ps -q --filter "label=com.docker.compose.project=$app" | head -n 1)
now() { date +%s%N; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" || true; }
via_router() { code --resolve "$app.test:$https:127.0.0.1" --cacert "$BERTH_HOME/ca/ca.pem" "https://$app.test:$https/"; }
direct() { code "http://127.0.0.1:$appport/"; }
# round PROBE: stop, wait for the probe to stop answering 200, start, poll
# until 200; prints the ms from the start event to the first 200.
round() {
    docker stop -t 0 "$container" >/dev/null
    while [ "$($1)" = 200 ]; do sleep 0.01; done
    since=$(date +%s.%N)
    docker start "$container" >/dev/null
    while [ "$($1)" != 200 ]; do sleep 0.01; done
    done_at=$(now)
    ev=$(docker events --since "$since" --until "$(date +%s.%N)" --filter "container=$container" --filter event=start --format '{{.TimeNano}}' | tail -n 1)
    echo $(((done_at - ev) / 1000000))
}
: > "$work/router.txt"
: > "$work/direct.txt"
i=1
while [ "$i" -le "$n" ]; do
    round via_router >> "$work/router.txt"
    round direct >> "$work/direct.txt"
    i=$((i + 1))
done
python3 - "$work/router.txt" "$work/direct.txt" "$n" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" > "$out/router.md" <<'PY'
import statistics, sys
r = [int(x) for x in open(sys.argv[1]).read().split()]
d = [int(x) for x in open(sys.argv[2]).read().split()]
n, cpus, load = sys.argv[3:6]
print("## shared router: route update latency\n")
print(f"{n} starts of a python http.server app container ({cpus} CPUs, load {load}); "
      "from the engine's start event (TimeNano) to the first 200, curl every ~10 ms.\n")
print("| to the first 200 at | median (ms) | min (ms) | max (ms) |\n|---|---:|---:|---:|")
print(f"| https://NAME.test through the router | **{statistics.median(r):.0f}** | {min(r)} | {max(r)} |")
print(f"| the app's own port (its start-up) | {statistics.median(d):.0f} | {min(d)} | {max(d)} |")
print(f"\nThe router's share: **{statistics.median(r) - statistics.median(d):.0f} ms** median.")
PY
cat "$out/router.md"
