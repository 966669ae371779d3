#!/bin/sh
# secrets: `secrets run P -- true` against `true` alone (the overhead of
# opening the key, reading and decrypting one project's file of 10 secrets,
# and exec), and `secrets get`. The project has a secrets file, so no
# registry is read. Usage: bench-secrets.sh OUTDIR (tools on PATH).
set -eu
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME" "$work/shop"
printf 'services:\n  db:\n    image: postgres:16\n' > "$work/shop/compose.yaml"
registry add "$work/shop" >/dev/null 2>&1
for k in DB_PASSWORD APP_KEY REDIS_PASSWORD MINIO_ROOT_PASSWORD S3_SECRET \
         MAIL_PASSWORD JWT_SECRET SESSION_SECRET API_TOKEN WEBHOOK_SECRET; do
    secrets -q set shop "$k" --generate alnum32
done
true_bin=$(command -v true)

hyperfine -N --warmup 20 --runs 300 --export-json "$work/run.json" \
    --command-name 'true' "$true_bin" \
    --command-name 'secrets run shop -- true (10 secrets)' "secrets run shop -- $true_bin" \
    --command-name 'secrets get shop DB_PASSWORD' "secrets get shop DB_PASSWORD" >&2

python3 - "$work" > "$out/secrets.md" <<'PY'
import json, sys
work = sys.argv[1]
rs = json.load(open(f"{work}/run.json"))["results"]
print("# secrets\n")
print("| command | mean ms | stddev ms | median ms | max ms |")
print("|---|---|---|---|---|")
for r in rs:
    print(f"| {r['command']} | {r['mean'] * 1000:.2f} | {r['stddev'] * 1000:.2f} | {r['median'] * 1000:.2f} | {max(r['times']) * 1000:.2f} |")
base = rs[0]["median"]
run = rs[1]["median"]
print(f"\n`secrets run` overhead over `true` (medians): {(run - base) * 1000:.2f} ms (goal: under 5 ms)")
PY
cat "$out/secrets.md"
