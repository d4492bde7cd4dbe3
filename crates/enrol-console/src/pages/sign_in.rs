//! Signing in with an officer's token, signing out, and the language switch.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Fields, see_other};
use crate::Console;
use crate::error::ConsoleError;
use crate::i18n::Lang;
use crate::layout::bare_page;
use crate::session::{LANG_COOKIE, SESSION_COOKIE, cleared_cookie, cookie, lang_of, safe_next, session_cookie};

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `/console/`: the rounds, or the sign-in page.
pub async fn home(_ctx: crate::session::Ctx) -> Redirect {
    Redirect::to("/console/rounds")
}

fn login_page(lang: Lang, next: &str, failed: bool) -> Markup {
    bare_page(
        lang.pick("登录 · 义务教育招生管理", "Sign in · School enrolment console"),
        html! {
            main.narrow.login {
                h1 { (lang.pick("义务教育招生管理", "School enrolment console")) }
                p.secondary { (lang.pick("请使用分配给您的令牌登录。", "Sign in with the token you were given.")) }
                @if failed {
                    p.error role="alert" { (lang.pick("令牌无效。", "That token is not valid.")) }
                }
                form method="post" action="/console/login" {
                    input type="hidden" name="next" value=(next);
                    label for="token" { (lang.pick("令牌", "Token")) }
                    input #token type="password" name="token" autocomplete="current-password" required autofocus;
                    button type="submit" { (lang.pick("登录", "Sign in")) }
                }
                p { a href={ "/console/lang?set=" (if lang == Lang::Zh { "en" } else { "zh" }) "&next=/console/login" } {
                    (if lang == Lang::Zh { "English" } else { "中文" })
                } }
            }
        },
    )
}

/// The sign-in form.
pub async fn form(headers: HeaderMap, Query(next): Query<Next>) -> Markup {
    login_page(lang_of(&headers), safe_next(next.next.as_deref().unwrap_or("")), false)
}

/// A form posted from another site is refused: its `Origin` is not ours.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // not sent: not a cross-site form post by a modern browser
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

/// Signs in: a known token starts a session.
pub async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(fields);
    let lang = lang_of(&headers);
    let next = safe_next(fields.get("next").unwrap_or("")).to_owned();
    if !same_origin(&headers) {
        return ConsoleError::Csrf.into_response();
    }
    let Some(officer) = fields.get("token").and_then(|t| console.engine.officer(t)) else {
        return (StatusCode::UNAUTHORIZED, login_page(lang, &next, true)).into_response();
    };
    let id = match console.sessions.start(&officer, console.options.session_ttl).await {
        Ok(id) => id,
        Err(e) => return ConsoleError::from(e).into_response(),
    };
    tracing::info!(officer = %officer.name, "console sign-in");
    let cookie = session_cookie(&id, console.options.session_ttl, console.options.secure_cookies);
    let mut response = see_other(&next);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Signs out: the session ends on every process, and its cookie in the browser.
pub async fn sign_out(
    State(console): State<Console>,
    ctx: crate::session::Ctx,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    Fields(fields).check(&ctx)?;
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        console.sessions.end(id).await?;
    }
    let mut response = see_other("/console/login");
    if let Ok(value) = HeaderValue::from_str(&cleared_cookie(console.options.secure_cookies)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct Switch {
    set: String,
    next: Option<String>,
}

/// Switches the language and goes back to the page.
pub async fn switch_language(State(console): State<Console>, Query(switch): Query<Switch>) -> Response {
    let code = if switch.set == "en" { "en" } else { "zh" };
    let mut response = see_other(safe_next(switch.next.as_deref().unwrap_or("")));
    let cookie = format!(
        "{LANG_COOKIE}={code}; Path=/console; Max-Age=31536000; SameSite=Strict{}",
        if console.options.secure_cookies { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
