//! The one list of the API's routes.
//!
//! Each handler's `#[utoipa::path(…)]` gives both its axum route and its
//! OpenAPI operation (utoipa-axum's `routes!`), so a route cannot be served
//! undocumented, nor documented and not served. To add a route: write the
//! handler with `#[utoipa::path(method, path = "/v1/…", responses(…))]`, then
//! add `.routes(routes!(module::handler))` to the group below whose
//! authentication it needs. Handlers that share a path go in one `routes!`
//! (axum refuses the same path twice).

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::{access, exports, family, officer, precheck, replay};

/// The routes, grouped by the authentication they need; no layers yet.
pub(crate) struct Routes {
    /// The upstream app's, on behalf of a signed-in citizen (`X-Api-Key`, `X-Citizen-Id`).
    pub family: OpenApiRouter<AppState>,
    /// The officers' (`Authorization: Bearer`).
    pub officer: OpenApiRouter<AppState>,
    /// Open to anyone.
    pub public: OpenApiRouter<AppState>,
}

pub(crate) fn routes() -> Routes {
    let family = OpenApiRouter::default()
        .routes(routes!(family::submit))
        .routes(routes!(family::get_application, family::withdraw))
        .routes(routes!(family::get_decision))
        .routes(routes!(family::get_result))
        .routes(routes!(precheck::precheck));

    let officer = OpenApiRouter::default()
        .routes(routes!(officer::list_rounds, officer::create_round))
        .routes(routes!(officer::get_round))
        .routes(routes!(officer::close_round))
        .routes(routes!(officer::get_verification, officer::start_verification))
        .routes(routes!(officer::allocate_round))
        .routes(routes!(officer::publish_round))
        .routes(routes!(officer::list_applications))
        .routes(routes!(officer::get_officer_application))
        .routes(routes!(replay::replay))
        .routes(routes!(replay::replay_round))
        .routes(routes!(officer::exclude))
        .routes(routes!(officer::correct_seat))
        .routes(routes!(officer::review_queue))
        .routes(routes!(officer::resolve_review))
        .routes(routes!(officer::school_reports))
        .routes(routes!(officer::audit_log))
        .routes(routes!(access::person_access))
        .routes(routes!(exports::export));

    let public = OpenApiRouter::default().routes(routes!(crate::health));

    Routes {
        family,
        officer,
        public,
    }
}
