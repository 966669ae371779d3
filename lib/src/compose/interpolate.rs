//! Variable interpolation as docker compose does it: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//! `${VAR:+alt}`, `${VAR+alt}`, and `$$` for a literal `$`. Defaults may
//! themselves hold variables (`${A:-${B}}`); only `${` opens a nested
//! expression, as in compose.
//!
//! One pass over the input, which is never sliced inside a character; nesting
//! is bounded by [`MAX_DEPTH`] and the result by [`MAX_OUTPUT`], so no input
//! costs more than linear time or overflows the stack.

use std::collections::HashSet;

/// Deepest nesting of `${...}` inside defaults.
pub const MAX_DEPTH: usize = 32;
/// Longest value interpolation may produce, in bytes.
pub const MAX_OUTPUT: usize = 1 << 20;

/// The outcome of interpolating one string.
#[derive(Debug, Default)]
pub struct Interpolated {
    pub value: String,
    /// Variables that were used but not set (compose warns and uses "").
    pub unset: Vec<String>,
}

/// Interpolate `input`, looking variables up with `lookup`.
///
/// Errors read like compose's: a `${VAR:?msg}` whose variable is missing, or
/// an invalid `$` sequence. They never quote the input: the caller knows
/// where it came from and whether it may be shown.
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, String> {
    let mut p = Parser {
        s: input,
        b: input.as_bytes(),
        lookup,
        unset: Vec::new(),
        seen: HashSet::new(),
    };
    let mut value = String::new();
    let end = p.seq(0, 0, false, Some(&mut value))?;
    debug_assert_eq!(end, input.len());
    Ok(Interpolated {
        value,
        unset: p.unset,
    })
}

const INVALID: &str = "invalid interpolation format: you may need to escape a '$' with another '$'";

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unset: Vec<String>,
    seen: HashSet<String>,
}

fn push(out: &mut Option<&mut String>, text: &str) -> Result<(), String> {
    if let Some(o) = out {
        if o.len() + text.len() > MAX_OUTPUT {
            return Err(format!("the value grows past {MAX_OUTPUT} bytes"));
        }
        o.push_str(text);
    }
    Ok(())
}

impl Parser<'_> {
    /// Parse from `i` to the end (or, when `nested`, to the `}` that closes
    /// the enclosing `${`, whose index is returned), writing to `out` when given.
    fn seq(
        &mut self,
        mut i: usize,
        depth: usize,
        nested: bool,
        mut out: Option<&mut String>,
    ) -> Result<usize, String> {
        loop {
            // The next '$' (or '}' when nested): everything before it is literal.
            let stop = self.b[i..]
                .iter()
                .position(|&c| c == b'$' || (nested && c == b'}'))
                .map(|n| i + n);
            let Some(at) = stop else {
                if nested {
                    return Err(INVALID.into());
                }
                push(&mut out, &self.s[i..])?;
                return Ok(self.b.len());
            };
            // '$' and '}' are ASCII, so `at` is a character boundary.
            push(&mut out, &self.s[i..at])?;
            if self.b[at] == b'}' {
                return Ok(at);
            }
            match self.b.get(at + 1).copied() {
                Some(b'$') => {
                    push(&mut out, "$")?;
                    i = at + 2;
                }
                Some(b'{') => i = self.braced(at + 2, depth + 1, out.as_deref_mut())?,
                Some(c) if is_name_start(c) => {
                    let end = self.name_end(at + 1);
                    self.var(at + 1, end, &mut out)?;
                    i = end;
                }
                _ => return Err(INVALID.into()),
            }
        }
    }

    fn name_end(&self, start: usize) -> usize {
        let mut end = start;
        while end < self.b.len() && is_name_char(self.b[end]) {
            end += 1;
        }
        end
    }

    fn var(
        &mut self,
        start: usize,
        end: usize,
        out: &mut Option<&mut String>,
    ) -> Result<(), String> {
        let name = &self.s[start..end];
        if out.is_none() {
            return Ok(());
        }
        if let Some(v) = (self.lookup)(name) {
            return push(out, &v);
        }
        if self.seen.insert(name.to_owned()) {
            self.unset.push(name.to_owned());
        }
        Ok(())
    }

    /// Parse `NAME[op arg]}` from `i` (just after `${`); returns the index after `}`.
    fn braced(
        &mut self,
        i: usize,
        depth: usize,
        mut out: Option<&mut String>,
    ) -> Result<usize, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "interpolation nested more than {MAX_DEPTH} levels deep"
            ));
        }
        if !self.b.get(i).copied().is_some_and(is_name_start) {
            return Err(INVALID.into());
        }
        let end = self.name_end(i);
        let name = &self.s[i..end];
        let (colon, op_at) = match self.b.get(end) {
            Some(b'}') => {
                self.var(i, end, &mut out)?;
                return Ok(end + 1);
            }
            Some(b':') => (true, end + 1),
            Some(_) => (false, end),
            None => return Err(INVALID.into()),
        };
        // The operator is one ASCII byte; anything else (a multi-byte
        // character included) is an invalid format, never a slice.
        let Some(&op @ (b'-' | b'?' | b'+')) = self.b.get(op_at) else {
            return Err(INVALID.into());
        };
        let arg = op_at + 1;
        let value = if out.is_some() || op == b'?' {
            (self.lookup)(name)
        } else {
            None
        };
        // With ':', an empty value counts as unset.
        let set = value.as_ref().is_some_and(|v| !(colon && v.is_empty()));
        let close = match op {
            b'-' if set => {
                push(&mut out, value.as_deref().unwrap_or_default())?;
                self.seq(arg, depth, true, None)?
            }
            b'-' => self.seq(arg, depth, true, out)?,
            b'+' if set => self.seq(arg, depth, true, out)?,
            b'+' => self.seq(arg, depth, true, None)?,
            _ if set => {
                push(&mut out, value.as_deref().unwrap_or_default())?;
                self.seq(arg, depth, true, None)?
            }
            _ => {
                let mut msg = String::new();
                let close = self.seq(arg, depth, true, Some(&mut msg))?;
                if out.is_some() {
                    let name = name.to_owned();
                    return Err(if msg.is_empty() {
                        format!("required variable {name} is missing a value")
                    } else {
                        format!(
                            "required variable {name} is missing a value: {}",
                            crate::cli::excerpt(&msg)
                        )
                    });
                }
                close
            }
        };
        Ok(close + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> Result<String, String> {
        let lookup = |n: &str| match n {
            "A" => Some("a".to_owned()),
            "E" => Some(String::new()),
            "BIG" => Some("x".repeat(1000)),
            _ => None,
        };
        interpolate(input, &lookup).map(|r| r.value)
    }

    #[test]
    fn forms() {
        let cases = [
            ("$A ${A} $$A", "a a $A"),
            ("${U:-d} ${E:-d} ${E-d} ${A:-d}", "d d  a"),
            ("${A:+alt} ${U:+alt} ${E+alt}", "alt  alt"),
            ("${U:-${V:-${A}}}", "a"),
            ("é${A}ü }{", "éaü }{"),
            ("${U:-{x}}", "{x}"),
        ];
        for (input, want) in cases {
            assert_eq!(run(input).as_deref(), Ok(want), "{input}");
        }
        assert!(run("${U:?need it}").unwrap_err().contains("need it"));
        assert_eq!(run("${A:?x}").as_deref(), Ok("a"));
    }

    #[test]
    fn non_ascii_after_a_name_is_invalid_not_a_panic() {
        for bad in [
            "${Aé}",
            "${A:é}",
            "${Bü-x}",
            "${é}",
            "${A",
            "${A:",
            "$é",
            "${A:-${B}",
            "$",
        ] {
            let err = run(bad).unwrap_err();
            assert!(err.contains("invalid interpolation format"), "{bad}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_bounded_and_linear() {
        let n = 100_000;
        let input = format!("{}x{}", "${A:-".repeat(n), "}".repeat(n));
        let t = std::time::Instant::now();
        let err = run(&input).unwrap_err();
        assert!(err.contains("nested more than 32 levels"), "{err}");
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        let ok = format!("{}x{}", "${U:-".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(run(&ok).as_deref(), Ok("x"));
    }

    #[test]
    fn output_is_bounded() {
        let input = "$BIG".repeat(2000);
        assert!(run(&input).unwrap_err().contains("grows past"));
    }
}
