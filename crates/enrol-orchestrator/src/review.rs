//! Officer actions (人工审核): accept a review with what the officer
//! established, reject it, or exclude an application. Each is recorded in the
//! audit log with who, when and why.

use enrol_domain::{EvidenceBundle, OfficerFacts, Status};
use enrol_rules::Policy;
use enrol_store::sea_orm::ActiveValue::{NotSet, Set};
use enrol_store::sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use enrol_store::{decision, evidence_snapshot};

use crate::error::{RoundError, corrupt};
use crate::round::{Orchestrator, RoundState, load_round, now};
use crate::submit::{
    ApplicationState, ApplicationView, change_state, load_application, parse_body, parse_status, view,
};
use crate::verify::{EvidenceSource, Gathered, store_decision};

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
            let decision = serde_json::from_str(&row.decision).map_err(|e| corrupt("decision", e))?;
            queue.push((view(conn, app).await?, decision));
        }
        Ok(queue)
    }

    /// Resolves a review while the round is closed.
    pub async fn resolve_review<S: EvidenceSource>(
        &self,
        application_id: &str,
        resolution: ReviewResolution,
        officer: &str,
        source: &S,
    ) -> Result<ApplicationView, RoundError> {
        let conn = self.store.connection();
        let row = load_application(conn, application_id).await?;
        let round = load_round(conn, &row.round_id).await?;
        if round.state != RoundState::Closed.as_str() {
            return Err(RoundError::WrongState {
                round: round.id,
                state: round.state,
                expected: "closed",
            });
        }
        let current = decision::Entity::find()
            .filter(decision::Column::CurrentFor.eq(application_id))
            .one(conn)
            .await?;
        let in_review = row.state == ApplicationState::Decided.as_str()
            && current.as_ref().map(|d| parse_status(&d.status)).transpose()? == Some(Status::Review);
        if !in_review {
            return Err(RoundError::ApplicationState {
                id: application_id.to_owned(),
                state: row.state,
                action: "resolving a review",
            });
        }
        match resolution {
            ReviewResolution::Reject { reason } => {
                let tx = self.store.begin_write().await?;
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
                let policy = Policy::from_toml_str(&round.policy_toml)?;
                let schools = round
                    .schools_json
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| corrupt("school catalogue", e))?
                    .ok_or_else(|| corrupt("round", "closed round without a school catalogue"))?;
                let app = parse_body(&row)?;
                let start = EvidenceBundle {
                    officer_facts: facts.clone(),
                    ..EvidenceBundle::default()
                };
                let (bundle, failure) = match source.gather(&app, start, &policy, &schools).await {
                    Gathered::Complete(bundle) => (bundle, None),
                    Gathered::Incomplete { bundle, failure } => (bundle, Some(failure)),
                };
                let at = now();
                let tx = self.store.begin_write().await?;
                let snapshot = evidence_snapshot::ActiveModel {
                    id: NotSet,
                    application_id: Set(application_id.to_owned()),
                    round_id: Set(row.round_id.clone()),
                    bundle: Set(serde_json::to_string(&bundle).expect("serialisable")),
                    complete: Set(failure.is_none()),
                    failure: Set(failure.clone()),
                    gathered_at: Set(at),
                }
                .insert(&tx)
                .await?;
                let next = match &failure {
                    // The officer's facts are kept in the snapshot; verification retries it.
                    Some(_) => ApplicationState::Pending,
                    None => {
                        let evaluation = enrol_rules::evaluate(&app, &bundle, &policy, &schools, None);
                        let status = evaluation.decision.status;
                        store_decision(
                            &tx,
                            application_id,
                            &row.round_id,
                            &evaluation,
                            &round.policy_version,
                            Some(snapshot.id),
                        )
                        .await?;
                        if status == Status::Review {
                            ApplicationState::Decided
                        } else {
                            ApplicationState::Accepted
                        }
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
        let tx = self.store.begin_write().await?;
        let row = load_application(&tx, application_id).await?;
        let round = load_round(&tx, &row.round_id).await?;
        if !matches!(round.state.as_str(), "open" | "closed") {
            return Err(RoundError::WrongState {
                round: round.id,
                state: round.state,
                expected: "open or closed",
            });
        }
        if matches!(row.state.as_str(), "withdrawn" | "excluded") {
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

/// Officer facts recorded for an application, from its latest evidence snapshot.
pub(crate) async fn officer_facts_of<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<OfficerFacts, RoundError> {
    let latest = evidence_snapshot::Entity::find()
        .filter(evidence_snapshot::Column::ApplicationId.eq(application_id))
        .order_by_desc(evidence_snapshot::Column::Id)
        .one(conn)
        .await?;
    Ok(match latest {
        Some(s) => {
            serde_json::from_str::<EvidenceBundle>(&s.bundle)
                .map_err(|e| corrupt("evidence snapshot", e))?
                .officer_facts
        }
        None => OfficerFacts::default(),
    })
}
