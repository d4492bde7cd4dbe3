//! The officer endpoints: rounds and their transitions, verification with
//! progress, reviews, exclusions, reports, the audit log and exports.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use enrol_orchestrator::{ReviewResolution, RoundError, RoundSeed, SeedReveal};

use crate::auth::Officer;
use crate::body::{parse_json, parse_json_or_empty};
use crate::config::Role;
use crate::family::application_id;
use crate::model::{
    AllocateRound, ApplicationPage, ApplicationStatus, AuditPage, CreateRound, Decision, Exclusion, OfficerApplication,
    Resolution, ResolveReview, ReviewItem, Round, RoundDetail, SchoolReport, Seat, SeatCorrection, StartVerification,
    Verification,
};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Largest page of applications or audit entries.
pub const MAX_PAGE: u64 = 1000;
const DEFAULT_PAGE: u64 = 100;

pub(crate) type Params = Result<Query<BTreeMap<String, String>>, QueryRejection>;

pub(crate) fn params(query: Params) -> Result<BTreeMap<String, String>, ApiError> {
    query
        .map(|Query(map)| map)
        .map_err(|e| ApiError::Malformed { detail: e.body_text() })
}

pub(crate) fn limit_of(params: &BTreeMap<String, String>) -> Result<u64, ApiError> {
    match params.get("limit") {
        None => Ok(DEFAULT_PAGE),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_parameter(
                "limit",
                format!("limit must be a number from 1 to {MAX_PAGE}"),
            )),
        },
    }
}

async fn detail_of(state: &AppState, round_id: &str) -> Result<RoundDetail, ApiError> {
    let round = state.orchestrator.round(round_id).await?;
    let counts = state.orchestrator.counts(round_id).await?;
    Ok(RoundDetail {
        round: round.into(),
        counts: counts.into(),
    })
}

/// Every round.
#[utoipa::path(
    get, path = "/v1/rounds", tag = "rounds", security(("officer" = [])),
    responses(
        (status = 200, description = "Rounds, ascending id", body = Vec<Round>),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_rounds(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
) -> Result<Json<Vec<Round>>, ApiError> {
    officer.require(Role::Viewer)?;
    Ok(Json(
        state
            .orchestrator
            .rounds()
            .await?
            .into_iter()
            .map(Round::from)
            .collect(),
    ))
}

/// Whether this server opens rounds with a whole seed (`round_seed`): only
/// a development (demo or audit) server, `--dev`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WholeSeeds(pub bool);

/// Opens a round under a policy file, with a committed seed (round manager).
/// A whole seed (`round_seed`) only on a development server (`--dev`).
#[utoipa::path(
    post, path = "/v1/rounds", tag = "rounds", security(("officer" = [])),
    request_body = crate::schema::CreateRoundSchema,
    responses(
        (status = 201, description = "Opened", body = RoundDetail),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a round manager", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round exists (`round-exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The policy file or the seed is invalid, or a whole `round_seed` was sent to a server not in development mode; `field` names it", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_round(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Extension(whole_seeds): Extension<WholeSeeds>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    officer.require(Role::RoundManager)?;
    let request: CreateRound = parse_json(&headers, body)?;
    let (seed, field) = match (request.seed_commitment, request.round_seed) {
        (Some(commitment), None) => (RoundSeed::Committed { commitment }, "seed_commitment"),
        // A live round is sealed: one insider must not choose the draw.
        (None, Some(_)) if !whole_seeds.0 => {
            return Err(ApiError::invalid(
                "round_seed",
                "a whole round seed is for demo and audit servers (--dev) only; a live round commits a sealed seed: \
                 give seed_commitment",
            ));
        }
        (None, Some(seed)) => (RoundSeed::Whole(seed), "round_seed"),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "round_seed",
                "give seed_commitment or round_seed, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "seed_commitment",
                "a round needs seed_commitment (or round_seed for a demo)",
            ));
        }
    };
    let info = state
        .orchestrator
        .create_round(&request.policy_toml, seed, &officer.name)
        .await
        .map_err(|e| match e {
            RoundError::Seed(detail) => ApiError::invalid(field, detail),
            other => other.into(),
        })?;
    let detail = detail_of(&state, &info.id).await?;
    let mut response = (StatusCode::CREATED, Json(detail)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/v1/rounds/{}", info.id)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// A round with its counts.
#[utoipa::path(
    get, path = "/v1/rounds/{round}", tag = "rounds", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id, e.g. `2027-primary`")),
    responses(
        (status = 200, description = "The round", body = RoundDetail),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_round(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<RoundDetail>, ApiError> {
    officer.require(Role::Viewer)?;
    Ok(Json(detail_of(&state, &round).await?))
}

/// open → closed: no more applications or withdrawals (round manager).
#[utoipa::path(
    post, path = "/v1/rounds/{round}/close", tag = "rounds", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    responses(
        (status = 200, description = "Closed", body = RoundDetail),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not open (`round-state`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn close_round(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<RoundDetail>, ApiError> {
    officer.require(Role::RoundManager)?;
    state.orchestrator.close(&round, &officer.name).await?;
    Ok(Json(detail_of(&state, &round).await?))
}

async fn verification_of(state: &AppState, round: &str) -> Result<Verification, ApiError> {
    Ok(state.verification(round).await?)
}

/// Starts verification of a closed round in the background (round manager):
/// evidence and a decision for every undecided application, retrying
/// pending ones; the round becomes `verified` when nothing is pending and no
/// review is open. Poll `GET` on the same path. Starting it while it runs
/// answers the running one; running it again after reviews are resolved
/// finishes the round's verification.
#[utoipa::path(
    post, path = "/v1/rounds/{round}/verify", tag = "rounds", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    request_body(content = Option<StartVerification>, description = "Optional; `{}` when empty"),
    responses(
        (status = 202, description = "Running", body = Verification,
            headers(("Location" = String, description = "/v1/rounds/{round}/verify"))),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not closed (`round-state`)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (an unknown field); `field` names it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn start_verification(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    officer.require(Role::RoundManager)?;
    let request: StartVerification = parse_json_or_empty(&headers, body)?;
    let info = state.orchestrator.round(&round).await?;
    if info.state != enrol_orchestrator::RoundState::Closed {
        return Err(RoundError::WrongState {
            round: info.id,
            state: info.state.to_string(),
            expected: "closed",
        }
        .into());
    }
    state.start_verification(&round, &officer.name, request.leave_reviews_unplaced);
    let body = verification_of(&state, &round).await?;
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/v1/rounds/{round}/verify")) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The round's verification: state, counts and the latest run's progress.
#[utoipa::path(
    get, path = "/v1/rounds/{round}/verify", tag = "rounds", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    responses(
        (status = 200, description = "Progress", body = Verification),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_verification(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<Verification>, ApiError> {
    officer.require(Role::Viewer)?;
    Ok(Json(verification_of(&state, &round).await?))
}

/// verified → allocated: reveals the round seed, computes lottery numbers
/// and assigns seats (round manager).
#[utoipa::path(
    post, path = "/v1/rounds/{round}/allocate", tag = "rounds", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    request_body(content = Option<crate::schema::AllocateRoundSchema>, description = "The seed reveal of a live round; empty for a round that took its seed whole"),
    responses(
        (status = 200, description = "Allocated", body = RoundDetail),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not verified (`round-state`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The seed does not match the commitment, or is missing; `field` names it", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn allocate_round(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RoundDetail>, ApiError> {
    officer.require(Role::RoundManager)?;
    let request: AllocateRound = parse_json_or_empty(&headers, body)?;
    let reveal = match (request.sealed_seed, request.public_draw) {
        (None, None) => None,
        (Some(sealed), Some(public)) => Some(SeedReveal { sealed, public }),
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "sealed_seed",
                "the public draw needs the sealed seed",
            ));
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "public_draw",
                "the sealed seed needs the public draw",
            ));
        }
    };
    state
        .orchestrator
        .allocate(&round, reveal, &officer.name)
        .await
        .map_err(|e| match e {
            RoundError::Seed(detail) => {
                let field = if detail.contains("public draw") {
                    "public_draw"
                } else {
                    "sealed_seed"
                };
                ApiError::invalid(field, detail)
            }
            other => other.into(),
        })?;
    Ok(Json(detail_of(&state, &round).await?))
}

/// allocated → published: results become visible to families (round manager).
#[utoipa::path(
    post, path = "/v1/rounds/{round}/publish", tag = "rounds", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    responses(
        (status = 200, description = "Published", body = RoundDetail),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not allocated (`round-state`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn publish_round(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<RoundDetail>, ApiError> {
    officer.require(Role::RoundManager)?;
    state.orchestrator.publish(&round, &officer.name).await?;
    Ok(Json(detail_of(&state, &round).await?))
}

/// A page of the round's applications, ascending id.
#[utoipa::path(
    get, path = "/v1/rounds/{round}/applications", tag = "officer applications", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("after" = Option<crate::schema::ApplicationIdSchema>, Query, description = "Start after this application id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "A page", body = ApplicationPage),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_applications(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    query: Params,
) -> Result<Json<ApplicationPage>, ApiError> {
    officer.require(Role::Viewer)?;
    let params = params(query)?;
    let limit = limit_of(&params)?;
    let after = params
        .get("after")
        .map(|a| application_id(a).map_err(|_| ApiError::invalid_parameter("after", "after must be an application id")))
        .transpose()?;
    let views = state
        .orchestrator
        .application_page(&round, after.as_deref(), limit)
        .await?;
    let next_after = (views.len() as u64 == limit)
        .then(|| views.last().map(|v| v.application_id.clone()))
        .flatten();
    Ok(Json(ApplicationPage {
        applications: views.into_iter().map(|v| ApplicationStatus::new(v, None)).collect(),
        next_after,
    }))
}

/// An application of the round, with its decision and seat.
#[utoipa::path(
    get, path = "/v1/rounds/{round}/applications/{application_id}", tag = "officer applications",
    security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application's id"),
    ),
    responses(
        (status = 200, description = "The application", body = OfficerApplication),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application in the round", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The application id is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_officer_application(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path((round, id)): Path<(String, String)>,
) -> Result<Json<OfficerApplication>, ApiError> {
    officer.require(Role::Viewer)?;
    let id = application_id(&id)?;
    let (application, view) = state.orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ApiError::NotFound {
            detail: format!("there is no application {id} in round {round:?}"),
        });
    }
    let reason = state.orchestrator.state_reason(&id).await?;
    let mut decision: Option<Decision> = state.orchestrator.decision(&id).await?.map(Into::into);
    if let Some(d) = decision.as_mut() {
        let why = state.orchestrator.explanations(&id).await?;
        d.why_not_better_tier = why.unwrap_or_default().into_iter().map(Into::into).collect();
    }
    let seat = state.orchestrator.seat(&id).await?.map(Into::into);
    Ok(Json(OfficerApplication {
        application,
        status: ApplicationStatus::new(view, reason),
        decision,
        seat,
    }))
}

/// Corrects a seat of a published round (round manager): recorded in the
/// audit log as `seat_corrected` with the seat before and after.
#[utoipa::path(
    post, path = "/v1/rounds/{round}/corrections", tag = "officer applications", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    request_body = crate::schema::SeatCorrectionSchema,
    responses(
        (status = 200, description = "The corrected seat", body = Seat),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application in the round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not published, or the correction is refused (no free seat, not eligible, …)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn correct_seat(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Seat>, ApiError> {
    officer.require(Role::RoundManager)?;
    let request: SeatCorrection = parse_json(&headers, body)?;
    if request.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "a correction needs a reason"));
    }
    let id = request.application_id.to_string();
    let (_, view) = state.orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ApiError::NotFound {
            detail: format!("there is no application {id} in round {round:?}"),
        });
    }
    let seat = state
        .orchestrator
        .correct_seat(&id, request.school_id.as_deref(), request.reason.trim(), &officer.name)
        .await?;
    Ok(Json(seat.into()))
}

/// Excludes an application from the round, with a reason (reviewer).
#[utoipa::path(
    post, path = "/v1/rounds/{round}/exclusions", tag = "officer applications", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    request_body = crate::schema::ExclusionSchema,
    responses(
        (status = 200, description = "Excluded", body = ApplicationStatus),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application in the round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is past closed, or the application is withdrawn or excluded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn exclude(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApplicationStatus>, ApiError> {
    officer.require(Role::Reviewer)?;
    let request: Exclusion = parse_json(&headers, body)?;
    if request.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "an exclusion needs a reason"));
    }
    let id = request.application_id.to_string();
    let (_, view) = state.orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ApiError::NotFound {
            detail: format!("there is no application {id} in round {round:?}"),
        });
    }
    let view = state
        .orchestrator
        .exclude(&id, request.reason.trim(), &officer.name)
        .await?;
    let reason = state.orchestrator.state_reason(&id).await?;
    Ok(Json(ApplicationStatus::new(view, reason)))
}

/// Applications waiting for an officer (人工审核), ascending id, with the reasons.
#[utoipa::path(
    get, path = "/v1/rounds/{round}/reviews", tag = "reviews", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    responses(
        (status = 200, description = "The queue", body = Vec<ReviewItem>),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn review_queue(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    officer.require(Role::Viewer)?;
    let queue = state.orchestrator.review_queue(&round).await?;
    Ok(Json(
        queue
            .into_iter()
            .map(|(view, decision)| ReviewItem {
                application: ApplicationStatus::new(view, None),
                decision: decision.into(),
            })
            .collect(),
    ))
}

/// Resolves a review while the round is closed (reviewer): `accept` decides
/// again with the facts the officer established; `reject` leaves it unplaced.
#[utoipa::path(
    post, path = "/v1/rounds/{round}/reviews/{application_id}", tag = "reviews", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application in review"),
    ),
    request_body = crate::schema::ResolveReviewSchema,
    responses(
        (status = 200, description = "Resolved: `accepted`, `rejected`, `pending` (a registry is down; verification retries it), or `decided` (still in review)", body = ApplicationStatus),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or round manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application in the round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not closed, or the application is not in review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn resolve_review(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path((round, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApplicationStatus>, ApiError> {
    officer.require(Role::Reviewer)?;
    let id = application_id(&id)?;
    let request: ResolveReview = parse_json(&headers, body)?;
    let text = |field: &str, value: Option<String>| match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::invalid(field, format!("{field} is required"))),
    };
    let resolution = match request.resolution {
        Resolution::Accept => {
            if request.reason.is_some() {
                return Err(ApiError::invalid("reason", "an acceptance takes a note, not a reason"));
            }
            ReviewResolution::Accept {
                facts: request.facts.unwrap_or_default(),
                note: text("note", request.note)?,
            }
        }
        Resolution::Reject => {
            if request.facts.is_some() || request.note.is_some() {
                let field = if request.facts.is_some() { "facts" } else { "note" };
                return Err(ApiError::invalid(field, "a rejection takes a reason only"));
            }
            ReviewResolution::Reject {
                reason: text("reason", request.reason)?,
            }
        }
    };
    let (_, view) = state.orchestrator.application(&id).await?;
    if view.round != round {
        return Err(ApiError::NotFound {
            detail: format!("there is no application {id} in round {round:?}"),
        });
    }
    let view = state
        .orchestrator
        .resolve_review(&id, resolution, &officer.name, &*state.evidence)
        .await?;
    let reason = state.orchestrator.state_reason(&id).await?;
    Ok(Json(ApplicationStatus::new(view, reason)))
}

/// Per-school figures: demand from the decisions; seats once allocated.
#[utoipa::path(
    get, path = "/v1/rounds/{round}/reports/schools", tag = "reports", security(("officer" = [])),
    params(("round" = String, Path, description = "The round's id")),
    responses(
        (status = 200, description = "One report per school of the round's stage, by school id", body = Vec<SchoolReport>),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Verification has not read the school catalogue yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn school_reports(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
) -> Result<Json<Vec<SchoolReport>>, ApiError> {
    officer.require(Role::Viewer)?;
    Ok(Json(
        state
            .orchestrator
            .school_reports(&round)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// The round's audit log, oldest first.
#[utoipa::path(
    get, path = "/v1/rounds/{round}/audit", tag = "reports", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("after" = Option<i64>, Query, description = "Start after this entry id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path(round): Path<String>,
    query: Params,
) -> Result<Json<AuditPage>, ApiError> {
    officer.require(Role::Viewer)?;
    let params = params(query)?;
    let limit = limit_of(&params)?;
    let after = params
        .get("after")
        .map(|a| {
            a.parse::<i64>()
                .map_err(|_| ApiError::invalid_parameter("after", "after must be an entry id"))
        })
        .transpose()?;
    let entries = state.orchestrator.audit_log(&round, after, limit).await?;
    let next_after = (entries.len() as u64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage {
        entries: entries.into_iter().map(Into::into).collect(),
        next_after,
    }))
}
