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

/// The CA certificate and its private key: `(DATA/ca/ca.pem, DATA/ca/ca-key.pem)`.
pub fn ca_paths(paths: &Paths) -> (PathBuf, PathBuf) {
    let dir = ca_dir(paths);
    (dir.join("ca.pem"), dir.join("ca-key.pem"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
