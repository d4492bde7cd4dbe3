//! Verification: evidence and a decision for every application of a closed
//! round, each stored in its own transaction so a crash loses nothing.
//!
//! Verification is shared work, claimed in the database: any number of
//! workers (processes, or calls in one process) may verify a round at once.
//! Each worker claims a batch of undecided applications (`FOR UPDATE SKIP
//! LOCKED`, then `claimed_by` and `lease_until` set), gathers and decides
//! them, and releases each claim with its decision. A killed worker's claims
//! expire and are taken over. The decision itself is guarded by the
//! application row's lock (see [`crate::locks`]): a claim only keeps workers
//! from doing the same reads twice, it is never what keeps a decision single.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use enrol_domain::{Application, EvidenceBundle};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::sea_query::{Expr, LockBehavior, LockType};
use enrol_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use enrol_store::{application, decision};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::context::RoundContext;
use crate::decide::{AccessContext, Outcome, decide, officer_facts_of, store_accesses};
use crate::error::{Corrupt, RoundError};
use crate::locks::{lock_application, lock_round_in, share_round_in};
use crate::precedence::{Parents, Settled, settle};
use crate::round::{Orchestrator, RoundState, load_round, now};
use crate::source::{Evidence, EvidenceSource, Gathered};
use crate::submit::{ApplicationState, parse_body, parse_status};

/// Progress of a verification, reported after every application this
/// worker decides. `done` and `pending` count this worker's pass; `total`
/// is what the round had undecided when the pass began (all workers').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifyProgress {
    pub done: usize,
    pub total: usize,
    pub pending: usize,
    /// Which pass over the pending applications this is (1-based).
    pub pass: usize,
}

/// Counts after a verification run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub eligible: usize,
    pub review: usize,
    pub ineligible: usize,
    /// Still waiting for a registry.
    pub pending: usize,
    /// Whether the round moved to `verified`.
    pub verified: bool,
}

/// How hard verification tries before it reports pending applications.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Applications gathered at once by one worker; also its claim batch.
    pub concurrency: usize,
    pub passes: usize,
    pub retry_delay: Duration,
    /// Move to `verified` leaving unresolved reviews unplaced (the demo does).
    pub leave_reviews_unplaced: bool,
    /// How long a claim holds. Longer than gathering one application takes
    /// (registry deadlines and retries included); a killed worker's claims
    /// are taken over once it has passed.
    pub lease: Duration,
}

impl VerifyOptions {
    /// The most applications one worker holds claimed at once: the claimed
    /// batch being handed over and the one waiting in its channel, those
    /// being gathered, those gathered and waiting for the writer, and those
    /// the writer is storing (each of the last three at most `concurrency`,
    /// the channels' capacity). Claims held are what other workers cannot
    /// take; they are released as each application is stored.
    pub fn claims_held_at_most(&self) -> usize {
        4 * self.concurrency.max(1) + 1
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            concurrency: 64,
            passes: 5,
            retry_delay: Duration::from_secs(2),
            leave_reviews_unplaced: false,
            lease: Duration::from_secs(120),
        }
    }
}

/// One worker's identity in `applications.claimed_by`: unique per call.
fn worker_id() -> String {
    format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

fn after(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    at + chrono::Duration::from_std(span).unwrap_or(chrono::Duration::MAX)
}

impl Orchestrator {
    /// Gathers evidence and decides every application still undecided,
    /// retrying pending ones, then moves the round to `verified` if nothing is
    /// pending and no review is open.
    pub async fn verify(
        &self,
        round_id: &str,
        source: &dyn EvidenceSource,
        options: VerifyOptions,
        actor: &str,
        progress: &(dyn Fn(VerifyProgress) + Sync),
    ) -> Result<VerifyReport, RoundError> {
        let round = self.verification_context(round_id, source, actor).await?;
        let worker = worker_id();
        for pass in 1..=options.passes.max(1) {
            if pass > 1 {
                if undecided_count(self.store.connection(), round_id).await? == 0 {
                    break;
                }
                tokio::time::sleep(options.retry_delay).await;
            }
            // Applications tried in this pass (by any worker) are not tried again in it.
            let pass_started = now();
            let total = undecided_count(self.store.connection(), round_id).await?;
            if total == 0 {
                break;
            }
            let mut tally = Tally {
                pass,
                total,
                ..Tally::default()
            };
            loop {
                let claims = Claims {
                    round_id,
                    worker: &worker,
                    pass_started,
                    batch: options.concurrency.max(1),
                    lease: options.lease,
                };
                self.sweep(
                    &claims,
                    source,
                    &round,
                    actor,
                    options.concurrency.max(1),
                    &mut tally,
                    progress,
                )
                .await?;
                // Nothing left to claim; other workers may still hold some of
                // this pass's applications. Wait for them (or for their
                // leases to expire, and take them over).
                match self.held_by_others(round_id, &worker, pass_started).await? {
                    None => break,
                    Some(until) => {
                        let wait = (until - now()).to_std().unwrap_or_default();
                        tokio::time::sleep(wait.clamp(Duration::from_millis(20), Duration::from_millis(500))).await;
                    }
                }
            }
        }
        let mut report = self.counts(round_id).await?;
        if report.pending == 0 && (report.review == 0 || options.leave_reviews_unplaced) {
            match self
                .finish_verification(round_id, actor, options.leave_reviews_unplaced)
                .await
            {
                Ok(()) => report.verified = true,
                // Another worker moved the round on first (under the round
                // row's lock): the work is done all the same.
                Err(RoundError::WrongState { state, .. })
                    if state.parse::<RoundState>().is_ok_and(|s| s > RoundState::Closed) =>
                {
                    report.verified = true;
                }
                Err(other) => return Err(other),
            }
        }
        Ok(report)
    }

    /// The context verification decides in. The school catalogue is read
    /// once and fixed with the round, so a restarted verification (or
    /// another process) decides against the same catalogue: the first to
    /// store it under the round row's lock wins, the others use it.
    async fn verification_context(
        &self,
        round_id: &str,
        source: &dyn EvidenceSource,
        actor: &str,
    ) -> Result<RoundContext, RoundError> {
        let row = load_round(self.store.connection(), round_id).await?;
        if row.state != RoundState::Closed.as_str() {
            return Err(RoundError::WrongState {
                round: row.id,
                state: row.state,
                expected: "closed",
            });
        }
        if row.schools_json.is_some() {
            return RoundContext::from_row(&row);
        }
        let read = self.journaled(round_id, None, actor, source.school_catalogue()).await;
        let tx = self.store.begin_write().await?;
        let accesses = AccessContext {
            round_id,
            application_id: None,
            actor,
        };
        store_accesses(&tx, accesses, &read.accesses).await?;
        let row = match lock_round_in(&tx, round_id, RoundState::Closed).await {
            Ok(row) => row,
            Err(refusal) => {
                tx.commit().await?;
                return Err(refusal);
            }
        };
        let row = match (row.schools_json.is_some(), read.value) {
            (true, _) => row,
            (false, Ok(catalogue)) => {
                let mut active = row.into_active_model();
                active.schools_json = Set(Some(serde_json::to_string(&catalogue).expect("serialisable")));
                active.updated_at = Set(now());
                active.update(&tx).await?
            }
            (false, Err(err)) => {
                tx.commit().await?;
                return Err(RoundError::Catalogue(Box::new(err)));
            }
        };
        tx.commit().await?;
        RoundContext::from_row(&row)
    }

    /// closed → verified, when nothing is pending and every review is resolved
    /// (or, when asked and recorded, left unplaced).
    pub async fn finish_verification(
        &self,
        round_id: &str,
        actor: &str,
        leave_reviews_unplaced: bool,
    ) -> Result<(), RoundError> {
        let tx = self.store.begin_write().await?;
        // Under the round row's lock: a decision or a review resolution in
        // flight holds it shared, so the counts below see it committed.
        let row = lock_round_in(&tx, round_id, RoundState::Closed).await?;
        let report = counts_in(&tx, round_id).await?;
        if report.pending > 0 || (report.review > 0 && !leave_reviews_unplaced) {
            return Err(RoundError::NotVerifiable {
                round: round_id.to_owned(),
                pending: report.pending,
                review: report.review,
            });
        }
        let details = serde_json::json!({
            "eligible": report.eligible,
            "ineligible": report.ineligible,
            "reviews_left_unplaced": report.review,
        });
        crate::round::set_state(&tx, row, RoundState::Verified, actor, "round_verified", details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Current counts of a round's live applications by decision.
    pub async fn counts(&self, round_id: &str) -> Result<VerifyReport, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        counts_in(conn, round_id).await
    }

    /// One sweep of a pass: claims batches and gathers them (up to
    /// `in_flight` applications at once) while a writer stores what is
    /// gathered, until nothing is left to claim and everything gathered is
    /// stored. The writer takes whatever has arrived since its last commit
    /// (up to [`WRITE_BATCH`]) into one transaction, each application's
    /// part whole, so gathering never waits for the database and the
    /// database commits less often. What is held at once is bounded: the
    /// applications in flight and the channel between the two.
    #[allow(clippy::too_many_arguments)]
    async fn sweep(
        &self,
        claims: &Claims<'_>,
        source: &dyn EvidenceSource,
        round: &RoundContext,
        actor: &str,
        in_flight: usize,
        tally: &mut Tally,
        progress: &(dyn Fn(VerifyProgress) + Sync),
    ) -> Result<(), RoundError> {
        // One claimed batch waits ahead of the gathering (so that it never
        // waits for a claim), no more: claims held unread only delay other
        // workers, and their leases run.
        let (claimed_tx, mut claimed_rx) = tokio::sync::mpsc::channel::<(Application, EvidenceBundle)>(1);
        let (gathered_tx, mut gathered_rx) = tokio::sync::mpsc::channel::<(Application, Gathered)>(in_flight);
        let claim = async move {
            loop {
                let batch = self.claim(claims).await?;
                if batch.is_empty() {
                    // Dropping the sender tells the gathering nothing more comes.
                    return Ok::<(), RoundError>(());
                }
                for item in batch {
                    if claimed_tx.send(item).await.is_err() {
                        // The gathering stopped: the writer failed and reports it.
                        return Ok(());
                    }
                }
            }
        };
        let gather = async move {
            let mut running = FuturesUnordered::new();
            let mut claimed_open = true;
            loop {
                tokio::select! {
                    item = claimed_rx.recv(), if claimed_open && running.len() < in_flight => match item {
                        Some((app, start)) => {
                            let id = app.application_id.to_string();
                            let gathering = gather_one(source, app, start, round);
                            running.push(self.journaled(&round.round_id, Some(&id), actor, gathering));
                        }
                        None => claimed_open = false,
                    },
                    Some(done) = running.next(), if !running.is_empty() => {
                        if gathered_tx.send(done).await.is_err() {
                            return Ok::<(), RoundError>(());
                        }
                    }
                    // Nothing more claimed and nothing running: dropping the
                    // sender tells the writer nothing more comes.
                    else => return Ok(()),
                }
            }
        };
        let write = async {
            let mut batch = Vec::with_capacity(WRITE_BATCH);
            while gathered_rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
                let complete: Vec<bool> = batch.iter().map(|(_, g)| g.value.is_complete()).collect();
                self.record(round, std::mem::take(&mut batch), actor, claims.worker)
                    .await?;
                for complete in complete {
                    tally.done += 1;
                    tally.pending += usize::from(!complete);
                    progress(tally.progress());
                }
            }
            Ok::<(), RoundError>(())
        };
        futures::try_join!(claim, gather, write)?;
        Ok(())
    }

    /// Stores several applications' gathered evidence in one transaction,
    /// each application's part whole (its reads, its snapshot and, when
    /// complete, its decision, see [`record_one`]), in ascending id so
    /// that two workers' transactions lock application rows in one order.
    /// A refusal (the round moved on) does not undo the others' parts (the
    /// reads made are stored all the same); the first is returned.
    async fn record(
        &self,
        round: &RoundContext,
        mut batch: Vec<(Application, Gathered)>,
        actor: &str,
        worker: &str,
    ) -> Result<(), RoundError> {
        batch.sort_by_key(|(app, _)| app.application_id);
        match self.record_once(round, &batch, actor, worker).await {
            // Settling precedence raced another application of the same
            // child (PostgreSQL) and the batch was rolled back: each
            // application once more, in a transaction of its own, and once
            // more again if it races again.
            Err(err) if err.is_unique_violation() => {
                for one in batch.chunks(1) {
                    match self.record_once(round, one, actor, worker).await {
                        Err(err) if err.is_unique_violation() => self.record_once(round, one, actor, worker).await?,
                        done => done?,
                    }
                }
                Ok(())
            }
            done => done,
        }
    }

    async fn record_once(
        &self,
        round: &RoundContext,
        batch: &[(Application, Gathered)],
        actor: &str,
        worker: &str,
    ) -> Result<(), RoundError> {
        let tx = self.store.begin_write().await?;
        let mut refused = None;
        for (app, gathered) in batch {
            if let Err(refusal) = record_one(&tx, round, app, gathered, actor, worker).await? {
                refused.get_or_insert(refusal);
            }
        }
        tx.commit().await?;
        refused.map_or(Ok(()), Err)
    }
}

/// Applications a verification writer stores in one transaction at most.
const WRITE_BATCH: usize = 32;

/// One pass's progress, as this worker counts it.
#[derive(Debug, Default)]
struct Tally {
    done: usize,
    pending: usize,
    total: usize,
    pass: usize,
}

impl Tally {
    fn progress(&self) -> VerifyProgress {
        VerifyProgress {
            done: self.done,
            total: self.total,
            pending: self.pending,
            pass: self.pass,
        }
    }
}

/// Stores one application's gathered evidence and, when complete, its
/// decision, in the caller's transaction with the reads that gathered it:
/// the one place where, under the locks, one application is decided.
/// Decided only if, under the locks, the round is still closed and the
/// application still undecided: an application excluded (or decided by
/// another worker) meanwhile keeps that state. `Ok(Err(refusal))` when the
/// round or the application refuses (the reads are stored all the same);
/// `Err` when the database fails.
async fn record_one<C: ConnectionTrait>(
    tx: &C,
    round: &RoundContext,
    app: &Application,
    gathered: &Gathered,
    actor: &str,
    worker: &str,
) -> Result<Result<(), RoundError>, RoundError> {
    let application_id = app.application_id.to_string();
    let accesses = AccessContext {
        round_id: &round.round_id,
        application_id: Some(&application_id),
        actor,
    };
    store_accesses(tx, accesses, &gathered.accesses).await?;
    let checked = async {
        share_round_in(tx, &round.round_id, &[RoundState::Closed], "closed").await?;
        lock_application(tx, &application_id).await
    }
    .await;
    let row = match checked {
        Ok(row) => row,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let undecided = matches!(
        row.state.parse()?,
        ApplicationState::Submitted | ApplicationState::Pending
    );
    if !undecided {
        // Decided by another worker whose claim had expired, or excluded.
        release(tx, &application_id, worker).await?;
        return Ok(Ok(()));
    }
    // Filed against a live application while the birth registry was
    // down: settled now, by the same rule, on complete evidence only.
    if let (true, Evidence::Complete(bundle)) = (row.precedence_unsettled, &gathered.value)
        && let Settled::Withdrawn = settle(tx, row, &Parents::from_bundle(bundle, &app.child_id), actor).await?
    {
        return Ok(Ok(()));
    }
    let next = match decide(tx, round, app, &gathered.value).await? {
        Outcome::Pending => ApplicationState::Pending,
        Outcome::Decided(_) => ApplicationState::Decided,
    };
    // The claim released and the state moved in one statement, the row
    // not read back (its body is the application's JSON).
    application::Entity::update_many()
        .col_expr(application::Column::State, Expr::value(next.as_str()))
        .col_expr(application::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(
            application::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(application::Column::UpdatedAt, Expr::value(now()))
        .filter(application::Column::Id.eq(application_id.as_str()))
        .exec(tx)
        .await?;
    Ok(Ok(()))
}

async fn gather_one(
    source: &dyn EvidenceSource,
    app: Application,
    start: EvidenceBundle,
    round: &RoundContext,
) -> (Application, Gathered) {
    let gathered = source.gather(&app, start, round).await;
    (app, gathered)
}

/// What a worker claims: up to `batch` undecided applications of the
/// round not tried since `pass_started` and not held under a live lease.
#[derive(Debug, Clone, Copy)]
struct Claims<'a> {
    round_id: &'a str,
    worker: &'a str,
    pass_started: DateTime<Utc>,
    batch: usize,
    lease: Duration,
}

impl Orchestrator {
    /// Claims a batch, in ascending id: rows another worker is claiming or
    /// deciding right now are skipped (`FOR UPDATE SKIP LOCKED`), rows under
    /// another worker's live lease are left alone, expired leases are taken
    /// over. Each comes with the bundle to start from (officer facts survive
    /// a retry).
    async fn claim(&self, claims: &Claims<'_>) -> Result<Vec<(Application, EvidenceBundle)>, RoundError> {
        let at = now();
        let tx = self.store.begin_write().await?;
        // The ids first, locked: the database orders every claimable row of
        // the round to pick the lowest, so it orders ids, not bodies (a
        // whole round's application JSON sorted for every claim spilled to
        // disk on PostgreSQL). The bodies of the batch are read after.
        let ids: Vec<String> = undecided_query(claims.round_id)
            .filter(application::Column::UpdatedAt.lt(claims.pass_started))
            .filter(
                Condition::any()
                    .add(application::Column::LeaseUntil.is_null())
                    .add(application::Column::LeaseUntil.lt(at)),
            )
            .select_only()
            .column(application::Column::Id)
            .order_by_asc(application::Column::Id)
            .limit(claims.batch as u64)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .into_tuple()
            .all(&tx)
            .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows = application::Entity::find()
            .filter(application::Column::Id.is_in(ids.iter().map(String::as_str)))
            .order_by_asc(application::Column::Id)
            .all(&tx)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        application::Entity::update_many()
            .col_expr(application::Column::ClaimedBy, Expr::value(claims.worker))
            .col_expr(application::Column::LeaseUntil, Expr::value(after(at, claims.lease)))
            .filter(application::Column::Id.is_in(rows.iter().map(|r| r.id.as_str())))
            .exec(&tx)
            .await?;
        let mut batch = Vec::with_capacity(rows.len());
        for row in &rows {
            let officer_facts = officer_facts_of(&tx, &row.id).await?;
            let start = EvidenceBundle {
                officer_facts,
                ..EvidenceBundle::default()
            };
            batch.push((parse_body(row)?, start));
        }
        tx.commit().await?;
        Ok(batch)
    }

    /// The latest lease other workers hold on applications of this pass, if any.
    async fn held_by_others(
        &self,
        round_id: &str,
        worker: &str,
        pass_started: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, RoundError> {
        let held = undecided_query(round_id)
            .filter(application::Column::UpdatedAt.lt(pass_started))
            .filter(application::Column::LeaseUntil.gte(now()))
            .filter(application::Column::ClaimedBy.ne(worker))
            .order_by_desc(application::Column::LeaseUntil)
            .one(self.store.connection())
            .await?;
        Ok(held.and_then(|row| row.lease_until))
    }
}

/// Gives up `worker`'s claim on an application it did not decide.
async fn release<C: ConnectionTrait>(conn: &C, application_id: &str, worker: &str) -> Result<(), RoundError> {
    application::Entity::update_many()
        .col_expr(application::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(
            application::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(application::Column::Id.eq(application_id))
        .filter(application::Column::ClaimedBy.eq(worker))
        .exec(conn)
        .await?;
    Ok(())
}

fn undecided_query(round_id: &str) -> enrol_store::sea_orm::Select<application::Entity> {
    application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(
            application::Column::State
                .is_in([ApplicationState::Submitted.as_str(), ApplicationState::Pending.as_str()]),
        )
}

/// Live applications of the round not decided yet (all workers').
async fn undecided_count<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<usize, RoundError> {
    Ok(undecided_query(round_id).count(conn).await? as usize)
}

/// Counts of a round's live applications by decision. Reads only ids,
/// states and statuses: a whole city's rows, not their JSON.
async fn counts_in<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<VerifyReport, RoundError> {
    let apps: Vec<(String, String)> = application::Entity::find()
        .select_only()
        .column(application::Column::Id)
        .column(application::Column::State)
        .filter(application::Column::RoundId.eq(round_id))
        .into_tuple()
        .all(conn)
        .await?;
    let decisions: HashMap<String, String> = decision::Entity::find()
        .select_only()
        .column(decision::Column::ApplicationId)
        .column(decision::Column::Status)
        .filter(decision::Column::RoundId.eq(round_id))
        .filter(decision::Column::CurrentFor.is_not_null())
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut report = VerifyReport::default();
    for (id, state) in apps {
        match state.parse::<ApplicationState>()? {
            ApplicationState::Submitted | ApplicationState::Pending => report.pending += 1,
            state @ (ApplicationState::Decided
            | ApplicationState::Accepted
            | ApplicationState::Placed
            | ApplicationState::Unplaced) => {
                let Some(status) = decisions.get(&id) else {
                    return Err(Corrupt::MissingDecision {
                        application: id,
                        state: state.to_string(),
                    }
                    .into());
                };
                match parse_status(&id, status)? {
                    enrol_domain::Status::Eligible => report.eligible += 1,
                    enrol_domain::Status::Review => report.review += 1,
                    enrol_domain::Status::Ineligible => report.ineligible += 1,
                }
            }
            ApplicationState::Withdrawn | ApplicationState::Excluded | ApplicationState::Rejected => {}
        }
    }
    Ok(report)
}
