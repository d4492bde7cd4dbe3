//! Corrections after publication (更正): a published result never changes
//! silently. An officer's correction is a new event of the audit log, with
//! who, when, why and the seat before and after; the round output shows the
//! corrected seat. The allocation instance stays as drawn, so anyone can
//! still recompute the draw, and the corrections are read from the log.

use enrol_domain::{SchoolKind, Status};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use enrol_store::{AuditEntry, append_audit, assignment, decision};

use crate::error::{RoundError, corrupt};
use crate::inquiry::Seat;
use crate::round::{Orchestrator, RoundState, load_round, now};
use crate::submit::{ApplicationState, load_application};
use crate::verify::parse_evaluation;

impl Orchestrator {
    /// Corrects the seat of one application of a published round: `None`
    /// takes its seat away (e.g. the evidence proved false); `Some(school)`
    /// places it at a school of the round with a free seat. Never over a
    /// school's capacity; recorded in the audit log with the reason.
    pub async fn correct_seat(
        &self,
        application_id: &str,
        school_id: Option<&str>,
        reason: &str,
        officer: &str,
    ) -> Result<Seat, RoundError> {
        if reason.trim().is_empty() {
            return Err(RoundError::Correction("a correction needs a reason".to_owned()));
        }
        let tx = self.store.begin_write().await?;
        let app = load_application(&tx, application_id).await?;
        let round = load_round(&tx, &app.round_id).await?;
        if round.state.parse::<RoundState>()? != RoundState::Published {
            return Err(RoundError::WrongState {
                round: round.id,
                state: round.state,
                expected: "published",
            });
        }
        let row = assignment::Entity::find_by_id(application_id)
            .one(&tx)
            .await?
            .ok_or_else(|| {
                RoundError::Correction(format!("application {application_id} took no part in the allocation"))
            })?;
        let current = decision::Entity::find()
            .filter(decision::Column::CurrentFor.eq(application_id))
            .one(&tx)
            .await?
            .ok_or_else(|| corrupt("decision", format!("{application_id} has none")))?;
        let evaluation = parse_evaluation(&current)?;
        if school_id.is_some() && evaluation.decision.status != Status::Eligible {
            return Err(RoundError::Correction(format!(
                "application {application_id} is {}; only an eligible child can be given a seat",
                evaluation.decision.status
            )));
        }
        if row.school_id.as_deref() == school_id {
            return Err(RoundError::Correction(
                "the application already holds that seat".to_owned(),
            ));
        }
        let (route, choice_rank, priority, unit_no) = match school_id {
            None => ("none", None, None, None),
            Some(school) => {
                let schools: enrol_domain::SchoolCatalogue =
                    serde_json::from_str(round.schools_json.as_deref().unwrap_or("{}"))
                        .map_err(|e| corrupt("school catalogue", e))?;
                let policy = enrol_rules::Policy::from_toml_str(&round.policy_toml)?;
                let target = schools
                    .values()
                    .find(|s| s.id.as_str() == school && s.stage == policy.stage())
                    .ok_or_else(|| RoundError::Correction(format!("{school} is not a school of this round")))?;
                let taken = assignment::Entity::find()
                    .filter(assignment::Column::RoundId.eq(round.id.as_str()))
                    .filter(assignment::Column::SchoolId.eq(school))
                    .count(&tx)
                    .await?;
                if taken >= u64::from(target.capacity_in(policy.entry_year())) {
                    return Err(RoundError::Correction(format!("{school} has no free seat")));
                }
                let decision = &evaluation.decision;
                match decision.preferences.iter().position(|p| p.as_str() == school) {
                    // A school the family asked for: the priority it holds there.
                    Some(rank) => {
                        let priority = decision.schools.iter().find(|s| s.school_id.as_str() == school);
                        let unit = evaluation.seat_units.iter().find(|(s, _)| s.as_str() == school);
                        (
                            "choice",
                            Some(rank as i32 + 1),
                            priority.map(|p| p.priority.clone()),
                            unit.map(|(_, u)| u.to_string()),
                        )
                    }
                    // Anywhere else is a placement by the bureau (统筹安排), at a public school only.
                    None if target.kind == SchoolKind::Public => ("overflow", None, Some("none".to_owned()), None),
                    None => {
                        return Err(RoundError::Correction(format!(
                            "{school} is a private school the family did not choose"
                        )));
                    }
                }
            }
        };
        let before = serde_json::json!({"school_id": row.school_id, "route": row.route});
        let at = now();
        let mut active = row.into_active_model();
        active.school_id = Set(school_id.map(str::to_owned));
        active.route = Set(route.to_owned());
        active.choice_rank = Set(choice_rank);
        active.priority = Set(priority);
        active.unit_no = Set(unit_no);
        active.assigned_at = Set(at);
        let row = active.update(&tx).await?;
        let state = if school_id.is_some() {
            ApplicationState::Placed
        } else {
            ApplicationState::Unplaced
        };
        let mut app = app.into_active_model();
        app.state = Set(state.as_str().to_owned());
        app.updated_at = Set(at);
        app.update(&tx).await?;
        append_audit(
            &tx,
            at,
            AuditEntry {
                round_id: Some(round.id.clone()),
                actor: officer.to_owned(),
                action: "seat_corrected".to_owned(),
                subject: Some(application_id.to_owned()),
                reason: Some(reason.to_owned()),
                details: serde_json::json!({
                    "before": before,
                    "after": {"school_id": row.school_id, "route": row.route},
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Seat {
            application_id: row.application_id,
            school_id: row.school_id,
            route: row.route,
            choice_rank: row.choice_rank.map(|r| r as u32),
            priority: row.priority,
            unit_no: row.unit_no,
        })
    }
}
