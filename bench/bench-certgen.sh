#!/bin/sh
# certgen issue against Debian's mkcert, in one hyperfine run: one domain
# (NAME.test and *.NAME.test), and 100 domains, certgen reading Project JSON
# on stdin, mkcert run once per domain (it makes one certificate per call).
# Both write ECDSA P-256 keys (mkcert -ecdsa); mkcert's default RSA-2048 is
# measured too. --force makes certgen issue every time instead of keeping.
# Usage: bench-certgen.sh OUTDIR (tools on PATH).
set -eu
out=$1
mkdir -p "$out"
for tool in certgen mkcert hyperfine jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-certgen: $tool is not installed (apt-get install mkcert hyperfine jq)" >&2
        exit 2
    fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_HOME="$work/berth"
export CAROOT="$work/caroot"
mkdir -p "$CAROOT" "$work/mk"

certgen init >/dev/null 2>&1
# mkcert creates its CA on first use (never installed: no -install).
mkcert -ecdsa -cert-file "$work/mk/warm.pem" -key-file "$work/mk/warm-key.pem" warm.test >/dev/null 2>&1

i=1
printf '[' > "$work/projects.json"
: > "$work/mkcert-100.sh"
while [ "$i" -le 100 ]; do
    [ "$i" -gt 1 ] && printf ',' >> "$work/projects.json"
    printf '{"name":"p%d","domain":"p%d.test"}' "$i" "$i" >> "$work/projects.json"
    printf 'mkcert -ecdsa -cert-file %s/mk/p%d.pem -key-file %s/mk/p%d-key.pem p%d.test "*.p%d.test" 2>/dev/null\n' \
        "$work" "$i" "$work" "$i" "$i" "$i" >> "$work/mkcert-100.sh"
    i=$((i + 1))
done
printf ']\n' >> "$work/projects.json"

hyperfine --warmup 3 --runs 30 --export-json "$work/h.json" \
    --command-name 'certgen: 1 domain' \
    "certgen issue --force shop.test >/dev/null" \
    --command-name 'mkcert -ecdsa: 1 domain' \
    "mkcert -ecdsa -cert-file $work/mk/shop.pem -key-file $work/mk/shop-key.pem shop.test '*.shop.test' 2>/dev/null" \
    --command-name 'mkcert (RSA-2048): 1 domain' \
    "mkcert -cert-file $work/mk/shop-rsa.pem -key-file $work/mk/shop-rsa-key.pem shop.test '*.shop.test' 2>/dev/null" \
    --command-name 'certgen: 100 domains from stdin' \
    "certgen issue --force - < $work/projects.json >/dev/null" \
    --command-name 'mkcert -ecdsa: 100 domains (100 calls)' \
    "sh $work/mkcert-100.sh" >&2

# Sanity: what was measured verifies.
openssl verify -CAfile "$BERTH_HOME/ca/ca.pem" "$BERTH_HOME/certs/p100.test/cert.pem" >/dev/null
openssl verify -CAfile "$CAROOT/rootCA.pem" "$work/mk/p100.pem" >/dev/null

stat() { jq -r --arg n "$1" --arg k "$2" '.results[] | select(.command == $n) | .[$k] * 1000' "$work/h.json"; }
row() {
    printf '| %s | %.2f ± %.2f | %.2f | %.2f |\n' "$1" "$(stat "$1" mean)" "$(stat "$1" stddev)" "$(stat "$1" median)" "$(stat "$1" min)"
}
# Ratios of medians: a machine shared with builds makes the means noisy.
ratio() { awk -v a="$(stat "$1" median)" -v b="$(stat "$2" median)" 'BEGIN { printf "%.1f", a / b }'; }

report="$out/certgen.md"
{
    echo "# certgen issue vs mkcert"
    echo
    echo "One hyperfine run (30 runs each, 3 warm-ups), $(nproc) cores, $(mkcert -version 2>/dev/null || echo mkcert) from Debian."
    echo "Each certificate: NAME.test + *.NAME.test, key, chain; certgen with --force (always issues)."
    echo
    echo "| command | mean ms | median ms | min ms |"
    echo "|---|---|---|---|"
    row 'certgen: 1 domain'
    row 'mkcert -ecdsa: 1 domain'
    row 'mkcert (RSA-2048): 1 domain'
    row 'certgen: 100 domains from stdin'
    row 'mkcert -ecdsa: 100 domains (100 calls)'
    echo
    echo "Ratios of medians:"
    echo
    echo "- 1 domain: mkcert -ecdsa takes $(ratio 'mkcert -ecdsa: 1 domain' 'certgen: 1 domain')x certgen's time (mkcert RSA: $(ratio 'mkcert (RSA-2048): 1 domain' 'certgen: 1 domain')x)."
    echo "- 100 domains: mkcert -ecdsa takes $(ratio 'mkcert -ecdsa: 100 domains (100 calls)' 'certgen: 100 domains from stdin')x certgen's time."
} > "$report"
cat "$report"
