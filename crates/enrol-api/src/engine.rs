//! The running engine behind the API, shared with the officers' console
//! (`enrol-console`): the orchestrator, the evidence source, the
//! verification runs in progress and the officers' credentials. The console
//! calls the orchestrator through this handle, in process, so that every
//! action is audited under the officer's name exactly as through the API and
//! a verification started from either is seen by both.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use enrol_orchestrator::{ApplicationView, EvidenceSource, Orchestrator, ReviewResolution, RoundError};

use crate::auth::{Credentials, Officer};
use crate::config::ApiConfig;
use crate::model::{Verification, VerificationRun};
use crate::state::AppState;

/// A cheap-to-clone handle on the engine.
#[derive(Clone)]
pub struct Engine {
    pub(crate) state: AppState,
    pub(crate) credentials: Arc<Credentials>,
    pub(crate) config: Arc<ApiConfig>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(orchestrator: Orchestrator, evidence: Arc<dyn EvidenceSource>, config: ApiConfig) -> Engine {
        let state = AppState {
            orchestrator,
            evidence,
            verify_options: config.verify,
            runs: Arc::new(Mutex::new(BTreeMap::new())),
        };
        Engine {
            state,
            credentials: Arc::new(Credentials::new(&config)),
            config: Arc::new(config),
        }
    }

    /// The HTTP API over this engine.
    pub fn router(&self) -> Router {
        self.routers().api
    }

    /// The HTTP API and, sharing its state, the admin router.
    pub fn routers(&self) -> crate::Routers {
        crate::api_routers(self)
    }

    pub fn orchestrator(&self) -> &Orchestrator {
        &self.state.orchestrator
    }

    /// The officer a bearer token belongs to, if any (compared by digest).
    pub fn officer(&self, token: &str) -> Option<Officer> {
        self.credentials.officer(token)
    }

    /// The configured officer of this name (the least role of their tokens),
    /// if the configuration still names them: how a console session, which
    /// stores only the name, finds the officer's role on each request.
    pub fn officer_named(&self, name: &str) -> Option<Officer> {
        self.credentials.officer_named(name)
    }

    /// Starts verification of a closed round in the background, as
    /// `POST /v1/rounds/{round}/verify` does: refused unless the round is
    /// closed; a run already going is left to run.
    pub async fn start_verification(
        &self,
        round_id: &str,
        officer: &str,
        leave_reviews_unplaced: bool,
    ) -> Result<(), RoundError> {
        let info = self.state.orchestrator.round(round_id).await?;
        if info.state != enrol_orchestrator::RoundState::Closed {
            return Err(RoundError::WrongState {
                round: info.id,
                state: info.state.to_string(),
                expected: "closed",
            });
        }
        self.state.start_verification(round_id, officer, leave_reviews_unplaced);
        Ok(())
    }

    /// The latest verification run of a round since this server started.
    pub fn verification_run(&self, round_id: &str) -> Option<VerificationRun> {
        self.state.run_of(round_id)
    }

    /// The round's verification as `GET …/verify` answers: state, counts,
    /// progress and claims from the database, and this server's latest run.
    pub async fn verification(&self, round_id: &str) -> Result<Verification, RoundError> {
        self.state.verification(round_id).await
    }

    /// Resolves a review with the evidence source (an acceptance decides again).
    pub async fn resolve_review(
        &self,
        application_id: &str,
        resolution: ReviewResolution,
        officer: &str,
    ) -> Result<ApplicationView, RoundError> {
        self.state
            .orchestrator
            .resolve_review(application_id, resolution, officer, &*self.state.evidence)
            .await
    }
}
