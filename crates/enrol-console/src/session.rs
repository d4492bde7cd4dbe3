//! Signed-in officers: a session per sign-in, kept in the server's memory,
//! named by a random id in an HttpOnly, SameSite=Strict cookie (Secure over
//! TLS) with an expiry; and a CSRF token per session that every form carries
//! and every POST must return.
//!
//! A restart signs everyone out: sessions are not stored, on purpose (a
//! session is a bearer secret; the database holds no secret of an officer).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use enrol_api::{Officer, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::Console;
use crate::error::ConsoleError;
use crate::i18n::Lang;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "enrol_session";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The language cookie's name (`zh` or `en`).
pub const LANG_COOKIE: &str = "enrol_lang";
/// Sessions kept at most; the oldest go first (a bound on memory).
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
struct Session {
    officer: Officer,
    csrf: String,
    expires: Instant,
}

/// The sessions of signed-in officers, by the SHA-256 of their id (the id
/// itself is never kept, like the API's tokens).
#[derive(Debug, Clone, Default)]
pub struct Sessions(Arc<Mutex<BTreeMap<[u8; 32], Session>>>);

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Sessions {
    /// Starts a session for `officer`; returns its id (the cookie's value).
    pub fn start(&self, officer: Officer, ttl: Duration) -> String {
        let id = random_hex();
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            digest(&id),
            Session {
                officer,
                csrf: random_hex(),
                expires: now + ttl,
            },
        );
        id
    }

    fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let key = digest(id);
        match map.get(&key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session `id`, if any.
    pub fn end(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&digest(id));
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn session_cookie(id: &str, ttl: Duration, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={id}; Path=/console; Max-Age={}; HttpOnly; SameSite=Strict{}",
        ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The language of a request: its cookie, else Chinese.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// A signed-in officer's request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub officer: Officer,
    pub csrf: String,
    pub lang: Lang,
    /// The path and query asked for (the language switch returns here).
    pub here: String,
}

impl Ctx {
    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), ConsoleError> {
        // Compared by digest: the time taken says nothing of how close a guess was.
        match sent {
            Some(token) if digest(token) == digest(&self.csrf) => Ok(()),
            _ => Err(ConsoleError::Csrf),
        }
    }

    /// Refuses an action the officer's role does not allow.
    pub fn require(&self, role: Role) -> Result<(), ConsoleError> {
        if self.officer.may(role) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    pub fn may(&self, role: Role) -> bool {
        self.officer.may(role)
    }
}

/// Only a path of the console itself is a place to return to (no open redirect).
pub(crate) fn safe_next(next: &str) -> &str {
    let ok = next.starts_with("/console")
        && !next.contains("//")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic());
    if ok { next } else { "/console/rounds" }
}

impl FromRequestParts<Console> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Self::Rejection> {
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        let session = cookie(&parts.headers, SESSION_COOKIE).and_then(|id| console.sessions.get(id));
        let Some(session) = session else {
            // A form posted after expiry cannot be replayed: sign in, then start again.
            let next = if parts.method == axum::http::Method::GET {
                here
            } else {
                "/console/rounds".to_owned()
            };
            let target = format!("/console/login?next={}", percent_encode(safe_next(&next)));
            return Err(Redirect::to(&target).into_response());
        };
        Ok(Ctx {
            officer: session.officer,
            csrf: session.csrf,
            lang: lang_of(&parts.headers),
            here,
        })
    }
}

/// Names the signed-in officer on the response, for the request's log line
/// (`enrol_api::observed`), as the API's authentication does for a token.
pub(crate) async fn attribute(
    axum::extract::State(console): axum::extract::State<Console>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let officer = cookie(request.headers(), SESSION_COOKIE)
        .and_then(|id| console.sessions.get(id))
        .map(|s| s.officer.name);
    let mut response = next.run(request).await;
    if let Some(name) = officer {
        enrol_api::attribute_to_officer(&mut response, &name);
    }
    response
}

/// Percent-encodes a query value.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Headers on every console answer: nothing may load from elsewhere, no
/// script may run, no other site may frame or post to the console, and no
/// page holding personal data is cached.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_returned_to() {
        assert_eq!(
            safe_next("/console/rounds/2027-primary"),
            "/console/rounds/2027-primary"
        );
        assert_eq!(safe_next("https://evil.example/"), "/console/rounds");
        assert_eq!(safe_next("//evil.example/console"), "/console/rounds");
        assert_eq!(safe_next("/console//evil"), "/console/rounds");
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_expires() {
        let c = session_cookie("abc", Duration::from_secs(60), true);
        assert_eq!(
            c,
            "enrol_session=abc; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!session_cookie("abc", Duration::from_secs(60), false).contains("Secure"));
    }

    #[test]
    fn an_expired_session_is_gone() {
        let sessions = Sessions::default();
        let officer = Officer {
            name: "wang.fang".into(),
            role: Role::Viewer,
        };
        let live = sessions.start(officer.clone(), Duration::from_secs(60));
        let dead = sessions.start(officer, Duration::ZERO);
        assert!(sessions.get(&live).is_some());
        assert!(sessions.get(&dead).is_none());
        sessions.end(&live);
        assert!(sessions.get(&live).is_none());
    }
}
