//! The gathering loop: plan → read concurrently → add to the bundle → plan
//! again, until the planner needs nothing more or a read fails.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use enrol_domain::{Application, EvidenceBundle, EvidenceRead, RecordRef, UnusableAnswer};
use enrol_registry_client::{ReadError, ReadFailureKind};
use futures::StreamExt;
use futures::future::join_all;
use futures::stream::Stream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::registries::Registries;
use crate::scope::outside_family;

/// Says which reads a decision still needs, given what the bundle holds:
/// empty when the bundle is complete. Must be pure: the same application and
/// bundle give the same reads. The rules' `plan_reads` fits, as a closure
/// over the policy and the school catalogue (see the crate example).
pub trait ReadPlanner: Send + Sync {
    fn plan(&self, app: &Application, bundle: &EvidenceBundle) -> Vec<EvidenceRead>;
}

impl<F> ReadPlanner for F
where
    F: Fn(&Application, &EvidenceBundle) -> Vec<EvidenceRead> + Send + Sync,
{
    fn plan(&self, app: &Application, bundle: &EvidenceBundle) -> Vec<EvidenceRead> {
        self(app, bundle)
    }
}

/// Limits of the gathering loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatherOptions {
    /// Plan-and-read rounds per application at most; a planner that needs
    /// more is taken to be looping.
    pub max_rounds: usize,
    /// Applications gathered at once by [`Gatherer::gather_many`]. The
    /// registries' own concurrency limits still hold; this only needs to be
    /// large enough to keep them busy.
    pub applications_in_flight: usize,
}

impl Default for GatherOptions {
    fn default() -> Self {
        GatherOptions {
            max_rounds: 16,
            applications_in_flight: 256,
        }
    }
}

/// Why an application's evidence could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// A registry read failed (down, refused, or answered nonsense).
    #[error("{error}")]
    Read { read: EvidenceRead, error: ReadError },
    /// The planner asked for a read whose answer the bundle already holds:
    /// reading again would loop forever.
    #[error("the planner asked again for {}, already in the bundle", read.record_ref())]
    PlannerRepeated { read: EvidenceRead },
    /// The planner asked for a record outside the family; nothing was sent.
    #[error("refused to read {}: {reason}", read.record_ref())]
    OutsideFamily { read: EvidenceRead, reason: String },
    /// The planner still wanted reads after this many rounds.
    #[error("evidence still incomplete after {rounds} rounds of reads")]
    TooManyRounds { rounds: usize },
    /// The gathering task ended abnormally (a panic).
    #[error("gathering was interrupted: {detail}")]
    Interrupted { detail: String },
}

/// Broad class of a failure, for storage and for deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A registry stayed down: gather again later.
    Unavailable,
    /// Key, consent or purpose refused: an operator must act.
    Refused,
    /// A registry broke its interface: its operator must act.
    Malformed,
    /// A registry contradicted itself or the question: its operator must act.
    Contradictory,
    /// The engine itself (planner or task) went wrong.
    Engine,
}

impl Failure {
    pub fn kind(&self) -> FailureKind {
        match self {
            Failure::Read { error, .. } => match error.kind() {
                ReadFailureKind::Unavailable => FailureKind::Unavailable,
                ReadFailureKind::Refused => FailureKind::Refused,
                ReadFailureKind::Malformed => FailureKind::Malformed,
                ReadFailureKind::Contradictory => FailureKind::Contradictory,
            },
            Failure::PlannerRepeated { .. }
            | Failure::OutsideFamily { .. }
            | Failure::TooManyRounds { .. }
            | Failure::Interrupted { .. } => FailureKind::Engine,
        }
    }

    /// The record the failure is about, if one.
    pub fn record(&self) -> Option<RecordRef> {
        match self {
            Failure::Read { read, .. } | Failure::PlannerRepeated { read } | Failure::OutsideFamily { read, .. } => {
                Some(read.record_ref())
            }
            Failure::TooManyRounds { .. } | Failure::Interrupted { .. } => None,
        }
    }

    /// What to store about the failure.
    pub fn to_record(&self) -> FailureRecord {
        FailureRecord {
            kind: self.kind(),
            record: self.record(),
            message: self.to_string(),
        }
    }
}

/// A failure as the engine stores it beside a pending application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailureRecord {
    pub kind: FailureKind,
    pub record: Option<RecordRef>,
    pub message: String,
}

/// Evidence that could not be completed: the application stays `pending`
/// (never `ineligible`, never decided on this). `bundle` holds what was read,
/// to resume from.
#[derive(Debug, Clone, PartialEq)]
pub struct Incomplete {
    pub bundle: EvidenceBundle,
    /// Never empty.
    pub failures: Vec<Failure>,
}

impl Incomplete {
    /// Whether every failure is a registry being down, so that gathering
    /// again later may complete the evidence without anyone acting.
    pub fn retryable(&self) -> bool {
        self.failures.iter().all(|f| f.kind() == FailureKind::Unavailable)
    }

    /// The failures as stored, sorted.
    pub fn failure_records(&self) -> Vec<FailureRecord> {
        let mut records: Vec<_> = self.failures.iter().map(Failure::to_record).collect();
        records.sort();
        records
    }
}

/// The result of gathering one application's evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum GatherOutcome {
    /// Ready for a decision: everything the planner asks for is in the
    /// bundle, or a registry's answer was unusable (`bundle.unusable` is not
    /// empty: a permanent failure, which the rules decide as `review`).
    Complete(EvidenceBundle),
    /// A registry did not answer (a transient failure, or one an operator
    /// must fix): the application is pending, and the next pass asks again.
    Pending(Incomplete),
}

impl GatherOutcome {
    pub fn is_complete(&self) -> bool {
        matches!(self, GatherOutcome::Complete(_))
    }

    /// The bundle, complete or not (to resume from, or to decide on when complete).
    pub fn bundle(&self) -> &EvidenceBundle {
        match self {
            GatherOutcome::Complete(b) => b,
            GatherOutcome::Pending(i) => &i.bundle,
        }
    }

    fn pending(bundle: EvidenceBundle, failure: Failure) -> Self {
        GatherOutcome::Pending(Incomplete {
            bundle,
            failures: vec![failure],
        })
    }
}

/// Files a permanent failure of `read` in the bundle (registries.md, "Dirty
/// records"): the rules then decide the application `review` citing the record.
pub fn record_unusable(bundle: &mut EvidenceBundle, read: EvidenceRead, error: &ReadError) {
    let record = read.record_ref();
    bundle.unusable.insert(
        record.to_string(),
        UnusableAnswer {
            record,
            read,
            detail: error.detail(),
        },
    );
}

/// How far [`Gatherer::gather_all`] has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub complete: usize,
    pub pending: usize,
}

struct Inner<P> {
    registries: Registries,
    planner: P,
    options: GatherOptions,
}

/// Gathers evidence for applications. Cheap to clone; clones share the
/// registries (and so their limits and breakers).
pub struct Gatherer<P> {
    inner: Arc<Inner<P>>,
}

impl<P> Clone for Gatherer<P> {
    fn clone(&self) -> Self {
        Gatherer {
            inner: self.inner.clone(),
        }
    }
}

impl<P> std::fmt::Debug for Gatherer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gatherer")
            .field("registries", &self.inner.registries)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl<P: ReadPlanner + 'static> Gatherer<P> {
    pub fn new(registries: Registries, planner: P, options: GatherOptions) -> Self {
        Gatherer {
            inner: Arc::new(Inner {
                registries,
                planner,
                options,
            }),
        }
    }

    pub fn registries(&self) -> &Registries {
        &self.inner.registries
    }

    /// Gathers the evidence of one application, starting from `start` (empty,
    /// or what an earlier, pending attempt read, plus any officer facts).
    /// Each round asks the planner, then makes all its reads concurrently.
    pub async fn gather(&self, app: &Application, start: EvidenceBundle) -> GatherOutcome {
        let inner = &*self.inner;
        let mut bundle = start;
        for round in 0..inner.options.max_rounds {
            let reads: BTreeSet<EvidenceRead> = inner.planner.plan(app, &bundle).into_iter().collect();
            if reads.is_empty() {
                return GatherOutcome::Complete(bundle);
            }
            if let Some(read) = reads.iter().find(|r| bundle.has(r)) {
                return GatherOutcome::pending(bundle, Failure::PlannerRepeated { read: read.clone() });
            }
            for read in &reads {
                if let Some(reason) = outside_family(app, &bundle, read) {
                    // The application and the registry, never the record: its
                    // key is a national ID or an address (docs/privacy.md).
                    tracing::error!(application = %app.application_id, registry = %read.record_ref().registry,
                        "read outside the family refused");
                    return GatherOutcome::pending(
                        bundle,
                        Failure::OutsideFamily {
                            read: read.clone(),
                            reason,
                        },
                    );
                }
            }
            tracing::debug!(application = %app.application_id, round, reads = reads.len(), "reading");
            let answers = join_all(reads.iter().map(|read| inner.registries.perform(read, &app.consent_id))).await;
            let mut failures = Vec::new();
            let mut unusable = Vec::new();
            for (read, answer) in reads.into_iter().zip(answers) {
                match answer {
                    Ok(answer) => {
                        if let Err(mismatch) = answer.insert_into(&read, &mut bundle) {
                            failures.push(Failure::Interrupted {
                                detail: mismatch.to_string(),
                            });
                        }
                    }
                    Err(error) if error.is_unusable() => unusable.push((read, error)),
                    Err(error) => failures.push(Failure::Read { read, error }),
                }
            }
            if !failures.is_empty() {
                // A registry that did not answer wins: the next pass reads
                // everything again, the unusable answers included.
                failures.extend(unusable.into_iter().map(|(read, error)| Failure::Read { read, error }));
                return GatherOutcome::Pending(Incomplete { bundle, failures });
            }
            if !unusable.is_empty() {
                // Permanent: asking again will not help. The bundle records
                // the unusable reads and is ready for a decision (the rules
                // decide it `review` citing them); nothing more is read.
                for (read, error) in unusable {
                    tracing::warn!(
                        application = %app.application_id,
                        registry = %error.record().registry,
                        kind = ?error.kind(),
                        "registry answer unusable: the application goes to review"
                    );
                    record_unusable(&mut bundle, read, &error);
                }
                return GatherOutcome::Complete(bundle);
            }
        }
        let rounds = inner.options.max_rounds;
        GatherOutcome::pending(bundle, Failure::TooManyRounds { rounds })
    }

    /// Gathers many applications concurrently (at most
    /// `applications_in_flight` at once, each on its own task), yielding each
    /// outcome as it is ready, in order of completion.
    pub fn gather_many<I>(&self, work: I) -> impl Stream<Item = (Uuid, GatherOutcome)> + Send + 'static
    where
        I: IntoIterator<Item = (Application, EvidenceBundle)>,
        I::IntoIter: Send + 'static,
    {
        let gatherer = self.clone();
        let in_flight = self.inner.options.applications_in_flight.max(1);
        futures::stream::iter(work)
            .map(move |(app, start)| {
                let gatherer = gatherer.clone();
                let id = app.application_id;
                let task = tokio::spawn(async move { gatherer.gather(&app, start).await });
                async move {
                    let outcome = task.await.unwrap_or_else(|e| {
                        GatherOutcome::pending(
                            EvidenceBundle::default(),
                            Failure::Interrupted { detail: e.to_string() },
                        )
                    });
                    (id, outcome)
                }
            })
            .buffer_unordered(in_flight)
    }

    /// Gathers many applications and returns every outcome by application id,
    /// calling `on_progress` after each one.
    pub async fn gather_all<I>(&self, work: I, mut on_progress: impl FnMut(&Progress)) -> BTreeMap<Uuid, GatherOutcome>
    where
        I: IntoIterator<Item = (Application, EvidenceBundle)>,
        I::IntoIter: ExactSizeIterator + Send + 'static,
    {
        let work = work.into_iter();
        let mut progress = Progress {
            total: work.len(),
            done: 0,
            complete: 0,
            pending: 0,
        };
        let mut outcomes = BTreeMap::new();
        let mut stream = std::pin::pin!(self.gather_many(work));
        while let Some((id, outcome)) = stream.next().await {
            progress.done += 1;
            if outcome.is_complete() {
                progress.complete += 1;
            } else {
                progress.pending += 1;
            }
            on_progress(&progress);
            outcomes.insert(id, outcome);
        }
        outcomes
    }
}
