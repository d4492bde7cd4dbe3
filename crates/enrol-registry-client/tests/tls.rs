//! HTTPS to a registry behind a gateway whose certificate a private CA
//! signed (rcgen): trusted through the registries file's `ca_bundle`, refused
//! without it; and the registry's API key never shows in an error or `Debug`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use enrol_domain::{ConsentId, Registry};
use enrol_registry_client::{CallError, NoAccessLog, RegistriesConfig, RegistryClients, RegistryConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const API_KEY: &str = "registry-key-7f3a9c-very-secret";

/// A TCP listener that speaks TLS: axum serves through it.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client that refuses our certificate ends its handshake: wait for the next.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// A private CA and a server certificate for 127.0.0.1 and localhost it signed.
struct Pki {
    ca_pem: String,
    server: ServerConfig,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test Government Gateway CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "hukou.gateway.test");
    let server_cert = params.signed_by(&server_key, &ca).unwrap();

    let chain = vec![CertificateDer::from(server_cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server,
    }
}

/// Serves a hukou registry over TLS; answers with the key it was sent checked.
async fn serve_tls(server: ServerConfig) -> SocketAddr {
    let app = Router::new().route(
        "/hukou/v1/persons/{id}",
        get(|headers: HeaderMap| async move {
            let key_ok = headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(API_KEY);
            if key_ok {
                (axum::http::StatusCode::OK, r#"{"tls": true}"#)
            } else {
                (
                    axum::http::StatusCode::UNAUTHORIZED,
                    r#"{"code": "unauthenticated", "message": "bad key"}"#,
                )
            }
        }),
    );
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(server)),
    };
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn config(base_url: &str, ca_bundle: Option<std::path::PathBuf>) -> RegistriesConfig {
    let mut registry = RegistryConfig::new(base_url, API_KEY);
    registry.max_retries = 1;
    registry.backoff_min_ms = 10;
    registry.backoff_max_ms = 20;
    registry.deadline_ms = 3_000;
    let mut config = RegistriesConfig::uniform(registry);
    config.ca_bundle = ca_bundle;
    config
}

async fn read(clients: &RegistryClients) -> Result<enrol_registry_client::Reply, CallError> {
    clients
        .get(Registry::Hukou)
        .get(&["persons", "370811202011150023"], &[], Some(&ConsentId::new("CNS-1")))
        .await
}

#[tokio::test]
async fn reads_over_https_with_a_private_ca() {
    let pki = pki();
    let addr = serve_tls(pki.server).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("gateway-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();

    for host in [
        format!("https://127.0.0.1:{}", addr.port()),
        format!("https://localhost:{}", addr.port()),
    ] {
        let clients = RegistryClients::new(&config(&host, Some(ca_file.clone())), Arc::new(NoAccessLog)).unwrap();
        let reply = read(&clients).await.expect("read over TLS");
        assert_eq!(reply.body.as_deref(), Some(br#"{"tls": true}"#.as_slice()), "{host}");
    }

    // Without the CA the certificate is not trusted: no answer, and the
    // failure says so without the key or the record's path.
    let base = format!("https://127.0.0.1:{}", addr.port());
    let clients = RegistryClients::new(&config(&base, None), Arc::new(NoAccessLog)).unwrap();
    let err = read(&clients).await.expect_err("an unknown CA is refused");
    let text = format!("{err} {err:?}");
    assert!(matches!(err, CallError::Unavailable { .. }), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    assert!(!text.contains(API_KEY), "{text}");
}

#[test]
fn a_bad_ca_bundle_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    for path in [empty, dir.path().join("missing.pem")] {
        let err = RegistryClients::new(
            &config("https://127.0.0.1:1", Some(path.clone())),
            Arc::new(NoAccessLog),
        )
        .expect_err("refused");
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    }
}

#[test]
fn the_api_key_never_shows() {
    let config = config("https://gateway.example", None);
    let shown = format!("{config:?} {:?}", config.registries[&Registry::Hukou]);
    assert!(!shown.contains(API_KEY), "{shown}");
    // A registries file with an error on the key's own line: the error names the line, not the key.
    let text = format!("[registries.hukou]\nbase_url = \"https://h.example\"\napi_key = \"{API_KEY}\" oops\n");
    let err = RegistriesConfig::from_toml_str(&text).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert!(!format!("{err} {err:?}").contains(API_KEY), "{err}");
}

#[tokio::test]
async fn a_refused_key_leaves_no_key_in_the_error() {
    let pki = pki();
    let addr = serve_tls(pki.server).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let mut config = config(&format!("https://127.0.0.1:{}", addr.port()), Some(ca_file));
    let wrong = "wrong-key-5d1e-also-secret";
    config = config.with_all(|c| c.api_key = wrong.to_owned());
    let clients = RegistryClients::new(&config, Arc::new(NoAccessLog)).unwrap();
    let err = read(&clients).await.expect_err("401");
    let text = format!("{err} {err:?}");
    assert!(matches!(err, CallError::Unauthenticated { .. }), "{text}");
    assert!(!text.contains(wrong), "{text}");
}
