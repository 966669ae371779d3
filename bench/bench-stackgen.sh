#!/bin/sh
# stackgen new (files only: --no-generator) for a small and a full stack, and
# stackgen add-service (after a remove-service in --prepare), in one hyperfine run. Each `new` run
# starts from a missing folder (--prepare removes it); the registry holds 200
# projects so the port allocator has claims to skip. Target: `new` < 20 ms.
# Usage: bench-stackgen.sh OUTDIR (tools on PATH).
set -eu
out=$1
mkdir -p "$out"
for tool in stackgen registry hyperfine jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-stackgen: $tool is not installed (apt-get install hyperfine jq)" >&2
        exit 2
    fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/berth"
mkdir -p "$BERTH_HOME"

i=1
: > "$work/projects.ndjson"
while [ "$i" -le 200 ]; do
    printf '{"name":"r%d","port":%d}\n' "$i" $((5000 + i)) >> "$work/projects.ndjson"
    i=$((i + 1))
done
registry add - < "$work/projects.ndjson" >/dev/null 2>&1
stackgen new django svc --no-generator --dir "$work/svc" --services postgres,redis >/dev/null 2>&1

# -N: no intermediate shell (hyperfine discards the tools' stderr itself).
hyperfine -N --warmup 5 --runs 50 --export-json "$work/h.json" \
    --command-name 'new django (postgres)' \
    --prepare "rm -rf $work/p" \
    "stackgen new django shop --no-generator --dir $work/p" \
    --command-name 'new nextjs (every service, 2 published)' \
    --prepare "rm -rf $work/p" \
    "stackgen new nextjs web --no-generator --dir $work/p --services postgres,mysql,mariadb,redis,valkey,memcached,minio,mailpit,adminer --publish postgres,mailpit" \
    --command-name 'add-service redis' \
    --prepare "stackgen remove-service redis --yes --dir $work/svc" \
    "stackgen add-service redis --yes --dir $work/svc" >&2

# Sanity: what was measured is a project docker-compose would read.
test -f "$work/p/.berth/compose.services.yaml"
grep -q '^COMPOSE_PROJECT_NAME=web$' "$work/p/.env"

stat() { jq -r --arg n "$1" --arg k "$2" '.results[] | select(.command == $n) | .[$k] * 1000' "$work/h.json"; }
row() {
    printf '| %s | %.2f ± %.2f | %.2f | %.2f | %.2f |\n' "$1" "$(stat "$1" mean)" "$(stat "$1" stddev)" "$(stat "$1" median)" "$(stat "$1" min)" \
        "$(awk -v u="$(stat "$1" user)" -v s="$(stat "$1" system)" 'BEGIN { print u + s }')"
}
verdict() {
    awk -v m="$(stat "$1" median)" 'BEGIN { if (m < 20) print "under"; else print "OVER" }'
}

report="$out/stackgen.md"
{
    echo "# stackgen new (files only)"
    echo
    echo "One hyperfine run (50 runs each, 5 warm-ups), $(nproc) cores, release build;"
    echo "200 projects in the registry; each \`new\` writes a fresh folder (11-13 files, atomic writes)."
    echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (wall times on a busy machine vary; the CPU column does not)."
    echo
    echo "| command | mean ms | median ms | min ms | CPU (user+sys) ms |"
    echo "|---|---|---|---|---|"
    row 'new django (postgres)'
    row 'new nextjs (every service, 2 published)'
    row 'add-service redis'
    echo
    echo "Target: \`stackgen new\` under 20 ms: django median $(verdict 'new django (postgres)'), full nextjs median $(verdict 'new nextjs (every service, 2 published)') the target."
} > "$report"
cat "$report"
