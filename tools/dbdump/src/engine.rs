//! The argument vectors of the database client programs (dump, load, query,
//! shell). Which engine an image runs and where its credentials are live in
//! `berth::database`, shared with `registry show`.

pub use berth::database::{Creds, Engine, Family, FromFile, creds_from_env, engine_from_version};

/// Which client programs are at hand for the MySQL family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Postgres,
    /// MariaDB's `mariadb` / `mariadb-dump` (or its `mysql` / `mysqldump` names).
    MariaDb {
        legacy_names: bool,
    },
    /// Oracle MySQL's `mysql` / `mysqldump`.
    MySql,
}

impl Client {
    /// The client kind that a `--version` line shows for a MySQL-family dump program.
    pub fn from_version_line(line: &str, legacy_names: bool) -> Self {
        if line.contains("MariaDB") {
            Client::MariaDb { legacy_names }
        } else {
            Client::MySql
        }
    }

    pub fn dump_program(self) -> &'static str {
        match self {
            Client::Postgres => "pg_dump",
            Client::MariaDb {
                legacy_names: false,
            } => "mariadb-dump",
            Client::MariaDb { legacy_names: true } | Client::MySql => "mysqldump",
        }
    }

    pub fn shell_program(self) -> &'static str {
        match self {
            Client::Postgres => "psql",
            Client::MariaDb {
                legacy_names: false,
            } => "mariadb",
            Client::MariaDb { legacy_names: true } | Client::MySql => "mysql",
        }
    }

    /// The environment variable the client reads the password from.
    pub fn password_var(self) -> &'static str {
        match self {
            Client::Postgres => "PGPASSWORD",
            _ => "MYSQL_PWD",
        }
    }

    fn connection(self, c: &Creds, argv: &mut Vec<String>) {
        if self == Client::Postgres {
            if let Some(h) = &c.host {
                argv.extend(["-h".into(), h.clone()]);
            }
            if let Some(p) = c.port {
                argv.extend(["-p".into(), p.to_string()]);
            }
            argv.extend(["-U".into(), c.user.clone()]);
        } else {
            if let Some(h) = &c.host {
                argv.extend(["--protocol=tcp".into(), "-h".into(), h.clone()]);
            }
            if let Some(p) = c.port {
                argv.push(format!("--port={p}"));
            }
            argv.push(format!("--user={}", c.user));
        }
    }

    /// The dump command. `server` is the server's engine when known: a MySQL
    /// 8 `mysqldump` needs `--column-statistics=0` against MariaDB.
    pub fn dump_argv(self, c: &Creds, server: Option<Engine>) -> Vec<String> {
        let mut argv = vec![self.dump_program().to_owned()];
        if self == Client::Postgres {
            argv.push("--no-password".into());
            self.connection(c, &mut argv);
            argv.extend(["-d".into(), c.database.clone()]);
        } else {
            argv.extend(
                [
                    "--single-transaction",
                    "--quick",
                    "--routines",
                    "--triggers",
                    "--events",
                    "--hex-blob",
                    "--default-character-set=utf8mb4",
                ]
                .map(String::from),
            );
            if self == Client::MySql {
                argv.push("--set-gtid-purged=OFF".into());
                argv.push("--no-tablespaces".into());
                if server == Some(Engine::Mariadb) {
                    argv.push("--column-statistics=0".into());
                }
            }
            self.connection(c, &mut argv);
            argv.push("--".into());
            argv.push(c.database.clone());
        }
        argv
    }

    /// The client that reads SQL on stdin into `database`, stopping at the first error.
    pub fn load_argv(self, c: &Creds, database: &str) -> Vec<String> {
        let mut argv = vec![self.shell_program().to_owned()];
        if self == Client::Postgres {
            argv.extend(
                [
                    "--no-psqlrc",
                    "--no-password",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                ]
                .map(String::from),
            );
            self.connection(c, &mut argv);
            argv.extend(["-d".into(), database.to_owned()]);
        } else {
            argv.extend(["--batch", "--default-character-set=utf8mb4"].map(String::from));
            self.connection(c, &mut argv);
            if !database.is_empty() {
                argv.push(format!("--database={database}"));
            }
        }
        argv
    }

    /// Run `sql` (our own statements) against `database` and print rows tab-separated.
    pub fn query_argv(self, c: &Creds, database: &str, sql: &[String]) -> Vec<String> {
        let mut argv = vec![self.shell_program().to_owned()];
        if self == Client::Postgres {
            argv.extend(
                [
                    "--no-psqlrc",
                    "--no-password",
                    "-tA",
                    "-F",
                    "\t",
                    "-v",
                    "ON_ERROR_STOP=1",
                ]
                .map(String::from),
            );
            self.connection(c, &mut argv);
            argv.extend(["-d".into(), database.to_owned()]);
            for s in sql {
                argv.extend(["-c".into(), s.clone()]);
            }
        } else {
            argv.extend(
                [
                    "--batch",
                    "--skip-column-names",
                    "--default-character-set=utf8mb4",
                ]
                .map(String::from),
            );
            self.connection(c, &mut argv);
            if !database.is_empty() {
                argv.push(format!("--database={database}"));
            }
            argv.extend(["-e".into(), sql.join(";\n")]);
        }
        argv
    }

    /// The interactive client. `script`: SQL comes on stdin, not from a
    /// person: stop at the first error, with a failing exit status (the
    /// MySQL clients do so by themselves in batch mode).
    pub fn shell_argv(self, c: &Creds, script: bool) -> Vec<String> {
        let mut argv = vec![self.shell_program().to_owned()];
        if script && self == Client::Postgres {
            argv.extend(["-v".into(), "ON_ERROR_STOP=1".into()]);
        }
        self.connection(c, &mut argv);
        match self {
            Client::Postgres => argv.extend(["-d".into(), c.database.clone()]),
            _ => argv.push(format!("--database={}", c.database)),
        }
        argv
    }

    /// The line a complete dump ends with (checked on backup and verify).
    pub fn trailer(family: Family) -> &'static str {
        match family {
            Family::Postgres => "-- PostgreSQL database dump complete",
            Family::MySql => "-- Dump completed",
        }
    }
}

/// `"name"` for PostgreSQL, `` `name` `` for MySQL.
pub fn quote_ident(family: Family, name: &str) -> String {
    match family {
        Family::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        Family::MySql => format!("`{}`", name.replace('`', "``")),
    }
}

/// A string literal.
pub fn quote_literal(family: Family, s: &str) -> String {
    match family {
        Family::Postgres => format!("'{}'", s.replace('\'', "''")),
        Family::MySql => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

/// The statements that read what a database is created with, run on the
/// maintenance database (PostgreSQL) or with no database (MySQL).
pub fn describe_db_sql(family: Family, db: &str) -> String {
    let lit = quote_literal(family, db);
    match family {
        Family::Postgres => format!(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype, pg_get_userbyid(datdba), current_setting('server_version_num') FROM pg_database WHERE datname = {lit}"
        ),
        Family::MySql => format!(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {lit}"
        ),
    }
}

/// The statements that drop and recreate `db` as it was described (the
/// tab-separated row of [`describe_db_sql`], or empty when it did not exist).
pub fn recreate_sql(family: Family, db: &str, described: &str) -> Vec<String> {
    let id = quote_ident(family, db);
    let cols: Vec<&str> = described
        .lines()
        .next()
        .unwrap_or_default()
        .split('\t')
        .collect();
    match family {
        Family::Postgres => {
            let force = cols
                .get(4)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .is_some_and(|v| v >= 130_000);
            let mut create = format!("CREATE DATABASE {id}");
            if cols.len() >= 4 {
                let l = |s: &str| quote_literal(family, s);
                create = format!(
                    "CREATE DATABASE {id} WITH TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {} OWNER {}",
                    l(cols[0]),
                    l(cols[1]),
                    l(cols[2]),
                    quote_ident(family, cols[3])
                );
            }
            vec![
                format!(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()",
                    quote_literal(family, db)
                ),
                if force {
                    format!("DROP DATABASE IF EXISTS {id} WITH (FORCE)")
                } else {
                    format!("DROP DATABASE IF EXISTS {id}")
                },
                create,
            ]
        }
        Family::MySql => {
            let mut create = format!("CREATE DATABASE {id}");
            if cols.len() >= 2 && !cols[0].is_empty() {
                let ok = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if ok(cols[0]) && ok(cols[1]) {
                    create = format!(
                        "CREATE DATABASE {id} CHARACTER SET {} COLLATE {}",
                        cols[0], cols[1]
                    );
                }
            }
            vec![format!("DROP DATABASE IF EXISTS {id}"), create]
        }
    }
}

/// The query that prints the server's version.
pub fn version_sql(family: Family) -> &'static str {
    match family {
        Family::Postgres => "SHOW server_version",
        Family::MySql => "SELECT VERSION()",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Creds {
        Creds {
            user: "app".into(),
            password: Some("pw".into()),
            database: "shop".into(),
            host: Some("127.0.0.1".into()),
            port: Some(3307),
        }
    }

    #[test]
    fn mysql_and_mariadb_dumps_differ_in_program_and_flags() {
        let maria = Client::MariaDb {
            legacy_names: false,
        }
        .dump_argv(&creds(), Some(Engine::Mariadb));
        assert_eq!(maria[0], "mariadb-dump");
        assert!(maria.contains(&"--single-transaction".to_owned()));
        assert!(
            !maria
                .iter()
                .any(|a| a.contains("gtid") || a.contains("column-statistics"))
        );
        let legacy =
            Client::MariaDb { legacy_names: true }.dump_argv(&creds(), Some(Engine::Mariadb));
        assert_eq!(legacy[0], "mysqldump");
        let mysql = Client::MySql.dump_argv(&creds(), Some(Engine::Mysql));
        assert_eq!(mysql[0], "mysqldump");
        assert!(mysql.contains(&"--set-gtid-purged=OFF".to_owned()));
        assert!(mysql.contains(&"--no-tablespaces".to_owned()));
        assert!(!mysql.contains(&"--column-statistics=0".to_owned()));
        let cross = Client::MySql.dump_argv(&creds(), Some(Engine::Mariadb));
        assert!(cross.contains(&"--column-statistics=0".to_owned()));
        assert_eq!(Client::MySql.shell_program(), "mysql");
        assert_eq!(
            Client::MariaDb {
                legacy_names: false
            }
            .shell_program(),
            "mariadb"
        );
        for argv in [maria, mysql, cross] {
            assert!(!argv.iter().any(|a| a.contains("pw")), "{argv:?}");
            assert_eq!(argv.last().map(String::as_str), Some("shop"));
        }
        assert_eq!(
            Client::from_version_line(
                "mysqldump  Ver 10.19 Distrib 10.11.6-MariaDB, for debian-linux-gnu",
                true
            ),
            Client::MariaDb { legacy_names: true }
        );
        assert_eq!(
            Client::from_version_line(
                "mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)",
                true
            ),
            Client::MySql
        );
    }

    #[test]
    fn postgres_argv_never_carries_the_password() {
        let c = Creds {
            host: None,
            port: None,
            ..creds()
        };
        let d = Client::Postgres.dump_argv(&c, None);
        assert_eq!(d, ["pg_dump", "--no-password", "-U", "app", "-d", "shop"]);
        assert!(
            !Client::Postgres
                .load_argv(&c, "shop")
                .iter()
                .any(|a| a == "pw")
        );
    }

    #[test]
    fn recreate_keeps_encoding_and_owner() {
        let sql = recreate_sql(
            Family::Postgres,
            "sh\"op",
            "UTF8\tC.UTF-8\tC.UTF-8\tapp\t150004\n",
        );
        assert_eq!(sql[1], "DROP DATABASE IF EXISTS \"sh\"\"op\" WITH (FORCE)");
        assert!(
            sql[2].contains("ENCODING 'UTF8'") && sql[2].contains("OWNER \"app\""),
            "{}",
            sql[2]
        );
        let sql = recreate_sql(Family::Postgres, "shop", "");
        assert_eq!(sql[1], "DROP DATABASE IF EXISTS \"shop\"");
        assert_eq!(sql[2], "CREATE DATABASE \"shop\"");
        let sql = recreate_sql(Family::MySql, "sh`op", "utf8mb4\tutf8mb4_general_ci\n");
        assert_eq!(
            sql,
            [
                "DROP DATABASE IF EXISTS `sh``op`",
                "CREATE DATABASE `sh``op` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            ]
        );
        assert_eq!(quote_literal(Family::MySql, "a'b\\"), "'a\\'b\\\\'");
    }
}
