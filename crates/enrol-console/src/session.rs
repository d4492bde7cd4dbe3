//! Signed-in officers: a session per sign-in, named by a random id in an
//! HttpOnly, SameSite=Strict cookie (Secure over TLS) with an expiry; and a
//! CSRF token per session that every form carries and every POST must return.
//!
//! Sessions live in the database (`enrol_store::sessions`), because a bureau
//! runs several `enrol serve` processes behind one gateway on one database:
//! a sign-in on one process must be accepted by the next, a sign-out on one
//! must be refused by all, and a restart must not sign everyone out. What is
//! stored is only what cannot sign anyone in:
//!
//! - the SHA-256 of the session id, never the id: the id is the cookie's
//!   value, a bearer secret, so a copy of the database gives no session;
//! - the officer's name, not their role: the role is read from the server's
//!   configured officers on each request, so an officer removed from the
//!   configuration (or given a lesser role) loses what they had at once;
//! - when the session started and when it expires; an expired row is
//!   refused, and purged (at the next sign-in, or when its cookie comes back).
//!
//! The CSRF token is not stored either: it is the SHA-256 of the session id
//! under a domain-separating prefix, so it is per session, the same on every
//! process, and cannot be computed without the cookie nor turned back into it.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, TimeDelta, Utc};
use enrol_api::{Engine, Officer, Role};
use enrol_store::StoreError;
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
/// What the CSRF token's digest covers before the session id, so that it is
/// never the digest the database holds.
const CSRF_DOMAIN: &[u8] = b"enrol-console csrf v1\0";

/// A live session: its officer as configured now, and its CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub officer: Officer,
    pub csrf: String,
}

/// The sessions of signed-in officers, in the engine's database, named by
/// the SHA-256 of their id (the id itself is never kept, like the API's
/// tokens). Every process on the database sees the same sessions.
#[derive(Debug, Clone)]
pub struct Sessions {
    engine: Engine,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// What the database names a session by: the SHA-256 of its id, in hex.
fn id_digest(id: &str) -> String {
    hex::encode(digest(id))
}

/// The session's CSRF token, derived from its id.
fn csrf_of(id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CSRF_DOMAIN);
    hasher.update(id.as_bytes());
    hex::encode(hasher.finalize())
}

/// `now + ttl`, saturating.
fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Sessions {
    /// The sessions of `engine`'s database.
    pub fn new(engine: Engine) -> Sessions {
        Sessions { engine }
    }

    fn store(&self) -> &enrol_store::Store {
        self.engine.orchestrator().store()
    }

    /// Starts a session for `officer`; returns its id (the cookie's value).
    pub async fn start(&self, officer: &Officer, ttl: Duration) -> Result<String, StoreError> {
        let id = random_hex();
        let now = Utc::now();
        enrol_store::sessions::start(
            self.store().connection(),
            &id_digest(&id),
            &officer.name,
            now,
            expiry(now, ttl),
        )
        .await?;
        Ok(id)
    }

    /// The live session `id`, with its officer as the configuration names
    /// them now; `None` if it ended, expired, or its officer is no longer
    /// configured.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let name = enrol_store::sessions::officer(self.store().connection(), &id_digest(id), Utc::now()).await?;
        Ok(name
            .and_then(|name| self.engine.officer_named(&name))
            .map(|officer| Session {
                officer,
                csrf: csrf_of(id),
            }))
    }

    /// Ends the session `id`, if any, for every process.
    pub async fn end(&self, id: &str) -> Result<(), StoreError> {
        enrol_store::sessions::end(self.store().connection(), &id_digest(id)).await
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
        let session = match parts.extensions.get::<Resolved>() {
            Some(Resolved(session)) => session.clone(),
            None => resolve(console, &parts.headers)
                .await
                .map_err(IntoResponse::into_response)?,
        };
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

/// The request's session, looked up once (by [`attribute`]) for its handler.
#[derive(Debug, Clone)]
struct Resolved(Option<Session>);

/// The live session the request's cookie names, if any.
async fn resolve(console: &Console, headers: &HeaderMap) -> Result<Option<Session>, ConsoleError> {
    match cookie(headers, SESSION_COOKIE) {
        Some(id) => Ok(console.sessions.get(id).await?),
        None => Ok(None),
    }
}

/// Looks the request's session up (once: the handler's [`Ctx`] reuses it)
/// and names the signed-in officer on the response, for the request's log
/// line (`enrol_api::observed`), as the API's authentication does for a token.
pub(crate) async fn attribute(
    axum::extract::State(console): axum::extract::State<Console>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let session = match resolve(&console, request.headers()).await {
        Ok(session) => session,
        Err(e) => return e.into_response(),
    };
    let officer = session.as_ref().map(|s| s.officer.name.clone());
    request.extensions_mut().insert(Resolved(session));
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
    fn the_csrf_token_is_per_session_and_not_the_stored_digest() {
        let (a, b) = (random_hex(), random_hex());
        assert_ne!(a, b);
        assert_eq!(csrf_of(&a), csrf_of(&a), "the same on every process");
        assert_ne!(csrf_of(&a), csrf_of(&b));
        assert_ne!(csrf_of(&a), id_digest(&a));
        assert_eq!(csrf_of(&a).len(), 64);
    }

    #[test]
    fn a_session_expires_after_its_ttl_and_never_overflows() {
        let now = Utc::now();
        assert_eq!(expiry(now, Duration::from_secs(60)), now + TimeDelta::seconds(60));
        assert_eq!(expiry(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
