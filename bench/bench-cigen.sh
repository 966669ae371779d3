#!/bin/sh
# cigen: detection and rendering of one Laravel project (compose file with
# MySQL and Redis), of 200 projects given as Project JSON, and, for scale,
# one run of the validator the tests use on the same output.
# Usage: bench-cigen.sh OUTDIR (tools on PATH).
set -eu
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME"

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def laravel(d):
    os.makedirs(d, exist_ok=True)
    open(f"{d}/artisan", "w").write("<?php\n")
    json.dump({"require": {"php": "^8.2", "laravel/framework": "^11"},
               "require-dev": {"laravel/pint": "^1", "larastan/larastan": "^2"}}, open(f"{d}/composer.json", "w"))
    json.dump({"scripts": {"build": "vite build"}}, open(f"{d}/package.json", "w"))
    open(f"{d}/package-lock.json", "w").write("{}")
    open(f"{d}/Dockerfile", "w").write("FROM php:8.3-fpm AS base\nFROM base AS production\n")
    open(f"{d}/compose.yaml", "w").write(
        "services:\n  app:\n    build: .\n  db:\n    image: mysql:8.0\n  redis:\n    image: redis:7\n")
laravel(f"{work}/shop")
projects = []
for i in range(200):
    d = f"{work}/many/p{i}"
    laravel(d)
    projects.append({"name": f"p{i}", "path": d, "stack": "laravel", "compose_files": [f"{d}/compose.yaml"]})
json.dump(projects, open(f"{work}/projects.json", "w"))
PY
cigen generate "$work/shop" --deploy > /dev/null

hyperfine -N --warmup 3 --runs 30 --export-json "$work/one.json" \
    --command-name 'cigen detect (Laravel + compose)' "cigen detect $work/shop --json" \
    --command-name 'cigen generate --dry-run --deploy (Laravel + compose)' "cigen generate $work/shop --deploy --dry-run" >&2
hyperfine -N --warmup 1 --runs 10 --export-json "$work/many.json" \
    --command-name 'cigen generate --dry-run (200 projects from Project JSON)' \
    "cigen generate $work/projects.json --dry-run --platform gitlab" >&2
if command -v check-jsonschema >/dev/null 2>&1; then
    hyperfine -N --warmup 1 --runs 5 --export-json "$work/check.json" \
        --command-name 'check-jsonschema on the generated workflows (for scale)' \
        "check-jsonschema --builtin-schema vendor.github-workflows $work/shop/.github/workflows/test.yml $work/shop/.github/workflows/deploy.yml" >&2
else
    echo '{"results": []}' > "$work/check.json"
fi

python3 - "$work" > "$out/cigen.md" <<'PY'
import json, sys
work = sys.argv[1]
print("# cigen\n")
print("| command | mean ms | stddev ms | median ms | max ms |")
print("|---|---|---|---|---|")
for f in ["one", "many", "check"]:
    for r in json.load(open(f"{work}/{f}.json"))["results"]:
        print(f"| {r['command']} | {r['mean']*1000:.2f} | {r['stddev']*1000:.2f} | {r['median']*1000:.2f} | {max(r['times'])*1000:.2f} |")
PY
cat "$out/cigen.md"
