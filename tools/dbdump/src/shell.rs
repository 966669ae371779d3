//! `dbdump shell`: the database's own client (psql, mariadb, mysql), in the
//! container or against the URL, with the password in its environment.

use std::io::{self, IsTerminal as _};

use anyhow::Context as _;
use berth::cli::{Outcome, ResultExt as _, error_with_hint};
use clap::Args;

use crate::target::Conn;
use crate::{TargetArgs, resolve, swap};

/// Open the database's interactive client (psql, mariadb, mysql).
///
/// Runs `docker exec -it` (`podman exec -it` with Podman) with the password in the client's environment;
/// with stdin not a terminal, SQL is read from stdin, the client stops at
/// the first failing statement and dbdump exits 2.
#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(a: &ShellArgs) -> anyhow::Result<Outcome> {
    let (mut db, _) = resolve(&a.target)?;
    swap::Guard::recover_if_idle(&db);
    // On a shared server the shell is the project's own user's, never the
    // administrator's.
    if let Some(own) = db.shell_creds.take() {
        db.creds = own;
    }
    let interactive = io::stdin().is_terminal();
    let argv = db.client.shell_argv(&db.creds, !interactive);
    let program = argv[0].clone();
    let var = db.client.password_var();
    let cmd = match &db.conn {
        Conn::Docker { container, .. } => {
            let mut dargs: Vec<String> = vec!["exec".into(), "-i".into()];
            if interactive && io::stdout().is_terminal() {
                dargs.push("-t".into());
            }
            if db.creds.password.is_some() {
                // `-e NAME` without a value: docker takes the value from its own environment.
                dargs.extend(["-e".into(), var.to_owned()]);
            }
            dargs.push(container.clone());
            dargs.extend(argv);
            // The CLI of the engine berth uses (`docker` or `podman`).
            let engine = berth::runtime::Engine::current()?;
            let (cli, env) = engine.cli();
            env.into_iter()
                .fold(duct::cmd(cli, dargs), |cmd, (k, v)| cmd.env(k, v))
        }
        Conn::Local => duct::cmd(&argv[0], &argv[1..]),
    };
    let cmd = match &db.creds.password {
        Some(p) => cmd.env(var, p),
        None => cmd,
    };
    let out = cmd
        .unchecked()
        .run()
        .context("cannot start the database shell")
        .hint("is the engine's CLI (docker or podman) or the client program installed?")?;
    if !out.status.success() {
        return Err(error_with_hint(
            format!(
                "the database shell ({program}) exited with status {}",
                out.status.code().unwrap_or(-1)
            ),
            if interactive {
                "see the client's message above"
            } else {
                "the client stopped at the first failing statement (its message is above)"
            },
        ));
    }
    Ok(Outcome::Clean)
}
