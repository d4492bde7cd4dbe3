//! The app endpoints: what the upstream government app calls on behalf of a
//! signed-in citizen. A citizen submits only as the applicant, and reads or
//! withdraws only applications that name them as applicant or guardian.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use enrol_domain::Application;
use enrol_orchestrator::{ApplicationState, ApplicationView, RoundError, RoundState, SubmitOutcome};

use crate::auth::Citizen;
use crate::body::parse_json;
use crate::model::{AboveSeat, ApplicationResult, ApplicationStatus, Decision, LifecycleState, Route};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::validate::check_application;

/// The canonical form of an application id from a path: lower-case hyphenated UUID.
pub(crate) fn application_id(raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::invalid_parameter("application_id", format!("{raw:?} is not a UUID")))
}

/// The application, if the citizen may see it. An unknown id and another
/// family's id get the same 404, word for word: the answer must not tell
/// whether an application exists.
async fn own_application(
    state: &AppState,
    citizen: &Citizen,
    raw_id: &str,
) -> Result<(Application, ApplicationView), ApiError> {
    let id = application_id(raw_id)?;
    let not_found = || ApiError::NotFound {
        detail: format!("there is no application {id} of yours"),
    };
    let (app, view) = match state.orchestrator.application(&id).await {
        Ok(found) => found,
        Err(RoundError::UnknownApplication(_)) => return Err(not_found()),
        Err(other) => return Err(other.into()),
    };
    if !app.is_family_member(&citizen.id) {
        return Err(not_found());
    }
    Ok((app, view))
}

async fn status_of(state: &AppState, view: ApplicationView) -> Result<ApplicationStatus, ApiError> {
    let reason = match view.state {
        ApplicationState::Excluded | ApplicationState::Rejected | ApplicationState::Withdrawn => {
            state.orchestrator.state_reason(&view.application_id).await?
        }
        _ => None,
    };
    Ok(ApplicationStatus::new(view, reason))
}

/// Submits an application (formats.md).
///
/// Idempotent on `application_id`: the same id with the same content (equal
/// as JSON values) answers 200 with the same application; other content
/// under that id is a 409. A child has one live application per round;
/// a parent's application supersedes a non-parent's (parents first).
#[utoipa::path(
    post,
    path = "/v1/applications",
    tag = "applications",
    request_body(content = crate::schema::ApplicationSchema, content_type = "application/json"),
    security(("app_key" = [], "citizen_id" = [])),
    responses(
        (status = 201, description = "Stored", body = ApplicationStatus,
            headers(("Location" = String, description = "/v1/applications/{application_id}"))),
        (status = 200, description = "The same application was already stored; answered the same way", body = ApplicationStatus),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No known X-Api-Key or no valid X-Citizen-Id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The citizen is not the applicant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id was used with other content (`application-id-conflict`), the child has another live application that stands (`child-conflict`: a parent named on the birth certificate supersedes a non-parent's application, otherwise the first stands; the refusal names nothing the citizen may not read), or the round is not open (`round-state`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON by its Content-Type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit of the app or of the citizen; `Retry-After` says when to come back", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (a wrong checksum, an unknown round, a missing or unknown field, over a cap: at most 4 distinct `guardian_ids`, 8 distinct `sibling_ids`, 20 distinct `choices`; `consent_id` 1 to 64 visible ASCII characters); `field` names it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    Extension(citizen): Extension<Citizen>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let app: Application = parse_json(&headers, body)?;
    check_application(&app)?;
    if app.applicant_id != citizen.id {
        return Err(ApiError::Forbidden);
    }
    let outcome = state
        .orchestrator
        .submit(&app, &*state.evidence, &citizen.actor())
        .await
        .map_err(|err| match err {
            RoundError::UnknownRound(round) => ApiError::invalid("round", format!("there is no round {round:?}")),
            RoundError::ChildConflict {
                round,
                existing_id,
                existing_family,
                ..
            } => {
                // Only a citizen who may read the first application learns its id.
                let may_read = existing_family.iter().any(|g| g == citizen.id.as_str());
                ApiError::Conflict {
                    kind: "child-conflict",
                    title: "The child already has a live application in this round",
                    detail: format!("the child already has a live application in round {round}"),
                    existing_application_id: may_read.then_some(existing_id),
                }
            }
            other => ApiError::from(other),
        })?;
    let (status, view) = match outcome {
        SubmitOutcome::Created(view) => (StatusCode::CREATED, view),
        SubmitOutcome::Existing(view) => (StatusCode::OK, view),
    };
    let location = format!("/v1/applications/{}", view.application_id);
    let body = status_of(&state, view).await?;
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Where an application stands in its lifecycle (formats.md).
#[utoipa::path(
    get,
    path = "/v1/applications/{application_id}",
    tag = "applications",
    params(("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application's id (a UUID)")),
    security(("app_key" = [], "citizen_id" = [])),
    responses(
        (status = 200, description = "The application's state", body = ApplicationStatus),
        (status = 401, description = "No known X-Api-Key or no valid X-Citizen-Id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application of the citizen's family: an unknown id and another family's id answer alike", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit of the app or of the citizen; `Retry-After` says when to come back", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_application(
    State(state): State<AppState>,
    Extension(citizen): Extension<Citizen>,
    Path(id): Path<String>,
) -> Result<Json<ApplicationStatus>, ApiError> {
    let (_, view) = own_application(&state, &citizen, &id).await?;
    Ok(Json(status_of(&state, view).await?))
}

/// Withdraws an application while its round is open. Withdrawing a
/// withdrawn application answers its state again.
#[utoipa::path(
    delete,
    path = "/v1/applications/{application_id}",
    tag = "applications",
    params(("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application's id (a UUID)")),
    security(("app_key" = [], "citizen_id" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationStatus),
        (status = 401, description = "No known X-Api-Key or no valid X-Citizen-Id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application of the citizen's family: an unknown id and another family's id answer alike", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not open (`round-state`), or an officer excluded the application (`application-state`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit of the app or of the citizen; `Retry-After` says when to come back", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    Extension(citizen): Extension<Citizen>,
    Path(id): Path<String>,
) -> Result<Json<ApplicationStatus>, ApiError> {
    let (_, view) = own_application(&state, &citizen, &id).await?;
    let view = match view.state {
        ApplicationState::Withdrawn => view,
        // An officer's exclusion stands; the family cannot turn it into a withdrawal.
        ApplicationState::Excluded => {
            return Err(ApiError::from(RoundError::ApplicationState {
                id: view.application_id,
                state: "excluded".to_owned(),
                action: "withdrawal",
            }));
        }
        _ => {
            state
                .orchestrator
                .withdraw(&view.application_id, &citizen.actor())
                .await?
        }
    };
    Ok(Json(status_of(&state, view).await?))
}

/// The decision with its reasons, once decided, and why the child does not
/// hold a better tier at each school. The lottery number appears once the
/// round is allocated.
#[utoipa::path(
    get,
    path = "/v1/applications/{application_id}/decision",
    tag = "applications",
    params(("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application's id (a UUID)")),
    security(("app_key" = [], "citizen_id" = [])),
    responses(
        (status = 200, description = "The decision (formats.md)", body = Decision),
        (status = 401, description = "No known X-Api-Key or no valid X-Citizen-Id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application of the citizen's family: an unknown id and another family's id answer alike", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not decided yet (`not-decided`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit of the app or of the citizen; `Retry-After` says when to come back", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_decision(
    State(state): State<AppState>,
    Extension(citizen): Extension<Citizen>,
    Path(id): Path<String>,
) -> Result<Json<Decision>, ApiError> {
    let (app, view) = own_application(&state, &citizen, &id).await?;
    let Some(mut decision) = state.orchestrator.decision(&view.application_id).await? else {
        return Err(ApiError::Conflict {
            kind: "not-decided",
            title: "The application is not decided yet",
            detail: format!("the application is {}", view.state),
            existing_application_id: None,
        });
    };
    let round = state.orchestrator.round(app.round.as_str()).await?;
    if round.state < RoundState::Allocated {
        decision.lottery = None;
    }
    let why = state.orchestrator.explanations(&view.application_id).await?;
    let mut decision: Decision = decision.into();
    decision.why_not_better_tier = why.unwrap_or_default().into_iter().map(Into::into).collect();
    Ok(Json(decision))
}

/// The seat, once the round is published.
#[utoipa::path(
    get,
    path = "/v1/applications/{application_id}/result",
    tag = "applications",
    params(("application_id" = crate::schema::ApplicationIdSchema, Path, description = "The application's id (a UUID)")),
    security(("app_key" = [], "citizen_id" = [])),
    responses(
        (status = 200, description = "The seat, or none", body = ApplicationResult),
        (status = 401, description = "No known X-Api-Key or no valid X-Citizen-Id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application of the citizen's family: an unknown id and another family's id answer alike", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not published yet (`not-published`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit of the app or of the citizen; `Retry-After` says when to come back", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_result(
    State(state): State<AppState>,
    Extension(citizen): Extension<Citizen>,
    Path(id): Path<String>,
) -> Result<Json<ApplicationResult>, ApiError> {
    let (app, view) = own_application(&state, &citizen, &id).await?;
    let round = state.orchestrator.round(app.round.as_str()).await?;
    if round.state != RoundState::Published {
        return Err(ApiError::Conflict {
            kind: "not-published",
            title: "The round's results are not published yet",
            detail: format!("round {} is {}", round.id, round.state),
            existing_application_id: None,
        });
    }
    let seat = state.orchestrator.seat(&view.application_id).await?;
    let schools_above_seat: Vec<AboveSeat> = state
        .orchestrator
        .above_seat(&view.application_id)
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    let state: LifecycleState = view.state.into();
    Ok(Json(match seat {
        Some(seat) => ApplicationResult {
            application_id: view.application_id,
            round: view.round,
            child_id: view.child_id,
            state,
            route: crate::model::Seat::from(seat.clone()).route,
            school_id: seat.school_id,
            choice_rank: seat.choice_rank,
            priority: seat.priority,
            schools_above_seat,
        },
        None => ApplicationResult {
            application_id: view.application_id,
            round: view.round,
            child_id: view.child_id,
            state,
            school_id: None,
            route: Route::None,
            choice_rank: None,
            priority: None,
            schools_above_seat,
        },
    }))
}
