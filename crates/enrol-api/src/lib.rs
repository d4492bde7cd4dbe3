//! The engine's HTTP boundary (axum). Families reach the engine only through
//! an upstream government app, officers through their tools; both through here.
//!
//! - App endpoints (`/v1/applications…`): `X-Api-Key` names the app,
//!   `X-Citizen-Id` carries its assertion of the signed-in citizen.
//! - Officer endpoints (`/v1/rounds…`): `Authorization: Bearer` tokens with
//!   roles ([`Role`]).
//! - `/openapi.json`: the OpenAPI 3.1 document, generated from this code.
//!
//! Every refusal is an RFC 9457 problem ([`Problem`]) naming the field at
//! fault; a refused request stores nothing. This is the only crate that knows
//! HTTP status codes: docs/api.md lists them.
//!
//! ```no_run
//! # async fn run(store: enrol_store::Store, evidence: enrol_orchestrator::RegistryEvidence) -> std::io::Result<()> {
//! use std::sync::Arc;
//! let orchestrator = enrol_orchestrator::Orchestrator::new(store);
//! let router = enrol_api::router(orchestrator, Arc::new(evidence), enrol_api::ApiConfig::dev());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! enrol_api::serve(listener, router, enrol_api::shutdown_signal()).await
//! # }
//! ```

mod auth;
mod body;
mod config;
mod engine;
mod exports;
mod family;
mod model;
mod officer;
mod openapi;
mod problem;
mod routes;
mod state;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router, middleware};
use enrol_orchestrator::{EvidenceSource, Orchestrator};
use tower_http::limit::RequestBodyLimitLayer;

pub use auth::{API_KEY_HEADER, CITIZEN_HEADER, Officer};
pub use config::{
    ApiConfig, ConfigError, DEFAULT_BODY_LIMIT, DEFAULT_OFFICER_BODY_LIMIT, DEV_APP_KEY, DEV_BANNER, DEV_OFFICER_TOKEN,
    MIN_SECRET_LEN, Role,
};
pub use engine::Engine;
pub use exports::{EXPORTS, ExportError, export_bytes, report_input};
pub use model::*;
pub use openapi::openapi;
pub use problem::{PROBLEM_JSON, PROBLEM_TYPE_PREFIX, Problem};

/// The whole API over an orchestrator and an evidence source (the registry
/// adapters, for verification and review). [`Engine::router`] is the same,
/// for a server that also serves the console over the same engine.
pub fn router<S: EvidenceSource + 'static>(orchestrator: Orchestrator, evidence: Arc<S>, config: ApiConfig) -> Router {
    Engine::new(orchestrator, evidence, config).router()
}

fn api_router(engine: &Engine) -> Router {
    let config = &engine.config;
    if config.dev {
        tracing::warn!("{DEV_BANNER}");
    }
    let credentials = engine.credentials.clone();
    let state = engine.state.clone();

    // Layers run outside-in: authentication before the body is read, so an
    // unknown caller learns nothing, not even the size limit. Route layers, so
    // that an unknown path is a plain 404 whoever asks.
    let routes = routes::routes();
    let routes = routes::Routes {
        family: routes
            .family
            .route_layer(RequestBodyLimitLayer::new(config.body_limit))
            .route_layer(middleware::from_fn_with_state(credentials.clone(), auth::require_app)),
        officer: routes
            .officer
            .route_layer(RequestBodyLimitLayer::new(config.officer_body_limit))
            .route_layer(middleware::from_fn_with_state(credentials, auth::require_officer)),
        public: routes.public,
    };
    let (api, document) = openapi::documented(routes).split_for_parts();
    let document = Arc::new(document);
    api.route("/openapi.json", get(move || async move { Json((*document).clone()) }))
        .with_state(state)
        // tower-http's limit is the one in force, not axum's default.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::map_response(problem::problems_everywhere))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// The server is up.
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, description = "Up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting connections and lets requests in flight finish (graceful
/// shutdown). A verification running in the background stops with the
/// process; every application it decided is already stored, and starting
/// it again continues with the rest.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small JSON answers: do not let Nagle's algorithm hold them back.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// Completes on Ctrl-C or, on Unix, SIGTERM: the signal to pass to [`serve`].
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
