#!/usr/bin/env bash
# Bring the container test bed up: a running Docker engine and the locally
# built images, then Podman's API service with the images the Podman tests
# use copied over (podman.sh), and rootless Podman for its own user
# (podman-rootless.sh).  Idempotent: a second run takes a few seconds.
#
#   tests/bed/setup.sh [IMAGE...]     (IMAGE: postgres mariadb base python node
#                                     redis php composer wordpress caddy; default all)
#
# Expects .ci/install-deps to have run.  Prints one summary line per part
# (dockerd, each image) and a final "bed: ready in Ns".  The env of
# dockerd.sh and images.sh applies.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
start=$SECONDS

for cmd in dockerd docker mmdebstrap; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "bed: $cmd missing: run .ci/install-deps first" >&2
		exit 1
	fi
done

"$HERE/dockerd.sh"
"$HERE/images.sh" "$@"
"$HERE/podman.sh"
"$HERE/podman-rootless.sh"
echo "bed: ready in $((SECONDS - start))s"
