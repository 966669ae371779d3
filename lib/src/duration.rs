//! The one duration syntax of every timeout and interval: a number with a
//! unit (`500ms`, `30s`, `2m`, `12h`, `30d`), several in a row (`1h30m`), or
//! a bare number of seconds (`10`, `0.5`). Used as a clap `value_parser`.

use std::time::Duration;

/// The longest duration accepted: 100 years, far past any timeout.
const MAX_SECONDS: f64 = 100.0 * 365.0 * 86_400.0;

/// Parse a duration: `30s`, `2m`, `1h30m`, `30d`, `250ms`, or a bare number
/// of seconds (`10`, `0.5`).
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration '{}': use a number with a unit (500ms, 30s, 2m, 12h, 30d) or a bare number of seconds",
            crate::cli::excerpt(text)
        )
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut seconds = 0.0_f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_end);
        if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
            return Err(bad());
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        let unit_end = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let scale = match unit {
            "" if num_end == t.len() => 1.0,
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3_600.0,
            "d" => 86_400.0,
            _ => return Err(bad()),
        };
        seconds += n * scale;
        rest = next;
    }
    if !seconds.is_finite() || seconds > MAX_SECONDS {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration in whole seconds, rounded up (`docker stop -t` takes seconds).
pub fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_seconds() {
        let s = Duration::from_secs;
        for (text, want) in [
            ("30s", s(30)),
            ("2m", s(120)),
            ("12h", s(12 * 3_600)),
            ("30d", s(30 * 86_400)),
            ("1h30m", s(5_400)),
            ("10", s(10)),
            ("0", s(0)),
            (" 5s ", s(5)),
            ("0.5", Duration::from_millis(500)),
            ("250ms", Duration::from_millis(250)),
            ("1.5m", s(90)),
        ] {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in [
            "",
            "s",
            "10x",
            "-1",
            "1..2s",
            ".5",
            "5.",
            "10 s",
            "1d2",
            "1e9",
            "36501d",
            "30S",
            "\u{1b}[31m",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("invalid duration"), "{bad}: {e}");
            assert!(!e.contains('\u{1b}'), "{e}");
        }
    }

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
        assert_eq!(whole_seconds(Duration::ZERO), 0);
    }
}
