//! What a console action can fail with, shown as a page in both languages
//! with the status the API would give.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use enrol_orchestrator::RoundError;
use maud::html;

use crate::layout::bare_page;

/// Why a console request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The form's CSRF token is missing or not the session's.
    #[error("the form's security token is missing or stale")]
    Csrf,
    /// The officer's role does not allow this.
    #[error("your role does not allow this")]
    Forbidden,
    #[error("not found: {0}")]
    NotFound(String),
    /// A field of the form is invalid; the officer can go back and fix it.
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    /// The engine refused (round state, application state, …).
    #[error(transparent)]
    Round(#[from] RoundError),
    #[error(transparent)]
    Export(#[from] enrol_api::ExportError),
    /// The sessions' table could not be read or written.
    #[error("console sessions: {0}")]
    Session(#[from] enrol_store::StoreError),
}

impl ConsoleError {
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ConsoleError::Invalid {
            field: field.to_owned(),
            detail: detail.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Csrf | ConsoleError::Forbidden => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ConsoleError::Round(e) => round_status(e),
            ConsoleError::Export(enrol_api::ExportError::Round(e)) => round_status(e),
            ConsoleError::Export(_) | ConsoleError::Session(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn zh(&self) -> &'static str {
        match self {
            ConsoleError::Csrf => "表单安全令牌缺失或已失效，请返回刷新页面后重试。",
            ConsoleError::Forbidden => "您的角色无权执行此操作。",
            ConsoleError::NotFound(_) => "未找到。",
            ConsoleError::Invalid { .. } => "表单内容有误，请返回修改。",
            ConsoleError::Round(_) | ConsoleError::Export(_) | ConsoleError::Session(_) => "操作未完成。",
        }
    }
}

fn round_status(e: &RoundError) -> StatusCode {
    match e {
        RoundError::UnknownRound(_) | RoundError::UnknownApplication(_) => StatusCode::NOT_FOUND,
        RoundError::Policy(_) | RoundError::Seed(_) => StatusCode::UNPROCESSABLE_ENTITY,
        RoundError::Catalogue(_) => StatusCode::SERVICE_UNAVAILABLE,
        RoundError::Allocation(_) | RoundError::Store(_) | RoundError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "console request failed");
            "the engine failed; the fault is logged".to_owned()
        } else {
            self.to_string()
        };
        let body = bare_page(
            "出错了 Error",
            html! {
                main.narrow {
                    h1 { (status.as_u16()) " " (self.zh()) }
                    p lang="en" { (detail) }
                    p { a href="/console/rounds" { "返回批次列表 Back to the rounds" } }
                }
            },
        );
        (status, body).into_response()
    }
}
