//! Backup: one database dump file and what is known about it (the metadata
//! file `<backup>.json` beside it).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How a backup file is compressed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    #[default]
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The file name suffix after `.sql`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }

    /// The compression of a file, told by its first bytes (gzip `1f 8b`,
    /// zstd `28 b5 2f fd`), never by its name.
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" | "gz" => Ok(Compression::Gzip),
            "zstd" | "zst" => Ok(Compression::Zstd),
            other => Err(format!(
                "unknown compression '{other}' (expected none, gzip or zstd)"
            )),
        }
    }
}

/// One database backup.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The backup file (absolute path when written by dbdump).
    pub file: std::path::PathBuf,
    /// The project it was taken from; `null` for `--url` backups.
    #[serde(default)]
    pub project: Option<String>,
    /// `postgres`, `mysql` or `mariadb`.
    pub engine: String,
    /// The server's version string, as the server reports it.
    #[serde(default)]
    pub server_version: String,
    pub database: String,
    /// The label given with `--name`, or `null`.
    #[serde(default)]
    pub name: Option<String>,
    pub created_at: Timestamp,
    /// Size of the file in bytes.
    pub size: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    pub compression: Compression,
}
