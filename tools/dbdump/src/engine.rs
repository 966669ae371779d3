//! Database engines: which one an image runs, where its credentials are, and
//! the argument vectors of its client programs (dump, load, query, shell).

use std::collections::BTreeMap;

/// The two families of servers dbdump speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Postgres,
    /// MySQL and MariaDB (wire-compatible, one client family).
    MySql,
}

/// What an image name says about the server it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
    Mariadb,
}

impl Engine {
    pub fn family(self) -> Family {
        match self {
            Engine::Postgres => Family::Postgres,
            Engine::Mysql | Engine::Mariadb => Family::MySql,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
        }
    }

    /// The engine an image runs, from its name: `postgres:16`,
    /// `postgis/postgis`, `bitnami/postgresql`, `timescale/timescaledb`,
    /// `pgvector/pgvector`, `mariadb:11`, `bitnami/mariadb`, `mysql:8`,
    /// `percona/percona-server`, with or without a registry and digest.
    pub fn from_image(image: &str) -> Option<Self> {
        let image = image.to_ascii_lowercase();
        let no_digest = image.split('@').next().unwrap_or_default();
        // Drop the tag (a colon after the last slash), keep a registry port.
        let repo = match no_digest.rfind(':') {
            Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
            _ => no_digest,
        };
        let last = repo.rsplit('/').next().unwrap_or(repo);
        let any = |words: &[&str]| words.iter().any(|w| last.contains(w));
        if any(&["exporter", "admin", "backup", "bouncer", "proxy"]) {
            None
        } else if any(&["mariadb"]) {
            Some(Engine::Mariadb)
        } else if any(&["mysql", "percona"]) {
            Some(Engine::Mysql)
        } else if any(&["postgres", "postgis", "timescale", "pgvector", "supabase"]) {
            Some(Engine::Postgres)
        } else {
            None
        }
    }

    /// The engine behind a URL scheme.
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "postgres" | "postgresql" => Some(Engine::Postgres),
            "mysql" => Some(Engine::Mysql),
            "mariadb" => Some(Engine::Mariadb),
            _ => None,
        }
    }
}

/// The engine name a server's version string shows (`10.11.6-MariaDB-0+deb12u1`).
pub fn engine_from_version(family: Family, version: &str) -> Engine {
    match family {
        Family::Postgres => Engine::Postgres,
        Family::MySql if version.to_ascii_lowercase().contains("mariadb") => Engine::Mariadb,
        Family::MySql => Engine::Mysql,
    }
}

/// Who connects, and to what.
#[derive(Clone, PartialEq, Eq)]
pub struct Creds {
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    /// Host and port for `--url` mode; `None` inside a container (local socket).
    pub host: Option<String>,
    pub port: Option<u16>,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creds")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

/// A credential the container reads from a file (`POSTGRES_PASSWORD_FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromFile {
    pub var: &'static str,
    pub path: String,
}

fn first<'a>(env: &'a BTreeMap<String, String>, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| env.get(*n).map(String::as_str).filter(|v| !v.is_empty()))
}

fn first_file(env: &BTreeMap<String, String>, names: &[&'static str]) -> Option<FromFile> {
    names.iter().find_map(|n| {
        env.get(&format!("{n}_FILE"))
            .filter(|v| !v.is_empty())
            .map(|p| FromFile {
                var: n,
                path: p.clone(),
            })
    })
}

/// Credentials from a service's environment, the way the official images
/// read them. Values given as `*_FILE` are returned to be read from inside
/// the container; `read` resolves them (or returns `None` when it cannot).
pub fn creds_from_env(
    family: Family,
    env: &BTreeMap<String, String>,
    read: &mut dyn FnMut(&FromFile) -> Option<String>,
) -> Result<Creds, String> {
    let mut get = |names: &[&'static str]| -> Option<String> {
        first(env, names)
            .map(str::to_owned)
            .or_else(|| first_file(env, names).and_then(|f| read(&f)))
    };
    match family {
        Family::Postgres => {
            let user = get(&["POSTGRES_USER", "POSTGRESQL_USERNAME", "POSTGRESQL_USER"])
                .unwrap_or_else(|| "postgres".into());
            let password = get(&["POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD"]);
            let database =
                get(&["POSTGRES_DB", "POSTGRESQL_DATABASE"]).unwrap_or_else(|| user.clone());
            Ok(Creds {
                user,
                password,
                database,
                host: None,
                port: None,
            })
        }
        Family::MySql => {
            let database = get(&["MARIADB_DATABASE", "MYSQL_DATABASE"]);
            let root = get(&["MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD"]);
            let empty_root = first(
                env,
                &[
                    "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
                    "MYSQL_ALLOW_EMPTY_PASSWORD",
                    "ALLOW_EMPTY_PASSWORD",
                ],
            )
            .is_some_and(|v| !matches!(v, "0" | "no" | "false"));
            let (user, password) = if let Some(pw) = root {
                ("root".to_owned(), Some(pw))
            } else if empty_root {
                ("root".to_owned(), None)
            } else if let Some(u) = get(&["MARIADB_USER", "MYSQL_USER"]) {
                (u, get(&["MARIADB_PASSWORD", "MYSQL_PASSWORD"]))
            } else {
                return Err("neither a root password (MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD) nor a user (MARIADB_USER / MYSQL_USER) is set".into());
            };
            let Some(database) = database else {
                return Err("no database named (MARIADB_DATABASE / MYSQL_DATABASE)".into());
            };
            Ok(Creds {
                user,
                password,
                database,
                host: None,
                port: None,
            })
        }
    }
}

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

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn engines_from_images() {
        let cases = [
            ("postgres:16", Some(Engine::Postgres)),
            ("postgres", Some(Engine::Postgres)),
            (
                "docker.io/library/postgres:16-alpine",
                Some(Engine::Postgres),
            ),
            ("postgis/postgis:16-3.4", Some(Engine::Postgres)),
            ("bitnami/postgresql:16", Some(Engine::Postgres)),
            ("timescale/timescaledb:latest-pg16", Some(Engine::Postgres)),
            ("pgvector/pgvector:pg16", Some(Engine::Postgres)),
            (
                "registry.local:5000/team/postgres@sha256:abc",
                Some(Engine::Postgres),
            ),
            ("mariadb:11", Some(Engine::Mariadb)),
            ("bitnami/mariadb", Some(Engine::Mariadb)),
            ("mysql:8", Some(Engine::Mysql)),
            ("mysql/mysql-server:8.0", Some(Engine::Mysql)),
            ("percona/percona-server:8.0", Some(Engine::Mysql)),
            ("redis:7", None),
            ("prometheuscommunity/postgres-exporter", None),
            ("phpmyadmin/phpmyadmin", None),
            ("nginx", None),
            ("registry:5000/nginx", None),
        ];
        for (image, want) in cases {
            assert_eq!(Engine::from_image(image), want, "{image}");
        }
    }

    #[test]
    fn postgres_credentials_follow_the_official_image() {
        let mut none = |_: &FromFile| None;
        let c = creds_from_env(
            Family::Postgres,
            &env(&[("POSTGRES_PASSWORD", "pw")]),
            &mut none,
        )
        .unwrap();
        assert_eq!(
            (c.user.as_str(), c.database.as_str(), c.password.as_deref()),
            ("postgres", "postgres", Some("pw"))
        );
        let c = creds_from_env(
            Family::Postgres,
            &env(&[("POSTGRES_USER", "app"), ("POSTGRES_PASSWORD", "x")]),
            &mut none,
        )
        .unwrap();
        assert_eq!(c.database, "app");
        let mut read = |f: &FromFile| (f.path == "/run/secrets/pw").then(|| "secret".to_owned());
        let c = creds_from_env(
            Family::Postgres,
            &env(&[
                ("POSTGRES_PASSWORD_FILE", "/run/secrets/pw"),
                ("POSTGRES_DB", "d"),
            ]),
            &mut read,
        )
        .unwrap();
        assert_eq!(c.password.as_deref(), Some("secret"));
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn mysql_credentials_prefer_root() {
        let mut none = |_: &FromFile| None;
        let c = creds_from_env(
            Family::MySql,
            &env(&[
                ("MYSQL_ROOT_PASSWORD", "r"),
                ("MYSQL_USER", "u"),
                ("MYSQL_PASSWORD", "p"),
                ("MYSQL_DATABASE", "d"),
            ]),
            &mut none,
        )
        .unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_deref()),
            ("root", Some("r"))
        );
        let c = creds_from_env(
            Family::MySql,
            &env(&[
                ("MARIADB_USER", "u"),
                ("MARIADB_PASSWORD", "p"),
                ("MARIADB_DATABASE", "d"),
            ]),
            &mut none,
        )
        .unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_deref(), c.database.as_str()),
            ("u", Some("p"), "d")
        );
        let c = creds_from_env(
            Family::MySql,
            &env(&[
                ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),
                ("MYSQL_DATABASE", "d"),
            ]),
            &mut none,
        )
        .unwrap();
        assert_eq!((c.user.as_str(), c.password), ("root", None));
        assert!(
            creds_from_env(
                Family::MySql,
                &env(&[("MYSQL_ROOT_PASSWORD", "r")]),
                &mut none
            )
            .is_err()
        );
        assert!(
            creds_from_env(Family::MySql, &env(&[("MYSQL_DATABASE", "d")]), &mut none).is_err()
        );
    }

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
