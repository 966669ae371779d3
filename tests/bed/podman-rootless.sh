#!/usr/bin/env bash
# Rootless Podman for the tests: a user of its own (berth-rootless, with
# subordinate ids), its runtime folder, its Podman API service on
# $XDG_RUNTIME_DIR/podman/podman.sock (what podman.socket gives a user under
# systemd), and the image the rootless test runs, in the user's own store.
# Idempotent; as root, after images.sh.
#
# Env:
#   BERTH_ROOTLESS_USER   default berth-rootless
#
# Prints one line for the image and one for the service.
set -euo pipefail

USER_NAME="${BERTH_ROOTLESS_USER:-berth-rootless}"
IMAGE="berth/debian:bookworm"

for cmd in podman newuidmap slirp4netns docker runuser curl; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "podman-rootless.sh: $cmd missing: run .ci/install-deps first" >&2
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "podman-rootless.sh: must run as root" >&2
	exit 1
fi

if ! id -u "$USER_NAME" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash "$USER_NAME"
fi
uid="$(id -u "$USER_NAME")"
home="$(getent passwd "$USER_NAME" | cut -d: -f6)"
# Subordinate ids for the user namespace, clear of other users' ranges.
for f in /etc/subuid /etc/subgid; do
	grep -q "^$USER_NAME:" "$f" 2>/dev/null || echo "$USER_NAME:300000:65536" >>"$f"
done
# slirp4netns opens /dev/net/tun as the user: read-write for all, as on a
# stock Debian (some sandboxes leave it root's only).
if [ -c /dev/net/tun ]; then
	chmod 0666 /dev/net/tun
fi
run="/run/user/$uid"
mkdir -p "$run"
chown "$USER_NAME:" "$run"
chmod 0700 "$run"

as_user() { runuser -u "$USER_NAME" -- env XDG_RUNTIME_DIR="$run" HOME="$home" "$@"; }

start=$SECONDS
want="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
have="$(as_user podman image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
if [ "sha256:$have" = "$want" ] || [ "$have" = "$want" ]; then
	echo "podman rootless image $IMAGE: up to date"
else
	tar="$(mktemp /tmp/berth-rootless-image.XXXXXX)"
	docker save "$IMAGE" -o "$tar"
	chmod 0644 "$tar"
	as_user podman load -q -i "$tar" >/dev/null
	rm -f "$tar"
	echo "podman rootless image $IMAGE: copied in $((SECONDS - start))s"
fi

SOCKET="$run/podman/podman.sock"
LOG="$home/berth-podman.log"
answers() { as_user curl -fsS --max-time 5 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }
if answers; then
	echo "podman rootless: service already answers on $SOCKET (user $USER_NAME)"
	exit 0
fi
mkdir -p "$run/podman"
chown "$USER_NAME:" "$run/podman"
rm -f "$SOCKET"
as_user setsid podman system service --time=0 "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 60); do
	answers && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
if ! answers; then
	echo "podman rootless: the API service did not start on $SOCKET; log tail:" >&2
	tail -n 20 "$LOG" >&2
	exit 1
fi
echo "podman rootless: service started (user $USER_NAME, uid $uid, $SOCKET, log $LOG)"
