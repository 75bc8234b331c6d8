//! Which servers a device trusts: the public web's roots (webpki-roots),
//! plus any certificate authority the site uses for its own server, added
//! with [`trust_certificates`] (the app reads `LODGE_TLS_CA`). One rustls
//! configuration serves enrolment (HTTPS) and sync (WSS).

use std::sync::{Arc, LazyLock, RwLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

static EXTRA: LazyLock<RwLock<Vec<CertificateDer<'static>>>> = LazyLock::new(|| RwLock::new(Vec::new()));

/// Why certificates could not be trusted.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Not PEM certificates.
    #[error("the certificate authority file holds no usable certificate: {0}")]
    BadPem(String),
    /// rustls refused a certificate.
    #[error("the certificate authority could not be trusted: {0}")]
    Refused(String),
}

/// Trust the certificate authorities in `pem` (one or more PEM
/// certificates) for every later connection; returns how many were added.
pub fn trust_certificates(pem: &[u8]) -> Result<usize, TlsError> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>().map_err(|e| TlsError::BadPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::BadPem("no CERTIFICATE block".into()));
    }
    // Check each parses as a root before keeping it.
    let mut roots = rustls::RootCertStore::empty();
    for c in &certs {
        roots.add(c.clone()).map_err(|e| TlsError::Refused(e.to_string()))?;
    }
    let n = certs.len();
    EXTRA.write().unwrap_or_else(|p| p.into_inner()).extend(certs);
    Ok(n)
}

/// The client configuration for enrolment and sync.
pub fn client_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for c in EXTRA.read().unwrap_or_else(|p| p.into_inner()).iter() {
        // Checked when added.
        let _ = roots.add(c.clone());
    }
    Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}

/// An HTTP client that trusts what [`client_config`] trusts.
pub(crate) fn http_client() -> reqwest::Client {
    http_client_builder().build().unwrap_or_else(|_| reqwest::Client::new())
}

/// An HTTP client's builder that trusts what [`client_config`] trusts: the
/// roots compiled in, not the machine's store, so it works on a Debian
/// without `ca-certificates` (reqwest's own default panics there).
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().use_preconfigured_tls((*client_config()).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_and_trusts_nothing() {
        assert!(matches!(trust_certificates(b"hello"), Err(TlsError::BadPem(_))));
        assert!(trust_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
    }
}
