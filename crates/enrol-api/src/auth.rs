//! Authentication: the upstream app's key with its assertion of the
//! signed-in citizen, and the officers' bearer tokens with their roles.
//!
//! Secrets are looked up by their SHA-256, so the time a lookup takes says
//! nothing about how close a guess came to a real key.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use enrol_domain::NationalId;
use sha2::{Digest, Sha256};

use crate::config::{ApiConfig, Role};
use crate::observe::Actor;
use crate::problem::{ApiError, AuthScheme};

/// Header carrying the upstream app's key.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Header carrying the app's assertion of the signed-in citizen's national ID.
pub const CITIZEN_HEADER: &str = "x-citizen-id";

type Digest32 = [u8; 32];

fn digest(secret: &str) -> Digest32 {
    Sha256::digest(secret.as_bytes()).into()
}

/// The credentials the server accepts, indexed by digest.
#[derive(Debug, Clone)]
pub struct Credentials {
    apps: BTreeMap<Digest32, String>,
    officers: BTreeMap<Digest32, (String, Role)>,
}

impl Credentials {
    pub fn new(config: &ApiConfig) -> Credentials {
        Credentials {
            apps: config
                .app_keys
                .iter()
                .map(|(k, name)| (digest(k), name.clone()))
                .collect(),
            officers: config
                .officer_tokens
                .iter()
                .map(|(t, who)| (digest(t), who.clone()))
                .collect(),
        }
    }
}

impl Credentials {
    /// The officer whose token this is.
    pub fn officer(&self, token: &str) -> Option<Officer> {
        self.officers.get(&digest(token)).map(|(name, role)| Officer {
            name: name.clone(),
            role: *role,
        })
    }

    /// The configured officer of this name, with the least role any of
    /// their tokens grants (a name may hold several tokens); `None` once no
    /// token names them. A console session is resolved by name on each
    /// request, so it never carries more than the configuration gives now.
    pub fn officer_named(&self, name: &str) -> Option<Officer> {
        self.officers
            .values()
            .filter(|(n, _)| n == name)
            .map(|(_, role)| *role)
            .min()
            .map(|role| Officer {
                name: name.to_owned(),
                role,
            })
    }
}

/// A family's request, as the upstream app vouches for it.
#[derive(Debug, Clone)]
pub struct Citizen {
    /// The app's configured name.
    pub app: String,
    /// The signed-in citizen (`X-Citizen-Id`).
    pub id: NationalId,
}

impl Citizen {
    /// Who did it, for the audit log: the app and the citizen it vouched for.
    pub fn actor(&self) -> String {
        format!("app:{}:{}", self.app, self.id)
    }
}

/// An officer, as a request or a console session names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub name: String,
    pub role: Role,
}

impl Officer {
    /// Whether the officer's role covers `needed`.
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }

    /// 403 unless the officer's role covers `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Middleware of the app endpoints: a known `X-Api-Key` and a valid
/// `X-Citizen-Id`, or 401.
pub async fn require_app(State(credentials): State<Arc<Credentials>>, mut request: Request, next: Next) -> Response {
    let refuse = |detail| {
        ApiError::Unauthenticated {
            scheme: AuthScheme::App,
            detail,
        }
        .into_response()
    };
    let headers = request.headers();
    let Some(app) = header(headers, API_KEY_HEADER).and_then(|key| credentials.apps.get(&digest(key))) else {
        return refuse("a known X-Api-Key is required");
    };
    let Some(id) = header(headers, CITIZEN_HEADER).and_then(|id| NationalId::parse(id.trim()).ok()) else {
        return refuse("X-Citizen-Id must carry the signed-in citizen's national ID");
    };
    let citizen = Citizen { app: app.clone(), id };
    request.extensions_mut().insert(citizen);
    let mut response = next.run(request).await;
    // For the request's log line: the app's name, never the citizen's ID.
    response.extensions_mut().insert(Actor::App(app.clone()));
    response
}

/// Middleware of the officer endpoints: a known bearer token, or 401.
pub async fn require_officer(
    State(credentials): State<Arc<Credentials>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = header(request.headers(), "authorization").and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let Some(officer) = token.and_then(|t| credentials.officer(t)) else {
        return ApiError::Unauthenticated {
            scheme: AuthScheme::Officer,
            detail: "a known bearer token is required",
        }
        .into_response();
    };
    let name = officer.name.clone();
    request.extensions_mut().insert(officer);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(Actor::Officer(name));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_officer_named_has_the_least_role_of_their_tokens() {
        let mut config = ApiConfig::empty();
        config
            .add_officer("wang.fang", Role::RoundManager, "manager-token-0123456789")
            .unwrap();
        config
            .add_officer("wang.fang", Role::Viewer, "viewer-token-0123456789")
            .unwrap();
        config
            .add_officer("zhao.lei", Role::Reviewer, "reviewer-token-0123456789")
            .unwrap();
        let credentials = Credentials::new(&config);
        let named = |name| credentials.officer_named(name).map(|o| o.role);
        assert_eq!(named("wang.fang"), Some(Role::Viewer));
        assert_eq!(named("zhao.lei"), Some(Role::Reviewer));
        assert_eq!(named("li.na"), None, "not configured: no officer");
    }
}
