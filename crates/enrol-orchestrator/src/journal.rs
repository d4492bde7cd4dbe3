//! The access journal: every registry request is on record before it is
//! sent (查询留痕). The registry client asks its recorder to journal each
//! request ([`enrol_evidence::AccessRecorder::journal`]) and sends it only
//! once the journal answers with the row's id; the row says `unknown` until
//! the transaction that stores the result the read served settles it (see
//! [`crate::decide::store_accesses`]). A process killed in between leaves
//! the row `unknown`: the read is on record, its outcome is not. Killed after
//! the row commits and before the request leaves, the row records a request
//! that was never sent: the log errs on the side of recording.
//!
//! Group commit: one task per [`Orchestrator`] (per process) takes every
//! request queued since it last took (up to [`JOURNAL_BATCH`]) and inserts
//! them in one statement, its own transaction, answering each waiter with
//! its row's id once committed. On PostgreSQL up to [`COMMITS_IN_FLIGHT`]
//! such statements commit at once (the server flushes their WAL together),
//! so a request waits for about one commit, not for the one before it too;
//! SQLite has one writer, and one commit at a time. The client journals
//! before it takes its concurrency slot, so the registries' slots stay busy
//! while the journal commits.
//!
//! Who made a read and for what (round, application, actor) travels with the
//! work in a task-local [`JournalScope`], set by the orchestrator around each
//! call of its [`EvidenceSource`](crate::EvidenceSource) ([`Orchestrator::journaled`]).
//! A read outside any scope is refused: never a read without a record.

use std::sync::Arc;

use enrol_evidence::{AccessIntent, JournalError, JournalFuture};
use enrol_store::Store;
use enrol_store::registry_access;
use enrol_store::sea_orm::{DbBackend, EntityTrait};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::decide::{AccessContext, ReadRecord, UNKNOWN_OUTCOME, access_row};
use crate::round::Orchestrator;

/// Requests one journal commit records at most.
const JOURNAL_BATCH: usize = 256;
/// Requests waiting for the journal at most; beyond, readers wait to queue.
const JOURNAL_QUEUE: usize = 4096;
/// Journal statements committing at once on PostgreSQL.
const COMMITS_IN_FLIGHT: usize = 4;

type Waiter = (registry_access::ActiveModel, oneshot::Sender<Result<i64, JournalError>>);

/// The handle of a journal task over a store. Cheap to clone; the task ends
/// when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    queue: mpsc::Sender<Waiter>,
}

impl Journal {
    /// Starts the journal task (on the current tokio runtime).
    pub(crate) fn start(store: Store) -> Journal {
        let (queue, waiting) = mpsc::channel(JOURNAL_QUEUE);
        tokio::spawn(run(store, waiting));
        Journal { queue }
    }

    /// Commits `row` (with others queued meanwhile); its id once committed.
    async fn record(&self, row: registry_access::ActiveModel) -> Result<i64, JournalError> {
        let stopped = || JournalError("the journal task stopped".to_owned());
        let (answer, answered) = oneshot::channel();
        self.queue.send((row, answer)).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn run(store: Store, mut waiting: mpsc::Receiver<Waiter>) {
    let in_flight = match store.backend() {
        DbBackend::Postgres => COMMITS_IN_FLIGHT,
        _ => 1,
    };
    let commits = Arc::new(Semaphore::new(in_flight));
    let mut batch = Vec::with_capacity(JOURNAL_BATCH);
    loop {
        // A commit slot first, then whatever has queued meanwhile.
        let Ok(slot) = commits.clone().acquire_owned().await else {
            return;
        };
        if waiting.recv_many(&mut batch, JOURNAL_BATCH).await == 0 {
            return;
        }
        let (rows, answers): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        let store = store.clone();
        tokio::spawn(async move {
            let entries = rows.len();
            match write(&store, rows).await {
                Ok(ids) => {
                    // A waiter gone (its read dropped before it was sent)
                    // leaves its row `unknown`: on the side of recording.
                    for (answer, id) in answers.into_iter().zip(ids) {
                        let _ = answer.send(Ok(id));
                    }
                }
                Err(error) => {
                    // The database's error names no person; no path is logged.
                    tracing::error!(entries, %error, "access journal not written: the reads are not sent");
                    for answer in answers {
                        let _ = answer.send(Err(JournalError(error.clone())));
                    }
                }
            }
            drop(slot);
        });
    }
}

/// Inserts the rows in one statement, committed on its own (autocommit: one
/// round trip); their ids in the rows' order. Ids are drawn in the order of
/// the statement's rows (one sequence on PostgreSQL, the rowid on SQLite),
/// so sorting what `RETURNING` gives restores it whatever order it comes in.
async fn write(store: &Store, rows: Vec<registry_access::ActiveModel>) -> Result<Vec<i64>, String> {
    let entries = rows.len();
    let mut ids = registry_access::Entity::insert_many(rows)
        .exec_with_returning_keys(store.connection())
        .await
        .map_err(|e| e.to_string())?;
    if ids.len() != entries {
        return Err(format!("{entries} records written, {} ids returned", ids.len()));
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Who causes the reads of a piece of work, and the journal they go to.
#[derive(Debug, Clone)]
pub(crate) struct JournalScope {
    journal: Journal,
    round_id: Arc<str>,
    application_id: Option<Arc<str>>,
    actor: Arc<str>,
}

tokio::task_local! {
    static SCOPE: JournalScope;
}

impl Orchestrator {
    /// This orchestrator's journal, started on first use.
    fn journal(&self) -> Journal {
        self.journal.get_or_init(|| Journal::start(self.store.clone())).clone()
    }

    /// Runs `work` (reads of an evidence source) with every registry request
    /// it makes journaled under `round_id`, `application_id` and `actor`
    /// before it is sent.
    pub(crate) fn journaled<F: Future>(
        &self,
        round_id: &str,
        application_id: Option<&str>,
        actor: &str,
        work: F,
    ) -> tokio::task::futures::TaskLocalFuture<JournalScope, F> {
        let scope = JournalScope {
            journal: self.journal(),
            round_id: round_id.into(),
            application_id: application_id.map(Into::into),
            actor: actor.into(),
        };
        SCOPE.scope(scope, work)
    }
}

/// The registry source's journal hook: records `intent` under the scope of
/// the work running on this task, refusing a read outside any.
pub(crate) fn journal(intent: &AccessIntent) -> JournalFuture {
    let Ok(scope) = SCOPE.try_with(JournalScope::clone) else {
        // Every read goes through `Orchestrator::journaled`; one that does
        // not is a bug, and is not sent.
        tracing::error!(registry = %intent.registry, "a registry read outside any journaled work: not sent");
        return Box::pin(async { Err(JournalError("a read outside any journaled work".to_owned())) });
    };
    let row = access_row(
        AccessContext {
            round_id: &scope.round_id,
            application_id: scope.application_id.as_deref(),
            actor: &scope.actor,
        },
        ReadRecord {
            registry: intent.registry,
            path: &intent.path,
            consent_id: intent.consent_id.as_ref(),
            purpose: &intent.purpose,
            attempt: intent.attempt,
            at: intent.at,
            outcome: UNKNOWN_OUTCOME,
            status: None,
            latency_us: 0,
        },
    );
    Box::pin(async move { scope.journal.record(row).await })
}
