//! The local CA: created with X.509 name constraints (dev TLDs, loopback
//! addresses; no email, URI or directory names) and for TLS servers only,
//! loaded back with checks that it is ours and whole.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use berth::cli::{ResultExt as _, error_with_hint};
use berth::config::Config;
use berth::paths::Paths;
use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use serde::Serialize;
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};

use crate::files;

/// Kind of private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyKind {
    /// ECDSA on P-256 (fast, small; what browsers prefer).
    Ecdsa,
    /// RSA 3072 for the CA, 2048 for certificates (for old clients).
    Rsa,
}

/// Years a CA is valid.
const CA_YEARS: i64 = 10;
/// Prefix of the CA's common name, also the NSS nickname prefix.
pub const CA_NAME: &str = "berth development CA";

/// Generate a private key.
pub fn generate_key(kind: KeyKind, rsa_bits: usize) -> anyhow::Result<KeyPair> {
    match kind {
        KeyKind::Ecdsa => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .context("cannot generate an ECDSA key"),
        KeyKind::Rsa => {
            use rsa::pkcs8::EncodePrivateKey as _;
            let mut rng = rsa::rand_core::OsRng;
            let key = rsa::RsaPrivateKey::new(&mut rng, rsa_bits)
                .context("cannot generate an RSA key")?;
            let der = key.to_pkcs8_der().context("cannot encode the RSA key")?;
            KeyPair::try_from(der.as_bytes()).context("cannot load the RSA key")
        }
    }
}

/// The loaded CA.
pub struct Ca {
    pub cert_path: PathBuf,
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key: KeyPair,
    pub info: CaInfo,
}

/// What `init` and `status` say of the CA.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct CaInfo {
    pub subject: String,
    pub key: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub days_left: i64,
    /// SHA-256 of the certificate (DER), hex.
    pub sha256: String,
    /// DNS names the CA may issue for (each with its subdomains).
    pub permitted_dns: Vec<String>,
    /// Address ranges the CA may issue for.
    pub permitted_ip: Vec<String>,
    /// Limits of a current berth CA that this one lacks (a CA made by an
    /// older certgen): `server-auth-only`, `no-email`, `no-uri`, `no-directory-name`.
    pub missing_limits: Vec<&'static str>,
    /// Permitted names that are not reserved for private use (`--allow-public-tld`).
    pub public_names: Vec<String>,
    pub cert: PathBuf,
    pub key_file: PathBuf,
}

impl CaInfo {
    /// Short id used in trust-store file names and NSS nicknames.
    pub fn short_id(&self) -> &str {
        &self.sha256[..16]
    }

    /// The nickname in NSS databases.
    pub fn nickname(&self) -> String {
        format!("{CA_NAME} {}", self.short_id())
    }

    /// Whether `domain` lies under one of the permitted DNS subtrees.
    pub fn permits(&self, domain: &str) -> bool {
        self.permitted_dns.iter().any(|c| {
            domain == c
                || domain
                    .strip_suffix(c.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn user_at_host() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "user".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    if host.is_empty() {
        user
    } else {
        format!("{user}@{host}")
    }
}

/// Create a CA constrained to `tlds` and loopback; returns (cert PEM, key PEM).
pub fn create(tlds: &[String], kind: KeyKind) -> anyhow::Result<(String, String)> {
    let key = generate_key(kind, 3072)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "berth");
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, user_at_host());
    params.distinguished_name.push(
        DnType::CommonName,
        format!("{CA_NAME} ({})", user_at_host()),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // For TLS servers only: OpenSSL, NSS and Go refuse a leaf for client
    // auth, S/MIME or code signing under a CA whose EKU lacks it.
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &NAME_CONSTRAINTS_OID,
            name_constraints(tlds),
        ));
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(CA_YEARS * 365);
    params.serial_number = Some(random_serial());
    let cert = params
        .self_signed(&key)
        .context("cannot sign the CA certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// id-ce-nameConstraints (RFC 5280, 4.2.1.10).
const NAME_CONSTRAINTS_OID: [u64; 4] = [2, 5, 29, 30];
/// The host that permitted and excluded email and URI subtrees both name, so
/// that no address of either kind is left: a name must match the permitted
/// subtree of its type and then matches the excluded one.
const NO_NAMES_HOST: &str = "invalid";

/// DER tag-length-value.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The `NameConstraints` value: permitted DNS `tlds`, 127.0.0.0/8 and `::1`;
/// every email address and URI excluded; directory names only `CN=invalid`.
///
/// Directory names are limited by a permitted subtree alone: NSS counts the
/// empty subject of berth's leaves as inside any excluded directory name and
/// rejects them, while OpenSSL and NSS accept an empty subject under a
/// permitted one and refuse every other subject (`CN=google.com`, `O=Bank`).
///
/// rcgen has no URI subtrees, so the extension is encoded here. It is not
/// marked critical: Go rejects a CA whose critical name constraints hold a
/// directory name ("unhandled critical extension"), while OpenSSL, NSS and
/// Go all enforce the constraints they know whatever the flag says.
fn name_constraints(tlds: &[String]) -> Vec<u8> {
    // GeneralSubtree ::= SEQUENCE { base GeneralName } (minimum 0, no maximum).
    let subtree = |name: Vec<u8>| tlv(0x30, &name);
    // GeneralName tags: rfc822Name [1], dNSName [2], directoryName [4] (explicit), URI [6], iPAddress [7].
    let email = || subtree(tlv(0x81, NO_NAMES_HOST.as_bytes()));
    let uri = || subtree(tlv(0x86, NO_NAMES_HOST.as_bytes()));
    let mut permitted: Vec<u8> = tlds
        .iter()
        .flat_map(|t| subtree(tlv(0x82, t.as_bytes())))
        .collect();
    permitted.extend(subtree(tlv(0x87, &[127, 0, 0, 0, 255, 0, 0, 0])));
    let mut v6 = [0u8; 32];
    v6[15] = 1;
    v6[16..].fill(0xff);
    permitted.extend(subtree(tlv(0x87, &v6)));
    permitted.extend(email());
    permitted.extend(uri());
    // Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String } } }.
    let mut cn = tlv(0x06, &[0x55, 0x04, 0x03]);
    cn.extend(tlv(0x0c, NO_NAMES_HOST.as_bytes()));
    let name = tlv(0x30, &tlv(0x31, &tlv(0x30, &cn)));
    permitted.extend(subtree(tlv(0xa4, &name)));
    let mut excluded = email();
    excluded.extend(uri());
    let mut body = tlv(0xa0, &permitted);
    body.extend(tlv(0xa1, &excluded));
    tlv(0x30, &body)
}

/// A random positive 16-byte serial number.
pub fn random_serial() -> rcgen::SerialNumber {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    // The system RNG failing is not recoverable; a hash of the time is a fallback that stays unique enough.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let t = Timestamp::now().as_nanosecond().to_be_bytes();
        bytes.copy_from_slice(&ring::digest::digest(&ring::digest::SHA256, &t).as_ref()[..16]);
    }
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    rcgen::SerialNumber::from_slice(&bytes)
}

/// Parse the first PEM certificate in `pem`.
pub fn parse_pem_cert(pem: &[u8], path: &Path) -> anyhow::Result<Vec<u8>> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|_| anyhow::anyhow!("{} is not a PEM certificate", path.display()))?;
    if block.label != "CERTIFICATE" {
        bail!(
            "{} is not a PEM certificate (found {})",
            path.display(),
            block.label
        );
    }
    Ok(block.contents)
}

pub fn to_timestamp(t: x509_parser::time::ASN1Time) -> Timestamp {
    Timestamp::from_second(t.timestamp()).unwrap_or(Timestamp::MIN)
}

pub fn days_left(not_after: Timestamp) -> i64 {
    (not_after.as_second() - Timestamp::now().as_second()).div_euclid(86_400)
}

fn describe_key(x: &X509Certificate<'_>) -> String {
    use x509_parser::public_key::PublicKey;
    match x.public_key().parsed() {
        Ok(PublicKey::EC(p)) => format!("ecdsa-{}", p.key_size()),
        Ok(PublicKey::RSA(r)) => format!("rsa-{}", r.key_size()),
        _ => "other".into(),
    }
}

/// Load the CA and check it: a CA certificate, with berth's name constraints,
/// whose key matches. Errors say which file is wrong and what to do.
pub fn load(paths: &Paths) -> anyhow::Result<Ca> {
    let (cert_path, key_path) = berth::certs::ca_paths(paths);
    if !cert_path.exists() && !key_path.exists() {
        return Err(error_with_hint(
            format!(
                "no CA in {}",
                cert_path.parent().unwrap_or(&cert_path).display()
            ),
            "create one with `certgen init`",
        ));
    }
    let cert_bytes = files::read(&cert_path)
        .hint("the CA certificate must be readable; `certgen init --force` makes a new CA")?;
    let key_bytes = files::read(&key_path)
        .hint("the CA key must be readable by you; `certgen init --force` makes a new CA")?;
    let cert_der = parse_pem_cert(&cert_bytes, &cert_path)
        .hint("`certgen init --force` replaces it with a new CA")?;
    let cert_pem = String::from_utf8(cert_bytes)
        .with_context(|| format!("{} is not text", cert_path.display()))?;
    let key_text = std::str::from_utf8(&key_bytes)
        .with_context(|| format!("{} is not text", key_path.display()))?;
    let key = KeyPair::from_pem(key_text)
        .map_err(|e| anyhow::anyhow!("{} is not a PKCS#8 private key: {e}", key_path.display()))
        .hint("certgen keeps its CA key as an unencrypted PKCS#8 PEM; `certgen init --force` makes a new CA")?;
    let (_, x) = X509Certificate::from_der(&cert_der)
        .map_err(|e| anyhow::anyhow!("{} does not parse as X.509: {e}", cert_path.display()))?;
    let foreign = |why: &str| {
        error_with_hint(
            format!("foreign CA at {}: {why}", cert_path.display()),
            "certgen issues only from a CA it made, limited to the dev TLDs; move this one away or run `certgen init --force`",
        )
    };
    if !x.is_ca() {
        return Err(foreign("not a CA certificate"));
    }
    if x.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(foreign(&format!(
            "the key {} does not belong to this certificate",
            key_path.display()
        )));
    }
    let Constrained {
        permitted_dns,
        permitted_ip,
        missing_limits,
    } = constrained(&x);
    let reserved = Config::load(paths)
        .map(|c| c.reserved_tlds)
        .unwrap_or_default();
    let public_names = permitted_dns
        .iter()
        .filter(|d| !berth::certs::is_private_name(d, &reserved))
        .cloned()
        .collect();
    if permitted_dns.is_empty() {
        return Err(foreign(
            "it carries no DNS name constraints, so it could sign for any site",
        ));
    }
    if let Ok(meta) = std::fs::metadata(&key_path)
        && meta.permissions().mode() & 0o077 != 0
    {
        berth::cli::warn(
            "certgen",
            format!(
                "{} is readable by others (mode {:o}); run: chmod 600 {}",
                key_path.display(),
                meta.permissions().mode() & 0o777,
                key_path.display()
            ),
        );
    }
    let not_after = to_timestamp(x.validity().not_after);
    let info = CaInfo {
        subject: x.subject().to_string(),
        key: describe_key(&x),
        not_before: to_timestamp(x.validity().not_before),
        not_after,
        days_left: days_left(not_after),
        sha256: sha256_hex(&cert_der),
        permitted_dns,
        permitted_ip,
        missing_limits,
        public_names,
        cert: cert_path.clone(),
        key_file: key_path.clone(),
    };
    Ok(Ca {
        cert_path,
        cert_pem,
        cert_der,
        key,
        info,
    })
}

/// What a CA certificate limits: its permitted names and what it lacks of
/// berth's current limits.
struct Constrained {
    permitted_dns: Vec<String>,
    permitted_ip: Vec<String>,
    missing_limits: Vec<&'static str>,
}

fn constrained(x: &X509Certificate<'_>) -> Constrained {
    let (permitted, excluded) = x
        .name_constraints()
        .ok()
        .flatten()
        .map(|nc| {
            (
                nc.value.permitted_subtrees.clone().unwrap_or_default(),
                nc.value.excluded_subtrees.clone().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let mut permitted_dns = Vec::new();
    let mut permitted_ip = Vec::new();
    for subtree in &permitted {
        match &subtree.base {
            GeneralName::DNSName(d) => permitted_dns.push(d.to_ascii_lowercase()),
            GeneralName::IPAddress(b) => permitted_ip.push(cidr(b)),
            _ => {}
        }
    }
    let mut missing_limits = Vec::new();
    let server_only = x.extended_key_usage().ok().flatten().is_some_and(|e| {
        let u = &e.value;
        u.server_auth
            && !(u.any
                || u.client_auth
                || u.code_signing
                || u.email_protection
                || u.time_stamping
                || u.ocsp_signing)
            && u.other.is_empty()
    });
    if !server_only {
        missing_limits.push("server-auth-only");
    }
    let has = |list: &[x509_parser::extensions::GeneralSubtree<'_>],
               f: fn(&GeneralName<'_>) -> bool| { list.iter().any(|s| f(&s.base)) };
    if !has(&excluded, |n| matches!(n, GeneralName::RFC822Name(_))) {
        missing_limits.push("no-email");
    }
    if !has(&excluded, |n| matches!(n, GeneralName::URI(_))) {
        missing_limits.push("no-uri");
    }
    if !has(&permitted, |n| matches!(n, GeneralName::DirectoryName(_))) {
        missing_limits.push("no-directory-name");
    }
    Constrained {
        permitted_dns,
        permitted_ip,
        missing_limits,
    }
}

/// `a.b.c.d/n` or `addr/n` from the address-and-mask bytes of a name constraint.
fn cidr(bytes: &[u8]) -> String {
    let half = bytes.len() / 2;
    let prefix: u32 = bytes[half..].iter().map(|b| b.count_ones()).sum();
    let addr = match half {
        4 => IpAddr::from(<[u8; 4]>::try_from(&bytes[..4]).unwrap_or_default()),
        16 => IpAddr::from(<[u8; 16]>::try_from(&bytes[..16]).unwrap_or_default()),
        _ => return format!("{bytes:02x?}"),
    };
    format!("{addr}/{prefix}")
}
