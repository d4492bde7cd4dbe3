//! A round's files for download (`/v1/rounds/{round}/exports/{file}`): the
//! round output of formats.md, the officers' `report.html` and
//! `assignments.xlsx` (the same `enrol demo` writes, for any allocated
//! round), and the public notice `notice.csv` (公示) of a published round.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use enrol_orchestrator::{Orchestrator, RoundError};
use enrol_report::{ReportError, ReportInput, RoundFacts, TierLabel};

use crate::auth::Officer;
use crate::config::Role;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The export files, each with its media type.
pub const EXPORTS: [(&str, &str); 7] = [
    ("assignments.csv", "text/csv; charset=utf-8"),
    ("decisions.jsonl", "application/x-ndjson; charset=utf-8"),
    ("schools.csv", "text/csv; charset=utf-8"),
    ("instance.json", "application/json"),
    ("report.html", "text/html; charset=utf-8"),
    (
        "assignments.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("notice.csv", "text/csv; charset=utf-8"),
];

/// What keeps a report from being made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Round(#[from] RoundError),
    /// The round output is not coherent: the engine's fault.
    #[error("the round output does not make a report: {0}")]
    Report(#[from] ReportError),
}

impl From<ExportError> for ApiError {
    fn from(err: ExportError) -> Self {
        match err {
            ExportError::Round(e) => e.into(),
            e @ ExportError::Report(_) => ApiError::Internal { detail: e.to_string() },
        }
    }
}

/// The report's input for an allocated round: its output plus the facts the
/// files do not carry (tier labels, seed and commitment, school names).
pub async fn report_input(orchestrator: &Orchestrator, round_id: &str) -> Result<ReportInput, ExportError> {
    let output = orchestrator.output(round_id).await?;
    let round = orchestrator.round(round_id).await?;
    let policy = orchestrator.policy(round_id).await?;
    let schools = orchestrator.schools(round_id).await?.unwrap_or_default();
    let facts = RoundFacts {
        round_id: round.id.clone(),
        policy_version: round.policy_version.clone(),
        tiers: policy
            .tiers()
            .iter()
            .map(|t| TierLabel {
                name: t.name.clone(),
                label_zh: Some(t.label_zh.clone()),
                label_en: Some(t.label_en.clone()),
            })
            .collect(),
        seed_commitment: round.seed_commitment.clone(),
        round_seed: round.round_seed.clone().unwrap_or_default(),
        school_names: schools.values().map(|s| (s.id.clone(), s.name.clone())).collect(),
    };
    Ok(ReportInput::from_strings(
        &output.decisions_jsonl,
        &output.assignments_csv,
        &output.schools_csv,
        facts,
    )?)
}

/// The bytes of one export file.
pub async fn export_bytes(orchestrator: &Orchestrator, round_id: &str, file: &str) -> Result<Vec<u8>, ExportError> {
    Ok(match file {
        "notice.csv" => orchestrator.notice(round_id).await?.to_csv().into_bytes(),
        "report.html" => enrol_report::render_html(&report_input(orchestrator, round_id).await?).into_bytes(),
        "assignments.xlsx" => enrol_report::xlsx_bytes(&report_input(orchestrator, round_id).await?)?,
        _ => {
            let output = orchestrator.output(round_id).await?;
            match file {
                "assignments.csv" => output.assignments_csv,
                "schools.csv" => output.schools_csv,
                "decisions.jsonl" => output.decisions_jsonl,
                _ => output.instance_json,
            }
            .into_bytes()
        }
    })
}

/// A round's file, once allocated (the public notice: once published).
#[utoipa::path(
    get, path = "/v1/rounds/{round}/exports/{file}", tag = "reports", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("file" = String, Path, description = "`assignments.csv`, `decisions.jsonl`, `schools.csv`, `instance.json` \
(formats.md), `report.html`, `assignments.xlsx` (officers' report and workbook), `notice.csv` (公示, masked; published rounds)"),
    ),
    responses(
        (status = 200, description = "The file. Text files are UTF-8 with LF line ends, rows in ascending application id \
(the notice: by school, then masked name)",
            content(
                (String = "text/csv"),
                (String = "application/x-ndjson"),
                (String = "application/json"),
                (String = "text/html"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round or file", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not allocated yet, or (the notice) not published (`round-state`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    Extension(officer): Extension<Officer>,
    Path((round, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    officer.require(Role::Viewer)?;
    let Some((_, content_type)) = EXPORTS.iter().find(|(name, _)| *name == file) else {
        return Err(ApiError::NotFound {
            detail: format!("there is no export {file:?}"),
        });
    };
    let bytes = export_bytes(&state.orchestrator, &round, &file).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if file == "report.html" {
        // The report is self-contained: a browser opening it fetches nothing.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
        );
    }
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{round}-{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
