//! Appeal replay (复核重放), for reviewers: an application's decision made
//! again from its stored evidence under the stored policy, with corrected
//! facts if given, and for a published round the seat it would win. Changes
//! nothing but one audit entry.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use enrol_domain::OfficerFacts;
use enrol_orchestrator::{Corrections, RecordCorrections};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::body::parse_json_or_empty;
use crate::config::Role;
use crate::family::application_id;
use crate::problem::{ApiError, Problem};
use crate::schema::{OfficerFactsSchema, RecordCorrectionsSchema};
use crate::state::AppState;

/// What to replay with: nothing (the stored evidence as it is), facts an
/// officer established, and/or corrected registry records.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Decide with these officer facts instead of the snapshot's.
    #[serde(default)]
    #[schema(value_type = Option<OfficerFactsSchema>)]
    pub officer_facts: Option<OfficerFacts>,
    /// Corrected records in the evidence snapshot's own shape: an object with
    /// any of `birth_certificates`, `household_records`, `holdings`,
    /// `unit_uses`, `permits`, `insurance_months`, `current_places`,
    /// `address_matches`, `buildings`, each mapping the key asked for to
    /// `{"source": {"registry": …, "record": …}, "fetched_at": …, "record": …}`.
    /// Each entry replaces the snapshot's entry under that key.
    #[serde(default)]
    #[schema(value_type = Option<RecordCorrectionsSchema>)]
    pub records: Option<Value>,
}

/// One difference between the stored and the corrected decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionChange {
    /// JSON Pointer (RFC 6901) into the decision.
    pub path: String,
    /// Any JSON value; absent (`null`) when the decision had none there.
    #[schema(value_type = Value)]
    pub before: Option<Value>,
    /// Any JSON value; `null` when the corrected decision has none there.
    #[schema(value_type = Value)]
    pub after: Option<Value>,
}

/// The decision from corrected evidence.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CorrectedDecision {
    /// The decision of formats.md.
    #[schema(value_type = Object)]
    pub decision: Value,
    pub changes: Vec<DecisionChange>,
    /// Reads the corrected evidence still needs (`registry:record`); with
    /// any, the decision is `review` (`evidence_incomplete`). The replay reads no registry.
    pub reads_needed: Vec<String>,
}

/// A child whose seat would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeatChange {
    pub application_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The stored allocation instance re-run with the applicant changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeatReplay {
    /// The seat the stored instance gives (`null`: none).
    pub before: Option<String>,
    /// The seat the (corrected) decision would win.
    pub after: Option<String>,
    /// `choice`, `overflow` or `none`, for `after`.
    pub route: String,
    /// Other children whose seat would change, ascending id.
    pub displaced: Vec<SeatChange>,
}

/// The replay's answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReplayAnswer {
    pub round: String,
    pub application_id: String,
    /// SHA-256 of the policy file the decision was made under.
    pub policy_version: String,
    pub evidence_snapshot_id: i64,
    /// The stored decision.
    #[schema(value_type = Object)]
    pub stored: Value,
    /// Deciding again from the snapshot gives the stored bytes.
    pub identical: bool,
    /// The decision made again, only when it is not identical.
    #[schema(value_type = Option<Object>)]
    pub replayed: Option<Value>,
    pub corrected: Option<CorrectedDecision>,
    /// For a published round.
    pub seat: Option<SeatReplay>,
}

impl From<enrol_orchestrator::Replay> for ReplayAnswer {
    fn from(r: enrol_orchestrator::Replay) -> Self {
        ReplayAnswer {
            round: r.round,
            application_id: r.application_id,
            policy_version: r.policy_version,
            evidence_snapshot_id: r.evidence_snapshot_id,
            stored: r.stored,
            identical: r.identical,
            replayed: r.replayed,
            corrected: r.corrected.map(|c| CorrectedDecision {
                decision: c.decision,
                changes: c
                    .changes
                    .into_iter()
                    .map(|x| DecisionChange {
                        path: x.path,
                        before: x.before,
                        after: x.after,
                    })
                    .collect(),
                reads_needed: c.reads_needed,
            }),
            seat: r.seat.map(|s| SeatReplay {
                before: s.before,
                after: s.after,
                route: s.route,
                displaced: s
                    .displaced
                    .into_iter()
                    .map(|d| SeatChange {
                        application_id: d.application_id,
                        before: d.before,
                        after: d.after,
                    })
                    .collect(),
            }),
        }
    }
}

/// Replays an application's decision (appeal replay, reviewer): from the
/// stored evidence snapshot under the stored policy, showing it is the same
/// bytes; with corrected facts, the new decision and its differences; for a
/// published round, the seat it would win and whom it would displace.
/// Changes nothing; writes a `decision_replayed` audit entry.
#[utoipa::path(
    post, path = "/v1/rounds/{round}/applications/{application_id}/replay", tag = "reviews", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application"),
    ),
    request_body(content = Option<ReplayRequest>, description = "Optional: an empty body replays the stored evidence as it is"),
    responses(
        (status = 200, description = "The replay", body = ReplayAnswer),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application in the round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not decided yet (`not-decided`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn replay(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path((round, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReplayAnswer>, ApiError> {
    officer.require(Role::Reviewer)?;
    let id = application_id(&id)?;
    let request: ReplayRequest = parse_json_or_empty(&headers, body)?;
    let records: RecordCorrections = match request.records {
        None => RecordCorrections::default(),
        Some(v) => serde_json::from_value(v).map_err(|e| ApiError::invalid("records", e.to_string()))?,
    };
    let corrections = Corrections {
        officer_facts: request.officer_facts,
        records,
    };
    let (_, view) = state.orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ApiError::NotFound {
            detail: format!("there is no application {id} in round {round:?}"),
        });
    }
    match state
        .orchestrator
        .replay(&round, &id, &corrections, &officer.name)
        .await?
    {
        Some(answer) => Ok(Json(answer.into())),
        None => Err(ApiError::Conflict {
            kind: "not-decided",
            title: "The application is not decided yet",
            detail: format!("the application is {}", view.state),
            existing_application_id: None,
        }),
    }
}

/// What replaying every decision of a round came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoundReplayAnswer {
    pub round: String,
    /// The SHA-256 of the policy file the round runs.
    pub policy_version: String,
    /// Current decisions replayed.
    pub decisions: usize,
    /// Of those, how many gave the stored bytes again.
    pub identical: usize,
    /// Applications whose decision did not replay to the stored bytes, ascending id.
    pub differing: Vec<String>,
}

impl From<enrol_orchestrator::RoundReplay> for RoundReplayAnswer {
    fn from(r: enrol_orchestrator::RoundReplay) -> Self {
        RoundReplayAnswer {
            round: r.round,
            policy_version: r.policy_version,
            decisions: r.decisions,
            identical: r.identical,
            differing: r.differing,
        }
    }
}

/// Replays every current decision of a round (reviewer): each decided again
/// from its stored evidence snapshot under the stored policy, and compared
/// with the stored bytes. Changes nothing; writes a `round_replayed` audit entry.
#[utoipa::path(
    post, path = "/v1/rounds/{round}/replay", tag = "reviews", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    responses(
        (status = 200, description = "How many decisions replayed to the same bytes, and which did not", body = RoundReplayAnswer),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn replay_round(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<RoundReplayAnswer>, ApiError> {
    officer.require(Role::Reviewer)?;
    let answer = state.orchestrator.replay_round(&round, &officer.name).await?;
    Ok(Json(answer.into()))
}
