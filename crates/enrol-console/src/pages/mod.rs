//! The console's pages, one module per part of the round's life.

pub mod access;
pub mod answers;
pub mod ceremony;
pub mod dashboard;
pub mod logs;
pub mod reports;
pub mod review;
pub mod rounds;
pub mod sign_in;

use axum::response::{IntoResponse, Redirect, Response};

use crate::session::{CSRF_FIELD, Ctx, percent_encode};

/// A submitted form's fields, in order (a name may repeat).
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `name`, trimmed, blanks left out.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Refuses the form unless it carries the session's CSRF token.
    pub fn check(&self, ctx: &Ctx) -> Result<(), crate::ConsoleError> {
        ctx.check_csrf(self.get(CSRF_FIELD))
    }
}

/// After a successful POST: back to a page (303, so a reload does not post again).
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// `/console/rounds/{round}` plus `suffix`.
pub fn round_path(round: &str, suffix: &str) -> String {
    format!("/console/rounds/{}{suffix}", percent_encode(round))
}
