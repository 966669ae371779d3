#!/bin/sh
# Entrypoint of the test bed's redis image (Debian's redis-server 7.0), as
# the official one: options alone run redis-server; redis-server runs as the
# redis user in /data, with protected mode off (the network is the project's).
set -eu
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
	shift
	chown -R redis:redis /data
	case "$*" in
	*protected-mode*) ;;
	*) set -- "$@" --protected-mode no ;;
	esac
	exec setpriv --reuid=redis --regid=redis --init-groups redis-server "$@"
fi
exec "$@"
