//! Verification: evidence and a decision for every application of a closed
//! round, each stored in its own transaction so a crash loses nothing.

use std::future::Future;
use std::time::Duration;

use enrol_domain::{Application, Evaluation, EvidenceBundle, SchoolCatalogue, Stage};
use enrol_rules::Policy;
use enrol_store::sea_orm::ActiveValue::{NotSet, Set};
use enrol_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use enrol_store::{application, decision, evidence_snapshot};
use futures::StreamExt;
use serde::Serialize;

use crate::error::{RoundError, corrupt};
use crate::round::{Orchestrator, RoundState, expect_state, load_round, now};
use crate::submit::{ApplicationState, parse_body};

/// The outcome of gathering one application's evidence.
#[derive(Debug, Clone)]
pub enum Gathered {
    /// Everything the rules need.
    Complete(EvidenceBundle),
    /// A registry stayed down: what was read, and what failed. Never decided.
    Incomplete { bundle: EvidenceBundle, failure: String },
}

/// Where evidence comes from: the registry adapters, driven by the rules'
/// read plan. The orchestrator knows nothing of HTTP or wire formats.
pub trait EvidenceSource: Send + Sync {
    /// The zone registry's school catalogue, read once per round.
    fn school_catalogue(&self) -> impl Future<Output = Result<SchoolCatalogue, String>> + Send;

    /// Reads what `policy` needs for `app`, starting from `start` (which may
    /// hold officer facts or earlier answers).
    fn gather(
        &self,
        app: &Application,
        start: EvidenceBundle,
        policy: &Policy,
        schools: &SchoolCatalogue,
    ) -> impl Future<Output = Gathered> + Send;

    /// Registry accesses made since the last call, for the audit log
    /// (查询留痕): each a JSON record with registry, path, consent id,
    /// purpose, outcome and latency.
    fn drain_accesses(&self) -> Vec<serde_json::Value> {
        Vec::new()
    }
}

/// Progress of a verification, reported after every application.
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
    pub concurrency: usize,
    pub passes: usize,
    pub retry_delay: Duration,
    /// Move to `verified` leaving unresolved reviews unplaced (the demo does).
    pub leave_reviews_unplaced: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            concurrency: 64,
            passes: 5,
            retry_delay: Duration::from_secs(2),
            leave_reviews_unplaced: false,
        }
    }
}

impl Orchestrator {
    /// Gathers evidence and decides every application still undecided,
    /// retrying pending ones, then moves the round to `verified` if nothing is
    /// pending and no review is open.
    pub async fn verify<S: EvidenceSource>(
        &self,
        round_id: &str,
        source: &S,
        options: VerifyOptions,
        actor: &str,
        progress: &(dyn Fn(VerifyProgress) + Sync),
    ) -> Result<VerifyReport, RoundError> {
        let row = expect_state(self.store.connection(), round_id, RoundState::Closed, "closed").await?;
        let policy = Policy::from_toml_str(&row.policy_toml)?;
        let schools = match &row.schools_json {
            // Read once and fixed, so a restarted verification decides against the same catalogue.
            Some(json) => serde_json::from_str(json).map_err(|e| corrupt("school catalogue", e))?,
            None => {
                let catalogue = source.school_catalogue().await.map_err(RoundError::Catalogue)?;
                let mut active = row.clone().into_active_model();
                active.schools_json = Set(Some(serde_json::to_string(&catalogue).expect("serialisable")));
                active.updated_at = Set(now());
                let tx = self.store.begin_write().await?;
                active.update(&tx).await?;
                tx.commit().await?;
                catalogue
            }
        };
        let policy_version = row.policy_version.clone();
        for pass in 1..=options.passes.max(1) {
            let todo = undecided(self.store.connection(), round_id).await?;
            if todo.is_empty() {
                break;
            }
            if pass > 1 {
                tokio::time::sleep(options.retry_delay).await;
            }
            let total = todo.len();
            let mut done = 0;
            let mut pending = 0;
            let mut results = futures::stream::iter(todo.into_iter().map(|(id, app, start)| {
                let (policy, schools) = (&policy, &schools);
                async move {
                    let gathered = source.gather(&app, start, policy, schools).await;
                    (id, app, gathered)
                }
            }))
            .buffer_unordered(options.concurrency.max(1));
            while let Some((id, app, gathered)) = results.next().await {
                let complete = matches!(gathered, Gathered::Complete(_));
                self.record(&id, round_id, &app, gathered, &policy, &schools, &policy_version)
                    .await?;
                done += 1;
                pending += usize::from(!complete);
                progress(VerifyProgress {
                    done,
                    total,
                    pending,
                    pass,
                });
            }
            self.record_accesses(round_id, source).await?;
            if pending == 0 {
                break;
            }
        }
        let mut report = self.counts(round_id).await?;
        if report.pending == 0 && (report.review == 0 || options.leave_reviews_unplaced) {
            self.finish_verification(round_id, actor, options.leave_reviews_unplaced)
                .await?;
            report.verified = true;
        }
        Ok(report)
    }

    /// closed → verified, when nothing is pending and every review is resolved
    /// (or, when asked and recorded, left unplaced).
    pub async fn finish_verification(
        &self,
        round_id: &str,
        actor: &str,
        leave_reviews_unplaced: bool,
    ) -> Result<(), RoundError> {
        let report = self.counts(round_id).await?;
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
        self.transition(
            round_id,
            RoundState::Closed,
            RoundState::Verified,
            actor,
            "round_verified",
            details,
        )
        .await?;
        Ok(())
    }

    /// Current counts of a round's live applications by decision.
    pub async fn counts(&self, round_id: &str) -> Result<VerifyReport, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        // Only ids, states and statuses: a whole city's rows, not their JSON.
        let apps: Vec<(String, String)> = application::Entity::find()
            .select_only()
            .column(application::Column::Id)
            .column(application::Column::State)
            .filter(application::Column::RoundId.eq(round_id))
            .into_tuple()
            .all(conn)
            .await?;
        let decisions: std::collections::HashMap<String, String> = decision::Entity::find()
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
                ApplicationState::Decided
                | ApplicationState::Accepted
                | ApplicationState::Placed
                | ApplicationState::Unplaced => match decisions.get(&id).map(String::as_str) {
                    Some("eligible") => report.eligible += 1,
                    Some("review") => report.review += 1,
                    Some("ineligible") => report.ineligible += 1,
                    _ => return Err(corrupt("decision", format!("application {id} has none"))),
                },
                ApplicationState::Withdrawn | ApplicationState::Excluded | ApplicationState::Rejected => {}
            }
        }
        Ok(report)
    }

    /// Appends the registry accesses made so far to the audit log, in bulk.
    pub(crate) async fn record_accesses<S: EvidenceSource>(
        &self,
        round_id: &str,
        source: &S,
    ) -> Result<(), RoundError> {
        let accesses = source.drain_accesses();
        if accesses.is_empty() {
            return Ok(());
        }
        let at = now();
        let rows = accesses
            .into_iter()
            .map(|details| enrol_store::audit_log::ActiveModel {
                id: NotSet,
                round_id: Set(Some(round_id.to_owned())),
                at: Set(at),
                actor: Set("engine".to_owned()),
                action: Set("registry_access".to_owned()),
                subject: Set(details.get("consent_id").and_then(|c| c.as_str()).map(str::to_owned)),
                reason: Set(None),
                details: Set(details.to_string()),
            })
            .collect();
        let tx = self.store.begin_write().await?;
        enrol_store::insert_chunked(&tx, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        application_id: &str,
        round_id: &str,
        app: &Application,
        gathered: Gathered,
        policy: &Policy,
        schools: &SchoolCatalogue,
        policy_version: &str,
    ) -> Result<(), RoundError> {
        let at = now();
        let tx = self.store.begin_write().await?;
        let row = crate::submit::load_application(&tx, application_id).await?;
        // Another worker (or a restarted process) may have decided it meanwhile.
        let state: ApplicationState = row.state.parse()?;
        if !matches!(state, ApplicationState::Submitted | ApplicationState::Pending) {
            return Ok(());
        }
        let (bundle, failure) = match &gathered {
            Gathered::Complete(bundle) => (bundle, None),
            Gathered::Incomplete { bundle, failure } => (bundle, Some(failure.clone())),
        };
        let snapshot = evidence_snapshot::ActiveModel {
            id: NotSet,
            application_id: Set(application_id.to_owned()),
            round_id: Set(round_id.to_owned()),
            bundle: Set(serde_json::to_string(bundle).expect("serialisable")),
            complete: Set(failure.is_none()),
            failure: Set(failure.clone()),
            gathered_at: Set(at),
        }
        .insert(&tx)
        .await?;
        let next = if failure.is_none() {
            let evaluation = enrol_rules::evaluate(app, bundle, policy, schools, None);
            store_decision(
                &tx,
                application_id,
                round_id,
                &evaluation,
                policy_version,
                Some(snapshot.id),
            )
            .await?;
            ApplicationState::Decided
        } else {
            ApplicationState::Pending
        };
        let mut active = row.into_active_model();
        active.state = Set(next.as_str().to_owned());
        active.updated_at = Set(at);
        active.update(&tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Live applications not yet decided, ascending id.
/// Each comes with the bundle to start from: officer facts an officer
/// established survive a retry; registry answers are read afresh.
async fn undecided<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
) -> Result<Vec<(String, Application, EvidenceBundle)>, RoundError> {
    let rows = application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(
            application::Column::State
                .is_in([ApplicationState::Submitted.as_str(), ApplicationState::Pending.as_str()]),
        )
        .order_by_asc(application::Column::Id)
        .all(conn)
        .await?;
    let mut todo = Vec::with_capacity(rows.len());
    for row in &rows {
        let officer_facts = crate::review::officer_facts_of(conn, &row.id).await?;
        todo.push((
            row.id.clone(),
            parse_body(row)?,
            EvidenceBundle {
                officer_facts,
                ..EvidenceBundle::default()
            },
        ));
    }
    Ok(todo)
}

/// Stores a new current decision, superseding the previous one.
pub(crate) async fn store_decision<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
    round_id: &str,
    evaluation: &Evaluation,
    policy_version: &str,
    evidence_snapshot_id: Option<i64>,
) -> Result<decision::Model, RoundError> {
    if let Some(previous) = decision::Entity::find()
        .filter(decision::Column::CurrentFor.eq(application_id))
        .one(conn)
        .await?
    {
        let mut active = previous.into_active_model();
        active.current_for = Set(None);
        active.update(conn).await?;
    }
    Ok(decision::ActiveModel {
        id: NotSet,
        application_id: Set(application_id.to_owned()),
        round_id: Set(round_id.to_owned()),
        current_for: Set(Some(application_id.to_owned())),
        status: Set(evaluation.decision.status.as_str().to_owned()),
        decision: Set(serde_json::to_string(&evaluation.decision).expect("serialisable")),
        evaluation: Set(serde_json::to_string(evaluation).expect("serialisable")),
        policy_version: Set(policy_version.to_owned()),
        evidence_snapshot_id: Set(evidence_snapshot_id),
        decided_at: Set(now()),
    }
    .insert(conn)
    .await?)
}

pub(crate) fn parse_evaluation(row: &decision::Model) -> Result<Evaluation, RoundError> {
    serde_json::from_str(&row.evaluation).map_err(|e| corrupt(&format!("decision of {}", row.application_id), e))
}

/// Schools of the round's stage, by id.
pub(crate) fn round_schools(schools: &SchoolCatalogue, stage: Stage) -> impl Iterator<Item = &enrol_domain::School> {
    schools.values().filter(move |s| s.stage == stage)
}
