#!/bin/sh
# Entrypoint of the test bed's wordpress image (Debian's wordpress package,
# copied to /usr/src/wordpress), as the official image's: on the first start
# of Apache, copy WordPress into /var/www/html (what is there, such as a
# mounted wp-content, is kept), and write a wp-config.php that reads the
# WORDPRESS_DB_HOST/USER/PASSWORD/NAME, WORDPRESS_TABLE_PREFIX, the keys and
# salts, WORDPRESS_DEBUG and WORDPRESS_CONFIG_EXTRA variables at run time.
set -eu

case "$1" in
apache2* | php-fpm*)
	cd /var/www/html
	if [ ! -e index.php ] && [ ! -e wp-includes/version.php ]; then
		echo "wordpress: copying WordPress into $(pwd)" >&2
		# -n: never replace what is there (a mounted wp-content).
		cp -an /usr/src/wordpress/. .
		chown -R www-data:www-data .
	fi
	if [ ! -s wp-config.php ]; then
		cp /usr/src/wordpress/wp-config-docker.php wp-config.php
		chown www-data:www-data wp-config.php
	fi
	;;
esac
exec docker-php-entrypoint "$@"
