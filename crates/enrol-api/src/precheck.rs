//! The pre-check (免申即享), for the upstream app on behalf of a signed-in
//! citizen: what the engine would decide for an application now, before it is
//! submitted. Nothing is stored but the registry access records.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use enrol_domain::Application;
use enrol_orchestrator::RoundError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Citizen;
use crate::body::{from_slice, parse_json};
use crate::model::{Decision, Reason, SchoolPriority, TierShortfall};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The statement every pre-check answer carries.
pub const NOT_AN_APPLICATION_ZH: &str =
    "这不是入学申请：本次预查询未提交任何申请，也未保存任何结果；结果以正式申请审核为准。";
/// The statement every pre-check answer carries, in English.
pub const NOT_AN_APPLICATION_EN: &str = "This is not an application: nothing was submitted and no result was kept; \
only a submitted application is decided.";

/// A statement in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Statement {
    pub zh: String,
    pub en: String,
}

/// A fact the pre-check could not learn in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnknownFact {
    /// `registry:record`, as reasons cite records.
    pub record: String,
    pub zh: String,
    pub en: String,
}

/// What the engine would decide now, in the decision's own shape (formats.md:
/// `status`, `schools`, `preferences`, `reasons`; never a lottery number).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PrecheckAnswer {
    /// This is not an application.
    pub not_an_application: Statement,
    pub round: String,
    /// `eligible`, `review` or `ineligible`; `pending` while facts are unknown.
    pub status: String,
    pub schools: Vec<SchoolPriority>,
    pub preferences: Vec<String>,
    pub reasons: Vec<Reason>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why_not_better_tier: Vec<TierShortfall>,
    /// Facts still unknown (a registry down or slow); empty once decided.
    pub unknown_facts: Vec<UnknownFact>,
}

/// Pre-checks an application (免申即享): the decision the engine would make
/// now, from evidence gathered exactly as verification gathers it. Not an
/// application: nothing is stored but the registry access records. Only a
/// parent named on the child's birth certificate who is named in the body (as
/// applicant or guardian) learns about the child; anyone else gets the answer
/// for a child the birth registry does not know.
#[utoipa::path(
    post,
    path = "/v1/prechecks",
    tag = "applications",
    request_body(content = crate::schema::PrecheckSchema, content_type = "application/json"),
    security(("app_key" = [], "citizen_id" = [])),
    responses(
        (status = 200, description = "What the engine would decide now; not an application", body = PrecheckAnswer),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No known X-Api-Key or no valid X-Citizen-Id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (a wrong checksum, an unknown round, `application_id` or `submitted_at` given, over a cap as for a submission); `field` names it", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit of the app or of the citizen; `Retry-After` says when to come back", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The school catalogue could not be read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn precheck(
    State(state): State<AppState>,
    Extension(citizen): Extension<Citizen>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PrecheckAnswer>, ApiError> {
    let mut fields: serde_json::Map<String, Value> = parse_json(&headers, body)?;
    for field in ["application_id", "submitted_at"] {
        if fields.contains_key(field) {
            return Err(ApiError::invalid(
                field,
                format!("{field}: a pre-check is not an application"),
            ));
        }
    }
    fields.insert("application_id".to_owned(), Value::from(uuid::Uuid::nil().to_string()));
    fields.insert("submitted_at".to_owned(), Value::from(chrono::Utc::now().to_rfc3339()));
    let app: Application = from_slice(&serde_json::to_vec(&fields).expect("serialisable"))?;
    // The same caps as a submission: each sibling or guardian is a registry read.
    crate::validate::check_application(&app)?;
    let answer = state
        .orchestrator
        .precheck(&app, &citizen.id, &citizen.actor(), &*state.evidence)
        .await
        .map_err(|err| match err {
            RoundError::UnknownRound(round) => ApiError::invalid("round", format!("there is no round {round:?}")),
            RoundError::Catalogue(err) => ApiError::Unavailable {
                detail: err.to_string(),
            },
            other => ApiError::from(other),
        })?;
    let unknown_facts: Vec<UnknownFact> = answer
        .unknown_facts
        .into_iter()
        .map(|f| UnknownFact {
            record: f.record,
            zh: f.zh,
            en: f.en,
        })
        .collect();
    let not_an_application = Statement {
        zh: NOT_AN_APPLICATION_ZH.to_owned(),
        en: NOT_AN_APPLICATION_EN.to_owned(),
    };
    Ok(Json(match answer.decision {
        Some(decision) => {
            let status = decision.status.as_str().to_owned();
            let decision = Decision::from(decision);
            PrecheckAnswer {
                not_an_application,
                round: app.round.to_string(),
                status,
                schools: decision.schools,
                preferences: decision.preferences,
                reasons: decision.reasons,
                why_not_better_tier: answer.why_not_better_tier.into_iter().map(Into::into).collect(),
                unknown_facts,
            }
        }
        None => PrecheckAnswer {
            not_an_application,
            round: app.round.to_string(),
            status: "pending".to_owned(),
            schools: Vec::new(),
            preferences: Vec::new(),
            reasons: Vec::new(),
            why_not_better_tier: Vec::new(),
            unknown_facts,
        },
    }))
}
