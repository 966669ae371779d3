#!/usr/bin/env bash
# Entrypoint of the locally built mariadb:11 / mariadb:10 / mysql:8 test images
# (Debian bookworm's MariaDB 10.11).  Installed in the image as
# /usr/local/bin/docker-entrypoint.sh.  Mimics the official images:
#
#   MARIADB_ROOT_PASSWORD | MYSQL_ROOT_PASSWORD
#   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD | MYSQL_ALLOW_EMPTY_PASSWORD
#   MARIADB_RANDOM_ROOT_PASSWORD | MYSQL_RANDOM_ROOT_PASSWORD
#   MARIADB_ROOT_HOST | MYSQL_ROOT_HOST (default %)
#   MARIADB_DATABASE | MYSQL_DATABASE, MARIADB_USER | MYSQL_USER,
#   MARIADB_PASSWORD | MYSQL_PASSWORD, and the *_FILE variants,
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst
#
# On first start (no mysql/ in the datadir) it runs mariadb-install-db, starts
# a temporary server without networking on a private socket (so a
# `mariadb-admin ping` healthcheck is not healthy before init is over), sets
# the root password, creates root@$ROOT_HOST, the database and the user with
# all privileges on it, runs the init scripts, and then execs the server in
# the foreground as the mysql user (PID 1), listening on 0.0.0.0:3306.
set -Eeo pipefail  # no -u: init scripts are sourced, as upstream

DATADIR=/var/lib/mysql

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }

# file_env VAR [DEFAULT]: MARIADB_VAR or MYSQL_VAR, or their _FILE variants.
file_env() {
	local var="$1" def="${2:-}" val="" cand
	for cand in "MARIADB_$var" "MYSQL_$var"; do
		local fileVar="${cand}_FILE"
		if [ -n "${!cand:-}" ] && [ -n "${!fileVar:-}" ]; then
			echo >&2 "error: both $cand and $fileVar are set (but are exclusive)"
			exit 1
		fi
		if [ -z "$val" ] && [ -n "${!cand:-}" ]; then
			val="${!cand}"
		elif [ -z "$val" ] && [ -n "${!fileVar:-}" ]; then
			val="$(<"${!fileVar}")"
		fi
		unset "$fileVar"
	done
	[ -n "$val" ] || val="$def"
	export "MARIADB_$var"="$val" "MYSQL_$var"="$val"
}

# sql_str VALUE: escape for use inside '...' in SQL.
sql_str() { local s="${1//\\/\\\\}"; printf '%s' "${s//\'/\\\'}"; }
# sql_id NAME: escape for use inside `...` in SQL.
sql_id() { printf '%s' "${1//\`/\`\`}"; }

if [ "${1:0:1}" = '-' ]; then
	set -- mariadbd "$@"
fi

is_server=0
case "$1" in mariadbd | mysqld) is_server=1 ;; esac

# MySQL-8-only server flags seen in compose files written for mysql:8, which
# MariaDB refuses at startup: drop them (with a note) so `mysql:8` works.
if [ "$is_server" = 1 ]; then
	args=("$1")
	for arg in "${@:2}"; do
		case "$arg" in
		--default-authentication-plugin=* | --default_authentication_plugin=* | \
			--mysql-native-password=* | --mysql_native_password=*)
			log "ignoring MySQL-only option $arg"
			;;
		*) args+=("$arg") ;;
		esac
	done
	set -- "${args[@]}"
fi

# An explicit --datadir=... on the command line wins.
for arg in "$@"; do
	case "$arg" in --datadir=*) DATADIR="${arg#--datadir=}" ;; esac
done

if [ "$is_server" = 1 ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$DATADIR" /run/mysqld
	chown -R mysql:mysql "$DATADIR" /run/mysqld
	exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$is_server" = 1 ] && [ ! -d "$DATADIR/mysql" ]; then
	file_env ROOT_PASSWORD
	file_env ALLOW_EMPTY_ROOT_PASSWORD
	[ -n "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] || MARIADB_ALLOW_EMPTY_ROOT_PASSWORD="${MYSQL_ALLOW_EMPTY_PASSWORD:-}"
	file_env RANDOM_ROOT_PASSWORD
	file_env ROOT_HOST '%'
	file_env DATABASE
	file_env USER
	file_env PASSWORD

	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] &&
		[ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		cat >&2 <<-'EOE'
			error: Database is uninitialized and password option is not specified
			       You need to specify one of MARIADB_ROOT_PASSWORD,
			       MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD
		EOE
		exit 1
	fi
	if [ "$MARIADB_USER" = root ]; then
		echo >&2 'error: MARIADB_USER="root" is not allowed; use MARIADB_ROOT_PASSWORD'
		exit 1
	fi
	if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD" ]; then
		log "warning: MARIADB_USER set without MARIADB_PASSWORD: user gets an empty password"
	fi

	log "initialising database files in $DATADIR"
	mariadb-install-db --datadir="$DATADIR" --user=mysql \
		--auth-root-authentication-method=normal --skip-test-db --rpm \
		--skip-name-resolve --default-time-zone=SYSTEM >/dev/null

	# The temporary server gets a private socket; clients started from the
	# init scripts find it through $HOME/.my.cnf (read after /etc/mysql).
	init_dir="$(mktemp -d /tmp/mariadb-init.XXXXXX)"
	init_sock="$init_dir/mysqld.sock"
	printf '[client]\nsocket = %s\n' "$init_sock" >"$init_dir/.my.cnf"
	orig_home="${HOME:-}"
	export HOME="$init_dir"
	log "starting temporary server"
	"$@" --skip-networking --socket="$init_sock" --datadir="$DATADIR" \
		--loose-innodb_buffer_pool_load_at_startup=0 &
	tmp_pid=$!
	up=0
	for _ in $(seq 1 120); do
		if mariadb --socket="$init_sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
			up=1
			break
		fi
		if ! kill -0 "$tmp_pid" 2>/dev/null; then break; fi
		sleep 0.5
	done
	if [ "$up" != 1 ]; then
		echo >&2 "error: temporary server did not come up during init"
		exit 1
	fi

	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
		log "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	root_pw="$(sql_str "$MARIADB_ROOT_PASSWORD")"
	root_host="$(sql_str "$MARIADB_ROOT_HOST")"

	{
		echo "SET @@SESSION.SQL_LOG_BIN=0;"
		# Drop the install-db's extra root accounts; keep root@localhost.
		echo "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';"
		printf '%s\n' "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'');"
		echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root_pw');"
		if [ "$MARIADB_ROOT_HOST" != localhost ]; then
			echo "CREATE USER 'root'@'$root_host' IDENTIFIED BY '$root_pw';"
			echo "GRANT ALL ON *.* TO 'root'@'$root_host' WITH GRANT OPTION;"
			echo "GRANT PROXY ON ''@'%' TO 'root'@'$root_host' WITH GRANT OPTION;"
		fi
		if [ -n "$MARIADB_DATABASE" ]; then
			echo "CREATE DATABASE IF NOT EXISTS \`$(sql_id "$MARIADB_DATABASE")\`;"
		fi
		if [ -n "$MARIADB_USER" ]; then
			echo "CREATE USER '$(sql_str "$MARIADB_USER")'@'%' IDENTIFIED BY '$(sql_str "$MARIADB_PASSWORD")';"
			if [ -n "$MARIADB_DATABASE" ]; then
				echo "GRANT ALL ON \`$(sql_id "$MARIADB_DATABASE")\`.* TO '$(sql_str "$MARIADB_USER")'@'%';"
			fi
		fi
		echo "FLUSH PRIVILEGES;"
	} | mariadb --socket="$init_sock" -uroot --binary-mode

	sql=(mariadb --socket="$init_sock" -uroot "--password=$MARIADB_ROOT_PASSWORD")
	[ -z "$MARIADB_DATABASE" ] || sql+=("--database=$MARIADB_DATABASE")
	shopt -s nullglob
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				log "running $f"
				"$f"
			else
				log "sourcing $f"
				# shellcheck disable=SC1090
				. "$f"
			fi
			;;
		*.sql) log "running $f"; "${sql[@]}" <"$f" ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | "${sql[@]}" ;;
		*.sql.xz) log "running $f"; xz -dc "$f" | "${sql[@]}" ;;
		*.sql.zst) log "running $f"; zstd -dc "$f" | "${sql[@]}" ;;
		*) log "ignoring $f" ;;
		esac
	done
	shopt -u nullglob

	log "stopping temporary server"
	kill -TERM "$tmp_pid"
	wait "$tmp_pid" || true
	rm -rf "$init_dir"
	export HOME="$orig_home"
	log "MariaDB init process done. Ready for start up."
fi

exec "$@"
