#!/bin/sh
# Development entrypoint of {{ name }} ({{ stack }}): apply migrations, then
# run Django's autoreloading server. Any arguments run instead (a shell, a
# worker): `docker-compose run app sh`.
set -eu

if [ "$#" -gt 0 ]; then
	exec "$@"
fi

python3 manage.py migrate --noinput
exec python3 manage.py runserver "0.0.0.0:{{ app_port }}"
