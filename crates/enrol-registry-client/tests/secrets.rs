//! The registry's API key never shows: not in `Debug`, not in a refused
//! call's error, not in a registries-file error.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use enrol_domain::{ConsentId, Registry};
use enrol_registry_client::{CallError, NoAccessLog, RegistriesConfig, RegistryClients, RegistryConfig};

const API_KEY: &str = "registry-key-7f3a9c-very-secret";

fn config(base_url: &str, key: &str) -> RegistriesConfig {
    let mut registry = RegistryConfig::new(base_url, key);
    registry.max_retries = 1;
    registry.backoff_min_ms = 10;
    registry.backoff_max_ms = 20;
    registry.deadline_ms = 3_000;
    RegistriesConfig::uniform(registry)
}

#[test]
fn the_api_key_never_shows_in_debug_or_a_file_error() {
    let config = config("http://gateway.example", API_KEY);
    let shown = format!("{config:?} {:?}", config.registries[&Registry::Hukou]);
    assert!(!shown.contains(API_KEY), "{shown}");
    // An error on the key's own line: the error names the line, not the key.
    let text = format!("[registries.hukou]\nbase_url = \"http://h.example\"\napi_key = \"{API_KEY}\" oops\n");
    let err = RegistriesConfig::from_toml_str(&text).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert!(!format!("{err} {err:?}").contains(API_KEY), "{err}");
}

#[tokio::test]
async fn a_refused_key_leaves_no_key_in_the_error() {
    let app = Router::new().route(
        "/hukou/v1/persons/{id}",
        get(|| async {
            (
                axum::http::StatusCode::UNAUTHORIZED,
                r#"{"code": "unauthenticated", "message": "bad key"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let clients = RegistryClients::new(&config(&format!("http://{addr}"), API_KEY), Arc::new(NoAccessLog)).unwrap();
    let err = clients
        .get(Registry::Hukou)
        .get(&["persons", "370811202011150023"], &[], Some(&ConsentId::new("CNS-1")))
        .await
        .expect_err("401");
    let text = format!("{err} {err:?}");
    assert!(matches!(err, CallError::Unauthenticated { .. }), "{text}");
    assert!(!text.contains(API_KEY), "{text}");
}
