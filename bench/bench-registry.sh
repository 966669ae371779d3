#!/bin/sh
# registry and ports at scale: a registry of 10,000 projects with 3 published
# ports each; `registry list --json | ports check`, `registry add`, and
# `ports scan` of a 50-service compose file (against Debian's docker-compose).
# Usage: bench-registry.sh OUTDIR (tools on PATH).
set -eu
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME" "$work/new" "$work/big"

python3 - "$work/projects.json" <<'PY'
import json, sys
projects = []
for i in range(10000):
    http = 10000 + i * 3
    projects.append({
        "name": f"project-{i}", "path": f"/srv/code/project-{i}", "domain": f"project-{i}.test",
        "port": http, "stack": "django", "compose_files": [f"/srv/code/project-{i}/compose.yaml"],
        "services": ["web", "db", "cache"],
        "service_ports": [
            {"service": "web", "host_ip": "0.0.0.0", "published": http, "target": 8000, "protocol": "tcp"},
            {"service": "db", "host_ip": "127.0.0.1", "published": http + 1, "target": 5432, "protocol": "tcp"},
            {"service": "cache", "host_ip": "127.0.0.1", "published": http + 2, "target": 6379, "protocol": "tcp"},
        ],
        "exposed_ports": [http, http + 1, http + 2], "environment": {"APP_ENV": "local"},
        "status": "stopped", "registered_at": "2026-01-01T00:00:00Z",
        "last_started": None, "last_updated": "2026-01-01T00:00:00Z",
    })
json.dump(projects, open(sys.argv[1], "w"))
PY
registry import "$work/projects.json" 2>/dev/null
printf 'port_range: 50000-50999\n' > "$BERTH_HOME/config.yaml"
printf '{"name":"one","port":40000}\n' > "$work/one.json"
printf 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n' > "$work/new/compose.yaml"

python3 - "$work/big/compose.yaml" <<'PY'
import sys
lines = ["services:"]
for i in range(50):
    lines += [f"  svc{i}:", "    image: nginx:1.25", "    environment:", f"      NAME: svc{i}",
              "    ports:", f'      - "{20000 + i}:80"', f'      - "127.0.0.1:{21000 + i}:443/tcp"']
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY

size=$(wc -c < "$BERTH_HOME/registry.json")
registry list --json > "$work/list.json"
hyperfine -N --warmup 3 --runs 30 --export-json "$work/pipe.json" -i \
    --command-name 'registry list --json | ports check (10,000 projects)' \
    "sh -c 'registry list --json | ports check'" \
    --command-name 'registry list --json alone' "registry list --json" \
    --command-name 'ports check alone (the same 6.7 MB from a file)' "ports check $work/list.json" >&2
hyperfine -N --warmup 3 --runs 30 --export-json "$work/add.json" \
    --prepare "sh -c 'registry remove new --yes 2>/dev/null || true'" \
    --command-name 'registry add (into 10,000 projects)' \
    "registry add $work/new --name new" >&2
# The adds and removes above left about 66 changes in the journal: the
# pipeline again, now merging them, and what a change costs that writes a
# whole new snapshot (update, status, and the add or remove that finds the
# journal full: one in 512).
changes=$(($(wc -l < "$BERTH_HOME/registry.journal") - 1))
hyperfine -N --warmup 3 --runs 30 --export-json "$work/pipe2.json" -i \
    --command-name "registry list --json | ports check (10,000 projects, $changes journaled changes)" \
    "sh -c 'registry list --json | ports check'" >&2
hyperfine -N --warmup 3 --runs 20 --export-json "$work/status.json" \
    --command-name 'registry import (one project; rewrites the 10,000-project snapshot)' \
    "registry import $work/one.json" >&2

# `registry import` of 20,000 and 80,000 projects into an empty registry
# (it was quadratic: each imported project was looked for among those before).
python3 - "$work/projects.json" "$work/p20k.json" "$work/p80k.json" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))[0]
def make(n):
    out = []
    for i in range(n):
        p = json.loads(json.dumps(base).replace("project-0", f"project-{i}"))
        http = 10000 + (i * 3) % 50000
        p["port"] = http
        for j, b in enumerate(p["service_ports"]):
            b["published"] = http + j
        p["exposed_ports"] = [http, http + 1, http + 2]
        out.append(p)
    return out
json.dump(make(20000), open(sys.argv[2], "w"))
json.dump(make(80000), open(sys.argv[3], "w"))
PY
hyperfine -N --warmup 1 --runs 5 --export-json "$work/import.json" \
    --prepare "rm -rf $work/imp" \
    --command-name 'registry import (20,000 projects, empty registry)' \
    "env BERTH_HOME=$work/imp registry import $work/p20k.json" >&2
hyperfine -N --runs 3 --export-json "$work/import80.json" \
    --prepare "rm -rf $work/imp" \
    --command-name 'registry import (80,000 projects, empty registry)' \
    "env BERTH_HOME=$work/imp registry import $work/p80k.json" >&2

# A realistic size: 50 projects.
export BERTH_HOME="$work/small"
mkdir -p "$BERTH_HOME"
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))[:50], open(sys.argv[2], "w"))' \
    "$work/projects.json" "$work/small.json"
registry import "$work/small.json" 2>/dev/null
printf 'port_range: 50000-50999\n' > "$BERTH_HOME/config.yaml"
hyperfine -N --warmup 3 --runs 30 --export-json "$work/smallb.json" -i \
    --command-name 'registry list --json | ports check (50 projects)' \
    "sh -c 'registry list --json | ports check'" \
    --command-name 'registry add (into 50 projects)' \
    --prepare "sh -c 'registry remove new --yes 2>/dev/null || true'" \
    "registry add $work/new --name new" >&2
export BERTH_HOME="$work/home"
cmds="ports scan $work/big/compose.yaml"
if command -v docker-compose >/dev/null 2>&1; then
    hyperfine -N --warmup 3 --runs 30 --export-json "$work/scan.json" \
        --command-name 'ports scan (50 services)' "ports scan $work/big/compose.yaml" \
        --command-name 'docker-compose config (50 services)' "docker-compose -f $work/big/compose.yaml config -q" >&2
else
    echo "bench: docker-compose not installed; scan measured alone" >&2
    hyperfine -N --warmup 3 --runs 30 --export-json "$work/scan.json" --command-name 'ports scan (50 services)' "$cmds" >&2
fi

python3 - "$work" "$size" > "$out/registry.md" <<'PY'
import json, sys
work, size = sys.argv[1], int(sys.argv[2])
rows = []
for f in ["pipe", "add", "pipe2", "status", "import", "import80", "smallb", "scan"]:
    for r in json.load(open(f"{work}/{f}.json"))["results"]:
        rows.append((r["command"], r["mean"] * 1000, r["stddev"] * 1000, r["median"] * 1000, max(r["times"]) * 1000,
                     r["user"] * 1000, r["system"] * 1000))
print(f"# registry and ports (registry file: {size / 1e6:.1f} MB, 10,000 projects x 3 ports)\n")
print("| command | mean ms | stddev ms | median ms | max ms | user ms | sys ms |")
print("|---|---|---|---|---|---|---|")
for c, m, s, med, mx, u, sy in rows:
    print(f"| {c} | {m:.2f} | {s:.2f} | {med:.2f} | {mx:.2f} | {u:.2f} | {sy:.2f} |")
scan = {r[0]: r[1] for r in rows}
a, b = scan.get("ports scan (50 services)"), scan.get("docker-compose config (50 services)")
if a and b:
    print(f"\nports scan is {b / a:.0f}x faster than docker-compose config on the same file.")
PY
cat "$out/registry.md"
