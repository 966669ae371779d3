#!/bin/sh
# Entrypoint of the test bed's node image, as the official one: a first
# argument that is an option or a script file runs under node.
set -e
if [ "${1#-}" != "$1" ] || { [ -n "${1:-}" ] && [ -f "$1" ] && ! command -v "$1" >/dev/null 2>&1; }; then
	set -- node "$@"
fi
exec "$@"
