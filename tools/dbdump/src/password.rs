//! A project's database password as a secret: which database service's
//! password a store key is, reaching that database in its running
//! container, changing the password there (`secrets rotate`), and checking
//! which of a key's two values logs in ([`Checker`], the check lib's store
//! asks for to resolve a rotation cut short). Passwords reach the client
//! programs on stdin or in their environment, never in their arguments.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use anyhow::Context as _;
use berth::cli::error_with_hint;
use berth::database::{Engine, Family};
use berth::paths::Paths;
use berth::secrets::{self as store, PendingCheck, ProjectSecrets, Verdict};

use crate::engine::{Client, quote_ident, quote_literal};
use crate::target::{self, Conn, Db, ProjectRef};

/// The password variables of the official images, with the variables that
/// name their user (the first set wins) and the user when none is set.
fn password_vars(
    family: Family,
) -> &'static [(&'static str, &'static [&'static str], &'static str)] {
    match family {
        Family::Postgres => &[
            (
                "POSTGRES_PASSWORD",
                &["POSTGRES_USER", "POSTGRESQL_USERNAME", "POSTGRESQL_USER"],
                "postgres",
            ),
            (
                "POSTGRESQL_PASSWORD",
                &["POSTGRES_USER", "POSTGRESQL_USERNAME", "POSTGRESQL_USER"],
                "postgres",
            ),
        ],
        Family::MySql => &[
            ("MARIADB_ROOT_PASSWORD", &[], "root"),
            ("MYSQL_ROOT_PASSWORD", &[], "root"),
            ("MARIADB_PASSWORD", &["MARIADB_USER"], ""),
            ("MYSQL_PASSWORD", &["MYSQL_USER"], ""),
        ],
    }
}

/// Where a key is a database's password.
pub struct DbUse {
    pub project: ProjectRef,
    pub service: String,
    pub engine: Engine,
    pub family: Family,
    /// The user whose password it is.
    pub user: String,
    /// The variable's value with `mark` where the key's value goes.
    template: String,
    mark: String,
    /// The service's environment with every secret's current value, for
    /// the credentials that connect.
    env: BTreeMap<String, String>,
}

impl DbUse {
    /// The database password that the key's value `value` makes.
    pub fn password_for(&self, value: &str) -> String {
        self.template.replace(&self.mark, value)
    }
}

/// A marker no compose file holds, standing for a key's value.
fn marker() -> anyhow::Result<String> {
    Ok(format!("berth-rotate-{}", store::generate("hex32")?))
}

/// The project's compose services, interpolated with the store's values
/// over `.env` (the store is where the values live), `key`'s value `key_value`.
fn compose_with(
    dir: &std::path::Path,
    secrets: &ProjectSecrets,
    key: &str,
    key_value: &str,
) -> anyhow::Result<Option<berth::compose::Compose>> {
    let mut dotenv = berth::compose::read_dotenv_in(&dir.join(".env"), Some(dir))?;
    let mut process: HashMap<String, String> = std::env::vars().collect();
    for (k, v) in secrets.env() {
        process.remove(&k);
        dotenv.insert(k, v);
    }
    dotenv.insert(key.to_owned(), key_value.to_owned());
    let env = berth::compose::Env::from_maps(process, dotenv);
    let files = berth::compose::discover(dir, &env)?;
    if files.is_empty() {
        return Ok(None);
    }
    berth::compose::load_files(&files, &env).map(Some)
}

/// Whether `key` is the password of one of the project's databases (of
/// `service`, when given).
pub fn find_use(
    paths: &Paths,
    project: &str,
    key: &str,
    secrets: &ProjectSecrets,
    service: Option<&str>,
) -> anyhow::Result<Option<DbUse>> {
    let projects = berth::registry::Registry::open(paths).load()?;
    let Some(p) = projects.iter().find(|p| p.name == project) else {
        return Ok(None);
    };
    let old = secrets.get(key).unwrap_or_default();
    let mark = marker()?;
    let ctx = || format!("cannot read the compose files of project {project}");
    let Some(marked) = compose_with(&p.path, secrets, key, &mark).with_context(ctx)? else {
        return Ok(None);
    };
    let Some(real) = compose_with(&p.path, secrets, key, old).with_context(ctx)? else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for svc in &marked.services {
        if service.is_some_and(|s| s != svc.name) {
            continue;
        }
        let Some(engine) = svc.image.as_deref().and_then(Engine::from_image) else {
            continue;
        };
        let family = engine.family();
        let env = &svc.environment;
        for (var, user_vars, default_user) in password_vars(family) {
            let Some(value) = env.get(*var).filter(|v| v.contains(&mark)) else {
                continue;
            };
            let user = user_vars
                .iter()
                .find_map(|u| env.get(*u).filter(|v| !v.is_empty()).cloned())
                .unwrap_or_else(|| (*default_user).to_owned());
            if user.is_empty() {
                continue;
            }
            let real_env = real
                .service(&svc.name)
                .map(|s| s.environment.clone())
                .unwrap_or_default();
            found.push(DbUse {
                project: ProjectRef {
                    name: p.name.clone(),
                    dir: p.path.clone(),
                    stack: p.stack.clone(),
                    shared: p.shared.clone(),
                },
                service: svc.name.clone(),
                engine,
                family,
                user,
                template: value.clone(),
                mark: mark.clone(),
                env: real_env,
            });
            break;
        }
    }
    if found.len() > 1 {
        let names: Vec<&str> = found.iter().map(|u| u.service.as_str()).collect();
        return Err(error_with_hint(
            format!(
                "{key} is the password of several database services of project {project}: {}",
                names.join(", ")
            ),
            "pick one with --service",
        ));
    }
    if let Some(s) = service
        && found.is_empty()
    {
        return Err(error_with_hint(
            format!("{key} is not the password of a database service '{s}' of project {project}"),
            "leave out --service to rotate a key that no database uses",
        ));
    }
    Ok(found.pop())
}

/// The database of `u`, reached in its running container (`None`: not
/// running); an engine that does not answer is an error. The credentials
/// come from the container's environment under the compose file's, with
/// the store's values: `.env` may no longer hold them.
pub fn connect(u: &DbUse) -> anyhow::Result<Option<Db>> {
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let containers = rt.block_on(berth::docker::project_containers(
        &docker,
        &[u.project.name.as_str()],
    ))?;
    let Some(c) = containers
        .into_iter()
        .find(|c| c.service == u.service && c.state == "running")
    else {
        return Ok(None);
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for kv in rt.block_on(berth::docker::container_env(&docker, &c.id))? {
        if let Some((k, v)) = kv.split_once('=') {
            env.insert(k.to_owned(), v.to_owned());
        }
    }
    env.extend(u.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let creds = berth::database::creds_from_env(u.family, &env, &mut |_| None).map_err(|why| {
        error_with_hint(
            format!(
                "cannot tell the credentials of service {}: {why}",
                u.service
            ),
            "set them in the service's environment",
        )
    })?;
    let conn = Conn::Docker {
        rt,
        docker,
        container: c.id,
        name: c.name,
    };
    let client = match u.family {
        Family::Postgres => Client::Postgres,
        Family::MySql => target::probe_mysql_client(&conn)?,
    };
    Ok(Some(Db {
        conn,
        client,
        family: u.family,
        engine: u.engine,
        creds,
        project: Some(u.project.name.clone()),
        project_dir: Some(u.project.dir.clone()),
        stack: u.project.stack.clone(),
        shell_creds: None,
    }))
}

/// Change `user`'s password; the statement goes on the client's stdin, in
/// one statement (all of the user's hosts at once, for the MySQL family):
/// it takes effect whole or not at all. PostgreSQL gets a SCRAM verifier
/// made here, not the password (its statement log never holds it). A
/// client's error is shown with the password masked (an error can quote
/// the statement).
pub fn set_password(db: &Db, user: &str, password: &str) -> anyhow::Result<()> {
    set_password_raw(db, user, password).map_err(|e| {
        let text = format!("{e:#}");
        anyhow::anyhow!("{}", text.replace(password, store::MASK))
    })
}

fn set_password_raw(db: &Db, user: &str, password: &str) -> anyhow::Result<()> {
    match db.family {
        Family::Postgres => {
            let stored = store::scram_sha256_verifier(password)?;
            let sql = format!(
                "ALTER ROLE {} WITH PASSWORD {};\n",
                quote_ident(Family::Postgres, user),
                quote_literal(Family::Postgres, stored.as_deref().unwrap_or(password))
            );
            db.run_script(&db.creds.database, &sql)
        }
        Family::MySql => {
            let user_lit = quote_literal(Family::MySql, user);
            let hosts = db.query(
                "",
                &[format!(
                    "SELECT Host FROM mysql.user WHERE User = {user_lit}"
                )],
            )?;
            let hosts: Vec<&str> = hosts
                .lines()
                .map(str::trim)
                .filter(|h| !h.is_empty() && *h != "Host")
                .collect();
            if hosts.is_empty() {
                anyhow::bail!("the server has no user {user}");
            }
            let mut sql = String::from("ALTER USER ");
            for (i, h) in hosts.iter().enumerate() {
                let _ = write!(
                    sql,
                    "{}{user_lit}@{} IDENTIFIED BY {}",
                    if i == 0 { "" } else { ", " },
                    quote_literal(Family::MySql, h),
                    quote_literal(Family::MySql, password)
                );
            }
            sql.push_str(";\n");
            db.run_script("", &sql)
        }
    }
}

/// Whether `password` logs in as `user` over the network from inside the
/// database's container, to the container's own address (the loopback
/// and the local socket are trusted by the official images, so they would
/// prove nothing). The password goes in the client's environment.
fn logs_in(db: &Db, address: &str, user: &str, password: &str) -> anyhow::Result<bool> {
    let creds = berth::database::Creds {
        user: user.to_owned(),
        password: Some(password.to_owned()),
        database: match db.family {
            Family::Postgres => db.creds.database.clone(),
            Family::MySql => String::new(),
        },
        host: Some(address.to_owned()),
        port: None,
    };
    let argv = db
        .client
        .query_argv(&creds, &creds.database, &["SELECT 1".to_owned()]);
    let env = [(db.client.password_var().to_owned(), password.to_owned())];
    let (ran, _) = db.conn.capture(&argv, &env)?;
    Ok(ran.success())
}

/// Which of `current` and `pending` logs in to the database of `u`
/// (running, as `db`). A database that lets a made-up password in (trust
/// authentication) cannot tell them apart: unknown.
pub fn which_works(u: &DbUse, db: &Db, current: &str, pending: &str) -> Verdict {
    match try_which_works(u, db, current, pending) {
        Ok(v) => v,
        Err(e) => Verdict::Unknown(format!("{e:#}")),
    }
}

/// How long a check waits for a client that a killed rotation left
/// running in the container (its `ALTER` may still land).
const ORPHAN_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

fn try_which_works(u: &DbUse, db: &Db, current: &str, pending: &str) -> anyhow::Result<Verdict> {
    let Conn::Docker {
        rt,
        docker,
        container,
        name,
    } = &db.conn
    else {
        anyhow::bail!("the database is not in a container");
    };
    // A client the killed rotation started may still be about to change
    // the password: checking before it ends could keep the value that is
    // about to stop working.
    let client = db.client.shell_program();
    let until = std::time::Instant::now() + ORPHAN_WAIT;
    while rt
        .block_on(berth::docker::running_execs(docker, container))?
        .iter()
        .any(|p| p == client)
    {
        if std::time::Instant::now() > until {
            return Ok(Verdict::Unknown(format!(
                "a {client} client is still running in container {name}"
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let addresses = rt.block_on(berth::docker::container_addresses(docker, container))?;
    let Some(address) = addresses.first() else {
        return Ok(Verdict::Unknown(format!(
            "container {name} has no network address to log in through"
        )));
    };
    let made_up = marker()?;
    if logs_in(db, address, &u.user, &made_up)? {
        return Ok(Verdict::Unknown(format!(
            "the {} service lets any password in (trust authentication)",
            u.service
        )));
    }
    if logs_in(db, address, &u.user, &u.password_for(pending))? {
        return Ok(Verdict::PendingWorks);
    }
    if logs_in(db, address, &u.user, &u.password_for(current))? {
        return Ok(Verdict::CurrentWorks);
    }
    Ok(Verdict::Unknown(format!(
        "neither value logs in as user {} to the {} service",
        u.user, u.service
    )))
}

/// The check lib's store asks for ([`berth::secrets::Store::resolve`]):
/// a key that is a database's password is tried against the running
/// database; a key no database uses needs no check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checker;

impl PendingCheck for Checker {
    fn check(&self, project: &str, secrets: &ProjectSecrets, key: &str) -> Verdict {
        let Some(pending) = secrets.entry(key).and_then(|e| e.pending()) else {
            return Verdict::NoCheck;
        };
        let current = secrets.get(key).unwrap_or_default();
        let found =
            Paths::from_env().and_then(|paths| find_use(&paths, project, key, secrets, None));
        let u = match found {
            Ok(Some(u)) => u,
            Ok(None) => return Verdict::NoCheck,
            Err(e) => return Verdict::Unknown(format!("{e:#}")),
        };
        match connect(&u) {
            Ok(Some(db)) => which_works(&u, &db, current, pending.value()),
            Ok(None) => Verdict::Unknown(format!(
                "the {} service of project {project} is not running",
                u.service
            )),
            Err(e) => Verdict::Unknown(format!("{e:#}")),
        }
    }
}
