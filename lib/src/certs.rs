//! Where certgen keeps the CA and the certificates it issues, so other tools
//! (proxyconf) point at the same files: `DATA/ca/ca.pem` + `ca-key.pem`, and
//! `DATA/certs/DOMAIN/{cert.pem,key.pem,fullchain.pem}`.

use std::path::PathBuf;

use crate::paths::Paths;

/// The files of one domain's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPaths {
    /// `DATA/certs/DOMAIN`.
    pub dir: PathBuf,
    /// The leaf certificate alone (PEM).
    pub cert: PathBuf,
    /// The leaf's private key (PEM, mode 0600).
    pub key: PathBuf,
    /// The leaf followed by the CA certificate (PEM), what a server presents.
    pub fullchain: PathBuf,
}

/// The folder holding every issued certificate: `DATA/certs`.
pub fn certs_dir(paths: &Paths) -> PathBuf {
    paths.data.join("certs")
}

/// The folder of the local CA: `DATA/ca`.
pub fn ca_dir(paths: &Paths) -> PathBuf {
    paths.data.join("ca")
}

/// The files of `domain`'s certificate (the domain is not validated here).
pub fn cert_paths(paths: &Paths, domain: &str) -> CertPaths {
    let dir = certs_dir(paths).join(domain);
    CertPaths {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        fullchain: dir.join("fullchain.pem"),
        dir,
    }
}

/// Names reserved for private use, never delegated on the public Internet
/// (RFC 2606, RFC 6761, RFC 6762, RFC 8375, ICANN's `.internal`): a CA that may
/// sign for them cannot be used against a real site.
pub const PRIVATE_TLDS: &[&str] = &[
    "test",
    "localhost",
    "internal",
    "home.arpa",
    "local",
    "example",
    "invalid",
];

/// Whether `name` (lower case, no trailing dot) is one of [`PRIVATE_TLDS`] or
/// of `reserved` (the config's `reserved_tlds`), or lies under one.
pub fn is_private_name(name: &str, reserved: &[String]) -> bool {
    let under = |base: &str| {
        let base = base.trim_matches('.');
        !base.is_empty()
            && (name.eq_ignore_ascii_case(base)
                || name.len() > base.len()
                    && name.as_bytes()[name.len() - base.len() - 1] == b'.'
                    && name[name.len() - base.len()..].eq_ignore_ascii_case(base))
    };
    PRIVATE_TLDS.iter().copied().any(under) || reserved.iter().any(|r| under(r))
}

/// The CA certificate and its private key: `(DATA/ca/ca.pem, DATA/ca/ca-key.pem)`.
pub fn ca_paths(paths: &Paths) -> (PathBuf, PathBuf) {
    let dir = ca_dir(paths);
    (dir.join("ca.pem"), dir.join("ca-key.pem"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_names_are_the_reserved_tlds_and_what_config_adds() {
        let corp = vec!["Corp.Example.COM.".to_owned()];
        for name in [
            "test",
            "shop.test",
            "localhost",
            "a.home.arpa",
            "x.internal",
            "dev.corp.example.com",
            "corp.example.com",
        ] {
            assert!(is_private_name(name, &corp), "{name}");
        }
        for name in [
            "com",
            "google.com",
            "arpa",
            "xtest",
            "dev",
            "example.com",
            "notcorp.example.com",
        ] {
            assert!(!is_private_name(name, &corp), "{name}");
        }
        assert!(!is_private_name("anything", &[String::new()]));
    }

    #[test]
    fn layout_is_stable() {
        let p = Paths::in_folder(std::path::Path::new("/h"));
        let c = cert_paths(&p, "shop.test");
        assert_eq!(c.dir, PathBuf::from("/h/certs/shop.test"));
        assert_eq!(c.cert, PathBuf::from("/h/certs/shop.test/cert.pem"));
        assert_eq!(c.key, PathBuf::from("/h/certs/shop.test/key.pem"));
        assert_eq!(
            c.fullchain,
            PathBuf::from("/h/certs/shop.test/fullchain.pem")
        );
        assert_eq!(
            ca_paths(&p),
            (
                PathBuf::from("/h/ca/ca.pem"),
                PathBuf::from("/h/ca/ca-key.pem")
            )
        );
    }
}
