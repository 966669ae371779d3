#!/bin/sh
# Runs every bench/bench-*.sh with the release binaries first on PATH and
# collects their reports in target/bench/. Usage: bench/run.sh target/release
set -eu
bindir=$(cd "${1:-target/release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../target/bench"
mkdir -p "$out"
export PATH="$bindir:$PATH"
if ! command -v hyperfine >/dev/null 2>&1; then
    echo "bench: hyperfine is not installed (apt-get install hyperfine)" >&2
    exit 2
fi
status=0
for b in "$here"/bench-*.sh; do
    [ -e "$b" ] || continue
    name=$(basename "$b" .sh)
    echo "== $name" >&2
    sh "$b" "$out" || { echo "bench: $name failed" >&2; status=1; }
done
echo "reports in $out" >&2
exit $status
