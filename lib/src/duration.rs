//! The one duration syntax of every timeout and interval: a number with a
//! unit (`500ms`, `30s`, `2m`, `12h`, `30d`), several in a row (`1h30m`), or
//! a bare number of seconds (`10`, `0.5`). Used as a clap `value_parser`.
//!
//! Units go through jiff's friendly duration format (a day is 24 hours
//! here); only the bare number, which jiff reads as no duration at all, is
//! berth's own.

use std::time::Duration;

use jiff::fmt::friendly::SpanParser;
use jiff::{SignedDuration, SpanRelativeTo};

/// The longest duration accepted: 100 years, far past any timeout.
const MAX_SECONDS: u64 = 100 * 365 * 86_400;

/// The friendly format's parser (units, fractions, `1h30m`).
static UNITS: SpanParser = SpanParser::new();

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
    // One word of lowercase units and digits: jiff's friendly format also
    // takes `10 s`, `1 hour, 30 minutes`, signs and `ago`, which a flag
    // value does not need.
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c.is_ascii_lowercase())
    {
        return Err(bad());
    }
    let d = match bare_seconds(t) {
        Some(seconds) => SignedDuration::try_from_secs_f64(seconds).map_err(|_| bad())?,
        None => UNITS
            .parse_span(t)
            .and_then(|span| span.to_duration(SpanRelativeTo::days_are_24_hours()))
            .map_err(|_| bad())?,
    };
    let d = Duration::try_from(d).map_err(|_| bad())?;
    if d.as_secs() > MAX_SECONDS || (d.as_secs() == MAX_SECONDS && d.subsec_nanos() > 0) {
        return Err(bad());
    }
    Ok(d)
}

/// `10` or `0.5`: digits with at most one inner `.`, read as seconds.
fn bare_seconds(t: &str) -> Option<f64> {
    let (whole, fraction) = t.split_once('.').unwrap_or((t, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(whole) && digits(fraction)) {
        return None;
    }
    t.parse().ok().filter(|s: &f64| s.is_finite())
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
            ("2h30m15s", s(9_015)),
            ("1w", s(7 * 86_400)),
            ("90min", s(5_400)),
            ("1500ms", Duration::from_millis(1500)),
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
            "1mo",
            "2y",
            "-1s",
            "1s ago",
            "PT30S",
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
