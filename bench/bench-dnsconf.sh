#!/bin/sh
# dnsconf: one `dnsconf test` against Debian's dnsmasq on a loopback port (a
# whole process: start, A + AAAA queries, exit), the same through the system
# resolver, and `dnsconf install hosts` of 1,000 projects into a 10,000-line
# hosts file under --root. Usage: bench-dnsconf.sh OUTDIR (tools on PATH).
set -eu
PATH="$PATH:/usr/sbin"  # dnsmasq
out=$1
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export BERTH_HOME="$work/home"
mkdir -p "$BERTH_HOME" "$work/root/etc"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
json.dump([{"name": f"project-{i}", "port": 10000 + i, "services": ["web", "adminer", "mailpit"]} for i in range(1000)],
          open(f"{work}/projects.json", "w"))
with open(f"{work}/root/etc/hosts", "w") as f:
    for i in range(10000):
        f.write(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}\thost-{i}.lan\n")
PY

dnsconf print dnsmasq > "$work/berth.conf"
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dnsmasq --no-daemon --conf-file="$work/berth.conf" --port="$port" --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --pid-file="$work/dnsmasq.pid" 2>/dev/null &
pid=$!
i=0
until dnsconf test shop.test --server "127.0.0.1:$port" --timeout 200 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "bench: dnsmasq did not answer" >&2; exit 2; }; sleep 0.1
done

hyperfine -N --warmup 5 --runs 100 --export-json "$work/test.json" \
    --command-name 'dnsconf test shop.test --server (dnsmasq)' "dnsconf test shop.test --server 127.0.0.1:$port" \
    --command-name 'dnsconf test localhost (system resolver)' "dnsconf test localhost" >&2
cp "$work/root/etc/hosts" "$work/hosts.orig"
hyperfine -N --warmup 3 --runs 30 --export-json "$work/hosts.json" \
    --prepare "cp $work/hosts.orig $work/root/etc/hosts" \
    --command-name 'dnsconf install hosts (1,000 projects, 10,000-line file)' \
    "dnsconf install hosts --root $work/root $work/projects.json" >&2

python3 - "$work" > "$out/dnsconf.md" <<'PY'
import json, sys
work = sys.argv[1]
print("# dnsconf\n")
print("| command | mean ms | stddev ms | median ms | max ms |")
print("|---|---|---|---|---|")
for f in ["test", "hosts"]:
    for r in json.load(open(f"{work}/{f}.json"))["results"]:
        print(f"| {r['command']} | {r['mean'] * 1000:.2f} | {r['stddev'] * 1000:.2f} | {r['median'] * 1000:.2f} | {max(r['times']) * 1000:.2f} |")
PY
cat "$out/dnsconf.md"
