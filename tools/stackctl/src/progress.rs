//! Progress of long work on stderr: a spinner line on a terminal, plain
//! lines in a pipe with `--progress`, nothing otherwise.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

/// Where progress goes for one action.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    began: Instant,
    last: String,
    last_line: Option<Instant>,
}

impl Progress {
    /// A spinner when stderr is a terminal (and not `--quiet`); lines when
    /// `forced` (--progress) and stderr is not one; else silent.
    pub fn new(forced: bool) -> Self {
        let tty = std::io::stderr().is_terminal() && !berth::cli::is_quiet();
        let bar = tty.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            lines: forced && !tty,
            began: Instant::now(),
            last: String::new(),
            last_line: None,
        }
    }

    /// Seconds since the action began.
    pub fn elapsed(&self) -> f64 {
        self.began.elapsed().as_secs_f64()
    }

    /// Show what is going on now (with the elapsed time). In a pipe a line is
    /// written when the message changes, and every 5 s while it does not.
    pub fn say(&mut self, message: &str) {
        let text = format!("{message} ({:.1}s)", self.elapsed());
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        } else if self.lines {
            let due = self
                .last_line
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
            if message != self.last || due {
                eprintln!("{text}");
                message.clone_into(&mut self.last);
                self.last_line = Some(Instant::now());
            }
        }
    }

    /// Clear the spinner before a final message.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `Step 2/5 : RUN make` (the classic builder) or `#5 [2/5] RUN make`
/// (BuildKit): the step, the number of steps and what it does.
pub fn build_step(line: &str) -> Option<(u32, u32, &str)> {
    let (nums, what) = if let Some(rest) = line.strip_prefix("Step ") {
        let (nums, what) = rest.split_once(" : ")?;
        (nums, what)
    } else {
        let rest = line.strip_prefix('#')?;
        let open = rest.find('[')?;
        let close = rest[open..].find(']')? + open;
        let inner = rest[open + 1..close].split_whitespace().last()?;
        (inner, rest[close + 1..].trim())
    };
    let (n, m) = nums.trim().split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?, what.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_steps_of_both_builders() {
        assert_eq!(
            build_step("Step 2/5 : RUN make all"),
            Some((2, 5, "RUN make all"))
        );
        assert_eq!(
            build_step("#6 [app 2/3] RUN npm ci"),
            Some((2, 3, "RUN npm ci"))
        );
        assert_eq!(build_step("#6 [2/3] COPY . ."), Some((2, 3, "COPY . .")));
        assert_eq!(build_step(" ---> Running in 1234"), None);
        assert_eq!(build_step("Step x/y : nope"), None);
    }
}
