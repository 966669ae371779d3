//! Resource amounts of the stack file: CPUs (`0.5`, `2`, to a thousandth) and
//! memory (`256m`, `1g`, `512k`, bytes), each with one canonical spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CPU limit in thousandths of a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cpus(u32);

/// The most CPUs a limit may name.
const MAX_CPUS: u32 = 1024;

impl Cpus {
    pub fn millis(self) -> u32 {
        self.0
    }
    /// As `docker inspect` shows it (`HostConfig.NanoCpus`).
    pub fn nanos(self) -> u64 {
        u64::from(self.0) * 1_000_000
    }
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl FromStr for Cpus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid cpus '{}': use a number of CPUs such as 0.5 or 2",
                crate::cli::excerpt(s)
            )
        };
        let t = s.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac.len() > 3 && frac[3..].bytes().any(|b| b != b'0') {
            return Err(format!(
                "invalid cpus '{}': at most three decimals",
                crate::cli::excerpt(s)
            ));
        }
        let whole: u32 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        if whole > MAX_CPUS {
            return Err(format!("invalid cpus '{t}': at most {MAX_CPUS}"));
        }
        let mut millis = whole * 1000;
        for (i, b) in frac.bytes().take(3).enumerate() {
            millis += u32::from(b - b'0') * [100, 10, 1][i];
        }
        if millis == 0 {
            return Err(format!("invalid cpus '{t}': must be more than 0"));
        }
        if millis > MAX_CPUS * 1000 {
            return Err(format!("invalid cpus '{t}': at most {MAX_CPUS}"));
        }
        Ok(Cpus(millis))
    }
}

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// A memory limit in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Memory(u64);

/// The engine refuses a memory limit under 6 MiB.
const MIN_MEMORY: u64 = 6 << 20;

impl Memory {
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for Memory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid memory '{}': use a number with a unit, such as 256m or 1g (b, k, m, g)",
                crate::cli::excerpt(s)
            )
        };
        let t = s.trim().to_ascii_lowercase();
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        let (num, unit) = t.split_at(digits);
        let shift = match unit
            .strip_suffix('b')
            .filter(|u| !u.is_empty())
            .unwrap_or(unit)
        {
            "" | "b" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            _ => return Err(bad()),
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        let bytes = n
            .checked_mul(1 << shift)
            .filter(|b| *b < 1 << 50)
            .ok_or_else(|| format!("invalid memory '{}': too large", crate::cli::excerpt(s)))?;
        if bytes < MIN_MEMORY {
            return Err(format!(
                "invalid memory '{}': the engine needs at least 6m",
                crate::cli::excerpt(s)
            ));
        }
        Ok(Memory(bytes))
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shift, unit) in [(30, "g"), (20, "m"), (10, "k")] {
            if self.0.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", self.0 >> shift);
            }
        }
        write!(f, "{}b", self.0)
    }
}

macro_rules! text_serde {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Text(String),
                    Int(u64),
                    Float(f64),
                }
                let text = match Raw::deserialize(d)? {
                    Raw::Text(s) => s,
                    Raw::Int(n) => n.to_string(),
                    Raw::Float(x) => x.to_string(),
                };
                text.parse().map_err(serde::de::Error::custom)
            }
        }
        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "description": $what})
            }
        }
    };
}

text_serde!(Cpus, "CPUs, up to three decimals: 0.5, 2");
text_serde!(Memory, "bytes with a unit (b, k, m, g): 256m, 1g");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_parse_and_print_canonically() {
        for (text, millis, shown) in [
            ("0.5", 500, "0.5"),
            ("2", 2000, "2"),
            ("1.250", 1250, "1.25"),
            (".25", 250, "0.25"),
            ("0.001", 1, "0.001"),
        ] {
            let c: Cpus = text.parse().unwrap();
            assert_eq!(
                (c.millis(), c.to_string().as_str()),
                (millis, shown),
                "{text}"
            );
        }
        assert_eq!("0.5".parse::<Cpus>().unwrap().nanos(), 500_000_000);
        for bad in ["", "0", "-1", "a", "0.0001", "1.2.3", "2000", "1e3"] {
            assert!(bad.parse::<Cpus>().is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_parses_units_and_prints_canonically() {
        for (text, bytes, shown) in [
            ("256m", 256 << 20, "256m"),
            ("1g", 1 << 30, "1g"),
            ("1G", 1 << 30, "1g"),
            ("1024m", 1 << 30, "1g"),
            ("512mb", 512 << 20, "512m"),
            ("7000k", 7000 << 10, "7000k"),
            ("8388608", 8 << 20, "8m"),
        ] {
            let m: Memory = text.parse().unwrap();
            assert_eq!(
                (m.bytes(), m.to_string().as_str()),
                (bytes, shown),
                "{text}"
            );
        }
        for bad in ["", "m", "1t", "-1m", "1.5g", "5m", "99999999999g"] {
            assert!(bad.parse::<Memory>().is_err(), "{bad}");
        }
    }
}
