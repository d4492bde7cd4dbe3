//! The evidence source of a real round: the registry adapters of
//! `enrol-evidence`, driven by the rules' read plan. Every request is
//! journaled before it is sent (in the journal of the orchestrator whose
//! work makes it, [`crate::journal`]), and recorded into the gathering that
//! made it (a task-local sink), so each access is returned with the result
//! it served and its journal row settled with it.

use std::cell::RefCell;
use std::sync::Arc;

use std::time::Duration;

use enrol_domain::{Application, BirthCertificate, EvidenceBundle, Fetched, SchoolCatalogue};
use enrol_evidence::{
    Access, AccessIntent, AccessRecorder, GatherOptions, GatherOutcome, Gatherer, JournalFuture, ReadError, Registries,
    RegistriesConfig,
};

use crate::context::RoundContext;
use crate::source::{Evidence, EvidenceSource, Gathered, Recorded};

tokio::task_local! {
    /// The accesses of the gathering running on this task.
    static SINK: RefCell<Vec<Access>>;
}

/// Runs `work`, returning its result with every registry access it made.
/// The gathering's reads run on the calling task (`join_all`), so the
/// task-local sink sees all of them and nothing of other gatherings.
async fn recording<T>(work: impl Future<Output = T>) -> Recorded<T> {
    SINK.scope(RefCell::new(Vec::new()), async move {
        let value = work.await;
        let accesses = SINK.with(|sink| sink.take());
        Recorded::new(value, accesses)
    })
    .await
}

/// Hands each access to the gathering that made it.
#[derive(Debug, Default)]
struct TaskRecorder;

impl AccessRecorder for TaskRecorder {
    /// On record before it is sent, in the journal of the orchestrator whose
    /// work makes the read ([`crate::journal`]).
    fn journal(&self, intent: &AccessIntent) -> Option<JournalFuture> {
        Some(crate::journal::journal(intent))
    }

    fn record(&self, access: Access) {
        let mut slot = Some(access);
        let _ = SINK.try_with(|sink| sink.borrow_mut().extend(slot.take()));
        if let Some(access) = slot {
            // Every read goes through `gather` or `school_catalogue`; one
            // that does not is a bug, and must not pass silently.
            tracing::error!(registry = ?access.registry, "a registry access outside any gathering");
        }
    }
}

/// Reads the registries for a round, returning every access with the
/// evidence it served.
#[derive(Debug, Clone)]
pub struct RegistryEvidence {
    registries: Registries,
    options: GatherOptions,
}

impl RegistryEvidence {
    pub fn connect(config: &RegistriesConfig, options: GatherOptions) -> Result<Self, enrol_evidence::ConfigError> {
        let registries = Registries::connect(config, Arc::new(TaskRecorder))?;
        Ok(RegistryEvidence { registries, options })
    }
}

#[async_trait::async_trait]
impl EvidenceSource for RegistryEvidence {
    async fn school_catalogue(&self) -> Recorded<Result<SchoolCatalogue, ReadError>> {
        recording(self.registries.school_catalogue()).await
    }

    async fn gather(&self, app: &Application, start: EvidenceBundle, round: &RoundContext) -> Gathered {
        let (policy, schools) = (round.policy.clone(), round.schools.clone());
        let planner =
            move |app: &Application, bundle: &EvidenceBundle| enrol_rules::plan_reads(app, bundle, &policy, &schools);
        let gatherer = Gatherer::new(self.registries.clone(), planner, self.options);
        let recorded = recording(gatherer.gather(app, start)).await;
        let evidence = match recorded.value {
            GatherOutcome::Complete(bundle) => Evidence::Complete(bundle),
            GatherOutcome::Pending(incomplete) => Evidence::Incomplete {
                failures: incomplete.failure_records(),
                bundle: incomplete.bundle,
            },
        };
        Recorded::new(evidence, recorded.accesses)
    }

    async fn birth_certificate(
        &self,
        app: &Application,
        deadline: Duration,
    ) -> Recorded<Option<Fetched<BirthCertificate>>> {
        let read = self
            .registries
            .household
            .birth_certificate(&app.child_id, &app.consent_id);
        // A request still in flight at the deadline is dropped here and
        // recorded as abandoned (inside the recording scope).
        recording(async { tokio::time::timeout(deadline, read).await.ok().and_then(Result::ok) }).await
    }
}
