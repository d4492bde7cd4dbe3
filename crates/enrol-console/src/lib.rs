//! The officers' web console (招生管理后台), served by `enrol serve` under
//! `/console/`: server-rendered pages (maud, so every interpolation is
//! escaped by construction), no script at all, one stylesheet served by the
//! binary itself, so it works offline on a bureau's intranet. Chinese by
//! default, English one click away.
//!
//! Like `enrol-api`, this is an HTTP crate. It calls the orchestrator in
//! process through [`enrol_api::Engine`] (never HTTP back to itself), so
//! every action lands in the audit log under the signed-in officer's name,
//! exactly as through the API, and the server checks the officer's role on
//! every action whatever the page offered.
//!
//! ```no_run
//! # async fn run(engine: enrol_api::Engine) {
//! let app = engine.router().merge(enrol_console::router(engine.clone(), enrol_console::ConsoleOptions::default()));
//! # }
//! ```

mod error;
mod i18n;
mod layout;
mod pages;
mod session;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use enrol_api::Engine;

pub use error::ConsoleError;
pub use i18n::Lang;
pub use pages::review::evidence_cards;
pub use session::{CSRF_FIELD, SESSION_COOKIE, Sessions};

/// How the console runs.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Mark the session cookie `Secure`: set when served over TLS (or behind
    /// a TLS-terminating proxy), so the browser never sends it in clear.
    pub secure_cookies: bool,
    /// How long a session lasts from sign-in (absolute, not sliding).
    pub session_ttl: Duration,
}

impl Default for ConsoleOptions {
    /// Eight hours: one working day, then sign in again.
    fn default() -> Self {
        ConsoleOptions {
            secure_cookies: false,
            session_ttl: Duration::from_secs(8 * 3600),
        }
    }
}

/// What every page handler shares.
#[derive(Clone, Debug)]
pub(crate) struct Console {
    pub engine: Engine,
    pub sessions: Sessions,
    pub options: ConsoleOptions,
}

const STYLESHEET: &str = include_str!("../assets/console.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600")),
        ],
        STYLESHEET,
    )
}

/// The console's routes, all under `/console/`.
pub fn router(engine: Engine, options: ConsoleOptions) -> Router {
    use pages::{access, ceremony, dashboard, logs, reports, review, rounds, sign_in};
    let console = Console {
        sessions: Sessions::new(engine.clone()),
        engine,
        options,
    };
    Router::new()
        .route("/console", get(sign_in::home))
        .route("/console/", get(sign_in::home))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/login", get(sign_in::form).post(sign_in::sign_in))
        .route("/console/logout", post(sign_in::sign_out))
        .route("/console/lang", get(sign_in::switch_language))
        .route("/console/rounds", get(rounds::list).post(rounds::create))
        .route("/console/rounds/{round}", get(dashboard::page))
        .route("/console/rounds/{round}/close", post(dashboard::close))
        .route("/console/rounds/{round}/verify", post(dashboard::verify))
        .route("/console/rounds/{round}/publish", post(dashboard::publish))
        .route("/console/rounds/{round}/applications", get(logs::applications))
        .route("/console/rounds/{round}/reviews", get(review::queue))
        .route("/console/rounds/{round}/reviews/{id}", get(review::page))
        .route("/console/rounds/{round}/reviews/{id}/accept", post(review::accept))
        .route("/console/rounds/{round}/reviews/{id}/reject", post(review::reject))
        .route("/console/rounds/{round}/reviews/{id}/exclude", post(review::exclude))
        .route(
            "/console/rounds/{round}/allocation",
            get(ceremony::page).post(ceremony::allocate),
        )
        .route("/console/rounds/{round}/schools", get(reports::schools))
        .route("/console/rounds/{round}/report.html", get(reports::report_html))
        .route("/console/rounds/{round}/notice", get(reports::notice))
        .route("/console/rounds/{round}/files/{file}", get(reports::download))
        .route(
            "/console/rounds/{round}/corrections",
            get(reports::corrections).post(reports::correct),
        )
        .route("/console/rounds/{round}/audit", get(logs::audit))
        .route("/console/rounds/{round}/access", get(access::form).post(access::lookup))
        .with_state(console.clone())
        .layer(axum::middleware::from_fn_with_state(console, session::attribute))
        .layer(axum::middleware::map_response(session::security_headers))
}
