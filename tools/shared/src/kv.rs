//! Each project's account on a shared key-value server (Redis, Valkey): an
//! ACL user `p_NAME` that owns the keys and channels starting with
//! `p_NAME:` and nothing else.
//!
//! ACL users, not database numbers: any client may `SELECT` any number, so
//! numbers separate projects by convention only. An ACL user is refused
//! (NOPERM) every key outside its prefix, and the commands that reach past
//! keys are taken from it: `@dangerous` and `@admin` (FLUSHALL, FLUSHDB,
//! KEYS, CONFIG, ACL, MONITOR, DEBUG...) and SCAN, RANDOMKEY and DBSIZE,
//! which would show other projects' key names or counts. A cache's
//! `clear()` that flushes the database is refused too, by design.
//!
//! The commands go to `redis-cli` inside the server's container on stdin,
//! the administrator's password in its environment (`REDISCLI_AUTH`),
//! never in argv. The users are saved in the server's ACL file in its
//! volume (`ACL SAVE`), so they survive a restart.

use std::fmt::Write as _;

use anyhow::Context as _;
use berth::cli::error_with_hint;
use berth::shared::Resolved;

use crate::servers::Shared;

/// The administrator's connection to a running shared key-value server.
pub struct Kv {
    rt: tokio::runtime::Runtime,
    docker: bollard::Docker,
    container: String,
    name: String,
    cli: &'static str,
    password: String,
}

/// The commands taken from every project user, after `+@all`.
const DENIED: &str = "-@dangerous -@admin -scan -randomkey -dbsize";

/// The Lua script that unlinks the keys matching `ARGV[1]` in the current
/// database, in SCAN-sized steps; it returns how many.
const UNLINK_MATCHING: &str = "local c = '0' local n = 0 repeat local r = redis.call('SCAN', c, 'MATCH', ARGV[1], 'COUNT', 1000) c = r[1] for _, k in ipairs(r[2]) do redis.call('UNLINK', k) n = n + 1 end until c == '0' return n";

impl Kv {
    /// The administrator (the default user) on `inst`, which must run.
    pub fn open(shared: &Shared, inst: &Resolved) -> anyhow::Result<Self> {
        let rt = berth::docker::runtime()?;
        let docker = rt.block_on(berth::docker::connect())?;
        let containers = rt.block_on(berth::docker::project_containers(
            &docker,
            &[shared.name.as_str()],
        ))?;
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
        let (_, key) = berth::shared::admin(&inst.name, &inst.service);
        let Some(password) = berth::secrets::Store::open()?
            .load(&shared.name)?
            .get(&key)
            .map(str::to_owned)
        else {
            return Err(error_with_hint(
                format!("the secrets store holds no {key} for {}", shared.name),
                format!(
                    "start the server with `shared up {}` (it makes it)",
                    inst.name
                ),
            ));
        };
        Ok(Self {
            container: c.id.clone(),
            rt,
            docker,
            name,
            cli: if inst.service == "valkey" {
                "valkey-cli"
            } else {
                "redis-cli"
            },
            password,
        })
    }

    /// Run `commands` (one per line) as the administrator; their replies,
    /// one per line. A reply that is an error fails, masked.
    fn run(&self, commands: &str) -> anyhow::Result<Vec<String>> {
        let argv = vec![self.cli.to_owned()];
        let env = vec![format!("REDISCLI_AUTH={}", self.password)];
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        };
        let mut input = commands.as_bytes();
        let r = self.rt.block_on(berth::docker::exec(
            &self.docker,
            &self.container,
            &argv,
            &env,
            Some(&mut input),
            &mut sink,
        ))?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let replies: Vec<String> = text.lines().map(str::to_owned).collect();
        let failed = replies.iter().find(|l| is_error(l));
        if !r.success() || failed.is_some() {
            let why = failed.cloned().unwrap_or_else(|| r.stderr_text());
            anyhow::bail!(
                "{} in {} failed: {}",
                self.cli,
                self.name,
                berth::cli::excerpt(&why.replace(&self.password, berth::envline::MASK))
            );
        }
        Ok(replies)
    }

    /// Make (or remake, with the same password) `user`, owning `prefix*`.
    pub fn create_user(&self, user: &str, password: &str, prefix: &str) -> anyhow::Result<()> {
        check_word(user)?;
        check_word(password)?;
        check_word(prefix)?;
        let commands = format!(
            "ACL SETUSER {user} reset on >{password} ~{prefix}* &{prefix}* +@all {DENIED}\nACL SAVE\n"
        );
        self.run(&commands)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    format!("{e:#}").replace(password, berth::envline::MASK)
                )
            })
            .with_context(|| format!("cannot make the user {user} on {}", self.name))?;
        Ok(())
    }

    /// Whether `user` exists.
    pub fn has_user(&self, user: &str) -> anyhow::Result<bool> {
        Ok(self.users()?.iter().any(|u| u == user))
    }

    /// The server's users, the default one left out.
    pub fn users(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .run("ACL USERS\n")?
            .into_iter()
            .filter(|u| !u.is_empty() && u != "default")
            .collect())
    }

    /// Remove `user` and every key of `prefix*` in every database; how
    /// many keys went.
    pub fn drop_user(&self, user: &str, prefix: &str) -> anyhow::Result<u64> {
        check_word(user)?;
        check_word(prefix)?;
        let databases: u32 = self
            .run("CONFIG GET databases\n")?
            .get(1)
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(16);
        let mut commands = String::new();
        for n in 0..databases {
            writeln!(commands, "SELECT {n}")?;
            writeln!(commands, "EVAL \"{UNLINK_MATCHING}\" 0 {prefix}*")?;
        }
        writeln!(commands, "ACL DELUSER {user}\nACL SAVE")?;
        let replies = self
            .run(&commands)
            .with_context(|| format!("cannot remove the user {user} on {}", self.name))?;
        // SELECT says OK, EVAL how many keys it unlinked.
        Ok(replies
            .iter()
            .take(2 * databases as usize)
            .filter_map(|r| r.trim().parse::<u64>().ok())
            .sum())
    }
}

/// An error reply as redis-cli prints it off a terminal.
fn is_error(line: &str) -> bool {
    matches!(
        line.split_whitespace().next(),
        Some(
            "ERR"
                | "NOPERM"
                | "NOAUTH"
                | "WRONGPASS"
                | "WRONGTYPE"
                | "NOSCRIPT"
                | "BUSY"
                | "LOADING"
        )
    )
}

/// Users, passwords and prefixes go on a command line of redis-cli's: they
/// must be one word (berth makes them so; this guards the contract).
fn check_word(w: &str) -> anyhow::Result<()> {
    if w.is_empty()
        || !w
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-'))
    {
        anyhow::bail!("'{}' cannot be a Redis ACL word", berth::cli::excerpt(w));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_told_from_replies() {
        assert!(is_error("NOPERM this user has no permissions"));
        assert!(is_error("ERR unknown command"));
        assert!(!is_error("OK"));
        assert!(!is_error("12"));
        assert!(!is_error("p_shop"));
        assert!(check_word("p_shop:").is_ok());
        assert!(check_word("a b").is_err());
        assert!(check_word("x\n").is_err());
    }
}
