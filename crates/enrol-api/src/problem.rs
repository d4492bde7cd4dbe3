//! Refusals as RFC 9457 problem details (`application/problem+json`), and the
//! one place where the engine's errors become HTTP status codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use enrol_orchestrator::RoundError;
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every refusal.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every problem `type`: tag URIs (RFC 4151), names rather than
/// pages to fetch; docs/api.md lists them all.
pub const PROBLEM_TYPE_PREFIX: &str = "tag:enrol.example,2027:problem:";

/// A refusal (RFC 9457). `field` and `pointer` name the part of the request at
/// fault; nothing else about stored data is told to a caller who may not see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// `tag:enrol.example,2027:problem:<kind>`; see docs/api.md.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The field at fault, as a path such as `child_id` or `guardian_ids[1]`;
    /// a header's name, a path or query parameter's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The field at fault as a JSON Pointer (RFC 6901) into the body, e.g. `/guardian_ids/1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// For a child that already has a live application: its id, told only to
    /// a citizen who may read that application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_application_id: Option<String>,
}

/// Why the API refuses or fails a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the body is not JSON at all.
    Malformed { detail: String },
    /// 422: a well-formed request with an invalid field.
    InvalidField {
        field: String,
        pointer: Option<String>,
        detail: String,
    },
    /// 413: the body is over the limit.
    TooLarge { limit: Option<usize> },
    /// 415: the body is not JSON by its `Content-Type`.
    UnsupportedMediaType { found: String },
    /// 401: no valid credentials; says which header, nothing more.
    Unauthenticated { scheme: AuthScheme, detail: &'static str },
    /// 403: valid credentials, not allowed; says nothing more.
    Forbidden,
    /// 404.
    NotFound { detail: String },
    /// 409: the request conflicts with the state of the round or application.
    Conflict {
        kind: &'static str,
        title: &'static str,
        detail: String,
        existing_application_id: Option<String>,
    },
    /// 429: over a rate limit; `Retry-After` says when to come back (seconds).
    TooManyRequests { retry_after: u64 },
    /// 503: a registry the request needs cannot be reached.
    Unavailable { detail: String },
    /// 500: a fault of the engine; the detail is logged, not told.
    Internal { detail: String },
}

/// Which credentials a 401 asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `X-Api-Key` and `X-Citizen-Id`.
    App,
    /// `Authorization: Bearer`.
    Officer,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        let field = field.into();
        let pointer = Some(format!("/{}", field.replace('~', "~0").replace('/', "~1")));
        ApiError::InvalidField {
            field,
            pointer,
            detail: detail.into(),
        }
    }

    /// A path or query parameter (not in the body: no pointer).
    pub fn invalid_parameter(name: &str, detail: impl Into<String>) -> ApiError {
        ApiError::InvalidField {
            field: name.to_owned(),
            pointer: None,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed { .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status().as_u16();
        let base = |kind: &str, title: &str, detail: Option<String>| Problem {
            kind: format!("{PROBLEM_TYPE_PREFIX}{kind}"),
            title: title.to_owned(),
            status,
            detail,
            field: None,
            pointer: None,
            existing_application_id: None,
        };
        match self {
            ApiError::Malformed { detail } => {
                base("malformed-body", "The body is not valid JSON", Some(detail.clone()))
            }
            ApiError::InvalidField { field, pointer, detail } => Problem {
                field: Some(field.clone()),
                pointer: pointer.clone(),
                ..base(
                    "invalid-field",
                    "A field of the request is invalid",
                    Some(detail.clone()),
                )
            },
            ApiError::TooLarge { limit } => base(
                "body-too-large",
                "The body is too large",
                limit.map(|l| format!("the body must not exceed {l} bytes")),
            ),
            ApiError::UnsupportedMediaType { found } => base(
                "unsupported-media-type",
                "The body must be JSON",
                Some(format!("Content-Type {found:?} is not application/json")),
            ),
            ApiError::Unauthenticated { detail, .. } => {
                base("unauthenticated", "Authentication required", Some((*detail).to_owned()))
            }
            ApiError::Forbidden => base("forbidden", "Not allowed", None),
            ApiError::NotFound { detail } => base("not-found", "Not found", Some(detail.clone())),
            ApiError::Conflict {
                kind,
                title,
                detail,
                existing_application_id,
            } => Problem {
                existing_application_id: existing_application_id.clone(),
                ..base(kind, title, Some(detail.clone()))
            },
            ApiError::TooManyRequests { retry_after } => base(
                "too-many-requests",
                "Too many requests",
                Some(format!(
                    "over the rate limit: come back in {retry_after} s (Retry-After)"
                )),
            ),
            ApiError::Unavailable { detail } => base(
                "unavailable",
                "A registry the engine needs cannot be reached",
                Some(detail.clone()),
            ),
            ApiError::Internal { .. } => base("internal", "The engine failed; the fault is logged", None),
        }
    }

    /// The engine's own refusals and faults. `UnknownRound` is a 404 here: it
    /// names a round in the path. A submission names its round in the body
    /// and maps it to 422 itself.
    pub fn from_round(err: RoundError) -> ApiError {
        match err {
            RoundError::UnknownRound(round) => ApiError::NotFound {
                detail: format!("there is no round {round:?}"),
            },
            RoundError::UnknownApplication(id) => ApiError::NotFound {
                detail: format!("there is no application {id}"),
            },
            RoundError::RoundExists(round) => ApiError::Conflict {
                kind: "round-exists",
                title: "The round already exists",
                detail: format!("round {round:?} already exists"),
                existing_application_id: None,
            },
            err @ RoundError::WrongState { .. } => ApiError::Conflict {
                kind: "round-state",
                title: "The round is not in a state that allows this",
                detail: err.to_string(),
                existing_application_id: None,
            },
            err @ RoundError::ApplicationState { .. } => ApiError::Conflict {
                kind: "application-state",
                title: "The application is not in a state that allows this",
                detail: err.to_string(),
                existing_application_id: None,
            },
            err @ RoundError::ApplicationIdConflict { .. } => ApiError::Conflict {
                kind: "application-id-conflict",
                title: "This application id was already used with other content",
                detail: err.to_string(),
                existing_application_id: None,
            },
            RoundError::ChildConflict { round, .. } => ApiError::Conflict {
                kind: "child-conflict",
                title: "The child already has a live application in this round",
                detail: format!("the child already has a live application in round {round}"),
                existing_application_id: None,
            },
            err @ RoundError::NotVerifiable { .. } => ApiError::Conflict {
                kind: "not-verifiable",
                title: "The round cannot be verified yet",
                detail: err.to_string(),
                existing_application_id: None,
            },
            err @ RoundError::Correction(_) => ApiError::Conflict {
                kind: "correction-refused",
                title: "The correction is refused",
                detail: err.to_string(),
                existing_application_id: None,
            },
            RoundError::Policy(err) => ApiError::invalid("policy_toml", err.to_string()),
            // The caller maps seed errors to the field it took the seed from.
            RoundError::Seed(detail) => ApiError::invalid("seed", detail),
            err @ RoundError::NoCatalogue { .. } => ApiError::Conflict {
                kind: "round-state",
                title: "The round is not in a state that allows this",
                detail: err.to_string(),
                existing_application_id: None,
            },
            err @ RoundError::Catalogue(_) => ApiError::Unavailable {
                detail: err.to_string(),
            },
            err @ (RoundError::Allocation(_) | RoundError::Store(_) | RoundError::Corrupt(_)) => ApiError::Internal {
                detail: err.to_string(),
            },
        }
    }
}

impl From<RoundError> for ApiError {
    fn from(err: RoundError) -> Self {
        ApiError::from_round(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal { detail } = &self {
            tracing::error!(%detail, "request failed");
        }
        let mut response = problem_response(self.status(), &self.problem());
        if let ApiError::Unauthenticated { scheme, .. } = &self {
            let challenge = match scheme {
                AuthScheme::App => "ApiKey realm=\"enrol\", header=\"X-Api-Key\"",
                AuthScheme::Officer => "Bearer realm=\"enrol\"",
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// A problem as a response with the problem media type.
pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).expect("a problem always serialises");
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// Turns any bare error response (axum's 404, 405, tower-http's 413) into a
/// problem, so that every refusal has the same shape.
pub async fn problems_everywhere(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge { limit: None },
        StatusCode::NOT_FOUND => ApiError::NotFound {
            detail: "no such resource".to_owned(),
        },
        _ => {
            let (mut parts, _) = response.into_parts();
            let problem = Problem {
                kind: "about:blank".to_owned(),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: None,
                field: None,
                pointer: None,
                existing_application_id: None,
            };
            let fresh = problem_response(status, &problem);
            parts.headers.remove(header::CONTENT_LENGTH);
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
            return Response::from_parts(parts, fresh.into_body());
        }
    };
    let (mut parts, _) = response.into_parts();
    let fresh = error.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, fresh.into_body())
}
