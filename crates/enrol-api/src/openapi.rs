//! The OpenAPI document, generated from the routes themselves (utoipa-axum,
//! see `routes.rs`) and served at `/openapi.json`, so the app's developers can
//! generate a client. This module adds what is not a route: the title, the
//! tags and the security schemes.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use utoipa_axum::router::OpenApiRouter;

use crate::routes::{Routes, routes};
use crate::state::AppState;

/// Everything of the document but its paths and their schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "enrol API",
        description = "Zero-paperwork school enrolment (全网办 义务教育招生): the upstream app's endpoints for families \
and the officers' endpoints. Every refusal is an RFC 9457 problem (`application/problem+json`); see docs/api.md.",
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

/// The routes of `routes`, with their document.
pub(crate) fn documented(routes: Routes) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes.family)
        .merge(routes.officer)
        .merge(routes.public)
}

/// The document of `documented`'s routes, finished: what utoipa cannot be
/// told in an annotation is set here.
pub(crate) fn finished(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    optional_bodies_are_objects(&mut document);
    document
}

/// utoipa writes an optional body (`Option<T>`) as `oneOf: [T, null]`; the
/// server takes an absent body, never a `null` one (a body is a JSON object).
/// An optional body is left `T`, with `required` unset.
fn optional_bodies_are_objects(document: &mut utoipa::openapi::OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
                continue;
            };
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else {
                    continue;
                };
                if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
                    let mut not_null: Vec<RefOr<Schema>> =
                        one_of.items.iter().filter(|s| !is_null(s)).cloned().collect();
                    if not_null.len() == 1 && one_of.items.len() == 2 {
                        content.schema = not_null.pop();
                    }
                }
            }
        }
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(object)) if object.schema_type == SchemaType::Type(Type::Null))
}

/// The OpenAPI document of the API: exactly the routes [`crate::router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    finished(documented(routes()).into_openapi())
}
