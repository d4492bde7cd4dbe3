//! Read-only questions the API asks of a round: one application's decision,
//! seat and officer's reason, pages of applications, per-school reports, the
//! round list and the audit log. Nothing here changes the store.

use std::collections::BTreeMap;

use enrol_domain::{Decision, SchoolKind, Status};
use enrol_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use enrol_store::{application, assignment, audit_log, decision, round};
use serde::Serialize;

use crate::context::RoundContext;
use crate::decide::{current_decision, parse_decision};
use crate::error::{RoundError, Stored, decode};
use crate::round::{Orchestrator, RoundInfo, RoundState, info, load_round};
use crate::submit::{ApplicationState, ApplicationView, load_application, parse_status};

/// The seat an application holds after allocation (one row of `assignments.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seat {
    pub application_id: String,
    /// `None`: no seat.
    pub school_id: Option<String>,
    /// `choice`, `overflow` or `none`.
    pub route: String,
    /// 1-based place of the seat in the decision's `preferences` (route `choice`).
    pub choice_rank: Option<u32>,
    /// The priority held at the school; `none` for an overflow seat.
    pub priority: Option<String>,
    /// The unit whose `tier1`/`tier2` priority won the seat.
    pub unit_no: Option<String>,
}

/// One school's figures in a round (招生计划完成情况).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchoolReport {
    pub school_id: String,
    pub name: String,
    /// `public` or `private`.
    pub kind: String,
    /// Seats for the round's entry year.
    pub capacity: u32,
    /// Eligible live applications whose preferences list the school.
    pub listed: u32,
    /// Eligible live applications whose first preference it is.
    pub first_choice: u32,
    /// Seats assigned, once the round is allocated.
    pub assigned: Option<u32>,
    /// Seats won through the mechanism by each priority (the policy's tiers,
    /// then `lottery`), once allocated; every name present, zero included.
    pub by_priority: Option<BTreeMap<String, u32>>,
    /// Seats given by the overflow step (统筹安排), once allocated.
    pub overflow: Option<u32>,
}

/// The live parts of an audit entry, decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

impl Orchestrator {
    /// Every round, ascending id.
    pub async fn rounds(&self) -> Result<Vec<RoundInfo>, RoundError> {
        let rows = round::Entity::find()
            .order_by_asc(round::Column::Id)
            .all(self.store.connection())
            .await?;
        Ok(rows.into_iter().map(info).collect())
    }

    /// The current decision of an application, if it has one. The lottery
    /// number is part of it only once the round is allocated.
    pub async fn decision(&self, application_id: &str) -> Result<Option<Decision>, RoundError> {
        let conn = self.store.connection();
        load_application(conn, application_id).await?;
        current_decision(conn, application_id)
            .await?
            .map(|d| parse_decision(&d))
            .transpose()
    }

    /// The seat assigned to an application, if its round is allocated and it
    /// took part in the allocation.
    pub async fn seat(&self, application_id: &str) -> Result<Option<Seat>, RoundError> {
        let conn = self.store.connection();
        load_application(conn, application_id).await?;
        let row = assignment::Entity::find_by_id(application_id).one(conn).await?;
        Ok(row.map(seat_of))
    }

    /// The officer's reason for an excluded or rejected application, or the
    /// precedence reason of one withdrawn because another application for
    /// the child stands (parents first; it names no one): the latest such
    /// entry of the audit log. `None` in every other state, and for a
    /// family's own withdrawal.
    pub async fn state_reason(&self, application_id: &str) -> Result<Option<String>, RoundError> {
        let conn = self.store.connection();
        let app = load_application(conn, application_id).await?;
        let action = match app.state.parse::<ApplicationState>()? {
            ApplicationState::Excluded => "application_excluded",
            ApplicationState::Rejected => "review_rejected",
            // Withdrawn by precedence (parents first); a family's own
            // withdrawal has no reason.
            ApplicationState::Withdrawn => crate::precedence::SUPERSEDED,
            _ => return Ok(None),
        };
        let entry = audit_log::Entity::find()
            .filter(audit_log::Column::RoundId.eq(app.round_id.as_str()))
            .filter(audit_log::Column::Subject.eq(application_id))
            .filter(audit_log::Column::Action.eq(action))
            .order_by_desc(audit_log::Column::Id)
            .one(conn)
            .await?;
        Ok(entry.and_then(|e| e.reason))
    }

    /// A page of a round's applications in ascending id, starting after
    /// `after`, at most `limit`.
    pub async fn application_page(
        &self,
        round_id: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<ApplicationView>, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let mut query = application::Entity::find().filter(application::Column::RoundId.eq(round_id));
        if let Some(after) = after {
            query = query.filter(application::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(application::Column::Id)
            .limit(limit)
            .all(conn)
            .await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        // One query for the page's decisions, not one per row.
        let statuses: BTreeMap<String, Status> = decision::Entity::find()
            .filter(decision::Column::CurrentFor.is_in(ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|d| Ok((parse_status(&d.application_id, &d.status)?, d.application_id)))
            .map(|r: Result<_, RoundError>| r.map(|(status, id)| (id, status)))
            .collect::<Result<_, RoundError>>()?;
        rows.into_iter()
            .map(|row| {
                Ok(ApplicationView {
                    state: row.state.parse()?,
                    status: statuses.get(&row.id).copied(),
                    application_id: row.id,
                    round: row.round_id,
                    child_id: row.child_id,
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }

    /// Per-school figures of a round, by school id: demand from the current
    /// decisions, and seats once allocated. Needs the school catalogue, which
    /// verification reads.
    pub async fn school_reports(&self, round_id: &str) -> Result<Vec<SchoolReport>, RoundError> {
        let conn = self.store.connection();
        let context = match RoundContext::from_row(&load_round(conn, round_id).await?) {
            Err(RoundError::NoCatalogue { round, state }) => {
                return Err(RoundError::WrongState {
                    round,
                    state,
                    expected: "verifying or later (the school catalogue is read at verification)",
                });
            }
            other => other?,
        };
        let (state, policy) = (context.state, &context.policy);
        let live: std::collections::BTreeSet<String> = application::Entity::find()
            .filter(application::Column::RoundId.eq(round_id))
            .filter(application::Column::State.is_in([
                ApplicationState::Decided.as_str(),
                ApplicationState::Accepted.as_str(),
                ApplicationState::Placed.as_str(),
                ApplicationState::Unplaced.as_str(),
            ]))
            .select_only()
            .column(application::Column::Id)
            .into_tuple::<String>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let mut listed: BTreeMap<String, u32> = BTreeMap::new();
        let mut first: BTreeMap<String, u32> = BTreeMap::new();
        let eligible = decision::Entity::find()
            .filter(decision::Column::RoundId.eq(round_id))
            .filter(decision::Column::CurrentFor.is_not_null())
            .filter(decision::Column::Status.eq(Status::Eligible.as_str()))
            .all(conn)
            .await?;
        for row in eligible.iter().filter(|d| live.contains(&d.application_id)) {
            let decision: Decision = parse_decision(row)?;
            for school in &decision.preferences {
                *listed.entry(school.to_string()).or_default() += 1;
            }
            if let Some(school) = decision.preferences.first() {
                *first.entry(school.to_string()).or_default() += 1;
            }
        }

        let allocated = state >= RoundState::Allocated;
        let seats = if allocated {
            seats_of_round(conn, round_id).await?
        } else {
            Vec::new()
        };
        let mut priorities: Vec<String> = policy.tier_names().iter().map(|t| (*t).to_owned()).collect();
        priorities.push(enrol_domain::LOTTERY_PRIORITY.to_owned());

        Ok(context
            .round_schools()
            .map(|school| {
                let id = school.id.as_str();
                let here: Vec<&Seat> = seats.iter().filter(|s| s.school_id.as_deref() == Some(id)).collect();
                let by_priority = priorities
                    .iter()
                    .map(|p| {
                        let n = here
                            .iter()
                            .filter(|s| s.route == "choice" && s.priority.as_deref() == Some(p))
                            .count();
                        (p.clone(), n as u32)
                    })
                    .collect();
                SchoolReport {
                    school_id: id.to_owned(),
                    name: school.name.clone(),
                    kind: match school.kind {
                        SchoolKind::Public => "public".to_owned(),
                        SchoolKind::Private => "private".to_owned(),
                    },
                    capacity: school.capacity_in(policy.entry_year()),
                    listed: listed.get(id).copied().unwrap_or(0),
                    first_choice: first.get(id).copied().unwrap_or(0),
                    assigned: allocated.then_some(here.len() as u32),
                    by_priority: allocated.then_some(by_priority),
                    overflow: allocated.then(|| here.iter().filter(|s| s.route == "overflow").count() as u32),
                }
            })
            .collect())
    }

    /// The audit log of a round, oldest first: entries after id `after`, at most `limit`.
    pub async fn audit_log(
        &self,
        round_id: &str,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, RoundError> {
        self.audit_entries(round_id, None, after, limit).await
    }

    /// The entries of one `action` (e.g. `seat_corrected`) of a round's
    /// audit log, oldest first, filtered by the database: entries after id
    /// `after`, at most `limit`.
    pub async fn audit_log_of_action(
        &self,
        round_id: &str,
        action: &str,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, RoundError> {
        self.audit_entries(round_id, Some(action), after, limit).await
    }

    async fn audit_entries(
        &self,
        round_id: &str,
        action: Option<&str>,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let mut query = audit_log::Entity::find().filter(audit_log::Column::RoundId.eq(round_id));
        if let Some(action) = action {
            query = query.filter(audit_log::Column::Action.eq(action));
        }
        if let Some(after) = after {
            query = query.filter(audit_log::Column::Id.gt(after));
        }
        let rows = query.order_by_asc(audit_log::Column::Id).limit(limit).all(conn).await?;
        rows.into_iter()
            .map(|row| {
                Ok(AuditRecord {
                    details: decode(Stored::AuditEntry, &row.id.to_string(), &row.details)?,
                    id: row.id,
                    at: row.at,
                    actor: row.actor,
                    action: row.action,
                    subject: row.subject,
                    reason: row.reason,
                })
            })
            .collect()
    }
}

fn seat_of(row: assignment::Model) -> Seat {
    Seat {
        application_id: row.application_id,
        school_id: row.school_id,
        route: row.route,
        choice_rank: row.choice_rank.and_then(|r| u32::try_from(r).ok()),
        priority: row.priority,
        unit_no: row.unit_no,
    }
}

async fn seats_of_round<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<Vec<Seat>, RoundError> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(round_id))
        .all(conn)
        .await?
        .into_iter()
        .map(seat_of)
        .collect())
}
