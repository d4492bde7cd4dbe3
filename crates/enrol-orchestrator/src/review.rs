//! Officer actions (人工审核): accept a review with what the officer
//! established, reject it, or exclude an application. Each is recorded in the
//! audit log with who, when and why, and each is decided under the
//! application row's lock (see [`crate::locks`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use enrol_domain::{EvidenceBundle, OfficerFacts, Status};
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use enrol_store::{application, decision};
use futures::TryStreamExt;
use serde::Deserialize;

use crate::context::RoundContext;
use crate::decide::{AccessContext, Outcome, current_status, decide, store_accesses};
use crate::error::{RoundError, Stored, decode};
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

/// Which part of a round's review queue to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReviewQuery<'a> {
    /// Only applications with a reason of this code.
    pub reason: Option<&'a str>,
    /// Matching applications to skip (ascending id).
    pub offset: usize,
    /// At most this many on the page.
    pub limit: usize,
}

/// A page of the review queue, with what a filter needs of the whole queue.
#[derive(Debug, Clone, Default)]
pub struct ReviewQueuePage {
    /// The page, ascending application id, with each decision's reasons.
    pub items: Vec<(ApplicationView, enrol_domain::Decision)>,
    /// Applications matching the query's reason (all, without one).
    pub matching: usize,
    /// Applications in the whole queue by reason code (an application with
    /// two reasons counts under both).
    pub by_reason: BTreeMap<String, usize>,
}

/// Only the reason codes of a stored decision: enough to count and filter
/// the whole queue without decoding every decision in full.
#[derive(Deserialize)]
struct Codes {
    reasons: Vec<Code>,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

impl Orchestrator {
    /// The whole review queue: applications of a round whose current
    /// decision is `review` and which are still `decided` (not yet
    /// resolved), ascending id, with the decision's reasons.
    pub async fn review_queue(
        &self,
        round_id: &str,
    ) -> Result<Vec<(ApplicationView, enrol_domain::Decision)>, RoundError> {
        let query = ReviewQuery {
            limit: usize::MAX,
            ..ReviewQuery::default()
        };
        Ok(self.review_queue_page(round_id, query).await?.items)
    }

    /// A page of the review queue, filtered by reason on the server. One
    /// query (decisions joined with their applications), streamed: each
    /// decision is decoded whole only when it is on the page, so a queue of
    /// tens of thousands costs its reason codes, not its decisions.
    pub async fn review_queue_page(
        &self,
        round_id: &str,
        query: ReviewQuery<'_>,
    ) -> Result<ReviewQueuePage, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let to_application = decision::Entity::belongs_to(application::Entity)
            .from(decision::Column::ApplicationId)
            .to(application::Column::Id)
            .into();
        let mut rows = decision::Entity::find()
            .select_only()
            .column(decision::Column::ApplicationId)
            .column(decision::Column::Decision)
            .column(application::Column::ChildId)
            .column(application::Column::UpdatedAt)
            .join(JoinType::InnerJoin, to_application)
            .filter(decision::Column::RoundId.eq(round_id))
            .filter(decision::Column::CurrentFor.is_not_null())
            .filter(decision::Column::Status.eq(Status::Review.as_str()))
            .filter(application::Column::State.eq(ApplicationState::Decided.as_str()))
            .order_by_asc(decision::Column::ApplicationId)
            .into_tuple::<(String, String, String, DateTime<Utc>)>()
            .stream(conn)
            .await?;
        let mut page = ReviewQueuePage::default();
        while let Some((application_id, json, child_id, updated_at)) = rows.try_next().await? {
            let codes: Codes = decode(Stored::Decision, &application_id, &json)?;
            let mut matches = query.reason.is_none();
            for reason in codes.reasons {
                matches |= query.reason == Some(reason.code.as_str());
                *page.by_reason.entry(reason.code).or_insert(0) += 1;
            }
            if !matches {
                continue;
            }
            page.matching += 1;
            if page.matching > query.offset && page.items.len() < query.limit {
                let decision = decode(Stored::Decision, &application_id, &json)?;
                let view = ApplicationView {
                    application_id,
                    round: round_id.to_owned(),
                    child_id,
                    state: ApplicationState::Decided,
                    status: Some(Status::Review),
                    updated_at,
                };
                page.items.push((view, decision));
            }
        }
        Ok(page)
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
                let gathering = source.gather(&app, start, &round);
                let gathered = self
                    .journaled(&round.round_id, Some(application_id), officer, gathering)
                    .await;
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
