//! A round's files for download (`/v1/rounds/{round}/exports/{file}`): the
//! round output of formats.md, the officers' `report.html` and
//! `assignments.xlsx` (the same `enrol demo` writes, for any allocated
//! round), the cutoffs (`cutoffs.csv`), and the public notice `notice.csv`
//! (公示) of a published round with its cutoffs (`notice_cutoffs.csv`).

use std::io::Read as _;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use enrol_orchestrator::{Orchestrator, OutputError, RoundError};
use enrol_report::{ReportError, ReportInput, RoundFacts, TierLabel};
use tokio_util::io::ReaderStream;

use crate::auth::Officer;
use crate::config::Role;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The export files, each with its media type.
pub const EXPORTS: [(&str, &str); 9] = [
    ("assignments.csv", "text/csv; charset=utf-8"),
    ("decisions.jsonl", "application/x-ndjson; charset=utf-8"),
    ("schools.csv", "text/csv; charset=utf-8"),
    ("instance.json", "application/json"),
    ("cutoffs.csv", "text/csv; charset=utf-8"),
    ("report.html", "text/html; charset=utf-8"),
    (
        "assignments.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("notice.csv", "text/csv; charset=utf-8"),
    ("notice_cutoffs.csv", "text/csv; charset=utf-8"),
];

/// What keeps a report from being made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Round(#[from] RoundError),
    /// The round output is not coherent: the engine's fault.
    #[error("the round output does not make a report: {0}")]
    Report(#[from] ReportError),
    /// The server's temporary folder refused the files.
    #[error("cannot write the export to a temporary folder: {0}")]
    Scratch(#[source] std::io::Error),
}

impl From<ExportError> for ApiError {
    fn from(err: ExportError) -> Self {
        match err {
            ExportError::Round(e) => e.into(),
            e @ (ExportError::Report(_) | ExportError::Scratch(_)) => ApiError::Internal { detail: e.to_string() },
        }
    }
}

impl From<OutputError> for ExportError {
    fn from(err: OutputError) -> Self {
        match err {
            OutputError::Round(e) => ExportError::Round(e),
            OutputError::Write { source, .. } => ExportError::Scratch(source),
        }
    }
}

/// A round's output written to a private temporary folder, streamed from
/// the database a page at a time (as `enrol demo` writes it), so a city's
/// export needs memory for one file's download, not for the whole round.
async fn scratch_output(orchestrator: &Orchestrator, round_id: &str) -> Result<tempfile::TempDir, ExportError> {
    let dir = tempfile::Builder::new()
        .prefix("enrol-export-")
        .tempdir()
        .map_err(ExportError::Scratch)?;
    orchestrator.write_output(round_id, dir.path()).await?;
    Ok(dir)
}

/// The facts of the report the output files do not carry.
async fn report_facts(orchestrator: &Orchestrator, round_id: &str) -> Result<RoundFacts, ExportError> {
    let round = orchestrator.round(round_id).await?;
    let policy = orchestrator.policy(round_id).await?;
    let schools = orchestrator.schools(round_id).await?.unwrap_or_default();
    Ok(RoundFacts {
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
    })
}

/// The report's input for an allocated round: its output plus the facts the
/// files do not carry (tier labels, seed and commitment, school names).
pub async fn report_input(orchestrator: &Orchestrator, round_id: &str) -> Result<ReportInput, ExportError> {
    let facts = report_facts(orchestrator, round_id).await?;
    let dir = scratch_output(orchestrator, round_id).await?;
    Ok(ReportInput::from_output_dir(dir.path(), facts)?)
}

/// One export file, open for reading from a folder that is already gone
/// (the open file outlives its name), so nothing is left behind on disk.
pub async fn export_file(
    orchestrator: &Orchestrator,
    round_id: &str,
    file: &str,
) -> Result<std::fs::File, ExportError> {
    let dir = match file {
        "notice.csv" | "notice_cutoffs.csv" => {
            let notice = if file == "notice.csv" {
                orchestrator.notice(round_id).await?.to_csv()
            } else {
                let round = orchestrator.round(round_id).await?;
                if round.state != enrol_orchestrator::RoundState::Published {
                    return Err(RoundError::WrongState {
                        round: round.id,
                        state: round.state.to_string(),
                        expected: "published",
                    }
                    .into());
                }
                enrol_orchestrator::notice_cutoffs_csv(&orchestrator.cutoff_lines(round_id).await?)
            };
            let dir = tempfile::tempdir().map_err(ExportError::Scratch)?;
            std::fs::write(dir.path().join(file), notice).map_err(ExportError::Scratch)?;
            dir
        }
        "report.html" | "assignments.xlsx" => {
            let facts = report_facts(orchestrator, round_id).await?;
            let dir = scratch_output(orchestrator, round_id).await?;
            let input = ReportInput::from_output_dir(dir.path(), facts)?;
            let path = dir.path().join(file);
            if file == "report.html" {
                std::fs::write(&path, enrol_report::render_html(&input)).map_err(ExportError::Scratch)?;
            } else {
                enrol_report::write_xlsx(&input, &path)?;
            }
            dir
        }
        _ => scratch_output(orchestrator, round_id).await?,
    };
    std::fs::File::open(dir.path().join(file)).map_err(ExportError::Scratch)
}

/// The bytes of one export file.
pub async fn export_bytes(orchestrator: &Orchestrator, round_id: &str, file: &str) -> Result<Vec<u8>, ExportError> {
    let mut bytes = Vec::new();
    export_file(orchestrator, round_id, file)
        .await?
        .read_to_end(&mut bytes)
        .map_err(ExportError::Scratch)?;
    Ok(bytes)
}

/// A round's file, once allocated (the public notice: once published).
#[utoipa::path(
    get, path = "/v1/rounds/{round}/exports/{file}", tag = "reports", security(("officer" = [])),
    params(
        ("round" = String, Path, description = "The round's id"),
        ("file" = inline(crate::schema::ExportFileSchema), Path, description = "`assignments.csv`, `decisions.jsonl`, `schools.csv`, `instance.json` \
(formats.md), `cutoffs.csv` (each school's cutoff, docs/orchestrator.md), `report.html`, `assignments.xlsx` (officers' report \
and workbook), `notice.csv` (公示, masked; published rounds), `notice_cutoffs.csv` (公示录取线; published rounds)"),
    ),
    responses(
        (status = 200, description = "The file. Text files are UTF-8 with LF line ends, rows in ascending application id \
(the notice: by school, then masked name)",
            content(
                (String = "text/csv"),
                (String = "application/x-ndjson"),
                (Object = "application/json"),
                (String = "text/html"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 401, description = "No known bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such round or file", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The round is not allocated yet, or (the notice and its cutoffs) not published (`round-state`)", body = Problem, content_type = "application/problem+json"),
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
    // Streamed from the open file, a chunk at a time.
    let opened = export_file(&state.orchestrator, &round, &file).await?;
    let body = Body::from_stream(ReaderStream::new(tokio::fs::File::from_std(opened)));
    let mut response = body.into_response();
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
