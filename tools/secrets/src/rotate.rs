//! `secrets rotate`: a new value of the same kind; when the key is the
//! password of the project's database, in two phases that a kill at any
//! moment cannot mix up: the new value is stored as *pending* beside the
//! current one, the password is changed in the running database (through
//! dbdump's client code, the statement on the client's stdin), then the
//! pending value is promoted. A kill in between leaves a pending value
//! that the next reader of the store resolves by trying both values
//! against the database (`berth_dbdump::password::Checker`).

use std::io::Write as _;

use berth::cli::{Outcome, error_with_hint};
use berth::secrets::{self as store, ProjectSecrets, Store, Verdict};
use berth_dbdump::password::{self as password, Checker, DbUse};

use crate::{TOOL, missing_key, open_for};

/// Replace a key's value with a new random one of the same kind.
///
/// When KEY is the password of the project's database (the database
/// service's POSTGRES_PASSWORD, MARIADB_PASSWORD, MARIADB_ROOT_PASSWORD,
/// MYSQL_PASSWORD or MYSQL_ROOT_PASSWORD is KEY, or is made from it in the
/// compose files), the password is first changed in the running database
/// (ALTER ROLE / ALTER USER, sent on the client's stdin, never in its
/// arguments); the app gets it at its next start (`stackctl restart P`).
/// The new value is stored as pending before the database is changed and
/// made current after, so a rotation cut short (killed) leaves both values:
/// every `secrets` command, stackctl and dbdump then try them against the
/// database and keep the one that logs in; when the database is not
/// running they use the current value, keep both and say so, and
/// `secrets rotate` again once it runs resolves it. A database that is not
/// running is refused (exit 1) and nothing changes. A value set by hand
/// (kind manual) cannot be rotated: set a new one.
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

pub fn run(a: &RotateArgs) -> anyhow::Result<Outcome> {
    store::validate_key(&a.key)?;
    let (store, paths) = open_for(&a.project)?;
    let Some(rotation) = store.try_rotation(&a.project)? else {
        return Err(error_with_hint(
            format!(
                "another `secrets rotate` of project {} is under way",
                a.project
            ),
            "wait for it to finish, then try again",
        ));
    };
    // A rotation cut short before is resolved first (held under our lock).
    let secrets = rotation.resolve(&Checker)?;
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
    match password::find_use(&paths, &a.project, &a.key, &secrets, a.service.as_deref())? {
        None => {
            // Nothing outside the store uses it: one write (any pending
            // value is replaced with it).
            store.update(&a.project, |p| {
                p.set(&a.key, new, &kind);
                Ok(())
            })?;
            berth::info!("rotated {} of project {}", a.key, a.project);
            Ok(Outcome::Clean)
        }
        Some(u) => rotate_db(a, &store, &secrets, &u, &new, &kind),
    }
}

fn rotate_db(
    a: &RotateArgs,
    store: &Store,
    secrets: &ProjectSecrets,
    u: &DbUse,
    new: &str,
    kind: &str,
) -> anyhow::Result<Outcome> {
    let project = &u.project.name;
    let Some(db) = password::connect(u)? else {
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
    // (a) The new value beside the current one: from here a kill leaves a
    // pending value the next reader resolves.
    if !store.update(project, |p| Ok(p.set_pending(&a.key, new.to_owned(), kind)))? {
        anyhow::bail!(
            "{} of project {project} was removed while rotate ran: nothing changed",
            a.key
        );
    }
    berth::cli::pause_point("rotate:pending");
    // (b) The database.
    if let Err(e) = password::set_password(&db, &u.user, &u.password_for(new)) {
        return Err(undo_pending(a, store, u, &db, &old, new, e));
    }
    berth::cli::pause_point("rotate:changed");
    // (c) Promote: the new value is the current one.
    store
        .update(project, |p| {
            if !p.promote(&a.key, new) {
                p.set(&a.key, new.to_owned(), kind);
            }
            Ok(())
        })
        .map_err(|e| {
            e.context(format!(
                "the database's password of user {} is the new one, but it could not be made current in the store (it is kept there as pending: the next `secrets` command checks and promotes it)",
                u.user
            ))
        })?;
    berth::info!(
        "rotated {} of project {}: changed in the {} database (user {}) and stored",
        a.key,
        project,
        u.service,
        u.user
    );
    berth::info!("the app gets the new password when it restarts: `stackctl restart {project}`");
    warn_dotenv(a, u);
    Ok(Outcome::Clean)
}

/// The database refused the new password: find out which one it has now
/// (a failed statement leaves the old one, but a broken connection may
/// hide a change) and make the store agree, or say what is left.
fn undo_pending(
    a: &RotateArgs,
    store: &Store,
    u: &DbUse,
    db: &berth_dbdump::target::Db,
    old: &str,
    new: &str,
    e: anyhow::Error,
) -> anyhow::Error {
    let project = &u.project.name;
    let e = e.context(format!(
        "cannot change the password of user {} in {}",
        u.user,
        db.conn.describe()
    ));
    let verdict = password::which_works(u, db, old, new);
    let (promote, said) = match &verdict {
        Verdict::CurrentWorks | Verdict::NoCheck => {
            (false, "nothing changed: the old password still works")
        }
        Verdict::PendingWorks => (
            true,
            "the database took the new password all the same: it is stored",
        ),
        Verdict::Unknown(why) => {
            return error_with_hint(
                format!("{e:#}"),
                format!(
                    "{why}: the new value is kept pending beside the old one; `secrets rotate {project} {}` again once the database answers resolves it",
                    a.key
                ),
            );
        }
    };
    let changed = store.update(project, |p| {
        Ok(if promote {
            p.promote(&a.key, new)
        } else {
            p.drop_pending(&a.key, new)
        })
    });
    match changed {
        Ok(_) => error_with_hint(format!("{e:#}"), said),
        Err(w) => error_with_hint(
            format!("{e:#}"),
            format!(
                "{said}, but the store could not be updated ({w:#}): the next `secrets` command resolves its pending value"
            ),
        ),
    }
}

/// A `.env` that still sets the key hides the store's value from compose.
fn warn_dotenv(a: &RotateArgs, u: &DbUse) {
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
}
