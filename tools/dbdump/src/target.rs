//! Where the database is and how to reach it: a project's container (found
//! by compose labels, reached through the engine's exec API) or a server
//! URL (reached with the local client programs, run by duct).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use berth::cli::{ResultExt as _, error_with_hint};

use crate::engine::{Client, Creds, Engine, Family, FromFile};

/// How a command ran.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i64>,
    pub stderr: String,
}

impl Ran {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
    /// An error naming the program, its exit status and what it said.
    pub fn error(&self, what: &str) -> anyhow::Error {
        let status = self.code.map_or_else(
            || "was stopped (its container went away?)".to_owned(),
            |c| format!("exited with status {c}"),
        );
        if self.stderr.is_empty() {
            anyhow!("{what} {status}")
        } else {
            anyhow!("{what} {status}: {}", self.stderr)
        }
    }
}

/// The way to run client programs.
pub enum Conn {
    Docker {
        rt: tokio::runtime::Runtime,
        docker: bollard::Docker,
        container: String,
        name: String,
    },
    Local,
}

pub type Sink<'a> = &'a mut (dyn FnMut(&[u8]) -> io::Result<()> + Send);

impl Conn {
    /// Run `argv` with `env` added, stdin from `stdin`, stdout into `sink`.
    pub fn stream(
        &self,
        argv: &[String],
        env: &[(String, String)],
        stdin: Option<&mut (dyn Read + Send)>,
        sink: Sink<'_>,
    ) -> anyhow::Result<Ran> {
        match self {
            Conn::Docker {
                rt,
                docker,
                container,
                ..
            } => {
                let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let r = rt.block_on(berth::docker::exec(
                    docker, container, argv, &env, stdin, sink,
                ))?;
                let stderr = r.stderr_text();
                Ok(Ran {
                    code: r.exit_code,
                    stderr,
                })
            }
            Conn::Local => local_stream(argv, env, stdin, sink),
        }
    }

    /// Run `argv` and return its stdout (small outputs).
    pub fn capture(
        &self,
        argv: &[String],
        env: &[(String, String)],
    ) -> anyhow::Result<(Ran, String)> {
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        };
        let ran = self.stream(argv, env, None, &mut sink)?;
        Ok((ran, String::from_utf8_lossy(&out).into_owned()))
    }

    pub fn describe(&self) -> String {
        match self {
            Conn::Docker { name, .. } => format!("container {name}"),
            Conn::Local => "the local client".into(),
        }
    }
}

fn local_stream(
    argv: &[String],
    env: &[(String, String)],
    stdin: Option<&mut (dyn Read + Send)>,
    sink: Sink<'_>,
) -> anyhow::Result<Ran> {
    let program = argv.first().map_or("", String::as_str);
    // Its own process group: a Ctrl-C to dbdump's group reaches dbdump,
    // which stops the client itself (and finishes a swap it started).
    let mut cmd = duct::cmd(program, &argv[1..])
        .stderr_capture()
        .unchecked()
        .before_spawn(|c| {
            std::os::unix::process::CommandExt::process_group(c, 0);
            Ok(())
        });
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let not_found = |e: io::Error| {
        if e.kind() == io::ErrorKind::NotFound {
            error_with_hint(
                format!("{program} is not installed"),
                "install the database client (postgresql-client, mariadb-client), or run without --url against a project's container",
            )
        } else {
            anyhow::Error::from(e).context(format!("cannot run {program}"))
        }
    };
    let output = if let Some(input) = stdin {
        let (r, mut w) = io::pipe()?;
        let handle = cmd
            .stdin_file(r)
            .stdout_capture()
            .start()
            .map_err(not_found)?;
        let copied = io::copy(input, &mut w);
        drop(w);
        let out = handle.wait().map_err(not_found)?.clone();
        if let Err(e) = copied {
            // The program stopped reading early: report its own error first.
            if out.status.success() {
                return Err(e).context(format!("{program} stopped reading its input"));
            }
        }
        sink(&out.stdout)?;
        out
    } else {
        let mut reader = cmd.reader().map_err(not_found)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context(format!("cannot read the output of {program}")),
            };
            sink(&buf[..n])?;
        }
        match reader.try_wait()? {
            Some(out) => out.clone(),
            None => bail!("{program} closed its output but did not exit"),
        }
    };
    Ok(Ran {
        code: output.status.code().map(i64::from),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// A database reached one way or the other, with its client programs.
pub struct Db {
    pub conn: Conn,
    pub client: Client,
    pub family: Family,
    /// The engine the image or URL names (refined by the server's version).
    pub engine: Engine,
    pub creds: Creds,
    /// The project, for containers.
    pub project: Option<String>,
    pub project_dir: Option<PathBuf>,
    pub stack: Option<String>,
    /// On a shared server: the project's own user, for `dbdump shell` (the
    /// other commands act as the server's administrator, on the project's
    /// database only).
    pub shell_creds: Option<Creds>,
}

impl Db {
    /// The environment that carries the password to the client.
    pub fn env(&self) -> Vec<(String, String)> {
        self.creds
            .password
            .iter()
            .map(|p| (self.client.password_var().to_owned(), p.clone()))
            .collect()
    }

    /// Run our own SQL and return the output rows.
    pub fn query(&self, database: &str, sql: &[String]) -> anyhow::Result<String> {
        let argv = self.client.query_argv(&self.creds, database, sql);
        let (ran, out) = self.conn.capture(&argv, &self.env())?;
        if !ran.success() {
            return Err(ran.error(&format!("{} in {}", argv[0], self.conn.describe())));
        }
        Ok(out)
    }

    /// Run a script of our own statements on stdin (stop at the first error).
    pub fn run_script(&self, database: &str, script: &str) -> anyhow::Result<()> {
        let argv = self.client.load_argv(&self.creds, database);
        let mut input = io::Cursor::new(script.as_bytes().to_vec());
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| {
            if out.len() < 64 * 1024 {
                out.extend_from_slice(b);
            }
            Ok(())
        };
        let ran = self
            .conn
            .stream(&argv, &self.env(), Some(&mut input), &mut sink)?;
        if !ran.success() {
            return Err(ran.error(&format!("{} in {}", argv[0], self.conn.describe())));
        }
        Ok(())
    }

    /// The server's version string.
    pub fn server_version(&self) -> anyhow::Result<String> {
        let out = self
            .query(
                &self.creds.database,
                &[crate::engine::version_sql(self.family).to_owned()],
            )
            .context("cannot reach the database server")
            .hint("check that the server runs and the credentials are right")?;
        Ok(out.trim().to_owned())
    }

    /// The database to connect to while dropping and creating ours.
    pub fn maintenance_db(&self) -> String {
        match self.family {
            Family::Postgres => {
                if self.creds.database == "postgres" {
                    "template1".into()
                } else {
                    "postgres".into()
                }
            }
            Family::MySql => String::new(),
        }
    }
}

/// Pick the MySQL-family client programs in the container (or on the host):
/// `mariadb-dump` when present, else `mysqldump`, told apart by `--version`.
pub fn probe_mysql_client(conn: &Conn) -> anyhow::Result<Client> {
    for (program, legacy) in [("mariadb-dump", false), ("mysqldump", true)] {
        let argv = vec![program.to_owned(), "--version".to_owned()];
        let Ok((ran, out)) = conn.capture(&argv, &[]) else {
            continue;
        };
        if ran.success() {
            return Ok(Client::from_version_line(&out, legacy));
        }
    }
    Err(error_with_hint(
        format!(
            "neither mariadb-dump nor mysqldump runs in {}",
            conn.describe()
        ),
        "install the MariaDB or MySQL client programs",
    ))
}

/// A server named by URL: `postgres://user:pass@host:port/db`,
/// `mysql://...`, `mariadb://...`.
pub fn from_url(text: &str) -> anyhow::Result<Db> {
    let bad = |why: &str| {
        error_with_hint(
            format!("invalid --url: {why}"),
            "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE (or mysql://, mariadb://)",
        )
    };
    let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    let Some(engine) = Engine::from_scheme(url.scheme()) else {
        return Err(bad(&format!("unknown scheme '{}'", url.scheme())));
    };
    let decode = |s: &str| -> anyhow::Result<String> {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| bad("cannot decode"))
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let database = decode(url.path().trim_start_matches('/'))?;
    let family = engine.family();
    let user = if url.username().is_empty() {
        match family {
            Family::Postgres => "postgres".to_owned(),
            Family::MySql => "root".to_owned(),
        }
    } else {
        decode(url.username())?
    };
    let database = if database.is_empty() {
        match family {
            Family::Postgres => user.clone(),
            Family::MySql => return Err(bad("no database name in the path")),
        }
    } else {
        database
    };
    if database.contains('/') {
        return Err(bad("the database name has a '/'"));
    }
    let password = url.password().map(decode).transpose()?;
    let creds = Creds {
        user,
        password,
        database,
        host: Some(host),
        port: url.port(),
    };
    let conn = Conn::Local;
    let client = match family {
        Family::Postgres => Client::Postgres,
        Family::MySql => probe_mysql_client(&conn)?,
    };
    Ok(Db {
        conn,
        client,
        family,
        engine,
        creds,
        project: None,
        project_dir: None,
        stack: None,
        shell_creds: None,
    })
}

/// What `--project` / the current folder resolves to.
pub struct ProjectRef {
    pub name: String,
    pub dir: PathBuf,
    pub stack: Option<String>,
    /// The shared servers it takes (the registry's `shared`).
    pub shared: Vec<String>,
}

/// The registered project whose folder is `dir` (canonical), if any.
pub fn registered_at(dir: &Path) -> Option<ProjectRef> {
    let paths = berth::paths::Paths::from_env().ok()?;
    let projects = berth::registry::Registry::open(&paths).load().ok()?;
    let p = projects
        .iter()
        .find(|p| std::fs::canonicalize(&p.path).is_ok_and(|d| d == dir))?;
    Some(ProjectRef {
        name: p.name.clone(),
        dir: p.path.clone(),
        stack: p.stack.clone(),
        shared: p.shared.clone(),
    })
}

/// The project: `--project NAME` from the registry, else the folder `--dir`
/// names or the current folder (its registry entry when there is one, else
/// its compose project name).
pub fn project(name: Option<&str>, dir: Option<&Path>) -> anyhow::Result<ProjectRef> {
    let paths = berth::paths::Paths::from_env()?;
    let registry = berth::registry::Registry::open(&paths);
    if let Some(name) = name {
        berth::names::validate_label("project name", name)?;
        let projects = registry.load()?;
        let Some(p) = projects.iter().find(|p| p.name == name) else {
            return Err(error_with_hint(
                format!("no project named '{name}' in the registry"),
                "`registry list` shows the projects; or run dbdump in the project's folder",
            ));
        };
        return Ok(ProjectRef {
            name: p.name.clone(),
            dir: p.path.clone(),
            stack: p.stack.clone(),
            shared: p.shared.clone(),
        });
    }
    let cwd = match dir {
        Some(d) => std::fs::canonicalize(d)
            .ok()
            .filter(|c| c.is_dir())
            .ok_or_else(|| {
                error_with_hint(
                    format!("--dir {}: no such folder", d.display()),
                    "--dir names the project folder; the backup folder is --backup-dir DIR",
                )
            })?,
        None => std::env::current_dir().context("cannot read the current folder")?,
    };
    let canon = std::fs::canonicalize(&cwd).unwrap_or_else(|_| cwd.clone());
    if let Some(p) = registered_at(&canon) {
        return Ok(p);
    }
    let env = berth::compose::Env::for_dir(&cwd)?;
    let name = env
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            let base = canon
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            base.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect()
        });
    Ok(ProjectRef {
        name,
        dir: cwd,
        stack: None,
        shared: Vec::new(),
    })
}

/// The database service: `--service`, or the only one with a database image.
fn pick_service<'a>(
    p: &ProjectRef,
    compose: &'a berth::compose::Compose,
    service: Option<&str>,
) -> anyhow::Result<(&'a berth::compose::Service, Engine)> {
    let db_services: Vec<(&berth::compose::Service, Engine)> = compose
        .services
        .iter()
        .filter_map(|s| {
            s.image
                .as_deref()
                .and_then(Engine::from_image)
                .map(|e| (s, e))
        })
        .collect();
    let chosen = match service {
        Some(name) => {
            let Some(s) = compose.service(name) else {
                return Err(error_with_hint(
                    format!("project {} has no service '{name}'", p.name),
                    format!("its services: {}", names(compose.services.iter())),
                ));
            };
            let Some(e) = s.image.as_deref().and_then(Engine::from_image) else {
                return Err(error_with_hint(
                    format!(
                        "service '{name}' of project {} does not run a PostgreSQL, MySQL or MariaDB image ({})",
                        p.name,
                        s.image.as_deref().unwrap_or("no image")
                    ),
                    "pass --service with the database service",
                ));
            };
            (s, e)
        }
        None => match db_services.as_slice() {
            [one] => *one,
            [] => {
                return Err(error_with_hint(
                    format!(
                        "project {} has no PostgreSQL, MySQL or MariaDB service",
                        p.name
                    ),
                    "use --url for a server outside the project",
                ));
            }
            many => {
                return Err(error_with_hint(
                    format!(
                        "project {} has several database services: {}",
                        p.name,
                        names(many.iter().map(|(s, _)| *s))
                    ),
                    "pick one with --service",
                ));
            }
        },
    };
    Ok(chosen)
}

/// The project's database: its service, engine, container and credentials.
pub fn from_project(
    p: &ProjectRef,
    service: Option<&str>,
    database: Option<&str>,
) -> anyhow::Result<Db> {
    // The password from the secrets store first (an old `.env` holding it
    // is moved there now), else from `.env` (`secrets: plain`).
    let secrets = berth::secrets_migrate::prepare(&p.name, &p.dir, &crate::password::Checker)?;
    let env = berth::compose::Env::for_dir(&p.dir)?.with_overrides(&secrets);
    let compose = berth::compose::load_dir_with(&p.dir, &env)
        .with_context(|| format!("cannot read the compose files of project {}", p.name))?;
    if let Some(db) = from_shared(p, &compose, service, database)? {
        return Ok(db);
    }
    let (svc, engine) = pick_service(p, &compose, service)?;
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let containers = rt.block_on(berth::docker::project_containers(
        &docker,
        &[p.name.as_str()],
    ))?;
    let Some(c) = containers
        .iter()
        .find(|c| c.service == svc.name && c.state == "running")
    else {
        return Err(error_with_hint(
            format!(
                "the {} service of project {} is not running",
                svc.name, p.name
            ),
            format!(
                "start it: `docker compose -p {} up -d {}` (or `stackctl start {}`)",
                p.name, svc.name, p.name
            ),
        ));
    };
    // The compose environment first; what the container actually runs with fills the gaps.
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for kv in rt.block_on(berth::docker::container_env(&docker, &c.id))? {
        if let Some((k, v)) = kv.split_once('=') {
            env.insert(k.to_owned(), v.to_owned());
        }
    }
    env.extend(svc.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    let conn = Conn::Docker {
        rt,
        docker,
        container: c.id.clone(),
        name: c.name.clone(),
    };
    let family = engine.family();
    let mut read = |f: &FromFile| -> Option<String> {
        let (ran, out) = conn
            .capture(&["cat".to_owned(), f.path.clone()], &[])
            .ok()?;
        if ran.success() {
            Some(out.trim_end_matches(['\n', '\r']).to_owned())
        } else {
            berth::cli::warn(
                "dbdump",
                format!(
                    "cannot read {}_FILE ({}) in the container; going on without it",
                    f.var, f.path
                ),
            );
            None
        }
    };
    let mut creds = crate::engine::creds_from_env(family, &env, &mut read).map_err(|why| {
        error_with_hint(
            format!("cannot tell the credentials of service {}: {why}", svc.name),
            "set them in the service's environment (or .env), or pass --database",
        )
    });
    if let (Err(_), Some(db), Family::MySql) = (&creds, database, family) {
        let mut env = env.clone();
        env.insert("MYSQL_DATABASE".into(), db.to_owned());
        creds = crate::engine::creds_from_env(family, &env, &mut read)
            .map_err(|why| anyhow!("cannot tell the credentials of service {}: {why}", svc.name));
    }
    let mut creds = creds?;
    if let Some(db) = database {
        db.clone_into(&mut creds.database);
    }
    let client = match family {
        Family::Postgres => Client::Postgres,
        Family::MySql => probe_mysql_client(&conn)?,
    };
    Ok(Db {
        conn,
        client,
        family,
        engine,
        creds,
        project: Some(p.name.clone()),
        project_dir: Some(p.dir.clone()),
        stack: p.stack.clone(),
        shell_creds: None,
    })
}

/// Which of the project's shared database servers dbdump acts on (none:
/// its own compose service).
fn shared_server_of(
    p: &ProjectRef,
    compose: &berth::compose::Compose,
    service: Option<&str>,
    config: &berth::config::Config,
) -> anyhow::Result<Option<berth::shared::Resolved>> {
    let servers: Vec<berth::shared::Resolved> = p
        .shared
        .iter()
        .map(|i| config.shared.instance(i))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .filter(|i| berth::shared::DbEngine::of_service(&i.service).is_some())
        .collect();
    let own = compose
        .services
        .iter()
        .any(|s| s.image.as_deref().and_then(Engine::from_image).is_some());
    Ok(match service {
        Some(name) => servers.into_iter().find(|i| i.name == name),
        None if own => None,
        None => match servers.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                return Err(error_with_hint(
                    format!(
                        "project {} takes several shared database servers: {}",
                        p.name,
                        many.iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "pick one with --service",
                ));
            }
        },
    })
}

/// The project's database on a shared server (`shared`), when that is where
/// it is: `--service` names one of its shared servers, or it takes exactly
/// one shared database server and its compose files have no database service.
fn from_shared(
    p: &ProjectRef,
    compose: &berth::compose::Compose,
    service: Option<&str>,
    database: Option<&str>,
) -> anyhow::Result<Option<Db>> {
    if p.shared.is_empty() {
        return Ok(None);
    }
    let config = berth::config::Config::load(&berth::paths::Paths::from_env()?)?;
    let Some(inst) = shared_server_of(p, compose, service, &config)? else {
        return Ok(None);
    };
    let own_db = berth::shared::database(&p.name);
    let wanted = database.map_or_else(|| own_db.clone(), str::to_owned);
    if wanted != own_db {
        return Err(error_with_hint(
            format!(
                "project {} has no database '{wanted}' on the shared server {}: its own is {own_db}",
                p.name,
                inst.container()
            ),
            "dbdump acts on a project's own database only on a shared server",
        ));
    }
    let mut db = shared_admin(&config.shared.name, &inst).map_err(|e| {
        e.context(format!(
            "the database of project {} (stackctl start {0})",
            p.name
        ))
    })?;
    let user_key = berth::shared::password_secret(&inst.name, &inst.service);
    db.shell_creds = Some(Creds {
        user: berth::shared::user(&p.name),
        password: berth::secrets::Store::open()?
            .load(&p.name)?
            .get(&user_key)
            .map(str::to_owned),
        database: own_db.clone(),
        host: None,
        port: None,
    });
    db.creds.database = own_db;
    db.project = Some(p.name.clone());
    db.project_dir = Some(p.dir.clone());
    db.stack.clone_from(&p.stack);
    Ok(Some(db))
}

/// The administrator's connection to the shared database server `inst` of
/// the shared services `shared` (its running container, the password from
/// the store), on the administrator's own database. `shared db` and dbdump
/// on a shared-mode project both start from it.
pub fn shared_admin(shared: &str, inst: &berth::shared::Resolved) -> anyhow::Result<Db> {
    let engine = match berth::shared::DbEngine::of_service(&inst.service) {
        Some(berth::shared::DbEngine::Postgres) => Engine::Postgres,
        Some(_) if inst.service == "mysql" => Engine::Mysql,
        Some(_) => Engine::Mariadb,
        None => {
            return Err(error_with_hint(
                format!(
                    "shared service {} ({}) is not a database server",
                    inst.name, inst.service
                ),
                "database servers: postgres, mariadb, mysql",
            ));
        }
    };
    let family = engine.family();
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let containers = rt.block_on(berth::docker::project_containers(&docker, &[shared]))?;
    let name = inst.container();
    let Some(c) = containers
        .iter()
        .find(|c| c.name == name && c.state == "running")
    else {
        return Err(error_with_hint(
            format!("the shared service {} is not running", inst.name),
            format!("start it: shared up {}", inst.name),
        ));
    };
    let (admin, key) = berth::shared::admin(&inst.name, &inst.service);
    let Some(password) = berth::secrets::Store::open()?
        .load(shared)?
        .get(&key)
        .map(str::to_owned)
    else {
        return Err(error_with_hint(
            format!("the secrets store holds no {key} for {shared}"),
            format!(
                "start the server with `shared up {}` (it makes it)",
                inst.name
            ),
        ));
    };
    let creds = Creds {
        user: admin.to_owned(),
        password: Some(password),
        database: match family {
            Family::Postgres => berth::shared::ADMIN_USER.to_owned(),
            Family::MySql => String::new(),
        },
        host: None,
        port: None,
    };
    let conn = Conn::Docker {
        rt,
        docker,
        container: c.id.clone(),
        name,
    };
    let client = match family {
        Family::Postgres => Client::Postgres,
        Family::MySql => probe_mysql_client(&conn)?,
    };
    Ok(Db {
        conn,
        client,
        family,
        engine,
        creds,
        project: None,
        project_dir: None,
        stack: None,
        shell_creds: None,
    })
}

fn names<'a>(it: impl Iterator<Item = &'a berth::compose::Service>) -> String {
    it.map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The backup folder: `--backup-dir`, else the configured folder inside the
/// project (or the current folder for `--url`).
pub fn backup_dir(dir: Option<&Path>, project: Option<&ProjectRef>) -> anyhow::Result<PathBuf> {
    if let Some(d) = dir {
        return Ok(d.to_path_buf());
    }
    let paths = berth::paths::Paths::from_env()?;
    let config = berth::config::Config::load(&paths)?;
    let base = match project {
        Some(p) => p.dir.clone(),
        None => std::env::current_dir()?,
    };
    if config.backup_dir.is_absolute() {
        return Ok(match project {
            Some(p) => config.backup_dir.join(&p.name),
            None => config.backup_dir.clone(),
        });
    }
    // A folder inside the project that is a link (a cloned repository can ship
    // `.berth/backups -> /somewhere`) would have prune delete, and backup write,
    // outside the project: refused; `--backup-dir` names such a folder on purpose.
    let mut at = base.clone();
    for part in config.backup_dir.components() {
        at.push(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(berth::cli::error_with_hint(
                format!(
                    "the backup folder {} is reached through a symbolic link ({}); \
                     dbdump does not follow links out of the project",
                    base.join(&config.backup_dir).display(),
                    at.display()
                ),
                "pass --backup-dir with the real folder to use it anyway",
            ));
        }
    }
    Ok(base.join(&config.backup_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed() {
        let db = from_url("postgres://app:p%40ss%2Fw@127.0.0.1:5433/shop").unwrap();
        assert_eq!(db.creds.user, "app");
        assert_eq!(db.creds.password.as_deref(), Some("p@ss/w"));
        assert_eq!(db.creds.database, "shop");
        assert_eq!(db.creds.port, Some(5433));
        let db = from_url("postgresql://localhost").unwrap();
        assert_eq!(
            (db.creds.user.as_str(), db.creds.database.as_str()),
            ("postgres", "postgres")
        );
        for bad in [
            "http://x/y",
            "postgres:///db",
            "not a url",
            "postgres://h/a/b",
        ] {
            assert!(from_url(bad).is_err(), "{bad}");
        }
    }
}
