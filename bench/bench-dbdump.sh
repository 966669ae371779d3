#!/bin/sh
# dbdump backup and restore of a ~1 GB PostgreSQL database in a container
# (the test bed's postgres:16 image), against the plain pipelines, in one
# hyperfine run each:
#   backup:  dbdump backup (zstd, and gzip)
#            vs  docker exec C pg_dump | gzip > file   and   | zstd > file
#   restore: dbdump restore --yes --no-safety-backup (zstd file): loads into
#            a scratch database and swaps it in (the new method)
#            vs  drop + create database && zstd -dc file | docker exec -i C psql
#            (what dbdump did before: drop, create, load in place)
# plus dbdump's peak RSS (/usr/bin/time -f %M) in a backup and in a restore,
# and the swap window ("swapped in N ms" on dbdump's stderr) of
# BERTH_BENCH_SWAPS restores (default 5) of this database and of a MariaDB
# database of 6 tables, 3 views, 4 triggers, 2 routines on the host's
# MariaDB (tests/bed/services.sh; skipped when it cannot start).
#
# The database is generated once with generate_series into a named volume
# (berth-bench-dbdump-pgdata) and reused while it exists; it is removed at
# the end unless BERTH_BENCH_KEEP=1. BERTH_BENCH_ROWS sets the row count
# (default 3600000, about 1 GB of SQL); BERTH_BENCH_RUNS the runs (default 3).
# Usage: bench-dbdump.sh OUTDIR (dbdump on PATH; Docker, docker-compose,
# hyperfine, zstd, gzip, jq).
set -eu
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
for tool in dbdump docker docker-compose hyperfine zstd gzip jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench-dbdump: $tool is not installed" >&2
        exit 2
    fi
done
if ! docker info >/dev/null 2>&1; then
    echo "bench-dbdump: the Docker engine does not answer (tests/bed/dockerd.sh)" >&2
    exit 2
fi
rows=${BERTH_BENCH_ROWS:-3600000}
runs=${BERTH_BENCH_RUNS:-3}
volume=berth-bench-dbdump-pgdata
project=berthbenchdbdump
work=$(mktemp -d /var/tmp/bench-dbdump.XXXXXX)
export BERTH_HOME="$work/berth"
export COMPOSE_HTTP_TIMEOUT=600
cleanup() {
    (cd "$work" && docker-compose -p "$project" down -t 5 >/dev/null 2>&1) || true
    if [ "${BERTH_BENCH_KEEP:-0}" != 1 ]; then
        docker volume rm "$volume" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cat > "$work/compose.yaml" <<EOF
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: \${DB_PASSWORD}
      POSTGRES_DB: shop
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "app", "-d", "shop"]
      interval: 1s
      retries: 300
volumes:
  pgdata:
    external: true
    name: $volume
EOF
printf 'COMPOSE_PROJECT_NAME=%s\nDB_PASSWORD=bench-pw\n' "$project" > "$work/.env"
cd "$work"
docker volume create "$volume" >/dev/null
docker-compose -p "$project" up -d >/dev/null 2>&1
c=$(docker-compose -p "$project" ps -q db)
i=0
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$c")" = healthy ]; do
    i=$((i + 1))
    [ "$i" -lt 600 ] || { echo "bench-dbdump: postgres did not become healthy" >&2; docker logs "$c" >&2; exit 1; }
    sleep 0.5
done
psql_c() { docker exec -i "$c" psql -X -q -tA -v ON_ERROR_STOP=1 -U app -d "${2:-shop}" -c "$1"; }

have=$(psql_c "SELECT count(*) FROM pg_tables WHERE tablename = 'big'")
if [ "$have" = 1 ] && [ "$(psql_c 'SELECT count(*) FROM big')" = "$rows" ]; then
    echo "bench-dbdump: reusing the database in volume $volume" >&2
else
    echo "bench-dbdump: generating $rows rows (once; kept in volume $volume while it exists)" >&2
    gen_start=$(date +%s)
    psql_c "SET client_min_messages = warning; DROP TABLE IF EXISTS big; DROP TABLE IF EXISTS small;
        CREATE TABLE big (id bigint PRIMARY KEY, at timestamptz, n numeric(12,4), h text, body text, doc jsonb);
        INSERT INTO big SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second', i / 7.0,
            md5(i::text), md5((i * 3)::text) || ' ' || md5((i * 5)::text) || ' ' || md5((i * 7)::text) || ' ' || md5((i * 11)::text),
            jsonb_build_object('i', i, 'tag', 'tag-' || (i % 100), 'ok', i % 2 = 0)
          FROM generate_series(1, $rows) i;
        CREATE TABLE small AS SELECT i AS id, 'ünïcødé ' || i AS name FROM generate_series(1, 10000) i;"
    psql_c "VACUUM ANALYZE big"
    echo "bench-dbdump: generated in $(( $(date +%s) - gen_start )) s" >&2
fi
dbsize=$(psql_c "SELECT pg_size_pretty(pg_database_size('shop'))")
sqlsize=$(docker exec "$c" pg_dump -U app -d shop | wc -c)

# --- backup -----------------------------------------------------------------
mkdir -p "$work/plain"
hyperfine --warmup 1 --runs "$runs" --export-json "$work/backup.json" \
    --command-name 'dbdump backup (zstd)' \
    "dbdump backup --compress zstd --backup-dir $work/b-zstd >/dev/null 2>&1" \
    --command-name 'dbdump backup --compress gzip' \
    "dbdump backup --compress gzip --backup-dir $work/b-gzip >/dev/null 2>&1" \
    --command-name 'docker exec pg_dump | zstd > file' \
    "docker exec $c pg_dump -U app -d shop | zstd -q -3 > $work/plain/dump.sql.zst" \
    --command-name 'docker exec pg_dump | gzip > file' \
    "docker exec $c pg_dump -U app -d shop | gzip -6 > $work/plain/dump.sql.gz" >&2

# Peak memory of dbdump in a backup.
/usr/bin/time -f %M -o "$work/rss-backup" dbdump backup --compress zstd --backup-dir "$work/rss" --name rss >/dev/null 2>&1
latest=$(dbdump list --backup-dir "$work/rss" --json | jq -r '.[-1].file')
zsize=$(stat -c %s "$latest")
gsize=$(stat -c %s "$(dbdump list --backup-dir "$work/b-gzip" --json | jq -r '.[-1].file')")
dbdump verify "$latest" >&2

# --- restore ----------------------------------------------------------------
# Both restores drop and recreate the database first (dbdump does it itself).
recreate="docker exec $c psql -X -q -U app -d postgres -c 'DROP DATABASE IF EXISTS shop WITH (FORCE)' -c 'CREATE DATABASE shop OWNER app'"
hyperfine --runs "$runs" --export-json "$work/restore.json" \
    --command-name 'dbdump restore (zstd file)' \
    "dbdump restore --yes --no-safety-backup --backup-dir $work/rss $latest >/dev/null 2>&1" \
    --command-name 'zstd -dc file | docker exec -i psql' \
    "$recreate && zstd -dc $latest | docker exec -i $c psql -X -q -v ON_ERROR_STOP=1 -U app -d shop >/dev/null" >&2

/usr/bin/time -f %M -o "$work/rss-restore" dbdump restore --yes --no-safety-backup --backup-dir "$work/rss" "$latest" >/dev/null 2>&1
restored=$(psql_c 'SELECT count(*) FROM big')
[ "$restored" = "$rows" ] || { echo "bench-dbdump: restore lost rows ($restored of $rows)" >&2; exit 1; }

# --- swap window ------------------------------------------------------------
swaps=${BERTH_BENCH_SWAPS:-5}
window() { # dbdump restore args...: the "swapped in N ms" figures, one a line
    n=0
    while [ "$n" -lt "$swaps" ]; do
        dbdump restore --yes --no-safety-backup "$@" 2>&1 >/dev/null | sed -n 's/.*swapped in \([0-9]*\) ms.*/\1/p'
        n=$((n + 1))
    done
}
summary() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } printf "median %d ms, min %d ms, max %d ms (%d restores)", v[int((NR + 1) / 2)], v[1], v[NR], NR }'; }
pg_window=$(window --dir "$work/rss" "$latest" | summary)
services=$(dirname "$0")/../tests/bed/services.sh
my_window="n/a (the host's MariaDB did not start)"
if my_env=$(bash "$services" mariadb 2>/dev/null); then
    my_dir=$(printf '%s\n' "$my_env" | sed -n 's/^BED_MARIADB_DIR=//p')
    my_url=$(printf '%s\n' "$my_env" | sed -n 's/^BED_MARIADB_URL=//p')
    my_port=$(printf '%s\n' "$my_env" | sed -n 's/^BED_MARIADB_PORT=//p')
    my_sql() { MYSQL_PWD=root mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$my_port" -uroot test; }
    {
        echo "SET SESSION max_recursive_iterations = 10000000;"
        for t in 1 2 3 4 5 6; do
            echo "CREATE TABLE t$t (id INT PRIMARY KEY, a VARCHAR(40), n INT, KEY (n)) ENGINE=InnoDB;"
            echo "INSERT INTO t$t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) SELECT i, MD5(i), i % 100 FROM s;"
        done
        for v in 1 2 3; do echo "CREATE VIEW v$v AS SELECT t$v.id, t$v.a FROM t$v JOIN t$((v + 1)) USING (id);"; done
        for g in 1 2 3 4; do echo "CREATE TRIGGER g$g BEFORE INSERT ON t$g FOR EACH ROW SET NEW.n = NEW.n + 1;"; done
        echo "CREATE FUNCTION f1(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;"
        echo "CREATE PROCEDURE p1() SELECT COUNT(*) FROM t1;"
    } | my_sql
    dbdump backup --url "$my_url" --backup-dir "$work/my" --name bench >/dev/null 2>&1
    my_file=$(dbdump list --backup-dir "$work/my" --json | jq -r '.[-1].file')
    my_window=$(window --url "$my_url" --dir "$work/my" "$my_file" | summary)
    bash "$services" stop "$my_dir" >/dev/null 2>&1 || true
fi

stat() { jq -r --arg n "$2" --arg k "$3" '.results[] | select(.command == $n) | (.[$k] // 0)' "$work/$1.json"; }
row() { printf '| %s | %.2f ± %.2f | %.2f | %.2f |\n' "$(printf '%s' "$2" | sed 's/|/\\|/g')" "$(stat "$1" "$2" mean)" "$(stat "$1" "$2" stddev)" "$(stat "$1" "$2" median)" "$(stat "$1" "$2" min)"; }
ratio() { awk -v a="$(stat "$1" "$2" median)" -v b="$(stat "$1" "$3" median)" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1000000 }'; }

report="$out/dbdump.md"
{
    echo "# dbdump backup and restore vs plain pipelines"
    echo
    echo "PostgreSQL 15 (test bed image postgres:16) in Docker, $rows rows + 10000: database $dbsize on disk,"
    echo "$(mb "$sqlsize") of SQL from pg_dump; dbdump's zstd file $(mb "$zsize"), gzip file $(mb "$gsize")."
    echo "$(nproc) cores; hyperfine, $runs runs per command (1 warm-up for backups); times in seconds."
    echo
    echo "## Backup"
    echo
    echo "| command | mean s | median s | min s |"
    echo "|---|---|---|---|"
    row backup 'dbdump backup (zstd)'
    row backup 'dbdump backup --compress gzip'
    row backup 'docker exec pg_dump | zstd > file'
    row backup 'docker exec pg_dump | gzip > file'
    echo
    echo "- dbdump (zstd) / pg_dump | zstd: $(ratio backup 'dbdump backup (zstd)' 'docker exec pg_dump | zstd > file') (median; below 1 is faster)"
    echo "- dbdump (zstd) / pg_dump | gzip: $(ratio backup 'dbdump backup (zstd)' 'docker exec pg_dump | gzip > file')"
    echo "- dbdump --compress gzip / pg_dump | gzip: $(ratio backup 'dbdump backup --compress gzip' 'docker exec pg_dump | gzip > file')"
    echo "- dbdump peak RSS during a backup: $(cat "$work/rss-backup") KiB"
    echo
    echo "## Restore (dbdump: into a scratch database, then swapped in; the pipeline: drop, create, load in place)"
    echo
    echo "| command | mean s | median s | min s |"
    echo "|---|---|---|---|"
    row restore 'dbdump restore (zstd file)'
    row restore 'zstd -dc file | docker exec -i psql'
    echo
    echo "- dbdump / zstd -dc | psql: $(ratio restore 'dbdump restore (zstd file)' 'zstd -dc file | docker exec -i psql') (dbdump also checks the SHA-256 and decompresses the whole file once before loading, loads into a scratch database and swaps it in)"
    echo "- dbdump peak RSS during a restore: $(cat "$work/rss-restore") KiB"
    echo
    echo "## Swap window (\"swapped in N ms\" on dbdump's stderr)"
    echo
    echo "- PostgreSQL, this database (one transaction: terminate sessions, two renames): $pg_window"
    echo "- MariaDB 10.11 on the host, 6 tables of 20000 rows, 3 views, 4 triggers, 2 routines (one RENAME TABLE, objects recreated): $my_window"
} > "$report"
cat "$report"
