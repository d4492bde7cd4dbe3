//! What every handler shares: the orchestrator, the evidence source (an
//! `Arc<dyn EvidenceSource>`, so handlers are not generic) and the
//! verification runs in progress.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use enrol_orchestrator::{EvidenceSource, Orchestrator, RoundError, VerifyOptions, VerifyProgress};

use crate::model::{JobState, Verification, VerificationRun};

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub orchestrator: Orchestrator,
    pub evidence: Arc<dyn EvidenceSource>,
    pub verify_options: VerifyOptions,
    /// The latest verification run per round since this server started.
    pub runs: Arc<Mutex<BTreeMap<String, VerificationRun>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("verify_options", &self.verify_options)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn run_of(&self, round_id: &str) -> Option<VerificationRun> {
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(round_id)
            .cloned()
    }

    /// The round's verification as `GET …/verify` answers: state, counts,
    /// progress and claims from the database (every server answers the
    /// same), and this server's latest run.
    pub async fn verification(&self, round_id: &str) -> Result<Verification, RoundError> {
        // The run first: a run seen finished has already moved the round, so the
        // state read next agrees with it.
        let run = self.run_of(round_id);
        let info = self.orchestrator.round(round_id).await?;
        let status = self.orchestrator.verification_status(round_id).await?;
        let running_here = run.as_ref().is_some_and(|r| r.state == JobState::Running);
        Ok(Verification {
            round: info.id,
            state: info.state.into(),
            counts: status.report().into(),
            progress: (&status).into(),
            running: running_here || status.claims_held(),
            claims: (&status).into(),
            run,
        })
    }

    /// Starts a verification run in the background unless one is running:
    /// returns whether this call started it.
    pub fn start_verification(&self, round_id: &str, officer: &str, leave_reviews_unplaced: bool) -> bool {
        {
            let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
            if runs.get(round_id).is_some_and(|r| r.state == JobState::Running) {
                return false;
            }
            runs.insert(
                round_id.to_owned(),
                VerificationRun {
                    state: JobState::Running,
                    started_by: officer.to_owned(),
                    started_at: Utc::now(),
                    finished_at: None,
                    progress: None,
                    verified: None,
                    error: None,
                },
            );
        }
        let state = self.clone();
        let (round_id, officer) = (round_id.to_owned(), officer.to_owned());
        let options = VerifyOptions {
            leave_reviews_unplaced,
            ..self.verify_options
        };
        // The run's registry reads carry the id of the request that started it.
        let request_id = enrol_registry_client::current_request_id().unwrap_or_else(|| "-".into());
        let run = async move {
            let runs = state.runs.clone();
            let progress_round = round_id.clone();
            let progress = move |p: VerifyProgress| {
                if let Some(run) = runs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_mut(&progress_round)
                {
                    run.progress = Some(p.into());
                }
                metrics::counter!("enrol_verification_applications_total", "round" => progress_round.clone())
                    .increment(1);
            };
            let outcome = state
                .orchestrator
                .verify(&round_id, &*state.evidence, options, &officer, &progress)
                .await;
            let mut runs = state.runs.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(run) = runs.get_mut(&round_id) {
                run.finished_at = Some(Utc::now());
                match outcome {
                    Ok(report) => {
                        tracing::info!(
                            round = %round_id,
                            actor = %run.started_by,
                            verified = report.verified,
                            pending = report.pending,
                            review = report.review,
                            "verification finished"
                        );
                        run.state = JobState::Finished;
                        run.verified = Some(report.verified);
                    }
                    Err(err) => {
                        tracing::error!(round = %round_id, error = %err, "verification failed");
                        run.state = JobState::Failed;
                        run.error = Some(err.to_string());
                    }
                }
            }
        };
        tokio::spawn(enrol_registry_client::with_request_id(request_id, run));
        true
    }
}
