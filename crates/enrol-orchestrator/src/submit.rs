//! Applications: submission (idempotent by `application_id`), withdrawal,
//! and the lifecycle the API reports.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use enrol_domain::{Application, NationalId, Status};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::sea_query::{Expr, Query};
use enrol_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use enrol_store::{AuditEntry, append_audit, application, assignment};
use serde::Serialize;

use crate::decide::{AccessContext, current_status, store_accesses};
use crate::error::{Corrupt, RoundError, Stored, decode, unknown_value};
use crate::locks::{lock_application, share_round_in};
use crate::precedence::{
    PARENTS_READ_DEADLINE, Parents, Precedence, SUPERSEDED, SUPERSEDED_BY_PARENT, at_submission, needs_parents,
};
use crate::round::{Orchestrator, RoundState, now};
use crate::source::{Access, EvidenceSource};

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

/// Where a submission learns the child's parents when it meets a live
/// application.
#[derive(Clone, Copy)]
enum ParentsLookup<'a> {
    /// The birth registry, within [`PARENTS_READ_DEADLINE`].
    Registry(&'a dyn EvidenceSource),
    /// No read at submission: a meeting is settled at verification.
    None,
}

/// One try at storing a submission, under the round row's shared lock.
enum Attempt {
    Done(SubmitOutcome),
    /// The submission meets another filer's live application: the
    /// certificate is needed (nothing was written).
    NeedParents,
    /// A concurrent submission or withdrawal changed the child's live
    /// application under us: try again (nothing was written).
    Raced,
}

/// The certificate read a submission made, with its accesses, which are
/// stored with whatever the submission comes to (a refusal included).
struct ParentsRead {
    parents: Parents,
    accesses: Vec<Access>,
}

/// How many times a submission is tried when concurrent submissions for
/// the same child keep changing its live application. Each retry sees a
/// committed change, so this is only reached under a storm.
const SUBMIT_TRIES: usize = 8;

impl Orchestrator {
    /// Stores a family's application while its round is open. Idempotent on
    /// `application_id`; one live application per child and round, parents
    /// first ([`crate::precedence`]): when it meets another filer's live
    /// application, the child's birth certificate is read from `source`
    /// under this application's consent to settle which one stands.
    pub async fn submit(
        &self,
        app: &Application,
        source: &dyn EvidenceSource,
        actor: &str,
    ) -> Result<SubmitOutcome, RoundError> {
        self.submit_with(app, ParentsLookup::Registry(source), actor).await
    }

    /// [`Orchestrator::submit`] without reading the birth registry (imports,
    /// restores, tests): an application meeting another filer's live one is
    /// stored unsettled and verification settles it.
    pub async fn submit_unread(&self, app: &Application, actor: &str) -> Result<SubmitOutcome, RoundError> {
        self.submit_with(app, ParentsLookup::None, actor).await
    }

    async fn submit_with(
        &self,
        app: &Application,
        lookup: ParentsLookup<'_>,
        actor: &str,
    ) -> Result<SubmitOutcome, RoundError> {
        let mut read: Option<ParentsRead> = None;
        for _ in 0..SUBMIT_TRIES {
            match self.try_submit(app, read.as_ref(), actor).await? {
                Attempt::Done(outcome) => return Ok(outcome),
                Attempt::NeedParents => {
                    read = Some(match lookup {
                        ParentsLookup::Registry(source) => {
                            let (id, round_id) = (app.application_id.to_string(), app.round.to_string());
                            let read = source.birth_certificate(app, PARENTS_READ_DEADLINE);
                            let recorded = self.journaled(&round_id, Some(&id), actor, read).await;
                            ParentsRead {
                                parents: Parents::from_read(recorded.value),
                                accesses: recorded.accesses,
                            }
                        }
                        ParentsLookup::None => ParentsRead {
                            parents: Parents::Unknown,
                            accesses: Vec::new(),
                        },
                    });
                }
                Attempt::Raced => {}
            }
        }
        // Still racing (a storm of submissions for one child): keep the
        // reads on record, and refuse as the latest live application stands.
        let (id, round_id) = (app.application_id.to_string(), app.round.to_string());
        let tx = self.store.begin_write().await?;
        if let Some(read) = &read {
            store_accesses(&tx, submission_accesses(&round_id, &id, actor), &read.accesses).await?;
        }
        let live = live_application_of(&tx, &round_id, app.child_id.as_str()).await?;
        tx.commit().await?;
        match live {
            Some(live) => Err(child_conflict(&round_id, app.child_id.as_str(), &live)?),
            None => Err(Corrupt::PhantomCollision { application: id }.into()),
        }
    }

    async fn try_submit(
        &self,
        app: &Application,
        read: Option<&ParentsRead>,
        actor: &str,
    ) -> Result<Attempt, RoundError> {
        let id = app.application_id.to_string();
        let body = canonical_body(app);
        let round_id = app.round.to_string();
        let tx = self.store.begin_write().await?;
        // The certificate's reads are stored with what the submission comes
        // to, a refusal included (unless it races, when the next try does).
        if let Some(read) = read {
            store_accesses(&tx, submission_accesses(&round_id, &id, actor), &read.accesses).await?;
        }
        let refused = |tx: DatabaseTransaction, err: RoundError| async move {
            tx.commit().await?;
            Err::<Attempt, RoundError>(err)
        };
        // The round row is shared-locked: close waits until this commits, and
        // a submission that comes after close sees the round closed.
        let round = crate::locks::share_round(&tx, &round_id).await?;
        if let Some(existing) = application::Entity::find_by_id(&id).one(&tx).await? {
            let outcome = if existing.body == body {
                Ok(Attempt::Done(SubmitOutcome::Existing(view(&tx, existing).await?)))
            } else {
                Err(RoundError::ApplicationIdConflict { id })
            };
            tx.commit().await?;
            return outcome;
        }
        if round.state != RoundState::Open.as_str() {
            let err = RoundError::WrongState {
                round: round_id,
                state: round.state,
                expected: "open",
            };
            return refused(tx, err).await;
        }
        let applicant = app.applicant_id.as_str();
        let mut supersedes = None;
        let mut unsettled = false;
        if let Some(live) = live_application_of(&tx, &round_id, app.child_id.as_str()).await? {
            let parents = match read {
                Some(read) => &read.parents,
                None if needs_parents(applicant, &live.applicant_id) => return Ok(Attempt::NeedParents),
                None => &Parents::Unknown,
            };
            match at_submission(parents, applicant, &live.applicant_id) {
                Precedence::Refused => {
                    let err = child_conflict(&round_id, app.child_id.as_str(), &live)?;
                    return refused(tx, err).await;
                }
                Precedence::Unsettled => unsettled = true,
                Precedence::Supersedes => {
                    // Under the live row's lock: still live, or someone
                    // withdrew or superseded it first (then try again).
                    let live = lock_application(&tx, &live.id).await?;
                    if live.live_child_id.is_none() {
                        return Ok(Attempt::Raced);
                    }
                    let details = serde_json::json!({"application": live.id, "superseded_by": id});
                    supersedes = Some(live.id.clone());
                    change_state(
                        &tx,
                        live,
                        ApplicationState::Withdrawn,
                        actor,
                        SUPERSEDED,
                        Some(SUPERSEDED_BY_PARENT.to_owned()),
                        details,
                    )
                    .await?;
                }
            }
        }
        let at = now();
        let row = application::ActiveModel {
            id: Set(id.clone()),
            round_id: Set(round_id.clone()),
            child_id: Set(app.child_id.to_string()),
            applicant_id: Set(app.applicant_id.to_string()),
            live_child_id: Set((!unsettled).then(|| app.child_id.to_string())),
            body: Set(body),
            state: Set(ApplicationState::Submitted.as_str().to_owned()),
            claimed_by: Set(None),
            lease_until: Set(None),
            precedence_unsettled: Set(unsettled),
            received_at: Set(at),
            updated_at: Set(at),
        };
        let row = match row.insert(&tx).await {
            Ok(row) => row,
            // A concurrent submission for the child (or of this id) won the
            // race (PostgreSQL): try again, and answer as if it came first.
            Err(err) if enrol_store::is_unique_violation(&err) => return Ok(Attempt::Raced),
            Err(err) => return Err(err.into()),
        };
        let mut details = serde_json::json!({"child_id": app.child_id});
        if let Some(superseded) = supersedes {
            details["supersedes"] = superseded.into();
        }
        if unsettled {
            details["precedence"] = "unsettled".into();
        }
        append_audit(
            &tx,
            at,
            AuditEntry {
                round_id: Some(round_id),
                actor: actor.to_owned(),
                action: "application_submitted".to_owned(),
                subject: Some(id),
                reason: None,
                details,
            },
        )
        .await?;
        let view = view(&tx, row).await?;
        tx.commit().await?;
        Ok(Attempt::Done(SubmitOutcome::Created(view)))
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

/// A submission's registry reads are filed under its application id (even
/// when it is refused and never stored) and its filer.
fn submission_accesses<'a>(round_id: &'a str, application_id: &'a str, actor: &'a str) -> AccessContext<'a> {
    AccessContext {
        round_id,
        application_id: Some(application_id),
        actor,
    }
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
/// unplaced by its assignment. Two set-wise statements in the caller's
/// transaction (those with a seat, then the rest), so that publishing a
/// city neither reads every application's body nor writes them one by one.
pub(crate) async fn mark_published<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<(), RoundError> {
    let at = now();
    let taking_part = [ApplicationState::Decided.as_str(), ApplicationState::Accepted.as_str()];
    let seated = Query::select()
        .column(assignment::Column::ApplicationId)
        .from(assignment::Entity)
        .and_where(assignment::Column::RoundId.eq(round_id))
        .and_where(assignment::Column::SchoolId.is_not_null())
        .to_owned();
    for (state, seat) in [(ApplicationState::Placed, true), (ApplicationState::Unplaced, false)] {
        let update = application::Entity::update_many()
            .col_expr(application::Column::State, Expr::value(state.as_str()))
            .col_expr(application::Column::UpdatedAt, Expr::value(at))
            .filter(application::Column::RoundId.eq(round_id))
            .filter(application::Column::State.is_in(taking_part));
        // The seated first: what is left taking part after it is unplaced.
        let update = if seat {
            update.filter(application::Column::Id.in_subquery(seated.clone()))
        } else {
            update
        };
        update.exec(conn).await?;
    }
    Ok(())
}
