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
mod family;
mod model;
mod observe;
mod officer;
mod openapi;
mod ops;
mod problem;
mod state;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use enrol_orchestrator::{EvidenceSource, Orchestrator};
use tower_http::limit::RequestBodyLimitLayer;

pub use auth::{API_KEY_HEADER, CITIZEN_HEADER};
pub use config::{
    ApiConfig, ConfigError, DEFAULT_BODY_LIMIT, DEFAULT_OFFICER_BODY_LIMIT, DEV_APP_KEY, DEV_BANNER, DEV_OFFICER_TOKEN,
    MIN_SECRET_LEN, Role,
};
pub use model::*;
pub use observe::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER, acceptable_request_id};
pub use openapi::openapi;
pub use ops::{DB_PING_TIMEOUT, DatabaseCheck, Readiness, metrics_handle};
pub use problem::{PROBLEM_JSON, PROBLEM_TYPE_PREFIX, Problem};

use crate::auth::Credentials;
use crate::state::{AppState, Source};

/// The whole API over an orchestrator and an evidence source (the registry
/// adapters, for verification and review).
pub fn router<S: EvidenceSource + 'static>(orchestrator: Orchestrator, evidence: Arc<S>, config: ApiConfig) -> Router {
    routers(orchestrator, evidence, config).api
}

/// [`router`], with the admin router beside it.
pub fn routers<S: EvidenceSource + 'static>(
    orchestrator: Orchestrator,
    evidence: Arc<S>,
    config: ApiConfig,
) -> Routers {
    if config.dev {
        tracing::warn!("{DEV_BANNER}");
    }
    ops::metrics_handle();
    let credentials = Arc::new(Credentials::new(&config));
    let state = AppState {
        orchestrator,
        evidence: Arc::new(Source(evidence)),
        verify_options: config.verify,
        runs: Arc::new(Mutex::new(BTreeMap::new())),
    };

    // Layers run outside-in: authentication before the body is read, so an
    // unknown caller learns nothing, not even the size limit. Route layers, so
    // that an unknown path is a plain 404 whoever asks.
    let app = Router::new()
        .route("/v1/applications", post(family::submit))
        .route(
            "/v1/applications/{application_id}",
            get(family::get_application).delete(family::withdraw),
        )
        .route("/v1/applications/{application_id}/decision", get(family::get_decision))
        .route("/v1/applications/{application_id}/result", get(family::get_result))
        .route_layer(RequestBodyLimitLayer::new(config.body_limit))
        .route_layer(middleware::from_fn_with_state(credentials.clone(), auth::require_app));

    let officer = Router::new()
        .route("/v1/rounds", get(officer::list_rounds).post(officer::create_round))
        .route("/v1/rounds/{round}", get(officer::get_round))
        .route("/v1/rounds/{round}/close", post(officer::close_round))
        .route(
            "/v1/rounds/{round}/verify",
            get(officer::get_verification).post(officer::start_verification),
        )
        .route("/v1/rounds/{round}/allocate", post(officer::allocate_round))
        .route("/v1/rounds/{round}/publish", post(officer::publish_round))
        .route("/v1/rounds/{round}/applications", get(officer::list_applications))
        .route(
            "/v1/rounds/{round}/applications/{application_id}",
            get(officer::get_officer_application),
        )
        .route("/v1/rounds/{round}/exclusions", post(officer::exclude))
        .route("/v1/rounds/{round}/corrections", post(officer::correct_seat))
        .route("/v1/rounds/{round}/reviews", get(officer::review_queue))
        .route(
            "/v1/rounds/{round}/reviews/{application_id}",
            post(officer::resolve_review),
        )
        .route("/v1/rounds/{round}/reports/schools", get(officer::school_reports))
        .route("/v1/rounds/{round}/audit", get(officer::audit_log))
        .route("/v1/rounds/{round}/exports/{file}", get(officer::export))
        .route("/metrics", get(ops::metrics))
        .route_layer(RequestBodyLimitLayer::new(config.officer_body_limit))
        .route_layer(middleware::from_fn_with_state(credentials, auth::require_officer));

    let admin = observed(
        Router::new()
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics))
            .with_state(state.clone()),
    );

    let document = Arc::new(openapi::openapi());
    let api = Router::new()
        .merge(app)
        .merge(officer)
        .route("/openapi.json", get(move || async move { Json((*document).clone()) }))
        .route("/health", get(health))
        .route("/healthz", get(ops::healthz))
        .with_state(state.clone())
        // tower-http's limit is the one in force, not axum's default.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::map_response(problem::problems_everywhere))
        // Its 503 is the readiness report a probe reads, not a problem.
        .route("/readyz", get(ops::readyz).with_state(state));
    let api = observed(api);
    Routers { api, admin }
}

/// The operator's side of every request, outside in: a caller's
/// `X-Request-Id` screened, one generated where there is none (tower-http),
/// returned on the response, and the request logged and counted.
fn observed(router: Router) -> Router {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    router
        .layer(middleware::from_fn(observe::log_request))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(middleware::from_fn(observe::screen_request_id))
}

/// The API and, sharing its state, the admin router.
#[derive(Debug, Clone)]
pub struct Routers {
    /// Everything, on the API address (`/metrics` needs an officer token).
    pub api: Router,
    /// Only what an operator's tools need, without credentials: `/healthz`,
    /// `/readyz` and `/metrics`, for `--admin-addr` (an address only the
    /// operators' network reaches).
    pub admin: Router,
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
