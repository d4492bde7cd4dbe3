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

mod access;
mod auth;
mod body;
mod config;
mod engine;
mod exports;
mod family;
mod model;
mod observe;
mod officer;
mod openapi;
mod ops;
mod precheck;
mod problem;
mod ratelimit;
mod replay;
mod routes;
mod schema;
mod state;
mod validate;

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
pub use observe::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER, acceptable_request_id, attribute_to_officer};
pub use openapi::openapi;
pub use ops::{DB_PING_TIMEOUT, DatabaseCheck, Readiness, metrics_handle};
pub use problem::{ApiError, PROBLEM_JSON, PROBLEM_TYPE_PREFIX, Problem};
pub use ratelimit::{DEFAULT_APP_LIMIT, DEFAULT_CITIZEN_LIMIT, RateLimit, RateLimits};
pub use validate::{
    MAX_CHOICES, MAX_CONSENT_ID_LEN, MAX_GUARDIAN_IDS, MAX_SIBLING_IDS, check_application, parse_application,
};

/// The whole API over an orchestrator and an evidence source (the registry
/// adapters, for verification and review). [`Engine::router`] is the same,
/// for a server that also serves the console over the same engine.
pub fn router(orchestrator: Orchestrator, evidence: Arc<dyn EvidenceSource>, config: ApiConfig) -> Router {
    routers(orchestrator, evidence, config).api
}

/// [`router`], with the admin router beside it.
pub fn routers(orchestrator: Orchestrator, evidence: Arc<dyn EvidenceSource>, config: ApiConfig) -> Routers {
    Engine::new(orchestrator, evidence, config).routers()
}

fn api_routers(engine: &Engine) -> Routers {
    let config = &engine.config;
    if config.dev {
        tracing::warn!("{DEV_BANNER}");
    }
    ops::metrics_handle();
    let credentials = engine.credentials.clone();
    let state = engine.state.clone();

    // Layers run outside-in: authentication before the body is read, so an
    // unknown caller learns nothing, not even the size limit. Route layers, so
    // that an unknown path is a plain 404 whoever asks. The documented routes
    // come from routes.rs; `/metrics` (Prometheus text, for operators) is not
    // part of the documented API.
    let routes = routes::routes();
    let family = routes.family.route_layer(RequestBodyLimitLayer::new(config.body_limit));
    // Inside authentication (layers run outside-in): the app's limit, then the citizen's.
    let family = match config.rate_limits.citizen {
        Some(limit) => family.route_layer(ratelimit::layer(ratelimit::ByCitizen, limit)),
        None => family,
    };
    let family = match config.rate_limits.app {
        Some(limit) => family.route_layer(ratelimit::layer(ratelimit::ByApp, limit)),
        None => family,
    };
    let routes = routes::Routes {
        family: family.route_layer(middleware::from_fn_with_state(credentials.clone(), auth::require_app)),
        officer: routes
            .officer
            .route("/metrics", get(ops::metrics))
            .route_layer(axum::Extension(officer::WholeSeeds(config.dev)))
            .route_layer(RequestBodyLimitLayer::new(config.officer_body_limit))
            .route_layer(middleware::from_fn_with_state(credentials, auth::require_officer)),
        public: routes.public,
    };

    let admin = observed(
        Router::new()
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics))
            .with_state(state.clone()),
    );

    let (api, document) = openapi::documented(routes).split_for_parts();
    let document = Arc::new(openapi::finished(document));
    let api = api
        .route("/openapi.json", get(move || async move { Json((*document).clone()) }))
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
/// returned on the response, and the request logged and counted. Public so
/// that `enrol serve` gives the officers' console (`enrol-console`) the same.
pub fn observed(router: Router) -> Router {
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
