//! Replacing a database without a moment in which it is half there: the new
//! contents are loaded into a scratch database beside the live one and
//! swapped in only once complete, under a lock, with a journal written
//! before the swap so that a run killed during it is finished by the next.
//!
//! PostgreSQL renames databases: the swap is one transaction
//! (`ALTER DATABASE live RENAME TO old; ALTER DATABASE new RENAME TO live`),
//! after the live database's sessions are ended. MySQL and MariaDB cannot
//! rename a database: every table moves in one atomic `RENAME TABLE`
//! statement, and the views, triggers, routines and events (which cannot
//! move between databases) are dropped just before it and recreated from
//! their `SHOW CREATE` text just after it, in the same client session. That
//! short stretch is the one window a reader can see (tables without their
//! triggers and views); `dbdump restore` prints its length.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use berth::cli::error_with_hint;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::engine::{Family, quote_ident, quote_literal};
use crate::target::Db;

/// What the journal was written for: how an interrupted run is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// The new contents are complete: an interrupted swap is rolled forward.
    Restore,
    /// The old database is kept until the framework step succeeded: an
    /// interrupted reset puts it back.
    Reset,
}

/// A view, trigger, routine or event of a MySQL-family database, as
/// `SHOW CREATE` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub sql_mode: String,
    pub create: String,
}

/// The journal: written (fsync, rename) before the swap, removed after the
/// cleanup. Enough to finish or undo the swap without the process that wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub op: Op,
    pub family: String,
    pub live: String,
    /// The scratch database holding the incoming contents.
    pub new: String,
    /// Where the live contents go.
    pub old: String,
    /// MySQL family: the tables of the live database and of the incoming one.
    #[serde(default)]
    pub old_tables: Vec<String>,
    #[serde(default)]
    pub new_tables: Vec<String>,
    /// MySQL family: the objects to recreate in the live database.
    #[serde(default)]
    pub old_objects: Vec<Object>,
    #[serde(default)]
    pub new_objects: Vec<Object>,
    pub pid: u32,
    pub started_at: jiff::Timestamp,
}

/// The names of the scratch databases beside `live`: `<live>__dbdump_new`
/// and `<live>__dbdump_old`, shortened with a hash past 63 characters.
pub fn side_name(live: &str, side: &str) -> String {
    let plain = format!("{live}__dbdump_{side}");
    if plain.len() <= 63 {
        return plain;
    }
    let hash = hex(&Sha256::digest(live.as_bytes()))[..8].to_owned();
    let mut cut = 63 - format!("__dbdump_{side}_{hash}").len();
    while !live.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}__dbdump_{side}_{hash}", &live[..cut])
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The lock held while a restore or reset runs on one database; recovery
/// of what a killed run left happens under it.
pub struct Guard {
    _lock: File,
    journal: PathBuf,
    /// Exists while scratch databases may exist (before any journal), so
    /// read-only commands ask the server only when there is something to do.
    marker: PathBuf,
    pub new: String,
    pub old: String,
}

/// Where the lock and journal of `db` live: berth's data folder, keyed by
/// the project (or server) and database.
fn state_files(db: &Db) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let paths = berth::paths::Paths::from_env()?;
    let dir = paths.data.join("dbdump");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let identity = format!(
        "{}\n{}\n{}\n{}",
        db.project.as_deref().unwrap_or_default(),
        db.creds.host.as_deref().unwrap_or_default(),
        db.creds.port.unwrap_or_default(),
        db.creds.database
    );
    let key = hex(&Sha256::digest(identity.as_bytes()))[..16].to_owned();
    Ok((
        dir.join(format!("{key}.lock")),
        dir.join(format!("{key}.journal.json")),
        dir.join(format!("{key}.scratch")),
    ))
}

impl Guard {
    /// Take the lock of `db` (exit 2 when another restore or reset holds
    /// it), then finish what an interrupted run left.
    pub fn acquire(db: &Db) -> anyhow::Result<Guard> {
        let (lock, journal, marker) = state_files(db)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .with_context(|| format!("cannot open {}", lock.display()))?;
        if file.try_lock().is_err() {
            return Err(error_with_hint(
                format!(
                    "another dbdump restore or reset of database {} is running",
                    db.creds.database
                ),
                "wait for it to finish",
            ));
        }
        let g = Guard {
            _lock: file,
            journal,
            marker,
            new: side_name(&db.creds.database, "new"),
            old: side_name(&db.creds.database, "old"),
        };
        g.recover(db)?;
        Ok(g)
    }

    /// Finish what a killed run left, when no restore or reset is running:
    /// for commands that only read the database.
    pub fn recover_if_idle(db: &Db) {
        let Ok((lock, journal, marker)) = state_files(db) else {
            return;
        };
        if !journal.exists() && !marker.exists() {
            return;
        }
        let Ok(file) = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
        else {
            return;
        };
        if file.try_lock().is_err() {
            return;
        }
        let g = Guard {
            _lock: file,
            journal,
            marker,
            new: side_name(&db.creds.database, "new"),
            old: side_name(&db.creds.database, "old"),
        };
        if let Err(e) = g.recover(db) {
            berth::cli::warn("dbdump", format!("{e:#}"));
        }
    }

    fn read_journal(&self) -> anyhow::Result<Option<Journal>> {
        let meta = match std::fs::symlink_metadata(&self.journal) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context(format!("cannot read {}", self.journal.display())),
        };
        if !meta.is_file() || meta.len() > 16 << 20 {
            bail!(
                "{} is not a dbdump journal (not a regular file under 16 MiB)",
                self.journal.display()
            );
        }
        let mut text = Vec::new();
        File::open(&self.journal)
            .and_then(|f| f.take(16 << 20).read_to_end(&mut text))
            .with_context(|| format!("cannot read {}", self.journal.display()))?;
        let j = serde_json::from_slice(&text)
            .with_context(|| format!("invalid dbdump journal {}", self.journal.display()))?;
        Ok(Some(j))
    }

    fn write_journal(&self, j: &Journal) -> anyhow::Result<()> {
        berth::atomic::write(&self.journal, &serde_json::to_vec_pretty(j)?, 0o600)?;
        Ok(())
    }

    fn remove_journal(&self) -> anyhow::Result<()> {
        remove_if_there(&self.journal)
    }

    /// Finish (restore) or undo (reset) a journalled swap, then drop the
    /// scratch databases a killed run left.
    fn recover(&self, db: &Db) -> anyhow::Result<()> {
        if let Some(j) = self.read_journal()? {
            if j.live != db.creds.database {
                bail!(
                    "the journal {} is for database {}, not {}",
                    self.journal.display(),
                    j.live,
                    db.creds.database
                );
            }
            let what = match j.op {
                Op::Restore => "finishing the restore",
                Op::Reset => "putting back the database as it was before the reset",
            };
            crate::note(format!(
                "a dbdump run (pid {}) was interrupted while replacing database {}: {what}",
                j.pid, j.live
            ));
            match j.op {
                Op::Restore => roll_forward(db, &j)
                    .or_else(|e| {
                        crate::note(format!("cannot finish the swap ({e:#}); undoing it"));
                        roll_back(db, &j)
                    })
                    .with_context(|| {
                        format!(
                            "cannot recover database {} from journal {}",
                            j.live,
                            self.journal.display()
                        )
                    })?,
                Op::Reset => roll_back(db, &j).with_context(|| {
                    format!(
                        "cannot recover database {} from journal {}",
                        j.live,
                        self.journal.display()
                    )
                })?,
            }
            drop_dbs(db, &[&j.new, &j.old])?;
            self.remove_journal()?;
            crate::note(format!("database {} recovered", j.live));
        }
        let left = existing(db, &[&self.new, &self.old])?;
        if !left.is_empty() {
            crate::note(format!(
                "removing {} left by an interrupted dbdump run",
                left.join(", ")
            ));
            drop_dbs(db, &left.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        remove_if_there(&self.marker)
    }

    /// Drop both scratch databases; then nothing is left to clean up.
    fn drop_scratch(&self, db: &Db) -> anyhow::Result<()> {
        drop_dbs(db, &[&self.new, &self.old])?;
        remove_if_there(&self.marker)
    }

    /// Create the empty scratch databases, as the live one was created.
    pub fn prepare(&self, db: &Db) -> anyhow::Result<()> {
        berth::atomic::write(
            &self.marker,
            format!("{}\n{}\n", self.new, self.old).as_bytes(),
            0o600,
        )?;
        let maint = db.maintenance_db();
        let live = &db.creds.database;
        let described = db.query(&maint, &[crate::engine::describe_db_sql(db.family, live)])?;
        let mut targets = vec![self.new.as_str()];
        if db.family == Family::MySql {
            targets.push(self.old.as_str());
            // Tables move into the live database: it must exist.
            if described.trim().is_empty() {
                db.query(
                    &maint,
                    &[format!(
                        "CREATE DATABASE IF NOT EXISTS {}",
                        quote_ident(db.family, live)
                    )],
                )?;
            }
        }
        for name in targets {
            let sql = crate::engine::recreate_sql(db.family, name, &described);
            db.query(&maint, &sql)
                .with_context(|| format!("cannot create scratch database {name}"))?;
        }
        if db.family == Family::Postgres && !described.trim().is_empty() {
            // The database's own privileges (who may connect: a shared
            // server revokes CONNECT from PUBLIC) go with the new contents.
            let acl = db.query(
                &maint,
                &[format!(
                    "SELECT coalesce(datacl::text, '') FROM pg_database WHERE datname = {}",
                    crate::engine::quote_literal(db.family, live)
                )],
            )?;
            let grants = acl_statements(&self.new, acl.trim());
            if !grants.is_empty() {
                db.query(&maint, &grants).with_context(|| {
                    format!("cannot give {} the privileges of {live}", self.new)
                })?;
            }
        }
        Ok(())
    }

    /// Drop the scratch databases (after a failed or interrupted load).
    pub fn discard(&self, db: &Db) -> anyhow::Result<()> {
        self.drop_scratch(db)
    }

    /// Swap the loaded scratch database in. For a restore the old database
    /// is dropped and the journal removed; for a reset both stay until
    /// [`Guard::finish`] or [`Guard::put_back`]. Returns how long the swap
    /// took (the window described in the module doc).
    pub fn swap_in(&self, db: &Db, op: Op) -> anyhow::Result<Duration> {
        let live = db.creds.database.clone();
        let mut j = Journal {
            op,
            family: match db.family {
                Family::Postgres => "postgres".into(),
                Family::MySql => "mysql".into(),
            },
            live: live.clone(),
            new: self.new.clone(),
            old: self.old.clone(),
            old_tables: Vec::new(),
            new_tables: Vec::new(),
            old_objects: Vec::new(),
            new_objects: Vec::new(),
            pid: std::process::id(),
            started_at: jiff::Timestamp::now(),
        };
        if db.family == Family::MySql {
            let old = inventory(db, &live)?;
            let new = inventory(db, &self.new)?;
            j.old_objects = definitions(db, &live, &old.objects, &live)?;
            j.new_objects = definitions(db, &self.new, &new.objects, &live)?;
            j.old_tables = old.tables;
            j.new_tables = new.tables;
        }
        self.write_journal(&j)?;
        let swapped = match db.family {
            Family::Postgres => pg_swap(db, &live, &self.new, &self.old),
            Family::MySql => my_swap(
                db,
                &live,
                &self.new,
                &self.old,
                &j.new_tables,
                &j.new_objects,
            ),
        };
        let took = match swapped {
            Ok(took) => took,
            Err(e) => {
                // Undo at once what part of it ran, as the next run would.
                let undone = roll_back(db, &j);
                return match undone {
                Ok(()) => {
                    self.drop_scratch(db)?;
                    self.remove_journal()?;
                    Err(e.context(format!(
                        "cannot swap the new contents into database {live}; it was left as it was"
                    )))
                }
                Err(u) => Err(e.context(format!(
                    "cannot swap the new contents into database {live}, nor undo the swap ({u:#}); the next dbdump run finishes it from {}",
                    self.journal.display()
                ))),
            };
            }
        };
        if op == Op::Restore {
            self.drop_scratch(db)?;
            self.remove_journal()?;
        }
        Ok(took)
    }

    /// The reset went through: drop the old database, remove the journal.
    pub fn finish(&self, db: &Db) -> anyhow::Result<()> {
        self.drop_scratch(db)?;
        self.remove_journal()
    }

    /// The reset failed: put the old database back, drop the new one.
    pub fn put_back(&self, db: &Db) -> anyhow::Result<()> {
        let j = self
            .read_journal()?
            .ok_or_else(|| anyhow!("the journal {} is gone", self.journal.display()))?;
        roll_back(db, &j)?;
        self.drop_scratch(db)?;
        self.remove_journal()
    }
}

/// The statements giving database `db` the privileges a PostgreSQL `datacl`
/// lists (`{=Tc/owner,owner=CTc/owner,p_shop=c/owner}`; empty: the defaults,
/// nothing to do).
fn acl_statements(db: &str, acl: &str) -> Vec<String> {
    let items = acl.trim_start_matches('{').trim_end_matches('}');
    if items.is_empty() {
        return Vec::new();
    }
    let id = quote_ident(Family::Postgres, db);
    let mut out = vec![format!("REVOKE ALL ON DATABASE {id} FROM PUBLIC")];
    for item in items.split(',') {
        let Some((grantee, rest)) = item.split_once('=') else {
            continue;
        };
        let privs: Vec<&str> = rest
            .split('/')
            .next()
            .unwrap_or_default()
            .chars()
            .filter_map(|c| match c {
                'C' => Some("CREATE"),
                'c' => Some("CONNECT"),
                'T' => Some("TEMPORARY"),
                _ => None,
            })
            .collect();
        if privs.is_empty() {
            continue;
        }
        let grantee = grantee.trim_matches('"');
        let to = if grantee.is_empty() {
            "PUBLIC".to_owned()
        } else {
            quote_ident(Family::Postgres, grantee)
        };
        out.push(format!(
            "GRANT {} ON DATABASE {id} TO {to}",
            privs.join(", ")
        ));
    }
    out
}

fn remove_if_there(path: &std::path::Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).context(format!("cannot remove {}", path.display())),
    }
}

/// Which of `names` exist on the server.
fn existing(db: &Db, names: &[&str]) -> anyhow::Result<Vec<String>> {
    let list = names
        .iter()
        .map(|n| quote_literal(db.family, n))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = match db.family {
        Family::Postgres => format!("SELECT datname FROM pg_database WHERE datname IN ({list})"),
        Family::MySql => format!(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ({list})"
        ),
    };
    let out = db.query(&db.maintenance_db(), &[sql])?;
    Ok(out
        .lines()
        .map(unescape)
        .filter(|l| !l.is_empty())
        .collect())
}

fn drop_dbs(db: &Db, names: &[&str]) -> anyhow::Result<()> {
    let present = existing(db, names)?;
    if present.is_empty() {
        return Ok(());
    }
    let mut sql = Vec::new();
    for name in &present {
        let id = quote_ident(db.family, name);
        match db.family {
            Family::Postgres => {
                sql.push(format!(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()",
                    quote_literal(db.family, name)
                ));
                sql.push(format!("DROP DATABASE IF EXISTS {id}"));
            }
            Family::MySql => sql.push(format!("DROP DATABASE IF EXISTS {id}")),
        }
    }
    db.query(&db.maintenance_db(), &sql)
        .with_context(|| format!("cannot drop {}", present.join(", ")))?;
    Ok(())
}

/// One transaction: end the sessions on both, rename live to `out`, `incoming` to live.
fn pg_swap(db: &Db, live: &str, incoming: &str, out: &str) -> anyhow::Result<Duration> {
    let have = existing(db, &[live, incoming])?;
    if !have.iter().any(|n| n == incoming) {
        bail!("database {incoming} is gone");
    }
    let l = |s: &str| quote_literal(Family::Postgres, s);
    let q = |s: &str| quote_ident(Family::Postgres, s);
    let mut sql = format!(
        "BEGIN; SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname IN ({}, {}) AND pid <> pg_backend_pid();",
        l(live),
        l(incoming)
    );
    if have.iter().any(|n| n == live) {
        let _ = write!(sql, " ALTER DATABASE {} RENAME TO {};", q(live), q(out));
    }
    let _ = write!(
        sql,
        " ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} WITH ALLOW_CONNECTIONS true; COMMIT;",
        q(incoming),
        q(live),
        q(live)
    );
    // A client that connects between the terminate and the rename makes
    // the rename fail (and the transaction roll back): try again.
    let mut tries = 0;
    loop {
        let started = Instant::now();
        match db.query(&db.maintenance_db(), std::slice::from_ref(&sql)) {
            Ok(_) => return Ok(started.elapsed()),
            Err(e) if tries < 4 && format!("{e:#}").contains("being accessed by other users") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The tables and the other objects of a MySQL-family database.
struct Inventory {
    tables: Vec<String>,
    /// (kind, name), in the order they can be created.
    objects: Vec<(String, String)>,
}

fn inventory(db: &Db, schema: &str) -> anyhow::Result<Inventory> {
    let s = quote_literal(Family::MySql, schema);
    let sql = [
        format!(
            "SELECT 'TABLE', TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = {s} AND TABLE_TYPE <> 'VIEW' ORDER BY TABLE_NAME"
        ),
        format!(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {s} ORDER BY ROUTINE_TYPE, ROUTINE_NAME"
        ),
        format!(
            "SELECT 'VIEW', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {s} ORDER BY TABLE_NAME"
        ),
        format!(
            "SELECT 'TRIGGER', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {s} ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER"
        ),
        format!(
            "SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {s} ORDER BY EVENT_NAME"
        ),
    ];
    let out = db.query("", &sql)?;
    let mut inv = Inventory {
        tables: Vec::new(),
        objects: Vec::new(),
    };
    for line in out.lines() {
        let Some((kind, name)) = line.split_once('\t') else {
            continue;
        };
        let name = unescape(name);
        if kind == "TABLE" {
            inv.tables.push(name);
        } else {
            inv.objects.push((kind.to_owned(), name));
        }
    }
    Ok(inv)
}

/// The `SHOW CREATE` text of each object of `schema`, to be created in
/// `target` (a view's references to `schema` are pointed at `target`).
/// Views come after the views they mention.
fn definitions(
    db: &Db,
    schema: &str,
    objects: &[(String, String)],
    target: &str,
) -> anyhow::Result<Vec<Object>> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let sql: Vec<String> = objects
        .iter()
        .map(|(kind, name)| format!("SHOW CREATE {kind} {}", quote_ident(Family::MySql, name)))
        .collect();
    let out = db.query(schema, &sql)?;
    let rows: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    if rows.len() != objects.len() {
        bail!(
            "cannot read the definitions of the views, triggers and routines of {schema} ({} rows for {} objects)",
            rows.len(),
            objects.len()
        );
    }
    let mut defs = Vec::new();
    for ((kind, name), row) in objects.iter().zip(rows) {
        let cols: Vec<String> = row.split('\t').map(unescape).collect();
        let (sql_mode, create) = match kind.as_str() {
            "VIEW" => (String::new(), cols.get(1)),
            "EVENT" => (cols.get(1).cloned().unwrap_or_default(), cols.get(3)),
            _ => (cols.get(1).cloned().unwrap_or_default(), cols.get(2)),
        };
        let Some(create) = create.filter(|c| !c.is_empty() && *c != "NULL") else {
            bail!("cannot read the definition of {kind} {name} in {schema} (missing privilege?)");
        };
        let create = if kind == "VIEW" && schema != target {
            create.replace(
                &format!("{}.", quote_ident(Family::MySql, schema)),
                &format!("{}.", quote_ident(Family::MySql, target)),
            )
        } else {
            create.clone()
        };
        defs.push(Object {
            kind: kind.clone(),
            name: name.clone(),
            sql_mode,
            create,
        });
    }
    // Views that use other views come after them.
    let (mut views, rest): (Vec<Object>, Vec<Object>) =
        defs.into_iter().partition(|o| o.kind == "VIEW");
    let mut ordered: Vec<Object> = rest
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "FUNCTION" | "PROCEDURE"))
        .cloned()
        .collect();
    while !views.is_empty() {
        let pending: Vec<String> = views.iter().map(|v| v.name.clone()).collect();
        let ready = views.iter().position(|v| {
            !pending
                .iter()
                .any(|p| *p != v.name && v.create.contains(&quote_ident(Family::MySql, p)))
        });
        ordered.push(views.remove(ready.unwrap_or(0)));
    }
    ordered.extend(
        rest.into_iter()
            .filter(|o| !matches!(o.kind.as_str(), "FUNCTION" | "PROCEDURE")),
    );
    Ok(ordered)
}

/// A value of the client's `--batch` output (`\t`, `\n`, `\\`, `\0` escaped).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

const DELIMITER: &str = ";;dbdump;;";

/// The statements that (re)create `objects` in `live`, after dropping
/// what `live` has now.
fn objects_script(live: &str, current: &[(String, String)], objects: &[Object]) -> String {
    let q = |s: &str| quote_ident(Family::MySql, s);
    let mut script = String::new();
    for (kind, name) in current {
        let _ = writeln!(script, "DROP {kind} IF EXISTS {}.{};", q(live), q(name));
    }
    let _ = writeln!(script, "USE {};\nDELIMITER {DELIMITER}", q(live));
    for o in objects {
        let _ = writeln!(
            script,
            "SET SESSION sql_mode = {}{DELIMITER}\n{}{DELIMITER}",
            quote_literal(Family::MySql, &o.sql_mode),
            o.create
        );
    }
    script.push_str("DELIMITER ;\n");
    script
}

/// One client session: drop the triggers (they cannot move) and the live
/// views and routines, move every table in one `RENAME TABLE`, recreate
/// the incoming objects in the live database.
fn my_swap(
    db: &Db,
    live: &str,
    incoming: &str,
    out: &str,
    tables: &[String],
    objects: &[Object],
) -> anyhow::Result<Duration> {
    let q = |s: &str| quote_ident(Family::MySql, s);
    let now_live = inventory(db, live)?;
    let now_in = inventory(db, incoming)?;
    // A session holding a table open makes RENAME TABLE wait; give up
    // after 30 s (and undo) rather than the server's default of a year.
    let mut script = String::from("SET SESSION lock_wait_timeout = 30;\n");
    for (kind, name) in &now_in.objects {
        if kind == "TRIGGER" {
            let _ = writeln!(
                script,
                "DROP TRIGGER IF EXISTS {}.{};",
                q(incoming),
                q(name)
            );
        }
    }
    // Triggers first: a table with triggers cannot change database.
    let mut live_objects = now_live.objects.clone();
    live_objects.sort_by_key(|(kind, _)| kind != "TRIGGER");
    for (kind, name) in &live_objects {
        let _ = writeln!(script, "DROP {kind} IF EXISTS {}.{};", q(live), q(name));
    }
    let mut moves: Vec<String> = now_live
        .tables
        .iter()
        .map(|t| format!("{}.{} TO {}.{}", q(live), q(t), q(out), q(t)))
        .collect();
    moves.extend(
        tables
            .iter()
            .filter(|t| now_in.tables.contains(t))
            .map(|t| format!("{}.{} TO {}.{}", q(incoming), q(t), q(live), q(t))),
    );
    if !moves.is_empty() {
        let _ = writeln!(script, "RENAME TABLE {};", moves.join(", "));
    }
    script.push_str(&objects_script(live, &[], objects));
    let started = Instant::now();
    db.run_script("", &script)
        .with_context(|| format!("cannot swap the tables of {incoming} into {live}"))?;
    Ok(started.elapsed())
}

/// Make `live` hold what the journal's swap brings in.
fn roll_forward(db: &Db, j: &Journal) -> anyhow::Result<()> {
    match db.family {
        Family::Postgres => {
            if existing(db, &[&j.new])?.is_empty() {
                return Ok(()); // the rename went through
            }
            pg_swap(db, &j.live, &j.new, &j.old).map(drop)
        }
        Family::MySql => {
            let now_in = inventory(db, &j.new)?;
            if j.new_tables.iter().any(|t| now_in.tables.contains(t)) {
                return my_swap(db, &j.live, &j.new, &j.old, &j.new_tables, &j.new_objects)
                    .map(drop);
            }
            ensure_objects(db, &j.live, &j.new_objects)
        }
    }
}

/// Make `live` hold what it held before the journal's swap.
fn roll_back(db: &Db, j: &Journal) -> anyhow::Result<()> {
    match db.family {
        Family::Postgres => {
            if existing(db, &[&j.old])?.is_empty() {
                return Ok(()); // the rename did not happen
            }
            // `new` is where the incoming contents went back to.
            drop_dbs(db, &[&j.new])?;
            pg_swap(db, &j.live, &j.old, &j.new).map(drop)
        }
        Family::MySql => {
            let now_old = inventory(db, &j.old)?;
            if j.old_tables.iter().any(|t| now_old.tables.contains(t)) {
                // Tables moved out: move them back, the others into `new`
                // (emptied first, so no name collides).
                let leftover = inventory(db, &j.new)?;
                if leftover.tables.is_empty() {
                    let maint = db.maintenance_db();
                    let described =
                        db.query(&maint, &[crate::engine::describe_db_sql(db.family, &j.old)])?;
                    db.query(
                        &maint,
                        &crate::engine::recreate_sql(db.family, &j.new, &described),
                    )?;
                }
                return my_swap(db, &j.live, &j.old, &j.new, &j.old_tables, &j.old_objects)
                    .map(drop);
            }
            ensure_objects(db, &j.live, &j.old_objects)
        }
    }
}

/// Recreate the objects of `live` unless they are already all there.
fn ensure_objects(db: &Db, live: &str, objects: &[Object]) -> anyhow::Result<()> {
    let now = inventory(db, live)?;
    let mut have: Vec<(String, String)> = now.objects.clone();
    let mut want: Vec<(String, String)> = objects
        .iter()
        .map(|o| (o.kind.clone(), o.name.clone()))
        .collect();
    have.sort();
    want.sort();
    if have == want {
        return Ok(());
    }
    let mut current = now.objects;
    current.sort_by_key(|(kind, _)| kind != "TRIGGER");
    db.run_script("", &objects_script(live, &current, objects))
        .with_context(|| format!("cannot recreate the views, triggers and routines of {live}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_privileges_are_carried_over() {
        assert!(acl_statements("n", "").is_empty());
        assert_eq!(
            acl_statements("n", "{=Tc/berth,berth=CTc/berth,p_shop=c*T/berth}"),
            [
                "REVOKE ALL ON DATABASE \"n\" FROM PUBLIC",
                "GRANT TEMPORARY, CONNECT ON DATABASE \"n\" TO PUBLIC",
                "GRANT CREATE, TEMPORARY, CONNECT ON DATABASE \"n\" TO \"berth\"",
                "GRANT CONNECT, TEMPORARY ON DATABASE \"n\" TO \"p_shop\"",
            ]
        );
    }

    #[test]
    fn side_names_fit_an_identifier() {
        assert_eq!(side_name("shop", "new"), "shop__dbdump_new");
        let long = "x".repeat(63);
        let n = side_name(&long, "old");
        assert!(n.len() <= 63 && n.contains("__dbdump_old_"), "{n}");
        assert_ne!(side_name(&long, "old"), side_name(&"x".repeat(62), "old"));
        let uni = "é".repeat(40);
        assert!(side_name(&uni, "new").len() <= 63);
    }

    #[test]
    fn batch_values_are_unescaped() {
        assert_eq!(unescape(r"a\tb\nc\\d"), "a\tb\nc\\d");
    }

    #[test]
    fn objects_are_recreated_with_their_sql_mode() {
        let s = objects_script(
            "shop",
            &[("VIEW".into(), "v".into())],
            &[Object {
                kind: "TRIGGER".into(),
                name: "t".into(),
                sql_mode: "STRICT_TRANS_TABLES".into(),
                create: "CREATE TRIGGER t BEFORE INSERT ON o FOR EACH ROW BEGIN SET NEW.a = 1; END"
                    .into(),
            }],
        );
        assert!(
            s.starts_with("DROP VIEW IF EXISTS `shop`.`v`;\nUSE `shop`;\nDELIMITER ;;dbdump;;\n"),
            "{s}"
        );
        assert!(
            s.contains("SET SESSION sql_mode = 'STRICT_TRANS_TABLES';;dbdump;;\nCREATE TRIGGER"),
            "{s}"
        );
        assert!(s.ends_with("END;;dbdump;;\nDELIMITER ;\n"), "{s}");
    }
}
