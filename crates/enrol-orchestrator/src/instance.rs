//! From a round's decisions to the allocation instance of formats.md, and the
//! allocation step of the round.

use std::collections::{BTreeMap, HashSet};

use enrol_allocation::{Applicant, Choice, Home, Instance, Location, Mechanism, School};
use enrol_domain::{Evaluation, SchoolCatalogue, SchoolKind, Stage, Status};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::sea_query::Expr;
use enrol_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use enrol_store::{application, assignment, decision, insert_chunked};

use crate::context::RoundContext;
use crate::correction::insert_school_seats;
use crate::error::{Corrupt, RoundError, Stored, decode};
use crate::locks::lock_round_in;
use crate::round::{Orchestrator, RoundInfo, RoundState, now, set_state, sha256_hex};
use crate::submit::ApplicationState;

/// The allocation instance of a round: every school of the round's stage with
/// its seats for the entry year, and every eligible child with its lottery
/// number, best tier, home and choices (its decision's `schools`, in order).
pub fn build_instance(
    schools: &SchoolCatalogue,
    stage: Stage,
    entry_year: i32,
    eligible: &BTreeMap<String, Evaluation>,
) -> Instance {
    let schools = instance_schools(schools, stage, entry_year);
    let applicants = eligible
        .iter()
        .map(|(id, evaluation)| applicant_of(id, evaluation))
        .collect();
    Instance {
        mechanism: Mechanism::DeferredAcceptance,
        overflow: true,
        schools,
        applicants,
    }
}

/// The schools of the round's stage, as the instance lists them.
fn instance_schools(schools: &SchoolCatalogue, stage: Stage, entry_year: i32) -> Vec<School> {
    schools
        .values()
        .filter(|s| s.stage == stage)
        .map(|s| School {
            id: s.id.to_string(),
            capacity: s.capacity_in(entry_year),
            public: Some(s.kind == SchoolKind::Public),
            county: Some(s.county.to_string()),
            location: Some(Location {
                lat: s.location.lat,
                lon: s.location.lon,
            }),
        })
        .collect()
}

/// One eligible child as the instance lists it.
fn applicant_of(id: &str, evaluation: &Evaluation) -> Applicant {
    let decision = &evaluation.decision;
    Applicant {
        id: id.to_owned(),
        lottery: decision.lottery.map(|l| l.to_string()).unwrap_or_default(),
        best_tier: evaluation.best_tier,
        home: evaluation.home.as_ref().map(|h| Home {
            county: Some(h.county.to_string()),
            lat: h.location.map(|l| l.lat),
            lon: h.location.map(|l| l.lon),
        }),
        choices: decision
            .schools
            .iter()
            .map(|s| Choice {
                school: s.school_id.to_string(),
                key: s.key.clone(),
            })
            .collect(),
    }
}

/// What the assignment rows need of an application that takes part, kept
/// while the decisions are paged through instead of the whole evaluation.
struct Seating {
    id: String,
    /// Preferences in order, each with the priority held there and the unit a
    /// seat there uses; empty unless eligible.
    preferences: Vec<(String, Option<String>, Option<String>)>,
}

/// Decisions read from the database at once during allocation.
const PAGE: u64 = 500;

/// What the round manager enters at allocation of a live round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReveal {
    /// The sealed secret committed at open (at least 32 hex digits).
    pub sealed: String,
    /// The value drawn in public after close (公证摇号).
    pub public: String,
}

impl Orchestrator {
    /// verified → allocated: reveal the round seed, compute lottery numbers,
    /// assign seats, all in one transaction.
    pub async fn allocate(
        &self,
        round_id: &str,
        reveal: Option<SeedReveal>,
        actor: &str,
    ) -> Result<RoundInfo, RoundError> {
        let tx = self.store.begin_write().await?;
        let row = lock_round_in(&tx, round_id, RoundState::Verified).await?;
        let round_seed = match (&row.round_seed, reveal) {
            (Some(whole), None) => whole.clone(),
            (Some(_), Some(_)) => {
                return Err(RoundError::Seed(
                    "this round took its seed whole at open; nothing to reveal".to_owned(),
                ));
            }
            (None, None) => {
                return Err(RoundError::Seed(
                    "a live round needs its sealed seed and the public draw".to_owned(),
                ));
            }
            (None, Some(SeedReveal { sealed, public })) => {
                if sealed.len() < 32 || !sealed.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(RoundError::Seed(
                        "the sealed seed must be at least 32 hex digits".to_owned(),
                    ));
                }
                if sha256_hex(&sealed) != row.seed_commitment {
                    return Err(RoundError::Seed(
                        "the sealed seed does not match the commitment published at open".to_owned(),
                    ));
                }
                if public.trim().is_empty() {
                    return Err(RoundError::Seed("the public draw is empty".to_owned()));
                }
                format!("{sealed}-{public}")
            }
        };
        let context = RoundContext::from_row(&row)?;

        // Applications that take part: decided by the rules, or accepted by an
        // officer. Their current decisions are paged through in ascending id;
        // only what the instance and the seats need is kept of each.
        let taking_part = [ApplicationState::Decided.as_str(), ApplicationState::Accepted.as_str()];
        let expected = application::Entity::find()
            .filter(application::Column::RoundId.eq(round_id))
            .filter(application::Column::State.is_in(taking_part))
            .count(&tx)
            .await?;
        let mut seating: Vec<Seating> = Vec::new();
        let mut applicants: Vec<Applicant> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = decision::Entity::find()
                .select_only()
                .column(decision::Column::Id)
                .column(decision::Column::CurrentFor)
                .column(decision::Column::Evaluation)
                .filter(decision::Column::RoundId.eq(round_id));
            let query = match &after {
                Some(last) => query.filter(decision::Column::CurrentFor.gt(last.as_str())),
                None => query.filter(decision::Column::CurrentFor.is_not_null()),
            };
            let page: Vec<(i64, String, String)> = query
                .order_by_asc(decision::Column::CurrentFor)
                .limit(PAGE)
                .into_tuple()
                .all(&tx)
                .await?;
            let (Some(first), Some(last)) = (page.first(), page.last()) else {
                break;
            };
            let in_page: HashSet<String> = application::Entity::find()
                .select_only()
                .column(application::Column::Id)
                .filter(application::Column::RoundId.eq(round_id))
                .filter(application::Column::State.is_in(taking_part))
                .filter(application::Column::Id.between(first.1.as_str(), last.1.as_str()))
                .into_tuple()
                .all(&tx)
                .await?
                .into_iter()
                .collect();
            for (decision_id, id, evaluation_json) in &page {
                if let Some(previous) = after.as_deref().filter(|previous| *previous >= id.as_str()) {
                    return Err(Corrupt::OutOfOrder {
                        round: round_id.to_owned(),
                        id: id.clone(),
                        previous: previous.to_owned(),
                    }
                    .into());
                }
                after = Some(id.clone());
                if !in_page.contains(id) {
                    continue;
                }
                let mut evaluation: Evaluation = decode(Stored::Evaluation, id, evaluation_json)?;
                let mut preferences = Vec::new();
                if evaluation.decision.status == Status::Eligible {
                    evaluation.decision.lottery =
                        Some(enrol_rules::lottery_number(&round_seed, &evaluation.decision.child_id));
                    // The lottery number becomes part of the decision, in this transaction.
                    decision::Entity::update_many()
                        .col_expr(
                            decision::Column::Decision,
                            Expr::value(serde_json::to_string(&evaluation.decision).expect("serialisable")),
                        )
                        .col_expr(
                            decision::Column::Evaluation,
                            Expr::value(serde_json::to_string(&evaluation).expect("serialisable")),
                        )
                        .filter(decision::Column::Id.eq(*decision_id))
                        .exec(&tx)
                        .await?;
                    applicants.push(applicant_of(id, &evaluation));
                    let decision = &evaluation.decision;
                    preferences = decision
                        .preferences
                        .iter()
                        .map(|school| {
                            let priority = decision.schools.iter().find(|s| &s.school_id == school);
                            (
                                school.to_string(),
                                priority.map(|p| p.priority.clone()),
                                evaluation.seat_units.get(school).map(|u| u.to_string()),
                            )
                        })
                        .collect();
                }
                seating.push(Seating {
                    id: id.clone(),
                    preferences,
                });
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        if seating.len() as u64 != expected {
            return Err(Corrupt::DecisionCount {
                round: round_id.to_owned(),
                taking_part: expected,
                decided: seating.len(),
            }
            .into());
        }
        let instance = Instance {
            mechanism: Mechanism::DeferredAcceptance,
            overflow: true,
            schools: instance_schools(&context.schools, context.policy.stage(), context.policy.entry_year()),
            applicants,
        };
        let allocation = enrol_allocation::allocate(&instance)?;
        let overflow: std::collections::BTreeSet<&String> = allocation.overflow.iter().collect();

        let at = now();
        let mut rows = Vec::with_capacity(seating.len());
        for Seating { id, preferences } in &seating {
            let seat = allocation.assignments.get(id).cloned().flatten();
            let (route, choice_rank, priority, unit_no) = match &seat {
                None => ("none", None, None, None),
                Some(_) if overflow.contains(id) => ("overflow", None, Some("none".to_owned()), None),
                Some(school) => {
                    let rank = preferences.iter().position(|(p, _, _)| p == school);
                    let (priority, unit) = rank
                        .map(|r| (preferences[r].1.clone(), preferences[r].2.clone()))
                        .unwrap_or_default();
                    ("choice", rank.map(|r| r as i32 + 1), priority, unit)
                }
            };
            rows.push(assignment::ActiveModel {
                application_id: Set(id.clone()),
                round_id: Set(round_id.to_owned()),
                school_id: Set(seat),
                route: Set(route.to_owned()),
                choice_rank: Set(choice_rank),
                priority: Set(priority),
                unit_no: Set(unit_no),
                assigned_at: Set(at),
            });
        }
        drop(seating);
        insert_chunked(&tx, rows).await?;
        insert_school_seats(&tx, &context).await?;

        let instance_json = serde_json::to_string_pretty(&instance).expect("serialisable") + "\n";
        let mut active = row.clone().into_active_model();
        active.round_seed = Set(Some(round_seed.clone()));
        active.instance_json = Set(Some(instance_json));
        active.updated_at = Set(at);
        let row = active.update(&tx).await?;
        let details = serde_json::json!({
            "round_seed": round_seed,
            "placed": allocation.assignments.values().filter(|s| s.is_some()).count(),
            "overflow": allocation.overflow.len(),
        });
        let info = set_state(&tx, row, RoundState::Allocated, actor, "round_allocated", details).await?;
        tx.commit().await?;
        Ok(info)
    }

    /// The allocation instance the seats were computed from (formats.md JSON).
    pub async fn instance_json(&self, round_id: &str) -> Result<Option<String>, RoundError> {
        let row = crate::round::load_round(self.store.connection(), round_id).await?;
        Ok(row.instance_json)
    }
}
