//! Random secrets for `.env`: kinds `alnumN` (letters and digits), `hexN`
//! (N hex digits), `base64_N` (N random bytes, base64) and `laravel` (an
//! `APP_KEY`: `base64:` and 32 random bytes). From the OS's random source.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};

fn random_bytes(n: usize) -> anyhow::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf)
        .map_err(|e| anyhow::anyhow!("cannot read random bytes from the system: {e}"))?;
    Ok(buf)
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn alnum(n: usize) -> anyhow::Result<String> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes(n * 2)? {
            // 248 = 4 * 62: rejection keeps the distribution uniform.
            if b < 248 && out.len() < n {
                out.push(char::from(ALNUM[usize::from(b) % ALNUM.len()]));
            }
        }
    }
    Ok(out)
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One secret of a kind.
pub fn generate(kind: &str) -> anyhow::Result<String> {
    let num = |prefix: &str| -> Option<usize> {
        kind.strip_prefix(prefix)?
            .trim_start_matches(['_', ':'])
            .parse::<usize>()
            .ok()
            .filter(|n| (8..=256).contains(n))
    };
    if kind == "laravel" {
        return Ok(format!("base64:{}", base64(&random_bytes(32)?)));
    }
    if let Some(n) = num("alnum") {
        return alnum(n);
    }
    if let Some(n) = num("hex") {
        let mut hex = random_bytes(n.div_ceil(2))?
            .iter()
            .fold(String::new(), |mut s, b| {
                use std::fmt::Write as _;
                let _ = write!(s, "{b:02x}");
                s
            });
        hex.truncate(n);
        return Ok(hex);
    }
    if let Some(n) = num("base64") {
        return Ok(base64(&random_bytes(n)?));
    }
    bail!("unknown secret kind '{kind}' (alnumN, hexN, base64N or laravel, N from 8 to 256)")
}

/// Values for every secret name.
pub fn generate_all(kinds: &BTreeMap<String, String>) -> anyhow::Result<BTreeMap<String, String>> {
    kinds
        .iter()
        .map(|(k, kind)| {
            Ok((
                k.clone(),
                generate(kind).with_context(|| format!("secret {k}"))?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(generate("alnum32").unwrap().len(), 32);
        assert!(
            generate("alnum32")
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
        assert_ne!(generate("alnum32").unwrap(), generate("alnum32").unwrap());
        assert_eq!(generate("hex9").unwrap().len(), 9);
        assert_eq!(generate("base64_32").unwrap().len(), 44);
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert!(generate("laravel").unwrap().starts_with("base64:"));
        assert!(generate("bogus").is_err());
    }
}
