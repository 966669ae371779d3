#!/usr/bin/env bash
# Throw-away database servers on the host's loopback, for tests.
#
#   tests/bed/services.sh postgres [PORT]   PostgreSQL 15 cluster (Debian's)
#   tests/bed/services.sh mariadb  [PORT]   MariaDB 10.11 server (Debian's)
#   tests/bed/services.sh stop DIR          stop the server in DIR, delete DIR
#   tests/bed/services.sh stop-all          stop every /tmp/berth-{pg,mariadb}.*
#
# A start prints shell-sourceable KEY=VALUE lines on stdout (progress and
# errors go to stderr), e.g. for postgres:
#   BED_PG_DIR=/tmp/berth-pg.Ab12Cd     (data, socket, log; pass to `stop`)
#   BED_PG_HOST=127.0.0.1  BED_PG_PORT=41234  BED_PG_SOCKET_DIR=$BED_PG_DIR
#   BED_PG_USER=postgres   BED_PG_PASSWORD=postgres  BED_PG_DB=postgres
#   BED_PG_URL=postgres://postgres:postgres@127.0.0.1:41234/postgres
# and for mariadb BED_MARIADB_{DIR,HOST,PORT,SOCKET,USER,PASSWORD,DB,URL}
# (URL is mysql://root:...@127.0.0.1:PORT/DB).
#
# Env: BED_PG_PASSWORD (default postgres), BED_PG_DB (created if not
# "postgres"), BED_MARIADB_PASSWORD (default root), BED_MARIADB_DB (default
# test, created).  Without PORT a free port is picked.
#
# Both run with durability off (fsync=off / innodb_flush_log_at_trx_commit=0):
# test data only.  As root, PostgreSQL runs as the `postgres` user (root
# cannot run it) and MariaDB with --user=mysql.  Host TCP connections need
# the password (scram-sha-256 / mysql_native_password); the unix socket in
# DIR is trust for postgres.
#
# Can also be sourced: defines bed_pg_start, bed_mariadb_start, bed_stop.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin

bed_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run a command as USER when we are root, else as ourselves.
bed_as() { # user cmd...
	local user="$1"
	shift
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$user" -- "$@"
	else
		"$@"
	fi
}

bed_pg_start() { # [port]
	local port="${1:-$(bed_free_port)}"
	local pw="${BED_PG_PASSWORD:-postgres}" db="${BED_PG_DB:-postgres}"
	local dir
	dir="$(mktemp -d /tmp/berth-pg.XXXXXX)"
	echo postgres >"$dir/kind"
	printf '%s\n' "$pw" >"$dir/pwfile"
	[ "$(id -u)" != 0 ] || chown -R postgres:postgres "$dir"
	chmod 700 "$dir"
	if ! bed_as postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres \
		--pwfile="$dir/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		return 1
	fi
	rm -f "$dir/pwfile"
	if ! bed_as postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null; then
		cat "$dir/postgres.log" >&2
		return 1
	fi
	if [ "$db" != postgres ]; then
		bed_as postgres "$PG_BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres \
			-v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$db\"" >&2
	fi
	echo "services: postgres 15 on 127.0.0.1:$port (dir $dir)" >&2
	cat <<-EOF
		BED_PG_DIR=$dir
		BED_PG_HOST=127.0.0.1
		BED_PG_PORT=$port
		BED_PG_SOCKET_DIR=$dir
		BED_PG_USER=postgres
		BED_PG_PASSWORD=$pw
		BED_PG_DB=$db
		BED_PG_URL=postgres://postgres:$pw@127.0.0.1:$port/$db
	EOF
}

bed_mariadb_start() { # [port]
	local port="${1:-$(bed_free_port)}"
	local pw="${BED_MARIADB_PASSWORD:-root}" db="${BED_MARIADB_DB:-test}"
	local dir user_opt=()
	dir="$(mktemp -d /tmp/berth-mariadb.XXXXXX)"
	echo mariadb >"$dir/kind"
	if [ "$(id -u)" = 0 ]; then
		chown mysql:mysql "$dir"
		user_opt=(--user=mysql)
	fi
	# --no-defaults: ignore /etc/mysql (its socket, bind-address, datadir).
	if ! mariadb-install-db --no-defaults --datadir="$dir/data" "${user_opt[@]}" \
		--auth-root-authentication-method=normal --skip-test-db \
		--skip-name-resolve >"$dir/install-db.log" 2>&1; then
		cat "$dir/install-db.log" >&2
		return 1
	fi
	setsid mariadbd --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
		--socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
		--port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
		--log-error="$dir/error.log" --innodb-flush-log-at-trx-commit=0 \
		--innodb-buffer-pool-size=64M --character-set-server=utf8mb4 \
		--collation-server=utf8mb4_general_ci </dev/null >/dev/null 2>&1 &
	local i up=0
	for i in $(seq 1 120); do
		if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot status >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.5
	done
	if [ "$up" != 1 ]; then
		echo "services: mariadb did not come up after ${i} tries" >&2
		cat "$dir/error.log" >&2 || true
		return 1
	fi
	local spw="${pw//\\/\\\\}"
	spw="${spw//\'/\\\'}"
	mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot <<-EOF
		DROP USER IF EXISTS 'root'@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
		ALTER USER 'root'@'localhost' IDENTIFIED BY '$spw';
		ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$spw';
		CREATE DATABASE IF NOT EXISTS \`$db\`;
		FLUSH PRIVILEGES;
	EOF
	echo "services: mariadb $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$port (dir $dir)" >&2
	cat <<-EOF
		BED_MARIADB_DIR=$dir
		BED_MARIADB_HOST=127.0.0.1
		BED_MARIADB_PORT=$port
		BED_MARIADB_SOCKET=$dir/mysqld.sock
		BED_MARIADB_USER=root
		BED_MARIADB_PASSWORD=$pw
		BED_MARIADB_DB=$db
		BED_MARIADB_URL=mysql://root:$pw@127.0.0.1:$port/$db
	EOF
}

bed_stop() { # dir
	local dir="$1" kind pid
	[ -d "$dir" ] || return 0
	kind="$(cat "$dir/kind" 2>/dev/null || true)"
	case "$kind" in
	postgres)
		if [ -f "$dir/data/postmaster.pid" ]; then
			bed_as postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
		fi
		;;
	mariadb)
		pid="$(cat "$dir/mysqld.pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
			for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		fi
		;;
	*)
		echo "services: $dir is not a bed service dir" >&2
		return 1
		;;
	esac
	rm -rf "$dir"
	echo "services: stopped $kind in $dir" >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	postgres | pg) bed_pg_start "${2:-}" ;;
	mariadb | mysql) bed_mariadb_start "${2:-}" ;;
	stop) bed_stop "${2:?usage: services.sh stop DIR}" ;;
	stop-all)
		for d in /tmp/berth-pg.* /tmp/berth-mariadb.*; do
			[ -e "$d" ] && bed_stop "$d"
		done
		true
		;;
	*)
		echo "usage: services.sh postgres|mariadb [PORT] | stop DIR | stop-all" >&2
		exit 2
		;;
	esac
fi
