#!/usr/bin/env bash
# Entrypoint of the locally built postgres:16 / postgres:15 test images
# (Debian bookworm's PostgreSQL 15).  Installed in the image as
# /usr/local/bin/docker-entrypoint.sh.  Mimics the official image:
#
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_USER (default postgres), POSTGRES_DB (default $POSTGRES_USER)
#   PGDATA (default /var/lib/postgresql/data), POSTGRES_INITDB_ARGS,
#   POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#   *_FILE variants of PASSWORD/USER/DB/INITDB_ARGS,
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst
#
# On first start (empty PGDATA) it runs initdb, lets every local connection
# in (trust, as initdb's defaults and the official image do), appends
# "host all all all $POSTGRES_HOST_AUTH_METHOD", listens on '*', creates the
# database, runs the init scripts against a temporary server that listens on a
# private socket only (so a `pg_isready` healthcheck does not report healthy
# before initialisation is over), then execs postgres in the foreground as the
# postgres user (PID 1).
set -Eeo pipefail  # no -u: init scripts are sourced, as upstream

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# file_env VAR [DEFAULT]: VAR or VAR_FILE (contents of that file).
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ -n "${!var:-}" ]; then
		val="${!var}"
	elif [ -n "${!fileVar:-}" ]; then
		val="$(<"${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }

# First argument looks like a flag: run postgres with it.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA"
	chmod 700 "$PGDATA"
	chown postgres:postgres /var/run/postgresql
	chmod 3777 /var/run/postgresql
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		chown -R postgres:postgres "$POSTGRES_INITDB_WALDIR"
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOE
		exit 1
	fi

	log "initialising database cluster in $PGDATA"
	initdb_args=(--username="$POSTGRES_USER" --encoding=UTF8 --locale=C.UTF-8)
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		initdb_args+=(--waldir="$POSTGRES_INITDB_WALDIR")
	fi
	# shellcheck disable=SC2206 # POSTGRES_INITDB_ARGS is a word list by design
	initdb_args+=($POSTGRES_INITDB_ARGS)
	if [ -n "$POSTGRES_PASSWORD" ]; then
		initdb --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${initdb_args[@]}"
	else
		initdb "${initdb_args[@]}"
	fi

	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	# Temporary server: no TCP, socket in a private directory.
	init_sock="$(mktemp -d /tmp/pg-init.XXXXXX)"
	export PGHOST="$init_sock" PGPORT=5432 PGUSER="$POSTGRES_USER"
	export PGPASSWORD="$POSTGRES_PASSWORD"
	pg_ctl -D "$PGDATA" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$init_sock' -p 5432" start

	psql_base=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER")
	if [ "$POSTGRES_DB" != postgres ]; then
		log "creating database $POSTGRES_DB"
		"${psql_base[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi

	psql_db=("${psql_base[@]}" --dbname "$POSTGRES_DB")
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
		*.sql) log "running $f"; "${psql_db[@]}" -f "$f" ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | "${psql_db[@]}" ;;
		*.sql.xz) log "running $f"; xz -dc "$f" | "${psql_db[@]}" ;;
		*.sql.zst) log "running $f"; zstd -dc "$f" | "${psql_db[@]}" ;;
		*) log "ignoring $f" ;;
		esac
	done
	shopt -u nullglob

	pg_ctl -D "$PGDATA" -m fast -w stop
	rm -rf "$init_sock"
	unset PGHOST PGPORT PGUSER PGPASSWORD
	log "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
