#!/bin/sh
# Development entrypoint of {{ name }} ({{ stack }}): make the mounted
# wp-content writable by Apache, then hand over to the image's entrypoint.
set -eu

if [ -d /var/www/html/wp-content ]; then
	chown -R www-data:www-data /var/www/html/wp-content 2>/dev/null || true
fi
exec docker-entrypoint.sh "$@"
