#!/bin/sh
# Development entrypoint of {{ name }} ({{ stack }}): install Composer
# dependencies when needed, migrate, then `php artisan serve`. Any arguments
# run instead: `docker-compose run app sh`.
set -eu

if [ "$#" -gt 0 ]; then
	exec "$@"
fi

cd /var/www/html
if [ ! -f vendor/autoload.php ] || [ -n "$(find composer.json composer.lock -newer vendor/autoload.php 2>/dev/null)" ]; then
	composer install --no-interaction
fi
php artisan migrate --force
exec php artisan serve --host 0.0.0.0 --port "{{ app_port }}"
