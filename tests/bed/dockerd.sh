#!/usr/bin/env bash
# Make sure a Docker engine answers; start Debian's dockerd (docker.io) in the
# background when none does.  Idempotent; as root.
#
#   tests/bed/dockerd.sh
#
# Env:
#   BERTH_DOCKERD_LOG      log file (default /var/log/berth-dockerd.log)
#   BERTH_DOCKERD_ARGS     extra dockerd flags (word-split); when set, no
#                          fallbacks are tried
#   BERTH_DOCKERD_TIMEOUT  seconds to wait for `docker info` (default 60)
#
# No init system runs on these machines, so nothing starts dockerd at boot.
# The defaults work here (overlay2 on ext4, iptables-nft NAT, cgroup v1
# cgroupfs driver, docker0 bridge, userland proxy for 127.0.0.1 ports).  If the
# default start fails, it retries with --storage-driver=vfs, then additionally
# with --iptables=false (published loopback ports still work through
# docker-proxy, but containers lose outbound NAT).
#
# Prints one line: "dockerd: already running ..." or "dockerd: started ...".
set -euo pipefail

LOG="${BERTH_DOCKERD_LOG:-/var/log/berth-dockerd.log}"
TIMEOUT="${BERTH_DOCKERD_TIMEOUT:-60}"

describe() {
	docker info --format 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}} v{{.CgroupVersion}}' 2>/dev/null
}

if docker info >/dev/null 2>&1; then
	echo "dockerd: already running ($(describe))"
	exit 0
fi

# Serialise concurrent callers; re-check once we hold the lock.
exec 9>"${TMPDIR:-/tmp}/berth-bed-dockerd.lock"
flock 9
if docker info >/dev/null 2>&1; then
	echo "dockerd: already running ($(describe))"
	exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
	echo "dockerd: dockerd not installed (run .ci/install-deps)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "dockerd: must run as root" >&2
	exit 1
fi

# /run is on the persistent disk here, so pid files survive a reboot and their
# pid may belong to an unrelated process by now: drop pid files that do not
# point at a live dockerd/containerd.
drop_stale_pidfile() { # file expected-comm
	local f="$1" comm pid
	[ -f "$f" ] || return 0
	pid="$(cat "$f" 2>/dev/null || true)"
	comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
	if [ -z "$pid" ] || [ "$comm" != "$2" ]; then
		rm -f "$f"
	fi
}

# If a dockerd of ours is alive but not answering yet, just wait for it.
pid=""
if [ -f /var/run/docker.pid ] && [ "$(cat "/proc/$(cat /var/run/docker.pid)/comm" 2>/dev/null)" = dockerd ]; then
	pid="$(cat /var/run/docker.pid)"
fi
drop_stale_pidfile /var/run/docker.pid dockerd
drop_stale_pidfile /var/run/docker/containerd/containerd.pid containerd

mkdir -p "$(dirname "$LOG")"

start() { # dockerd flags...
	echo "=== $(date -u '+%F %T') dockerd $*" >>"$LOG"
	setsid dockerd "$@" >>"$LOG" 2>&1 </dev/null 9>&- &
	pid=$!
}

wait_ready() {
	local deadline=$((SECONDS + TIMEOUT))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if docker info >/dev/null 2>&1; then return 0; fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.5
	done
	return 1
}

stop_failed() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	fi
	pid=""
}

start_t=$SECONDS
if [ -n "$pid" ] && wait_ready; then
	echo "dockerd: was starting, now ready (pid $pid, $(describe))"
	exit 0
fi

if [ -n "${BERTH_DOCKERD_ARGS:-}" ]; then
	# shellcheck disable=SC2086 # word-splitting intended
	set -- $BERTH_DOCKERD_ARGS
	attempts=("$*")
else
	attempts=("" "--storage-driver=vfs" "--storage-driver=vfs --iptables=false")
fi

for flags in "${attempts[@]}"; do
	# shellcheck disable=SC2086 # word-splitting intended
	start $flags
	if wait_ready; then
		echo "dockerd: started (pid $pid, flags '${flags:-<defaults>}', $(describe), log $LOG) in $((SECONDS - start_t))s"
		exit 0
	fi
	echo "dockerd: start with flags '${flags:-<defaults>}' failed; log tail:" >&2
	tail -n 15 "$LOG" >&2
	stop_failed
done
echo "dockerd: could not start a Docker engine (log $LOG)" >&2
exit 1
