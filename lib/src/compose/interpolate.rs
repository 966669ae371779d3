//! Variable interpolation as docker compose does it: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//! `${VAR:+alt}`, `${VAR+alt}`, and `$$` for a literal `$`. Defaults may
//! themselves hold variables (`${A:-${B}}`).

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
/// an invalid `$` sequence.
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, String> {
    let mut out = Interpolated::default();
    expand(input, lookup, &mut out)?;
    Ok(out)
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

fn invalid(input: &str) -> String {
    format!(
        "invalid interpolation format in \"{input}\": you may need to escape a '$' with another '$'"
    )
}

fn expand(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
) -> Result<(), String> {
    let bytes = input.as_bytes();
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        out.value.push_str(&input[literal_start..i]);
        let next = bytes.get(i + 1).copied();
        match next {
            Some(b'$') => {
                out.value.push('$');
                i += 2;
            }
            Some(b'{') => {
                let close = matching_brace(bytes, i + 1).ok_or_else(|| invalid(input))?;
                braced(&input[i + 2..close], input, lookup, out)?;
                i = close + 1;
            }
            Some(c) if is_name_start(c) => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && is_name_char(bytes[end]) {
                    end += 1;
                }
                push_var(&input[start..end], lookup, out);
                i = end;
            }
            _ => return Err(invalid(input)),
        }
        literal_start = i;
    }
    out.value.push_str(&input[literal_start..]);
    Ok(())
}

/// Index of the `}` closing the `{` at `open`, counting nested `${`.
fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn push_var(name: &str, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Interpolated) {
    if let Some(v) = lookup(name) {
        out.value.push_str(&v);
    } else if !out.unset.iter().any(|u| u == name) {
        out.unset.push(name.to_owned());
    }
}

fn braced(
    body: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
) -> Result<(), String> {
    let b = body.as_bytes();
    if b.is_empty() || !is_name_start(b[0]) {
        return Err(invalid(whole));
    }
    let mut n = 1;
    while n < b.len() && is_name_char(b[n]) {
        n += 1;
    }
    let name = &body[..n];
    let rest = &body[n..];
    if rest.is_empty() {
        push_var(name, lookup, out);
        return Ok(());
    }
    let (colon, op, arg) = if let Some(r) = rest.strip_prefix(':') {
        let op = r.chars().next().ok_or_else(|| invalid(whole))?;
        (true, op, &r[1..])
    } else {
        let op = rest.chars().next().unwrap_or(' ');
        (false, op, &rest[1..])
    };
    let value = lookup(name);
    // With ':', an empty value counts as unset.
    let set = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    match op {
        '-' => {
            if set {
                out.value.push_str(value.as_deref().unwrap_or_default());
            } else {
                expand(arg, lookup, out)?;
            }
        }
        '?' => {
            if set {
                out.value.push_str(value.as_deref().unwrap_or_default());
            } else {
                let mut msg = Interpolated::default();
                expand(arg, lookup, &mut msg)?;
                let why = if msg.value.is_empty() {
                    format!("required variable {name} is missing a value")
                } else {
                    msg.value
                };
                return Err(format!(
                    "required variable {name} is missing a value: {why}"
                ));
            }
        }
        '+' => {
            if set {
                expand(arg, lookup, out)?;
            }
        }
        _ => return Err(invalid(whole)),
    }
    Ok(())
}
