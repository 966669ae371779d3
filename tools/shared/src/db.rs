//! `shared db create|drop|list`: each project's own database and user on a
//! shared server, through dbdump's client code (the engine's exec API into
//! the server's container; SQL on stdin, passwords never in argv).
//!
//! PostgreSQL: a role `p_NAME` (LOGIN, no SUPERUSER, CREATEDB, CREATEROLE or
//! REPLICATION) owning the database NAME; CONNECT and TEMPORARY revoked from
//! PUBLIC on it and on the server's own databases, the `public` schema owned
//! by the role (PostgreSQL 15 no longer lets PUBLIC create there). MariaDB:
//! a user `p_NAME`@'%' with ALL on `NAME`.* and nothing global, so SHOW
//! DATABASES lists only its own and CREATE USER / CREATE ROLE fail.

use std::io::Write as _;

use anyhow::Context as _;
use berth::Project;
use berth::cli::{Outcome, confirm, error_with_hint};
use berth::io::{JsonArgs, OutputArgs, Row};
use berth::model::Compression;
use berth::registry::Registry;
use berth::shared::{self, DbEngine, Resolved};
use berth_dbdump::engine::{Family, quote_ident, quote_literal};
use berth_dbdump::target::{Db, ProjectRef};
use serde::Serialize;

use crate::kv::Kv;
use crate::servers::Shared;

/// The port of a shared key-value server on the shared network.
const KV_PORT: u16 = 6379;

#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    Create(CreateArgs),
    Drop(DropArgs),
    List(ListArgs),
}

/// The shared server a command acts on.
#[derive(Debug, Clone, clap::Args)]
pub struct Which {
    /// The engine: postgres, mariadb, mysql, redis or valkey (default: the
    /// only shared database server known, else postgres).
    #[arg(long, value_name = "ENGINE")]
    engine: Option<String>,
    /// The shared server by instance name (`pg15`), when several run one engine.
    #[arg(long, value_name = "NAME", conflicts_with = "engine")]
    instance: Option<String>,
}

/// Create a project's database and user on a shared server (a re-run changes nothing).
///
/// The database is named like the project (- as _), its owner is the user
/// p_NAME with a random password stored in the project's secrets
/// (SHARED_POSTGRES_PASSWORD, SHARED_MARIADB_PASSWORD); the registry
/// records the server under the project's `shared` and its host, port,
/// database and user in the project's environment
/// (SHARED_POSTGRES_HOST, ..._PORT, ..._DATABASE, ..._USER). On a shared
/// Redis or Valkey the project is an ACL user p_NAME owning only the keys
/// and channels p_NAME:* (SHARED_REDIS_PASSWORD, ..._USER, ..._KEY_PREFIX).
/// The server must run (shared up).
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// A registered project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    #[command(flatten)]
    which: Which,
    #[command(flatten)]
    output: JsonArgs,
}

/// Back up a project's shared database with dbdump, then drop it and its user.
///
/// The backup goes where `dbdump backup` puts the project's backups (label
/// before-drop); when it fails nothing is dropped. On Redis or Valkey the
/// ACL user and every key p_NAME:* go, not backed up (a cache). Asks first
/// (--yes).
#[derive(Debug, clap::Args)]
pub struct DropArgs {
    /// A registered project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    #[command(flatten)]
    which: Which,
    /// Do not ask (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
}

/// The projects' databases on the running shared servers.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    output: OutputArgs,
}

/// One project's database on a shared server.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SharedDatabase {
    /// The shared server's instance name.
    pub instance: String,
    /// `postgres` or `mariadb`.
    pub engine: String,
    /// Its container (and host name on the shared network).
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    /// The registered project it belongs to (null: none is registered by that name).
    pub project: Option<String>,
}

impl Row for SharedDatabase {
    fn headers() -> &'static [&'static str] {
        &["INSTANCE", "ENGINE", "DATABASE", "USER", "PROJECT"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.instance.clone(),
            self.engine.clone(),
            self.database.clone(),
            self.user.clone(),
            self.project.clone().unwrap_or_else(|| "-".into()),
        ]
    }
}

pub fn run(c: &DbCommand) -> anyhow::Result<Outcome> {
    match c {
        DbCommand::Create(a) => create(a),
        DbCommand::Drop(a) => drop_db(a),
        DbCommand::List(a) => list(a),
    }
}

const ENGINES: [&str; 5] = ["postgres", "mariadb", "mysql", "redis", "valkey"];

/// The shared database server `which` names.
fn pick(shared: &Shared, which: &Which) -> anyhow::Result<Resolved> {
    let known = shared.known(&[])?;
    let is_db = |i: &Resolved| shared::has_accounts(&i.service);
    let inst = if let Some(name) = &which.instance {
        let i = shared.instance(name)?;
        if !is_db(&i) {
            return Err(error_with_hint(
                format!(
                    "shared service {name} ({}) is not a database server",
                    i.service
                ),
                format!("database servers: {}", ENGINES.join(", ")),
            ));
        }
        i
    } else {
        let candidates: Vec<&Resolved> = match &which.engine {
            Some(e) => {
                if !ENGINES.contains(&e.as_str()) {
                    return Err(error_with_hint(
                        format!("unknown engine '{}'", berth::cli::excerpt(e)),
                        format!("engines: {}", ENGINES.join(", ")),
                    ));
                }
                known.iter().filter(|i| &i.service == e).collect()
            }
            None => known
                .iter()
                .filter(|i| DbEngine::of_service(&i.service).is_some())
                .collect(),
        };
        match candidates.as_slice() {
            [one] => (*one).clone(),
            [] => shared.instance(which.engine.as_deref().unwrap_or("postgres"))?,
            many => {
                return Err(error_with_hint(
                    format!(
                        "several shared database servers: {}",
                        many.iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "pick one with --engine ENGINE or --instance NAME",
                ));
            }
        }
    };
    Ok(inst)
}

/// The registered project `name`.
fn registered(shared: &Shared, name: &str) -> anyhow::Result<Project> {
    shared::check_project(name)?;
    let projects = Registry::open(&shared.paths).load()?;
    projects
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            error_with_hint(
                format!("no project named '{name}' in the registry"),
                "register it first: registry add DIR --name NAME (or stackgen new ... | registry add -)",
            )
        })
}

/// The server's administrator connection, into its running container.
fn admin(shared: &Shared, inst: &Resolved) -> anyhow::Result<Db> {
    berth_dbdump::target::shared_admin(&shared.name, inst)
}

/// The port a server's clients use on the shared network.
fn server_port(engine: DbEngine) -> u16 {
    match engine {
        DbEngine::Postgres => 5432,
        DbEngine::MariaDb => 3306,
    }
}

/// Whether the server holds `database`.
fn exists(db: &Db, database: &str) -> anyhow::Result<bool> {
    let lit = quote_literal(db.family, database);
    let sql = match db.family {
        Family::Postgres => format!("SELECT 1 FROM pg_database WHERE datname = {lit}"),
        Family::MySql => {
            format!("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {lit}")
        }
    };
    let admin_db = db.creds.database.clone();
    Ok(db.query(&admin_db, &[sql])?.trim() == "1")
}

/// The statements that make the database and its user (idempotent), run
/// as the administrator. The password is not in them (set apart, masked).
fn create_sql(family: Family, database: &str, user: &str) -> Vec<String> {
    let db = quote_ident(family, database);
    let role = quote_ident(family, user);
    let user_lit = quote_literal(family, user);
    match family {
        Family::Postgres => vec![
            format!(
                "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {user_lit}) THEN CREATE ROLE {role} LOGIN; END IF; END$$;"
            ),
            format!(
                "ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;"
            ),
            format!(
                "SELECT 'CREATE DATABASE ' || {q} || ' OWNER ' || {r} WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {d})\\gexec",
                q = quote_literal(family, &db),
                r = quote_literal(family, &role),
                d = quote_literal(family, database)
            ),
            format!("ALTER DATABASE {db} OWNER TO {role};"),
            format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC;"),
            format!("GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role};"),
            // The server's own databases: no project connects to them.
            "REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;".to_owned(),
            "REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;".to_owned(),
            format!(
                "REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC;",
                quote_ident(family, shared::ADMIN_USER)
            ),
        ],
        Family::MySql => vec![
            format!("CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4;"),
            format!("GRANT ALL PRIVILEGES ON {db}.* TO {user_lit}@'%';"),
        ],
    }
}

/// In the new database: its `public` schema belongs to the user alone.
fn schema_sql(user: &str) -> String {
    let role = quote_ident(Family::Postgres, user);
    format!(
        "ALTER SCHEMA public OWNER TO {role};\nREVOKE ALL ON SCHEMA public FROM PUBLIC;\nGRANT ALL ON SCHEMA public TO {role};\n"
    )
}

/// The project's password on the server: from its secrets, or new.
fn project_password(project: &str, key: &str) -> anyhow::Result<String> {
    let store = berth::secrets::Store::open()?;
    store.update(project, |s| {
        if let Some(v) = s.get(key) {
            return Ok(v.to_owned());
        }
        let v = berth::secrets::generate("alnum32")?;
        s.set(key, v.clone(), "alnum32");
        Ok(v)
    })
}

fn env_prefix(inst: &Resolved) -> String {
    shared::env_prefix(&inst.name, &inst.service)
}

fn create(a: &CreateArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    let project = registered(&shared, &a.project)?;
    let inst = pick(&shared, &a.which)?;
    if shared::is_key_value(&inst.service) {
        return create_kv(&shared, &project, &inst, &a.output);
    }
    let engine = DbEngine::of_service(&inst.service).unwrap_or(DbEngine::Postgres);
    let db = admin(&shared, &inst)?;
    let database = shared::database(&project.name);
    let user = shared::user(&project.name);
    let key = shared::password_secret(&inst.name, &inst.service);
    let password = project_password(&project.name, &key)?;
    let existed = exists(&db, &database)?;
    let masked = |e: anyhow::Error| {
        anyhow::anyhow!(
            "{}",
            format!("{e:#}").replace(&password, berth::envline::MASK)
        )
    };
    if db.family == Family::MySql {
        // The user with its password in one statement: never a moment
        // without one. On stdin, never in argv.
        let sql = format!(
            "CREATE USER IF NOT EXISTS {}@'%' IDENTIFIED BY {};\n",
            quote_literal(db.family, &user),
            quote_literal(db.family, &password)
        );
        db.run_script("", &sql).map_err(masked)?;
    }
    let admin_db = db.creds.database.clone();
    db.run_script(
        &admin_db,
        &(create_sql(db.family, &database, &user).join("\n") + "\n"),
    )
    .with_context(|| format!("cannot create database {database} on {}", inst.container()))?;
    berth_dbdump::password::set_password(&db, &user, &password)
        .with_context(|| format!("cannot set the password of {user}"))?;
    if db.family == Family::Postgres {
        db.run_script(&database, &schema_sql(&user))
            .with_context(|| format!("cannot give {user} the schema public of {database}"))?;
    }
    let host = inst.container();
    let port = server_port(engine);
    record(
        &shared,
        &project.name,
        &inst,
        port,
        &[("DATABASE", database.clone()), ("USER", user.clone())],
    )?;
    let record = SharedDatabase {
        instance: inst.name.clone(),
        engine: engine_name(engine).to_owned(),
        host: host.clone(),
        port,
        database: database.clone(),
        user: user.clone(),
        project: Some(project.name.clone()),
    };
    if a.output.is_json() {
        berth::io::write_json(&record)?;
    } else {
        berth::info!(
            "{}: database {database} on {host}:{port} (user {user}, password in its secrets as {key}){}",
            project.name,
            if existed { ", already there" } else { "" }
        );
    }
    Ok(Outcome::Clean)
}

/// Record the project's connection to `inst` in its registry entry (and
/// `inst` under its `shared`): `<PREFIX>_HOST`, `_PORT`, and `vars`.
fn record(
    shared: &Shared,
    project: &str,
    inst: &Resolved,
    port: u16,
    vars: &[(&str, String)],
) -> anyhow::Result<()> {
    let prefix = env_prefix(inst);
    let host = inst.container();
    Registry::open(&shared.paths).update_project(project, |p| {
        if !p.shared.contains(&inst.name) {
            p.shared.push(inst.name.clone());
        }
        for (k, v) in [("HOST", host.clone()), ("PORT", port.to_string())]
            .into_iter()
            .chain(vars.iter().map(|(k, v)| (*k, v.clone())))
        {
            p.environment.insert(format!("{prefix}_{k}"), v);
        }
        Ok((true, ()))
    })
}

/// Forget the project's connection to `inst`: its registry variables, its
/// place in `shared` and its password.
fn forget(shared: &Shared, project: &str, inst: &Resolved) -> anyhow::Result<()> {
    let prefix = env_prefix(inst);
    Registry::open(&shared.paths).update_project(project, |p| {
        p.shared.retain(|s| s != &inst.name);
        for k in ["HOST", "PORT", "DATABASE", "USER", "KEY_PREFIX"] {
            p.environment.remove(&format!("{prefix}_{k}"));
        }
        Ok((true, ()))
    })?;
    let key = shared::password_secret(&inst.name, &inst.service);
    berth::secrets::Store::open()?.update(project, |s| Ok(s.remove(&key)))?;
    Ok(())
}

/// `db create` on a key-value server: the project's ACL user.
fn create_kv(
    shared: &Shared,
    project: &Project,
    inst: &Resolved,
    output: &JsonArgs,
) -> anyhow::Result<Outcome> {
    let kv = Kv::open(shared, inst)?;
    let user = shared::user(&project.name);
    let prefix = shared::key_prefix(&project.name);
    let key = shared::password_secret(&inst.name, &inst.service);
    let password = project_password(&project.name, &key)?;
    let existed = kv.has_user(&user)?;
    kv.create_user(&user, &password, &prefix)?;
    record(
        shared,
        &project.name,
        inst,
        KV_PORT,
        &[("USER", user.clone()), ("KEY_PREFIX", prefix.clone())],
    )?;
    let row = SharedDatabase {
        instance: inst.name.clone(),
        engine: inst.service.clone(),
        host: inst.container(),
        port: KV_PORT,
        database: format!("{prefix}*"),
        user: user.clone(),
        project: Some(project.name.clone()),
    };
    if output.is_json() {
        berth::io::write_json(&row)?;
    } else {
        berth::info!(
            "{}: user {user} on {}:{KV_PORT}, keys {prefix}* (password in its secrets as {key}){}",
            project.name,
            inst.container(),
            if existed { ", already there" } else { "" }
        );
    }
    Ok(Outcome::Clean)
}

/// `db drop` on a key-value server: the user and its keys go (a cache's
/// keys are not backed up: dbdump backs up databases).
fn drop_kv(
    shared: &Shared,
    project: &Project,
    inst: &Resolved,
    yes: bool,
) -> anyhow::Result<Outcome> {
    let kv = Kv::open(shared, inst)?;
    let user = shared::user(&project.name);
    let prefix = shared::key_prefix(&project.name);
    if !kv.has_user(&user)? {
        return Err(error_with_hint(
            format!("no user {user} on {}", inst.container()),
            "`shared db list` shows the projects' accounts",
        ));
    }
    if !confirm(
        &format!(
            "remove user {user} and every key {prefix}* on {} (keys are not backed up)",
            inst.container()
        ),
        yes,
    )? {
        berth::info!("nothing dropped");
        return Ok(Outcome::Clean);
    }
    let keys = kv.drop_user(&user, &prefix)?;
    forget(shared, &project.name, inst)?;
    berth::info!(
        "{}: removed user {user} and {keys} key(s) on {}",
        project.name,
        inst.container()
    );
    Ok(Outcome::Clean)
}

fn engine_name(e: DbEngine) -> &'static str {
    match e {
        DbEngine::Postgres => "postgres",
        DbEngine::MariaDb => "mariadb",
    }
}

fn drop_db(a: &DropArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    let project = registered(&shared, &a.project)?;
    let inst = pick(&shared, &a.which)?;
    if shared::is_key_value(&inst.service) {
        return drop_kv(&shared, &project, &inst, a.yes);
    }
    let mut db = admin(&shared, &inst)?;
    let database = shared::database(&project.name);
    let user = shared::user(&project.name);
    if !exists(&db, &database)? {
        return Err(error_with_hint(
            format!("no database {database} on {}", inst.container()),
            "`shared db list` shows the projects' databases",
        ));
    }
    if !confirm(
        &format!(
            "drop database {database} and user {user} on {} (backed up first)",
            inst.container()
        ),
        a.yes,
    )? {
        berth::info!("nothing dropped");
        return Ok(Outcome::Clean);
    }
    let dir = berth_dbdump::target::backup_dir(
        None,
        Some(&ProjectRef {
            name: project.name.clone(),
            dir: project.path.clone(),
            stack: project.stack.clone(),
            shared: project.shared.clone(),
        }),
    )?;
    let admin_db = std::mem::replace(&mut db.creds.database, database.clone());
    db.project = Some(project.name.clone());
    let backup = berth_dbdump::take_backup(&db, &dir, Some("before-drop"), Compression::Zstd)
        .with_context(|| format!("nothing dropped: the backup of {database} failed"))?;
    db.creds.database.clone_from(&admin_db);
    let d = quote_ident(db.family, &database);
    let sql = match db.family {
        Family::Postgres => format!(
            "DROP DATABASE {d} WITH (FORCE);\nDROP ROLE IF EXISTS {};\n",
            quote_ident(db.family, &user)
        ),
        Family::MySql => format!(
            "DROP DATABASE {d};\nDROP USER IF EXISTS {}@'%';\n",
            quote_literal(db.family, &user)
        ),
    };
    db.run_script(&admin_db, &sql).with_context(|| {
        format!(
            "cannot drop {database} (its backup: {})",
            backup.file.display()
        )
    })?;
    forget(&shared, &project.name, &inst)?;
    berth::info!(
        "{}: dropped database {database} and user {user} on {} (backup: {})",
        project.name,
        inst.container(),
        backup.file.display()
    );
    Ok(Outcome::Clean)
}

fn list(a: &ListArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    let projects = Registry::open(&shared.paths).load()?;
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let running: Vec<String> = rt
        .block_on(berth::docker::project_containers(
            &docker,
            &[shared.name.as_str()],
        ))?
        .into_iter()
        .filter(|c| c.state == "running")
        .map(|c| c.name)
        .collect();
    std::mem::drop(rt);
    let mut rows = Vec::new();
    for inst in shared.known(&[])? {
        if !running.contains(&inst.container()) {
            continue;
        }
        if shared::is_key_value(&inst.service) {
            for user in Kv::open(&shared, &inst)?.users()? {
                let project = projects
                    .iter()
                    .find(|p| shared::user(&p.name) == user)
                    .map(|p| p.name.clone());
                rows.push(SharedDatabase {
                    instance: inst.name.clone(),
                    engine: inst.service.clone(),
                    host: inst.container(),
                    port: KV_PORT,
                    database: format!("{user}:*"),
                    user,
                    project,
                });
            }
            continue;
        }
        let Some(engine) = DbEngine::of_service(&inst.service) else {
            continue;
        };
        let db = admin(&shared, &inst)?;
        let sql = match db.family {
            Family::Postgres => format!(
                "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1', {}) ORDER BY 1",
                quote_literal(db.family, shared::ADMIN_USER)
            ),
            Family::MySql => format!(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys', {}) ORDER BY 1",
                quote_literal(db.family, shared::ADMIN_USER)
            ),
        };
        let admin_db = db.creds.database.clone();
        for name in db.query(&admin_db, &[sql])?.lines().map(str::trim) {
            if name.is_empty() {
                continue;
            }
            let project = projects
                .iter()
                .find(|p| shared::database(&p.name) == name)
                .map(|p| p.name.clone());
            rows.push(SharedDatabase {
                instance: inst.name.clone(),
                engine: engine_name(engine).to_owned(),
                host: inst.container(),
                port: server_port(engine),
                database: name.to_owned(),
                user: project
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), shared::user),
                project,
            });
        }
    }
    berth::io::write_list(a.output.format(), &rows)?;
    let _ = std::io::stdout().flush();
    Ok(Outcome::Clean)
}
