//! TLS against a server on loopback whose certificates are made here: one the client does not
//! trust, an expired one, one for another host, a port that speaks plain http, and a caller's
//! own client that trusts the CA, with no process-wide crypto provider installed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use coolify_client::{Client, Error, RetryPolicy, TlsProblem, reqwest};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::calls::{TOKEN, assert_no_token};

/// A certificate authority made for one test.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    fn certificate(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap()
    }

    /// A server certificate for `host` signed by this CA, valid from the start of the first
    /// year to the start of the second when given.
    fn leaf(&self, host: &str, years: Option<(i32, i32)>) -> Leaf {
        let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
        if let Some((from, to)) = years {
            params.not_before = date_time_ymd(from, 1, 1);
            params.not_after = date_time_ymd(to, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            certificate: certificate.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

struct Leaf {
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

/// A TLS server on loopback that answers every request with Coolify's version, and counts the
/// connections it accepts.
struct TlsServer {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl TlsServer {
    async fn start(leaf: Leaf) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.certificate], leaf.key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buffer = [0; 1024];
                    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => request.extend_from_slice(&buffer[..read]),
                        }
                    }
                    let answer =
                        "HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\n4.3.11";
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { port, connections }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

/// A client with retries on, as a real caller would have them: a TLS failure must not use them.
fn client(url: &str) -> coolify_client::ClientBuilder {
    Client::builder(url, TOKEN.to_owned().into())
        .retry_policy(
            RetryPolicy::default()
                .min_delay(Duration::from_millis(10))
                .max_delay(Duration::from_millis(20)),
        )
        .request_timeout(Duration::from_secs(10))
}

async fn tls_error(client: Client) -> (TlsProblem, Error) {
    let error = client.version().await.unwrap_err();
    match error {
        Error::Tls { problem, .. } => (problem, error),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_that_is_not_retried() {
    let ca = Ca::new();
    let server = TlsServer::start(ca.leaf("localhost", None)).await;
    let (problem, error) = tls_error(client(&server.url()).build().unwrap()).await;
    assert_eq!(problem, TlsProblem::UntrustedCertificate);
    assert!(!error.is_transient(), "{error}");
    assert_eq!(server.connections.load(Ordering::SeqCst), 1, "retried");
    let message = error.to_string();
    assert!(
        message.starts_with("GET /api/v1/version: coolify's TLS certificate is not signed by a certificate authority this client trusts"),
        "{message}"
    );
    assert!(
        message.contains("ClientBuilder::trust_certificate"),
        "{message}"
    );
    assert!(!message.contains("could not reach"), "{message}");
    assert_no_token(&error);
}

#[tokio::test]
async fn a_trusted_ca_makes_the_same_server_answer() {
    let ca = Ca::new();
    let server = TlsServer::start(ca.leaf("localhost", None)).await;
    let client = client(&server.url())
        .trust_certificate(ca.certificate())
        .build()
        .unwrap();
    assert_eq!(client.version().await.unwrap(), "4.3.11");
}

#[tokio::test]
async fn a_callers_client_works_without_an_installed_crypto_provider() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let ca = Ca::new();
    let server = TlsServer::start(ca.leaf("localhost", None)).await;
    // What a caller does to add a private CA or a proxy: its own reqwest client, built the
    // ordinary way, which must neither panic nor need a provider installed first.
    let own = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_merge([ca.certificate()])
        .build()
        .unwrap();
    let client = client(&server.url()).http_client(own).build().unwrap();
    assert_eq!(client.version().await.unwrap(), "4.3.11");
    // Its TLS failures are typed too.
    let untrusting = client_with_own_default(&server.url());
    let (problem, _) = tls_error(untrusting).await;
    assert_eq!(problem, TlsProblem::UntrustedCertificate);
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
}

fn client_with_own_default(url: &str) -> Client {
    let own = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    client(url).http_client(own).build().unwrap()
}

#[tokio::test]
async fn an_expired_certificate_and_one_for_another_host_say_so() {
    let ca = Ca::new();
    for (leaf, expected, words) in [
        (
            ca.leaf("localhost", Some((2000, 2001))),
            TlsProblem::ExpiredCertificate,
            "has expired",
        ),
        (
            ca.leaf("coolify.example.com", None),
            TlsProblem::CertificateForAnotherHost,
            "another host name",
        ),
    ] {
        let server = TlsServer::start(leaf).await;
        let client = client(&server.url())
            .trust_certificate(ca.certificate())
            .build()
            .unwrap();
        let (problem, error) = tls_error(client).await;
        assert_eq!(problem, expected);
        assert!(error.to_string().contains(words), "{error}");
    }
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_handshake_failure() {
    let server = wiremock::MockServer::start().await;
    let url = server.uri().replace("http://", "https://");
    let (problem, error) = tls_error(client(&url).build().unwrap()).await;
    assert_eq!(problem, TlsProblem::Handshake);
    assert!(error.to_string().contains("port 8000"), "{error}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
