//! A fingerprint of every table of a database: its row count and a hash of
//! its rows in order (and, on PostgreSQL, each sequence's last value), to
//! show that a copy of a database holds the same data as the original.

use std::collections::BTreeMap;

use crate::engine::{Family, quote_literal};
use crate::target::Db;

/// Table (or `seq:` sequence) -> `ROWS HASH` (a sequence: its last value),
/// of `database` on `db`'s server.
pub fn tables(db: &Db, database: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    match db.family {
        Family::Postgres => {
            let list = db.query(
                database,
                &[
                    "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) \
                   FROM information_schema.tables WHERE table_type = 'BASE TABLE' \
                   AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
                        .to_owned(),
                ],
            )?;
            for t in list.lines().filter(|l| !l.is_empty()) {
                let sql = format!(
                    "SELECT count(*) || ' ' || md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) \
                     FROM (SELECT t::text AS r FROM {t} t) s"
                );
                out.insert(t.to_owned(), db.query(database, &[sql])?.trim().to_owned());
            }
            let seqs = db.query(
                database,
                &[
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) || ' ' \
                   || coalesce(last_value::text, '-') FROM pg_sequences ORDER BY 1"
                        .to_owned(),
                ],
            )?;
            for l in seqs.lines() {
                if let Some((name, value)) = l.split_once(' ') {
                    out.insert(format!("seq:{name}"), value.to_owned());
                }
            }
        }
        Family::MySql => {
            let d = quote_literal(db.family, database);
            let list = db.query(
                database,
                &[format!(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = {d} \
                     AND table_type = 'BASE TABLE' ORDER BY 1"
                )],
            )?;
            for t in list.lines().filter(|l| !l.is_empty()) {
                let cols = db.query(
                    database,
                    &[format!(
                        "SELECT GROUP_CONCAT(CONCAT('IFNULL(HEX(`', REPLACE(column_name, '`', '``'), \
                         '`), ''-'')') ORDER BY ordinal_position SEPARATOR ', ') \
                         FROM information_schema.columns WHERE table_schema = {d} AND table_name = {}",
                        quote_literal(db.family, t)
                    )],
                )?;
                let q = format!("`{}`", t.replace('`', "``"));
                let sql = [
                    "SET SESSION group_concat_max_len = 4294967295".to_owned(),
                    format!(
                        "SELECT CONCAT(COUNT(*), ' ', MD5(IFNULL(GROUP_CONCAT(r ORDER BY r SEPARATOR '\\n'), ''))) \
                         FROM (SELECT CONCAT_WS('|', {}) AS r FROM {q}) s",
                        cols.trim()
                    ),
                ];
                out.insert(t.to_owned(), db.query(database, &sql)?.trim().to_owned());
            }
        }
    }
    Ok(out)
}
