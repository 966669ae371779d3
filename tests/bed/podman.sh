#!/usr/bin/env bash
# Make Podman ready for the tests: its Docker-compatible API service on the
# rootful socket, and the test bed's images copied over from Docker (built
# there by images.sh; no registry is reachable).  Idempotent; as root.
#
#   tests/bed/podman.sh [IMAGE_TAG...]   (default: every tag images.sh builds
#                                         that the Podman tests use)
#
# Env:
#   BERTH_PODMAN_SOCKET   default /run/podman/podman.sock
#   BERTH_PODMAN_LOG      default /var/log/berth-podman.log
#
# No init system runs here: the service is `podman system service --time=0`
# in the background (what podman.socket does under systemd).  An image is
# copied (`docker save | podman load`) when Podman lacks it or its ID differs
# from Docker's: `docker import` images keep their ID across the copy.
# Prints one line for the service and one per image ("podman image TAG:
# copied in Ns" or "up to date").
set -euo pipefail

SOCKET="${BERTH_PODMAN_SOCKET:-/run/podman/podman.sock}"
LOG="${BERTH_PODMAN_LOG:-/var/log/berth-podman.log}"
# python:3.12-slim: the base of the stackgen-generated fastapi app tests/podman.rs builds.
DEFAULT_IMAGES="postgres:16 berth/debian:bookworm python:3.12-slim"

for cmd in podman podman-compose docker; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "podman.sh: $cmd missing: run .ci/install-deps first" >&2
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "podman.sh: must run as root" >&2
	exit 1
fi

exec 9>"${TMPDIR:-/tmp}/berth-bed-podman.lock"
flock 9

answers() { curl -fsS --max-time 5 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }

explicit=1
if [ "$#" -eq 0 ]; then
	explicit=0
	# shellcheck disable=SC2086 # a list of tags
	set -- $DEFAULT_IMAGES
fi
for tag in "$@"; do
	start=$SECONDS
	want="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null)" || {
		if [ "$explicit" = 0 ]; then
			# setup.sh with a few images: copy what was built.
			echo "podman image $tag: not in Docker, not copied (tests/bed/images.sh builds it)"
			continue
		fi
		echo "podman.sh: image $tag is not in Docker: run tests/bed/images.sh first" >&2
		exit 1
	}
	have="$(podman image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
	if [ "sha256:$have" = "$want" ] || [ "$have" = "$want" ]; then
		echo "podman image $tag: up to date"
		continue
	fi
	docker save "$tag" | podman load -q >/dev/null
	echo "podman image $tag: copied in $((SECONDS - start))s"
done

# Rootful Podman raises a container's RLIMIT_NOFILE and RLIMIT_NPROC to
# 1048576 and more by default; where the machine forbids that (this sandbox:
# "error setting rlimit type 7: operation not permitted") no container
# starts.  Then the first limits that work go in a containers.conf drop-in,
# which Podman (and its API service, once restarted) applies to every
# container.
DROPIN=/etc/containers/containers.conf.d/berth-bed.conf
restart=0
probe_image="$(podman images --format '{{.Repository}}:{{.Tag}}' | head -n 1)"
if [ -n "$probe_image" ] && ! podman run --rm "$probe_image" true >/dev/null 2>&1; then
	mkdir -p "$(dirname "$DROPIN")"
	found=""
	for nofile in "$(ulimit -Hn)" 65536 20000 4096 1024; do
		for nproc in "$(ulimit -Hu)" 65536 20000 4096; do
			if podman run --rm --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "$probe_image" true >/dev/null 2>&1; then
				found="$nofile $nproc"
				break 2
			fi
		done
	done
	if [ -z "$found" ]; then
		echo "podman.sh: no container starts under Podman:" >&2
		podman run --rm "$probe_image" true >&2 || true
		exit 1
	fi
	# shellcheck disable=SC2086 # two numbers
	set -- $found
	printf '# written by berth tests/bed/podman.sh: the limits this machine lets containers have\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$1" "$1" "$2" "$2" >"$DROPIN"
	echo "podman: containers get nofile=$1 nproc=$2 ($DROPIN)"
	restart=1
fi

PIDFILE="$(dirname "$SOCKET")/berth-service.pid"
if [ "$restart" = 1 ] && [ -f "$PIDFILE" ]; then
	pid="$(cat "$PIDFILE")"
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = podman ]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
	fi
fi

if [ "$restart" = 0 ] && answers; then
	echo "podman: service already answers on $SOCKET ($(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version))"
else
	mkdir -p "$(dirname "$SOCKET")" "$(dirname "$LOG")"
	rm -f "$SOCKET"
	echo "=== $(date -u '+%F %T') podman system service" >>"$LOG"
	setsid podman system service --time=0 "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null 9>&- &
	pid=$!
	echo "$pid" >"$PIDFILE"
	for _ in $(seq 1 60); do
		answers && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if ! answers; then
		echo "podman: the API service did not start on $SOCKET; log tail:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
	echo "podman: service started (pid $pid, $SOCKET, log $LOG)"
fi
