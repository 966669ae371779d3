//! `secrets rotate`: a new value of the same kind; when the key is the
//! password of the project's database, the password is changed in the
//! running database first (through dbdump's client code, the statement on
//! the client's stdin), then stored.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Context as _;
use berth::cli::{Outcome, ResultExt as _, error_with_hint};
use berth::database::{Engine, Family};
use berth::paths::Paths;
use berth::secrets::{self as store, ProjectSecrets, Store};
use berth_dbdump::engine::{Client, quote_ident, quote_literal};
use berth_dbdump::target::{self, Conn, Db, ProjectRef};

use crate::{TOOL, missing_key, open_for};

/// Replace a key's value with a new random one of the same kind.
///
/// When KEY is the password of the project's database (the database
/// service's POSTGRES_PASSWORD, MARIADB_PASSWORD, MARIADB_ROOT_PASSWORD,
/// MYSQL_PASSWORD or MYSQL_ROOT_PASSWORD is KEY, or is made from it in the
/// compose files), the password is first changed in the running database
/// (ALTER ROLE / ALTER USER, sent on the client's stdin, never in its
/// arguments), then stored; the app gets it at its next start (`stackctl
/// restart P`). A database that is not running is refused (exit 1) and
/// nothing changes. A value set by hand (kind manual) cannot be rotated:
/// set a new one.
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    /// The key's name.
    #[arg(value_name = "KEY")]
    key: String,
    /// The database service, when several use KEY.
    #[arg(short, long, value_name = "SERVICE")]
    service: Option<String>,
}

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

/// Where KEY is a database's password.
struct DbUse {
    project: ProjectRef,
    service: String,
    engine: Engine,
    family: Family,
    /// The user whose password it is.
    user: String,
    /// The variable's value with `mark` where KEY's value goes.
    template: String,
    mark: String,
    /// The service's environment with every secret's real value, for
    /// the credentials that connect.
    env: BTreeMap<String, String>,
}

/// A marker no compose file holds, standing for KEY's value.
fn marker() -> anyhow::Result<String> {
    Ok(format!("berth-rotate-{}", store::generate("hex32")?))
}

/// The project's compose services, interpolated with the store's values
/// over `.env` (the store is where the values live), KEY's value `key_value`.
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

/// Whether KEY is the password of one of the project's databases.
fn find_use(
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

pub fn run(a: &RotateArgs) -> anyhow::Result<Outcome> {
    store::validate_key(&a.key)?;
    let (store, paths) = open_for(&a.project)?;
    let secrets = store.load(&a.project)?;
    let entry = secrets
        .entry(&a.key)
        .ok_or_else(|| missing_key(&secrets, &a.project, &a.key))?;
    let kind = entry.kind.clone();
    if !store::is_kind(&kind) {
        return Err(error_with_hint(
            format!(
                "{} of project {} was set by hand (kind {}): there is no kind to make a new value of",
                a.key,
                a.project,
                berth::cli::excerpt(&kind)
            ),
            format!(
                "set a new value: `secrets set {} {}` (or --generate KIND)",
                a.project, a.key
            ),
        ));
    }
    let new = store::generate(&kind)?;
    match find_use(&paths, &a.project, &a.key, &secrets, a.service.as_deref())? {
        None => {
            store.update(&a.project, |p| {
                p.set(&a.key, new, &kind);
                Ok(())
            })?;
            berth::info!("rotated {} of project {}", a.key, a.project);
            Ok(Outcome::Clean)
        }
        Some(u) => rotate_db(a, &store, &secrets, &u, new, &kind),
    }
}

/// The database of `u`, reached in its running container (`None`: not
/// running); an engine that does not answer is an error. The credentials
/// come from the container's environment under the compose file's, with
/// the store's values: `.env` may no longer hold them.
fn connect(u: &DbUse) -> anyhow::Result<Option<Db>> {
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
    }))
}

fn rotate_db(
    a: &RotateArgs,
    store: &Store,
    secrets: &ProjectSecrets,
    u: &DbUse,
    new: String,
    kind: &str,
) -> anyhow::Result<Outcome> {
    let project = &u.project.name;
    let Some(db) = connect(u)? else {
        let e = error_with_hint(
            format!(
                "{} is the password of the {} service of project {project}, which is not running: nothing changed",
                a.key, u.service
            ),
            format!(
                "start it (`stackctl start {project}`), then rotate; the password is changed in the database and in the store together"
            ),
        );
        let _ = std::io::stderr().write_all(berth::cli::render_error(TOOL, &e).as_bytes());
        return Ok(Outcome::Found);
    };
    let old = secrets.get(&a.key).unwrap_or_default().to_owned();
    let mark_to = |value: &str| u.template.replace(&u.mark, value);
    let new_password = mark_to(&new);
    let old_password = mark_to(&old);
    set_password(&db, &u.user, &new_password)
        .with_context(|| {
            format!(
                "cannot change the password of user {} in {}",
                u.user,
                db.conn.describe()
            )
        })
        .hint("nothing changed: the old password still works")?;
    if let Err(e) = store.update(&a.project, |p| {
        p.set(&a.key, new, kind);
        Ok(())
    }) {
        // Put the database back as it was, so store and database agree.
        let back = set_password(&db, &u.user, &old_password);
        return Err(e.context(match back {
            Ok(()) => format!(
                "the new password could not be stored; the database's password of {} was put back",
                u.user
            ),
            Err(_) => format!(
                "the new password could not be stored, and putting the old one back in the database failed: user {} has a password no one knows; reset it with `dbdump shell`",
                u.user
            ),
        }));
    }
    berth::info!(
        "rotated {} of project {}: changed in the {} database (user {}) and stored",
        a.key,
        project,
        u.service,
        u.user
    );
    berth::info!("the app gets the new password when it restarts: `stackctl restart {project}`");
    if let Ok(dotenv) =
        berth::compose::read_dotenv_in(&u.project.dir.join(".env"), Some(&u.project.dir))
        && dotenv.get(&a.key).is_some_and(|v| !v.is_empty())
    {
        berth::cli::warn(
            TOOL,
            format!(
                "{}/.env still sets {} to a value: compose reads it there unless the store's value is passed (stackctl does); remove the line",
                u.project.dir.display(),
                a.key
            ),
        );
    }
    Ok(Outcome::Clean)
}

/// Change `user`'s password; the statement goes on the client's stdin.
/// PostgreSQL gets a SCRAM verifier made here, not the password (its
/// statement log never holds it). A client's error is shown with the
/// password masked (an error can quote the statement).
fn set_password(db: &Db, user: &str, password: &str) -> anyhow::Result<()> {
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
            let mut sql = String::new();
            for h in hosts {
                let _ = writeln!(
                    sql,
                    "ALTER USER {user_lit}@{} IDENTIFIED BY {};",
                    quote_literal(Family::MySql, h),
                    quote_literal(Family::MySql, password)
                );
            }
            db.run_script("", &sql)
        }
    }
}
