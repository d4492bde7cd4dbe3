//! Officer actions (人工审核): accept a review with what the officer
//! established, reject it, or exclude an application. Each is recorded in the
//! audit log with who, when and why, and each is decided under the
//! application row's lock (see [`crate::locks`]).

use enrol_domain::{EvidenceBundle, OfficerFacts, Status};
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use enrol_store::{application, decision};

use crate::context::RoundContext;
use crate::decide::{AccessContext, Outcome, current_status, decide, parse_decision, store_accesses};
use crate::error::RoundError;
use crate::locks::{lock_application, share_round_in};
use crate::round::{Orchestrator, RoundState, load_round};
use crate::source::{Evidence, EvidenceSource};
use crate::submit::{ApplicationState, ApplicationView, change_state, load_application, parse_body, view};

/// An officer's resolution of an application in review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewResolution {
    /// Decide again with what the officer established, recorded as evidence.
    Accept { facts: OfficerFacts, note: String },
    /// The application stays unplaced, for this reason.
    Reject { reason: String },
}

impl Orchestrator {
    /// Applications of a round whose current decision is `review`, ascending id,
    /// with the decision's reasons.
    pub async fn review_queue(
        &self,
        round_id: &str,
    ) -> Result<Vec<(ApplicationView, enrol_domain::Decision)>, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let rows = decision::Entity::find()
            .filter(decision::Column::RoundId.eq(round_id))
            .filter(decision::Column::CurrentFor.is_not_null())
            .filter(decision::Column::Status.eq(Status::Review.as_str()))
            .order_by_asc(decision::Column::ApplicationId)
            .all(conn)
            .await?;
        let mut queue = Vec::new();
        for row in rows {
            let app = load_application(conn, &row.application_id).await?;
            if app.state != ApplicationState::Decided.as_str() {
                continue;
            }
            let decision = parse_decision(&row)?;
            queue.push((view(conn, app).await?, decision));
        }
        Ok(queue)
    }

    /// Resolves a review while the round is closed. An accept reads the
    /// registries again with the officer's facts; the resolution is stored
    /// only if, under the locks, the round is still closed and the
    /// application still in review, so of two officers resolving the same
    /// review one wins and the other gets [`RoundError::ApplicationState`].
    pub async fn resolve_review(
        &self,
        application_id: &str,
        resolution: ReviewResolution,
        officer: &str,
        source: &dyn EvidenceSource,
    ) -> Result<ApplicationView, RoundError> {
        // Refuse early what is plainly refused, before reading any registry.
        let conn = self.store.connection();
        let row = load_application(conn, application_id).await?;
        let round_row = load_round(conn, &row.round_id).await?;
        let round_states = [RoundState::Closed];
        if round_row.state != RoundState::Closed.as_str() {
            return Err(RoundError::WrongState {
                round: round_row.id,
                state: round_row.state,
                expected: "closed",
            });
        }
        in_review(conn, &row).await?;
        match resolution {
            ReviewResolution::Reject { reason } => {
                let tx = self.store.begin_write().await?;
                share_round_in(&tx, &round_row.id, &round_states, "closed").await?;
                let row = lock_application(&tx, application_id).await?;
                in_review(&tx, &row).await?;
                let row = change_state(
                    &tx,
                    row,
                    ApplicationState::Rejected,
                    officer,
                    "review_rejected",
                    Some(reason),
                    serde_json::json!({}),
                )
                .await?;
                let view = view(&tx, row).await?;
                tx.commit().await?;
                Ok(view)
            }
            ReviewResolution::Accept { facts, note } => {
                let round = RoundContext::from_row(&round_row)?;
                let app = parse_body(&row)?;
                let start = EvidenceBundle {
                    officer_facts: facts.clone(),
                    ..EvidenceBundle::default()
                };
                let gathered = source.gather(&app, start, &round).await;
                let tx = self.store.begin_write().await?;
                // The reads happened whatever comes next: they are logged
                // even when the resolution is refused.
                let accesses = AccessContext {
                    round_id: &round.round_id,
                    application_id: Some(application_id),
                    actor: officer,
                };
                store_accesses(&tx, accesses, &gathered.accesses).await?;
                let checked = async {
                    share_round_in(&tx, &round.round_id, &round_states, "closed").await?;
                    let row = lock_application(&tx, application_id).await?;
                    in_review(&tx, &row).await?;
                    Ok::<_, RoundError>(row)
                }
                .await;
                let row = match checked {
                    Ok(row) => row,
                    Err(refusal) => {
                        tx.commit().await?;
                        return Err(refusal);
                    }
                };
                let next = match decide(&tx, &round, &app, &gathered.value).await? {
                    // The officer's facts are kept in the snapshot; verification retries it.
                    Outcome::Pending => ApplicationState::Pending,
                    Outcome::Decided(Status::Review) => ApplicationState::Decided,
                    Outcome::Decided(_) => ApplicationState::Accepted,
                };
                let failure = match &gathered.value {
                    Evidence::Complete(_) => None,
                    Evidence::Incomplete { failures, .. } => {
                        Some(serde_json::to_string(failures).expect("serialisable"))
                    }
                };
                let details = serde_json::json!({"facts": facts, "state": next, "failure": failure});
                let row = change_state(&tx, row, next, officer, "review_accepted", Some(note), details).await?;
                let view = view(&tx, row).await?;
                tx.commit().await?;
                Ok(view)
            }
        }
    }

    /// Excludes an application from the round (open or closed), with a reason.
    pub async fn exclude(
        &self,
        application_id: &str,
        reason: &str,
        officer: &str,
    ) -> Result<ApplicationView, RoundError> {
        let round_id = load_application(self.store.connection(), application_id)
            .await?
            .round_id;
        let tx = self.store.begin_write().await?;
        share_round_in(
            &tx,
            &round_id,
            &[RoundState::Open, RoundState::Closed],
            "open or closed",
        )
        .await?;
        let row = lock_application(&tx, application_id).await?;
        if matches!(
            row.state.parse()?,
            ApplicationState::Withdrawn | ApplicationState::Excluded
        ) {
            return Err(RoundError::ApplicationState {
                id: application_id.to_owned(),
                state: row.state,
                action: "exclusion",
            });
        }
        let row = change_state(
            &tx,
            row,
            ApplicationState::Excluded,
            officer,
            "application_excluded",
            Some(reason.to_owned()),
            serde_json::json!({}),
        )
        .await?;
        let view = view(&tx, row).await?;
        tx.commit().await?;
        Ok(view)
    }
}

/// Refused unless the application is decided with status `review`.
async fn in_review<C: enrol_store::sea_orm::ConnectionTrait>(
    conn: &C,
    row: &application::Model,
) -> Result<(), RoundError> {
    let in_review =
        row.state == ApplicationState::Decided.as_str() && current_status(conn, &row.id).await? == Some(Status::Review);
    if !in_review {
        return Err(RoundError::ApplicationState {
            id: row.id.clone(),
            state: row.state.clone(),
            action: "resolving a review",
        });
    }
    Ok(())
}
