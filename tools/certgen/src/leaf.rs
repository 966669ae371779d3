//! Leaf certificates: domain checks, issuing, and reading back what is on disk.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use berth::certs::{CertPaths, cert_paths};
use berth::io::Row;
use berth::paths::Paths;
use jiff::Timestamp;
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, Issuer, KeyUsagePurpose, SanType};
use serde::Serialize;
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};

use crate::ca::{self, Ca, KeyKind};
use crate::files;

/// Longest validity browsers accept for a leaf (Apple: 398 days).
pub const MAX_DAYS: i64 = 397;

/// The files of a certificate, as Cert JSON shows them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub fullchain: PathBuf,
}

impl From<CertPaths> for Files {
    fn from(p: CertPaths) -> Self {
        Self {
            cert: p.cert,
            key: p.key,
            fullchain: p.fullchain,
        }
    }
}

/// Cert JSON: one certificate, as `issue`, `renew` and `status` print it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Cert {
    pub domain: String,
    pub sans: Vec<String>,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    pub days_left: Option<i64>,
    /// issue/renew: `issued`, `kept`, `would-issue` (--dry-run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    /// status: `valid`, `expiring`, `expired`, `other-ca`, `broken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub files: Files,
}

impl Row for Cert {
    fn headers() -> &'static [&'static str] {
        &[
            "DOMAIN",
            "SANS",
            "NOT AFTER",
            "DAYS LEFT",
            "STATE",
            "FULLCHAIN",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.domain.clone(),
            self.sans.join(","),
            self.not_after.map(|t| t.to_string()).unwrap_or_default(),
            self.days_left.map(|d| d.to_string()).unwrap_or_default(),
            self.action
                .map(str::to_owned)
                .or_else(|| self.state.clone())
                .unwrap_or_default(),
            self.files.fullchain.display().to_string(),
        ]
    }
}

/// Normalise and check a domain name: lower case, DNS labels, no wildcard
/// (it is added), at least two labels unless it is `localhost`.
pub fn normalize_domain(raw: &str) -> anyhow::Result<String> {
    let domain = raw.trim_end_matches('.').to_ascii_lowercase();
    let shown = raw.escape_debug();
    if domain.starts_with("*.") {
        bail!(
            "invalid domain '{shown}': pass the name without '*.'; its wildcard is added (see --no-wildcard)"
        );
    }
    if domain.len() > 253 {
        bail!("invalid domain '{shown}': longer than 253 characters");
    }
    for label in domain.split('.') {
        berth::names::validate_label("domain label", label)
            .with_context(|| format!("invalid domain '{shown}'"))?;
    }
    if !domain.contains('.') && domain != "localhost" {
        bail!("invalid domain '{shown}': a name under a dev TLD is needed, e.g. {domain}.test");
    }
    Ok(domain)
}

/// The SANs of `domain`: itself and, unless `wildcard` is off, `*.domain`;
/// `localhost` gets the loopback addresses instead of a wildcard (clients
/// ignore a wildcard right under a top-level name).
pub fn sans_for(domain: &str, wildcard: bool) -> Vec<String> {
    let mut sans = vec![domain.to_owned()];
    if wildcard && domain.contains('.') {
        sans.push(format!("*.{domain}"));
    }
    if domain == "localhost" {
        sans.extend(["127.0.0.1".to_owned(), "::1".to_owned()]);
    }
    sans
}

/// What is on disk for a domain.
pub struct OnDisk {
    pub sans: Vec<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// Signed by the current CA.
    pub from_ca: bool,
    /// The key file holds the certificate's key, and the fullchain file is
    /// the certificate then the CA.
    pub files_ok: bool,
}

/// Read the certificate of `paths`, if it exists and parses.
pub fn read_on_disk(paths: &CertPaths, ca: Option<&Ca>) -> Option<OnDisk> {
    let bytes = std::fs::read(&paths.cert).ok()?;
    let der = ca::parse_pem_cert(&bytes, &paths.cert).ok()?;
    let (_, x) = X509Certificate::from_der(&der).ok()?;
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = x.subject_alternative_name() {
        for n in &ext.value.general_names {
            match n {
                GeneralName::DNSName(d) => sans.push((*d).to_owned()),
                GeneralName::IPAddress(b) if b.len() == 4 || b.len() == 16 => {
                    let ip = if b.len() == 4 {
                        std::net::IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())
                    } else {
                        std::net::IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())
                    };
                    sans.push(ip.to_string());
                }
                _ => {}
            }
        }
    }
    let from_ca = ca.is_some_and(|ca| {
        X509Certificate::from_der(&ca.cert_der).is_ok_and(|(_, cax)| {
            x.issuer() == cax.subject() && x.verify_signature(Some(cax.public_key())).is_ok()
        })
    });
    let key_ok = std::fs::read_to_string(&paths.key)
        .ok()
        .and_then(|k| rcgen::KeyPair::from_pem(&k).ok())
        .is_some_and(|k| k.public_key_raw() == x.public_key().subject_public_key.data.as_ref());
    let chain_ok = std::fs::read(&paths.fullchain).is_ok_and(|chain| match ca {
        Some(ca) => chain == fullchain(&String::from_utf8_lossy(&bytes), &ca.cert_pem).as_bytes(),
        None => chain.starts_with(&bytes),
    });
    Some(OnDisk {
        sans,
        not_before: ca::to_timestamp(x.validity().not_before),
        not_after: ca::to_timestamp(x.validity().not_after),
        from_ca,
        files_ok: key_ok && chain_ok,
    })
}

/// The fullchain file: the leaf then the CA.
fn fullchain(leaf: &str, ca: &str) -> String {
    let mut chain = leaf.to_owned();
    if !chain.ends_with('\n') {
        chain.push('\n');
    }
    chain.push_str(ca);
    chain
}

/// Issue a leaf for `sans` (the first is the domain) valid `days` days and
/// write key, cert and fullchain atomically. Returns the Cert.
pub fn issue(
    paths: &Paths,
    ca: &Ca,
    sans: &[String],
    issuer: &Issuer<'_, &rcgen::KeyPair>,
    days: i64,
    kind: KeyKind,
) -> anyhow::Result<Cert> {
    let domain = &sans[0];
    let key = ca::generate_key(kind, 2048)?;
    let mut params = CertificateParams::default();
    // An empty subject (the names are in the SAN, then marked critical): the
    // CA permits no directory name but `CN=invalid`, so a subject would not verify.
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.subject_alt_names = sans
        .iter()
        .map(|s| match s.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => s.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, _>>()
        .with_context(|| format!("invalid names for {domain}"))?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = match kind {
        KeyKind::Ecdsa => vec![KeyUsagePurpose::DigitalSignature],
        KeyKind::Rsa => vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
    };
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(ca::random_serial());
    // A minute of slack for clocks that are slightly behind; the whole span stays within `days`.
    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    params.not_before = start;
    params.not_after = start + time::Duration::days(days);
    let cert = params
        .signed_by(&key, issuer)
        .with_context(|| format!("cannot sign the certificate for {domain}"))?;

    let cp = cert_paths(paths, domain);
    files::create_dir(&cp.dir, 0o755)?;
    let leaf = cert.pem();
    let chain = fullchain(&leaf, &ca.cert_pem);
    files::write_atomic(
        &cp.key,
        key.serialize_pem().as_bytes(),
        files::KEY_MODE,
        files::Sync::Regenerable,
    )?;
    files::write_atomic(
        &cp.cert,
        leaf.as_bytes(),
        files::CERT_MODE,
        files::Sync::Regenerable,
    )?;
    files::write_atomic(
        &cp.fullchain,
        chain.as_bytes(),
        files::CERT_MODE,
        files::Sync::Regenerable,
    )?;
    let not_before = Timestamp::from_second(start.unix_timestamp()).unwrap_or(Timestamp::MIN);
    let not_after =
        Timestamp::from_second(params.not_after.unix_timestamp()).unwrap_or(Timestamp::MAX);
    Ok(Cert {
        domain: domain.clone(),
        sans: sans.to_vec(),
        not_before: Some(not_before),
        not_after: Some(not_after),
        days_left: Some(ca::days_left(not_after)),
        action: Some("issued"),
        state: None,
        files: cp.into(),
    })
}

/// The domains that have a folder under `certs/`, sorted.
pub fn domains_on_disk(paths: &Paths) -> anyhow::Result<Vec<String>> {
    let dir = berth::certs::certs_dir(paths);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked() {
        assert_eq!(normalize_domain("Shop.Test.").unwrap(), "shop.test");
        assert_eq!(normalize_domain("localhost").unwrap(), "localhost");
        for (bad, why) in [
            ("*.shop.test", "without '*.'"),
            ("shop", "under a dev TLD"),
            ("sh op.test", "character ' '"),
            ("a..test", "must not be empty"),
            ("-a.test", "start or end"),
            ("a;b.test", "character ';'"),
        ] {
            let err = format!("{:#}", normalize_domain(bad).unwrap_err());
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
