//! Applications: submission (idempotent by `application_id`), withdrawal,
//! and the lifecycle the API reports.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use enrol_domain::{Application, NationalId, Status};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use enrol_store::{AuditEntry, append_audit, application, assignment};
use serde::Serialize;

use crate::decide::current_status;
use crate::error::{Corrupt, RoundError, Stored, decode, unknown_value};
use crate::locks::{lock_application, share_round_in};
use crate::round::{Orchestrator, RoundState, now};

/// Lifecycle of an application (formats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationState {
    Submitted,
    /// Evidence still being fetched: a registry has not answered yet.
    Pending,
    Decided,
    Placed,
    Unplaced,
    Withdrawn,
    Excluded,
    Accepted,
    Rejected,
}

impl ApplicationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Submitted => "submitted",
            ApplicationState::Pending => "pending",
            ApplicationState::Decided => "decided",
            ApplicationState::Placed => "placed",
            ApplicationState::Unplaced => "unplaced",
            ApplicationState::Withdrawn => "withdrawn",
            ApplicationState::Excluded => "excluded",
            ApplicationState::Accepted => "accepted",
            ApplicationState::Rejected => "rejected",
        }
    }
}

impl fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApplicationState {
    type Err = RoundError;
    fn from_str(s: &str) -> Result<Self, RoundError> {
        Ok(match s {
            "submitted" => ApplicationState::Submitted,
            "pending" => ApplicationState::Pending,
            "decided" => ApplicationState::Decided,
            "placed" => ApplicationState::Placed,
            "unplaced" => ApplicationState::Unplaced,
            "withdrawn" => ApplicationState::Withdrawn,
            "excluded" => ApplicationState::Excluded,
            "accepted" => ApplicationState::Accepted,
            "rejected" => ApplicationState::Rejected,
            other => return Err(unknown_value(Stored::ApplicationState, "an application", other).into()),
        })
    }
}

/// What the API shows of an application's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationView {
    pub application_id: String,
    pub round: String,
    pub child_id: String,
    pub state: ApplicationState,
    /// The decision's status, once decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    pub updated_at: DateTime<Utc>,
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Stored now.
    Created(ApplicationView),
    /// The same application was already stored: answered the same way.
    Existing(ApplicationView),
}

/// The application as stored: the canonical JSON of the parsed value, so IDs
/// with a lower-case `x` and reordered keys compare equal.
pub(crate) fn canonical_body(app: &Application) -> String {
    serde_json::to_string(app).expect("an application always serialises")
}

pub(crate) fn parse_body(row: &application::Model) -> Result<Application, RoundError> {
    Ok(decode(Stored::Application, &row.id, &row.body)?)
}

impl Orchestrator {
    /// Stores a family's application while its round is open. Idempotent on
    /// `application_id`; one live application per child and round.
    pub async fn submit(&self, app: &Application, actor: &str) -> Result<SubmitOutcome, RoundError> {
        let id = app.application_id.to_string();
        let body = canonical_body(app);
        let round_id = app.round.to_string();
        let tx = self.store.begin_write().await?;
        // The round row is shared-locked: close waits until this commits, and
        // a submission that comes after close sees the round closed.
        let round = crate::locks::share_round(&tx, &round_id).await?;
        if let Some(existing) = application::Entity::find_by_id(&id).one(&tx).await? {
            return if existing.body == body {
                Ok(SubmitOutcome::Existing(view(&tx, existing).await?))
            } else {
                Err(RoundError::ApplicationIdConflict { id })
            };
        }
        if round.state != RoundState::Open.as_str() {
            return Err(RoundError::WrongState {
                round: round_id,
                state: round.state,
                expected: "open",
            });
        }
        if let Some(live) = live_application_of(&tx, &round_id, app.child_id.as_str()).await? {
            return Err(child_conflict(&round_id, app.child_id.as_str(), &live)?);
        }
        let at = now();
        let row = application::ActiveModel {
            id: Set(id.clone()),
            round_id: Set(round_id.clone()),
            child_id: Set(app.child_id.to_string()),
            applicant_id: Set(app.applicant_id.to_string()),
            live_child_id: Set(Some(app.child_id.to_string())),
            body: Set(body),
            state: Set(ApplicationState::Submitted.as_str().to_owned()),
            claimed_by: Set(None),
            lease_until: Set(None),
            received_at: Set(at),
            updated_at: Set(at),
        };
        let row = match row.insert(&tx).await {
            Ok(row) => row,
            // A concurrent submission won the race (PostgreSQL): answer as if it came first.
            Err(err) if enrol_store::is_unique_violation(&err) => {
                drop(tx);
                return self.answer_after_race(app).await;
            }
            Err(err) => return Err(err.into()),
        };
        append_audit(
            &tx,
            at,
            AuditEntry {
                round_id: Some(round_id),
                actor: actor.to_owned(),
                action: "application_submitted".to_owned(),
                subject: Some(id),
                reason: None,
                details: serde_json::json!({"child_id": app.child_id}),
            },
        )
        .await?;
        let view = view(&tx, row).await?;
        tx.commit().await?;
        Ok(SubmitOutcome::Created(view))
    }

    async fn answer_after_race(&self, app: &Application) -> Result<SubmitOutcome, RoundError> {
        let conn = self.store.connection();
        let id = app.application_id.to_string();
        if let Some(existing) = application::Entity::find_by_id(&id).one(conn).await? {
            return if existing.body == canonical_body(app) {
                Ok(SubmitOutcome::Existing(view(conn, existing).await?))
            } else {
                Err(RoundError::ApplicationIdConflict { id })
            };
        }
        let round_id = app.round.to_string();
        match live_application_of(conn, &round_id, app.child_id.as_str()).await? {
            Some(live) => Err(child_conflict(&round_id, app.child_id.as_str(), &live)?),
            None => Err(Corrupt::PhantomCollision { application: id }.into()),
        }
    }

    /// Withdraws an application while its round is open.
    pub async fn withdraw(&self, application_id: &str, actor: &str) -> Result<ApplicationView, RoundError> {
        let round_id = load_application(self.store.connection(), application_id)
            .await?
            .round_id;
        let tx = self.store.begin_write().await?;
        share_round_in(&tx, &round_id, &[RoundState::Open], "open").await?;
        let row = lock_application(&tx, application_id).await?;
        // Withdrawn already, or excluded by an officer: the officer's decision stands.
        if matches!(
            row.state.parse()?,
            ApplicationState::Withdrawn | ApplicationState::Excluded
        ) {
            return Err(RoundError::ApplicationState {
                id: application_id.to_owned(),
                state: row.state,
                action: "withdrawal",
            });
        }
        let row = change_state(
            &tx,
            row,
            ApplicationState::Withdrawn,
            actor,
            "application_withdrawn",
            None,
            serde_json::json!({}),
        )
        .await?;
        let view = view(&tx, row).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The application as submitted.
    pub async fn application(&self, application_id: &str) -> Result<(Application, ApplicationView), RoundError> {
        let conn = self.store.connection();
        let row = load_application(conn, application_id).await?;
        let app = parse_body(&row)?;
        Ok((app, view(conn, row).await?))
    }

    /// Applications of a round, ascending id.
    pub async fn applications(&self, round_id: &str) -> Result<Vec<(Application, ApplicationState)>, RoundError> {
        let rows = application::Entity::find()
            .filter(application::Column::RoundId.eq(round_id))
            .order_by_asc(application::Column::Id)
            .all(self.store.connection())
            .await?;
        rows.iter()
            .map(|row| Ok((parse_body(row)?, row.state.parse()?)))
            .collect()
    }
}

/// Moves an application to `to`, recording who did it and why in the audit
/// log, in the caller's transaction. Withdrawn and excluded applications stop
/// being live, so the child may apply again.
pub(crate) async fn change_state<C: ConnectionTrait>(
    conn: &C,
    row: application::Model,
    to: ApplicationState,
    actor: &str,
    action: &str,
    reason: Option<String>,
    details: serde_json::Value,
) -> Result<application::Model, RoundError> {
    let at = now();
    let (round_id, subject) = (row.round_id.clone(), row.id.clone());
    let row = set_application_state(conn, row, to).await?;
    append_audit(
        conn,
        at,
        AuditEntry {
            round_id: Some(round_id),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: Some(subject),
            reason,
            details,
        },
    )
    .await?;
    Ok(row)
}

/// Moves an application to `to` without an audit entry (verification's own
/// steps: pending, decided). The caller holds the row's lock.
pub(crate) async fn set_application_state<C: ConnectionTrait>(
    conn: &C,
    row: application::Model,
    to: ApplicationState,
) -> Result<application::Model, RoundError> {
    let mut active = row.into_active_model();
    active.state = Set(to.as_str().to_owned());
    if matches!(to, ApplicationState::Withdrawn | ApplicationState::Excluded) {
        active.live_child_id = Set(None);
    }
    active.updated_at = Set(now());
    Ok(active.update(conn).await?)
}

pub(crate) async fn load_application<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<application::Model, RoundError> {
    application::Entity::find_by_id(application_id)
        .one(conn)
        .await?
        .ok_or_else(|| RoundError::UnknownApplication(application_id.to_owned()))
}

async fn live_application_of<C: ConnectionTrait>(
    conn: &C,
    round_id: &str,
    child_id: &str,
) -> Result<Option<application::Model>, RoundError> {
    Ok(application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(application::Column::LiveChildId.eq(child_id))
        .one(conn)
        .await?)
}

fn child_conflict(round_id: &str, child_id: &str, live: &application::Model) -> Result<RoundError, RoundError> {
    let app = parse_body(live)?;
    Ok(RoundError::ChildConflict {
        round: round_id.to_owned(),
        child_id: child_id.to_owned(),
        existing_id: live.id.clone(),
        existing_family: app.guardians().into_iter().map(NationalId::to_string).collect(),
    })
}

pub(crate) async fn view<C: ConnectionTrait>(conn: &C, row: application::Model) -> Result<ApplicationView, RoundError> {
    let status = current_status(conn, &row.id).await?;
    Ok(ApplicationView {
        state: row.state.parse()?,
        application_id: row.id,
        round: row.round_id,
        child_id: row.child_id,
        status,
        updated_at: row.updated_at,
    })
}

pub(crate) fn parse_status(application_id: &str, s: &str) -> Result<Status, RoundError> {
    match s {
        "eligible" => Ok(Status::Eligible),
        "review" => Ok(Status::Review),
        "ineligible" => Ok(Status::Ineligible),
        other => Err(unknown_value(Stored::DecisionStatus, application_id, other).into()),
    }
}

/// At publication: every decided or accepted application becomes placed or
/// unplaced by its assignment.
pub(crate) async fn mark_published<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<(), RoundError> {
    let at = now();
    let seated: std::collections::BTreeSet<String> = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(round_id))
        .filter(assignment::Column::SchoolId.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.application_id)
        .collect();
    let rows = application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(
            application::Column::State.is_in([ApplicationState::Decided.as_str(), ApplicationState::Accepted.as_str()]),
        )
        .all(conn)
        .await?;
    for row in rows {
        let state = if seated.contains(&row.id) {
            ApplicationState::Placed
        } else {
            ApplicationState::Unplaced
        };
        let mut active = row.into_active_model();
        active.state = Set(state.as_str().to_owned());
        active.updated_at = Set(at);
        active.update(conn).await?;
    }
    Ok(())
}
