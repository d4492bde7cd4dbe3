//! `GET /v1/rounds/{round}/access?person=`: who read a person's records
//! (查询留痕), when and why, from the durable registry access log. The
//! lookup is itself recorded in the audit log.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use enrol_domain::NationalId;
use enrol_orchestrator::PersonAccess;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::config::Role;
use crate::officer::{Params, limit_of, params};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// One registry read that named the person: who caused it, when, why, which
/// registry, and what came of it. Never the registry's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccessRecord {
    /// The record's id (pass the last as `after` for the next page).
    pub id: i64,
    /// When the request was sent (for an `unknown` outcome: when it was recorded, just before).
    pub at: DateTime<Utc>,
    /// The officer whose action caused the read (who ran verification, or
    /// accepted a review).
    pub actor: String,
    /// `hukou`, `birth`, `property`, `residence`, `social-insurance` or
    /// `enrolment-history`.
    pub registry: String,
    /// The request's path and query as sent.
    pub path: String,
    /// The purpose declared to the registry.
    pub purpose: String,
    /// The consent the read was made under.
    pub consent_id: Option<String>,
    /// `answered`, `timed_out`, `connection_failed`, `abandoned` (the caller stopped waiting: a submission's short deadline) or `unknown` (recorded before it was sent; what came of it was never stored: the process stopped first).
    pub outcome: String,
    /// The HTTP status of an answered request.
    pub status: Option<i32>,
    /// The application the read served.
    pub application_id: Option<String>,
}

impl From<PersonAccess> for AccessRecord {
    fn from(a: PersonAccess) -> Self {
        AccessRecord {
            id: a.id,
            at: a.at,
            actor: a.actor,
            registry: a.registry,
            path: a.path,
            purpose: a.purpose,
            consent_id: a.consent_id,
            outcome: a.outcome,
            status: a.status,
            application_id: a.application_id,
        }
    }
}

/// A page of a person's access records, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccessPage {
    pub entries: Vec<AccessRecord>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}

/// Who read this person's records in the round, when and why. The lookup is
/// recorded in the audit log (`access_log_read`).
#[utoipa::path(
    get, path = "/v1/rounds/{round}/access", tag = "reports", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("person" = crate::schema::NationalIdSchema, Query, description = "The person's national ID"),
        ("after" = Option<i64>, Query, description = "Start after this record id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "A page of access records", body = AccessPage),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn person_access(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    query: Params,
) -> Result<Json<AccessPage>, ApiError> {
    officer.require(Role::Viewer)?;
    let params = params(query)?;
    let limit = limit_of(&params)?;
    let person = params
        .get("person")
        .ok_or_else(|| ApiError::invalid_parameter("person", "person (a national ID) is required"))
        .and_then(|p| {
            NationalId::parse(p.trim())
                .map_err(|_| ApiError::invalid_parameter("person", "person must be a valid national ID"))
        })?;
    let after = params
        .get("after")
        .map(|a| {
            a.parse::<i64>()
                .map_err(|_| ApiError::invalid_parameter("after", "after must be a record id"))
        })
        .transpose()?;
    let entries = state
        .orchestrator
        .person_accesses(&round, &person, after, limit, &officer.name)
        .await?;
    let next_after = (entries.len() as u64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AccessPage {
        entries: entries.into_iter().map(Into::into).collect(),
        next_after,
    }))
}
