//! Database servers as their images run them: which engine an image (or a
//! service's environment) runs, the port it listens on, and the credentials
//! its environment sets, read the way the official images read them. dbdump
//! connects with them; `registry show` says where they are.

use std::collections::BTreeMap;

/// The two families of database servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Postgres,
    /// `MySQL` and `MariaDB` (wire-compatible, one client family).
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

    /// The engine a service's environment configures, by the variables of
    /// the official images (`POSTGRES_PASSWORD`, `MARIADB_DATABASE`,
    /// `MYSQL_ROOT_PASSWORD`, ...), for images whose name says nothing.
    pub fn from_env(env: &BTreeMap<String, String>) -> Option<Self> {
        let has = |prefix: &str| {
            env.keys().any(|k| {
                k.strip_prefix(prefix).is_some_and(|rest| {
                    ["USER", "PASSWORD", "DB", "DATABASE", "ROOT_PASSWORD"]
                        .iter()
                        .any(|s| rest.trim_end_matches("_FILE") == *s)
                })
            })
        };
        if has("POSTGRES_") {
            Some(Engine::Postgres)
        } else if has("MARIADB_") {
            Some(Engine::Mariadb)
        } else if has("MYSQL_") {
            Some(Engine::Mysql)
        } else {
            None
        }
    }

    /// The port the server listens on inside its container.
    pub fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql | Engine::Mariadb => 3306,
        }
    }

    /// The interactive client program of the official image.
    pub fn client_program(self) -> &'static str {
        match self {
            Engine::Postgres => "psql",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
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

/// Where a password was found in a service's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFrom {
    /// A variable holding the value (`POSTGRES_PASSWORD`).
    Var(&'static str),
    /// A `*_FILE` variable naming a file inside the container.
    File(FromFile),
}

/// The value of the first of `names` set (not empty) in `env`, else of the
/// first `NAME_FILE` (resolved by `read`), and where it was found.
fn lookup(
    env: &BTreeMap<String, String>,
    names: &[&'static str],
    read: &mut dyn FnMut(&FromFile) -> Option<String>,
) -> (Option<String>, Option<PasswordFrom>) {
    if let Some((name, value)) = names.iter().find_map(|n| {
        env.get(*n)
            .filter(|v| !v.is_empty())
            .map(|v| (*n, v.clone()))
    }) {
        return (Some(value), Some(PasswordFrom::Var(name)));
    }
    match first_file(env, names) {
        Some(f) => (read(&f), Some(PasswordFrom::File(f))),
        None => (None, None),
    }
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
    creds_with_source(family, env, read).map(|(c, _)| c)
}

/// [`creds_from_env`], and where the password was found (`None`: no
/// password is set, or the server takes none).
pub fn creds_with_source(
    family: Family,
    env: &BTreeMap<String, String>,
    read: &mut dyn FnMut(&FromFile) -> Option<String>,
) -> Result<(Creds, Option<PasswordFrom>), String> {
    let creds = |user, password, database| Creds {
        user,
        password,
        database,
        host: None,
        port: None,
    };
    match family {
        Family::Postgres => {
            let user = lookup(
                env,
                &["POSTGRES_USER", "POSTGRESQL_USERNAME", "POSTGRESQL_USER"],
                read,
            )
            .0
            .unwrap_or_else(|| "postgres".into());
            let (password, from) = lookup(env, &["POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD"], read);
            let database = lookup(env, &["POSTGRES_DB", "POSTGRESQL_DATABASE"], read)
                .0
                .unwrap_or_else(|| user.clone());
            Ok((creds(user, password, database), from))
        }
        Family::MySql => {
            let database = lookup(env, &["MARIADB_DATABASE", "MYSQL_DATABASE"], read).0;
            let root = lookup(env, &["MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD"], read);
            let empty_root = first(
                env,
                &[
                    "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
                    "MYSQL_ALLOW_EMPTY_PASSWORD",
                    "ALLOW_EMPTY_PASSWORD",
                ],
            )
            .is_some_and(|v| !matches!(v, "0" | "no" | "false"));
            let (user, (password, from)) = if let (Some(pw), from) = root {
                ("root".to_owned(), (Some(pw), from))
            } else if empty_root {
                ("root".to_owned(), (None, None))
            } else if let Some(u) = lookup(env, &["MARIADB_USER", "MYSQL_USER"], read).0 {
                (
                    u,
                    lookup(env, &["MARIADB_PASSWORD", "MYSQL_PASSWORD"], read),
                )
            } else {
                return Err("neither a root password (MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD) nor a user (MARIADB_USER / MYSQL_USER) is set".into());
            };
            let Some(database) = database else {
                return Err("no database named (MARIADB_DATABASE / MYSQL_DATABASE)".into());
            };
            Ok((creds(user, password, database), from))
        }
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

    #[test]
    fn the_password_source_is_named_and_engines_are_known_by_their_variables() {
        let mut none = |_: &FromFile| None;
        let (c, from) = creds_with_source(
            Family::Postgres,
            &env(&[("POSTGRES_USER", "app"), ("POSTGRES_PASSWORD", "pw")]),
            &mut none,
        )
        .unwrap();
        assert_eq!(c.password.as_deref(), Some("pw"));
        assert_eq!(from, Some(PasswordFrom::Var("POSTGRES_PASSWORD")));
        let (c, from) = creds_with_source(
            Family::MySql,
            &env(&[
                ("MARIADB_USER", "u"),
                ("MARIADB_PASSWORD_FILE", "/run/secrets/db"),
                ("MARIADB_DATABASE", "d"),
            ]),
            &mut none,
        )
        .unwrap();
        assert_eq!(c.password, None);
        assert_eq!(
            from,
            Some(PasswordFrom::File(FromFile {
                var: "MARIADB_PASSWORD",
                path: "/run/secrets/db".into()
            }))
        );
        let (_, from) =
            creds_with_source(Family::Postgres, &env(&[("POSTGRES_DB", "d")]), &mut none).unwrap();
        assert_eq!(from, None);
        for (pairs, want) in [
            (&[("POSTGRES_PASSWORD", "x")][..], Some(Engine::Postgres)),
            (
                &[("MARIADB_ROOT_PASSWORD_FILE", "/f")][..],
                Some(Engine::Mariadb),
            ),
            (&[("MYSQL_DATABASE", "d")][..], Some(Engine::Mysql)),
            (&[("POSTGRES_URL", "postgres://")][..], None),
            (&[("DB_PASSWORD", "x")][..], None),
        ] {
            assert_eq!(Engine::from_env(&env(pairs)), want, "{pairs:?}");
        }
        assert_eq!(Engine::Postgres.default_port(), 5432);
        assert_eq!(Engine::Mariadb.client_program(), "mariadb");
    }
}
