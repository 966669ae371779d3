#!/bin/sh
# proxyconf at scale: a Caddyfile for 1,000 projects (each with adminer, so
# 2,000 HTTPS sites), next to Caddy validating that same file, and the Traefik
# configuration for them. Usage: bench-proxyconf.sh OUTDIR (tools on PATH).
set -eu
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME"

python3 - "$work/projects.json" <<'PY'
import json, sys
projects = [{
    "name": f"project-{i}", "domain": f"project-{i}.test", "port": 10000 + i * 2,
    "services": ["web", "adminer"],
    "service_ports": [{"service": "adminer", "published": 10001 + i * 2, "target": 8080}],
} for i in range(1000)]
json.dump(projects, open(sys.argv[1], "w"))
PY

proxyconf caddy --certs-dir "$work/certs" "$work/projects.json" > "$work/Caddyfile" 2>/dev/null
hyperfine -N --warmup 3 --runs 30 --export-json "$work/gen.json" \
    --command-name 'proxyconf caddy (1,000 projects)' "proxyconf caddy $work/projects.json -o $work/out.caddy" \
    --command-name 'proxyconf traefik (1,000 projects)' "proxyconf traefik $work/projects.json -o $work/out.yml" >&2
# Caddy's own validation of the generated file (adapt only: the certificates do not exist here).
if command -v caddy >/dev/null 2>&1; then
    hyperfine -N --warmup 2 --runs 10 --export-json "$work/adapt.json" \
        --command-name 'caddy adapt (same Caddyfile)' "caddy adapt --config $work/Caddyfile --adapter caddyfile" >&2
fi

python3 - "$work" > "$out/proxyconf.md" <<'PY'
import json, os, sys
work = sys.argv[1]
rows = []
for f in ["gen", "adapt"]:
    p = f"{work}/{f}.json"
    if os.path.exists(p):
        for r in json.load(open(p))["results"]:
            rows.append((r["command"], r["mean"] * 1000, r["stddev"] * 1000, r["median"] * 1000, max(r["times"]) * 1000))
size = os.path.getsize(f"{work}/Caddyfile")
print(f"# proxyconf (1,000 projects, 2,000 HTTPS sites; Caddyfile {size / 1e3:.0f} kB)\n")
print("| command | mean ms | stddev ms | median ms | max ms |")
print("|---|---|---|---|---|")
for c, m, s, med, mx in rows:
    print(f"| {c} | {m:.2f} | {s:.2f} | {med:.2f} | {mx:.2f} |")
PY
cat "$out/proxyconf.md"
