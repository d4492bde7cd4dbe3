//! Corrections after publication (更正): a published result never changes
//! silently. An officer's correction is a new event of the audit log, with
//! who, when, why and the seat before and after; the round output shows the
//! corrected seat. The allocation instance stays as drawn, so anyone can
//! still recompute the draw, and the corrections are read from the log.

use enrol_domain::{SchoolKind, Status};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use enrol_store::{AuditEntry, append_audit, assignment, school_seat};

use crate::context::RoundContext;
use crate::decide::{current_decision, parse_evaluation};
use crate::error::{Corrupt, RoundError};
use crate::inquiry::Seat;
use crate::locks::{lock_application, lock_school, share_round_in};
use crate::round::{Orchestrator, RoundState, load_round, now};
use crate::submit::{ApplicationState, load_application};

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
        let round_id = load_application(self.store.connection(), application_id)
            .await?
            .round_id;
        let tx = self.store.begin_write().await?;
        let round = share_round_in(&tx, &round_id, &[RoundState::Published], "published").await?;
        let app = lock_application(&tx, application_id).await?;
        let row = assignment::Entity::find_by_id(application_id)
            .one(&tx)
            .await?
            .ok_or_else(|| {
                RoundError::Correction(format!("application {application_id} took no part in the allocation"))
            })?;
        let current = current_decision(&tx, application_id)
            .await?
            .ok_or_else(|| Corrupt::MissingDecision {
                application: application_id.to_owned(),
                state: app.state.clone(),
            })?;
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
                // The whole row (policy and catalogue), under the shared lock taken above.
                let context = RoundContext::from_row(&load_round(&tx, &round.id).await?)?;
                let target = context
                    .round_schools()
                    .find(|s| s.id.as_str() == school)
                    .ok_or_else(|| RoundError::Correction(format!("{school} is not a school of this round")))?;
                // The school's row is locked while its seats are counted and
                // one is taken: a concurrent correction into the same school
                // waits, then counts this seat.
                let capacity = match lock_school(&tx, &round.id, school).await? {
                    Some(seats) => seats.capacity,
                    None => {
                        // A round allocated before school rows existed gets its row now.
                        insert_school_seats(&tx, &context).await?;
                        lock_school(&tx, &round.id, school)
                            .await?
                            .map(|s| s.capacity)
                            .unwrap_or_else(|| i32::try_from(context.capacity_of(target)).unwrap_or(i32::MAX))
                    }
                };
                let taken = assignment::Entity::find()
                    .filter(assignment::Column::RoundId.eq(round.id.as_str()))
                    .filter(assignment::Column::SchoolId.eq(school))
                    .count(&tx)
                    .await?;
                if taken >= u64::try_from(capacity).unwrap_or(0) {
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

/// One row per school of the round's stage, with its seats (the rows seat
/// corrections lock). Rows already there are kept.
pub(crate) async fn insert_school_seats<C: enrol_store::sea_orm::ConnectionTrait>(
    conn: &C,
    round: &RoundContext,
) -> Result<(), RoundError> {
    use enrol_store::sea_orm::sea_query::OnConflict;
    let rows: Vec<school_seat::ActiveModel> = round
        .round_schools()
        .map(|school| school_seat::ActiveModel {
            round_id: Set(round.round_id.clone()),
            school_id: Set(school.id.to_string()),
            capacity: Set(i32::try_from(round.capacity_of(school)).unwrap_or(i32::MAX)),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    school_seat::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([school_seat::Column::RoundId, school_seat::Column::SchoolId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
