//! A round's verification as the database tells it: the same answer from
//! every process, whichever of them (if any) is verifying.
//!
//! Read-only. Counts come from one aggregate statement (applications by
//! state, each with its current decision's status), so on PostgreSQL they
//! are of one snapshot; who is working comes from the verification claims
//! (`claimed_by`, `lease_until`): an undecided application under a live lease
//! is being gathered by some worker right now.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use enrol_store::sea_orm::sea_query::Expr;
use enrol_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
    Statement, Value,
};
use enrol_store::{application, decision};
use serde::Serialize;

use crate::error::RoundError;
use crate::round::{Orchestrator, load_round, now};
use crate::submit::{ApplicationState, parse_status};
use crate::verify::VerifyReport;

/// Where a round's verification stands, from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerificationStatus {
    pub eligible: usize,
    pub review: usize,
    pub ineligible: usize,
    /// Not gathered by any pass yet (`submitted`).
    pub submitted: usize,
    /// Gathered, but a registry has not answered yet (`pending`).
    pub waiting: usize,
    /// Undecided applications held under a live claim right now.
    pub claimed: usize,
    /// Distinct workers holding those claims (one per verification run:
    /// a process, or a call within one).
    pub workers: usize,
    /// The latest lease among those claims: a killed worker's claims keep
    /// it working in this view until then.
    pub lease_until: Option<DateTime<Utc>>,
}

impl VerificationStatus {
    /// Applications with a current decision (eligible, review or ineligible).
    pub fn decided(&self) -> usize {
        self.eligible + self.review + self.ineligible
    }

    /// Applications not decided yet: never gathered, or waiting for a registry.
    pub fn undecided(&self) -> usize {
        self.submitted + self.waiting
    }

    /// The round's applications verification decides: decided and undecided
    /// (withdrawn, excluded and rejected ones are not counted).
    pub fn total(&self) -> usize {
        self.decided() + self.undecided()
    }

    /// Whether some worker, in this process or another, holds claims.
    pub fn claims_held(&self) -> bool {
        self.claimed > 0
    }

    /// The counts as [`Orchestrator::counts`] gives them.
    pub fn report(&self) -> VerifyReport {
        VerifyReport {
            eligible: self.eligible,
            review: self.review,
            ineligible: self.ineligible,
            pending: self.undecided(),
            verified: false,
        }
    }
}

impl Orchestrator {
    /// Where the round's verification stands, read from the database: the
    /// counts by state and decision, and the live claims. Two statements;
    /// neither reads a JSON column.
    pub async fn verification_status(&self, round_id: &str) -> Result<VerificationStatus, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let mut status = self.counts_by_state(round_id).await?;
        let (claimed, workers, lease_until) = live_claims(conn, round_id).await?;
        status.claimed = claimed;
        status.workers = workers;
        status.lease_until = lease_until;
        Ok(status)
    }
}

impl Orchestrator {
    /// Applications by state, each decided one by its current decision's
    /// status: one statement, so the figures agree with each other.
    async fn counts_by_state(&self, round_id: &str) -> Result<VerificationStatus, RoundError> {
        let conn = self.store.connection();
        let backend = conn.get_database_backend();
        let placeholder = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "SELECT a.state AS state, d.status AS status, COUNT(*) AS n \
         FROM applications a LEFT JOIN decisions d ON d.current_for = a.id \
         WHERE a.round_id = {placeholder} GROUP BY a.state, d.status"
        );
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [Value::from(round_id)]))
            .await?;
        let mut status = VerificationStatus {
            eligible: 0,
            review: 0,
            ineligible: 0,
            submitted: 0,
            waiting: 0,
            claimed: 0,
            workers: 0,
            lease_until: None,
        };
        for row in rows {
            let state: String = row.try_get("", "state")?;
            let decision: Option<String> = row.try_get("", "status")?;
            let n = usize::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0);
            match state.parse::<ApplicationState>()? {
                ApplicationState::Submitted => status.submitted += n,
                ApplicationState::Pending => status.waiting += n,
                ApplicationState::Decided
                | ApplicationState::Accepted
                | ApplicationState::Placed
                | ApplicationState::Unplaced => {
                    let Some(decision) = decision else {
                        // A decided application without its decision: the
                        // full count names which one.
                        return Err(self.counts(round_id).await.err().unwrap_or_else(|| {
                            crate::error::Corrupt::MissingDecision {
                                application: format!("(one of round {round_id})"),
                                state,
                            }
                            .into()
                        }));
                    };
                    match parse_status(round_id, &decision)? {
                        enrol_domain::Status::Eligible => status.eligible += n,
                        enrol_domain::Status::Review => status.review += n,
                        enrol_domain::Status::Ineligible => status.ineligible += n,
                    }
                }
                ApplicationState::Withdrawn | ApplicationState::Excluded | ApplicationState::Rejected => {}
            }
        }
        Ok(status)
    }
}

impl Orchestrator {
    /// The round's eligible applications counted by their priority at the
    /// family's first choice (第一志愿类别): a tier's name, `lottery` (a
    /// private school first) or [`crate::NO_PRIORITY`] (eligible, holding no
    /// priority at any choice, so placed only by overflow). The same applications as
    /// [`VerificationStatus::eligible`], so the counts add up to it. One
    /// grouped statement over a column (migration m0008), no JSON decoded:
    /// the dashboard shows it before allocation, while verification runs.
    pub async fn eligible_by_first_priority(&self, round_id: &str) -> Result<BTreeMap<String, usize>, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let rows: Vec<(String, i64)> = decision::Entity::find()
            .select_only()
            .column(decision::Column::FirstPriority)
            .column_as(Expr::col((decision::Entity, decision::Column::Id)).count(), "n")
            .join(JoinType::InnerJoin, decision_of_application())
            .filter(decision::Column::RoundId.eq(round_id))
            .filter(decision::Column::CurrentFor.is_not_null())
            .filter(application::Column::State.is_in(DECIDED_STATES.map(ApplicationState::as_str)))
            .filter(decision::Column::Status.eq(enrol_domain::Status::Eligible.as_str()))
            .group_by(decision::Column::FirstPriority)
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(priority, n)| (priority, usize::try_from(n).unwrap_or(0)))
            .collect())
    }
}

/// States of an application that has a current decision.
const DECIDED_STATES: [ApplicationState; 4] = [
    ApplicationState::Decided,
    ApplicationState::Accepted,
    ApplicationState::Placed,
    ApplicationState::Unplaced,
];

/// A decision joined to its application.
fn decision_of_application() -> RelationDef {
    decision::Entity::belongs_to(application::Entity)
        .from(decision::Column::ApplicationId)
        .to(application::Column::Id)
        .into()
}

/// Undecided applications of the round under a live lease: how many, held
/// by how many workers, until when at the latest.
async fn live_claims<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
) -> Result<(usize, usize, Option<DateTime<Utc>>), RoundError> {
    let row: Option<(i64, i64, Option<DateTime<Utc>>)> = application::Entity::find()
        .select_only()
        .column_as(Expr::col(application::Column::Id).count(), "claimed")
        .column_as(Expr::col(application::Column::ClaimedBy).count_distinct(), "workers")
        .column_as(Expr::col(application::Column::LeaseUntil).max(), "lease_until")
        .filter(application::Column::RoundId.eq(round_id))
        .filter(
            application::Column::State
                .is_in([ApplicationState::Submitted.as_str(), ApplicationState::Pending.as_str()]),
        )
        .filter(application::Column::ClaimedBy.is_not_null())
        .filter(application::Column::LeaseUntil.gte(now()))
        .into_tuple()
        .one(conn)
        .await?;
    let (claimed, workers, lease_until) = row.unwrap_or((0, 0, None));
    Ok((
        usize::try_from(claimed).unwrap_or(0),
        usize::try_from(workers).unwrap_or(0),
        lease_until,
    ))
}
