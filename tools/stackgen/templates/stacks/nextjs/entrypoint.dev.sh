#!/bin/sh
# Development entrypoint of {{ name }} ({{ stack }}): install dependencies when
# package.json changed since the image was built, then run `next dev`. Any
# arguments run instead: `docker-compose run app sh`.
set -eu

if [ "$#" -gt 0 ]; then
	exec "$@"
fi

cd /app
if [ ! -f node_modules/.berth-installed ] || [ -n "$(find package.json -newer node_modules/.berth-installed)" ]; then
	npm install --no-audit --no-fund
	touch node_modules/.berth-installed
fi
exec npx next dev --hostname 0.0.0.0 --port "{{ app_port }}"
