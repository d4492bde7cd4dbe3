//! The OpenAPI document, generated from the handlers and bodies (utoipa) and
//! served at `/openapi.json`, so the app's developers can generate a client.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{family, officer};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "enrol API",
        description = "Zero-paperwork school enrolment (全网办 义务教育招生): the upstream app's endpoints for families \
and the officers' endpoints. Every refusal is an RFC 9457 problem (`application/problem+json`); see docs/api.md.",
    ),
    paths(
        family::submit,
        family::get_application,
        family::withdraw,
        family::get_decision,
        family::get_result,
        officer::list_rounds,
        officer::create_round,
        officer::get_round,
        officer::close_round,
        officer::start_verification,
        officer::get_verification,
        officer::allocate_round,
        officer::publish_round,
        officer::list_applications,
        officer::get_officer_application,
        officer::exclude,
        officer::correct_seat,
        officer::review_queue,
        officer::resolve_review,
        officer::school_reports,
        officer::audit_log,
        officer::export,
        crate::health,
    ),
    modifiers(&Security),
    tags(
        (name = "applications", description = "For the upstream app, on behalf of a signed-in citizen"),
        (name = "rounds", description = "Admission rounds (招生批次), for officers"),
        (name = "officer applications", description = "Applications as officers see them; exclusions"),
        (name = "reviews", description = "Officer review (人工审核)"),
        (name = "reports", description = "Per-school reports, the audit log and the round output"),
        (name = "meta", description = "The server itself"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "app_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "The upstream app's key",
            ))),
        );
        components.add_security_scheme(
            "citizen_id",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Citizen-Id",
                "The app's assertion of the signed-in citizen's national ID",
            ))),
        );
        components.add_security_scheme(
            "officer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An officer's token; its role is viewer, reviewer or round_manager",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
