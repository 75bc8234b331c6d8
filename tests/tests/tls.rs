//! TLS: `lodge-sync serve --tls-cert --tls-key` serves HTTPS and WSS; a
//! device that trusts the site's certificate authority enrols and syncs
//! over it; one that does not is refused before anything is sent; plain
//! HTTP to the TLS port gets nothing.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use lodge_core::sync::Connection;
use lodge_tests::{Device, Server, code, create_site, eventually, lodge_sync_bin};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_enrols_and_syncs_over_tls_only_when_it_trusts_the_server() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let data = root.path().join("server");
    let site = create_site(&data, "Lodge House")?;

    // The site's own certificate authority and the server's certificate.
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let server_key = KeyPair::generate()?;
    let server_cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?.signed_by(&server_key, &ca)?;
    let (cert, key) = (root.path().join("server.pem"), root.path().join("server.key"));
    std::fs::write(&cert, server_cert.pem())?;
    std::fs::write(&key, server_key.serialize_pem())?;

    let server = Server::start_with(&data, &["--tls-cert", cert.to_str().unwrap_or_default(), "--tls-key", key.to_str().unwrap_or_default()])?;
    let https = format!("https://{}", server.addr);

    // The server listens: every refusal below is the server's, not a port
    // nobody listens on.
    std::net::TcpStream::connect(&server.addr).expect("the TLS server accepts connections");

    // Not yet trusted: the code is not even sent.
    let dir = root.path().join("devices");
    std::fs::create_dir_all(&dir)?;
    let store = std::sync::Arc::new(std::sync::Mutex::new(lodge_core::Store::open(dir.join("early.sqlite"), std::sync::Arc::new(lodge_core::SystemClock))?));
    let first = code(&data, site, "reception", None)?;
    let e = lodge_core::sync::enrol(&https, &first, "early", &store).await.unwrap_err();
    assert!(e.to_string().contains("could not be reached"), "{e}");
    assert!(format!("{e:?}").to_lowercase().contains("certificate"), "refused for its certificate, not as unreachable: {e:?}");

    // Plain HTTP on the TLS port is accepted as a connection and gets no
    // HTTP answer: the server may close it or reset it, and a write may
    // find it already reset, but nothing it sends back reads as HTTP.
    let mut plain = tokio::net::TcpStream::connect(&server.addr).await.expect("the TLS port accepts a plain connection");
    let sent = plain.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(2), plain.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains("HTTP/") && !answer.contains("\"status\""), "plain HTTP was answered on the TLS port (sent: {sent:?}, ended: {ended:?}): {answer}");

    // Trusting the site's authority, a device enrols and syncs over WSS.
    assert_eq!(lodge_core::sync::trust_certificates(ca.pem().as_bytes())?, 1);
    assert!(lodge_core::sync::trust_certificates(b"not a certificate").is_err());
    let desk = Device::enrol(&server, &dir, "desk", &first).await?;
    eventually("the desk to sync over TLS", Duration::from_secs(10), || desk.sync.status().connection == Connection::Online).await?;
    assert_eq!(desk.read(|s| s.site_settings())?.map(|s| s.name).as_deref(), Some("Lodge House"));
    assert!(lodge_sync_bin().exists());
    Ok(())
}
