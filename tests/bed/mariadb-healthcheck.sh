#!/usr/bin/env bash
# /usr/local/bin/healthcheck.sh in the locally built mariadb/mysql test images.
# Stand-in for the official image's healthcheck.sh: any flags
# (--connect, --innodb_initialized, --su-mysql, ...) are accepted and the check
# is "the server answers on its socket".  mariadb-admin ping exits 0 even on
# "Access denied", which still proves the server is up, so no credentials are
# needed.  The entrypoint's temporary init server uses another socket, so this
# only turns healthy once the real server runs.
set -euo pipefail
exec mariadb-admin --protocol=socket --socket=/run/mysqld/mysqld.sock \
	--connect-timeout=2 ping --silent >/dev/null
