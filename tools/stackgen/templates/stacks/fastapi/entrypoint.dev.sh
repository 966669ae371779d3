#!/bin/sh
# Development entrypoint of {{ name }} ({{ stack }}): uvicorn reloading on
# changes. Any arguments run instead: `docker-compose run app sh`.
set -eu

if [ "$#" -gt 0 ]; then
	exec "$@"
fi

exec python3 -m uvicorn "${APP_MODULE:-app.main:app}" --host 0.0.0.0 --port "{{ app_port }}" --reload
