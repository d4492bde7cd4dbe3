//! From a round's decisions to the allocation instance of formats.md, and the
//! allocation step of the round.

use std::collections::BTreeMap;

use enrol_allocation::{Applicant, Choice, Home, Instance, Location, Mechanism, School};
use enrol_domain::{Evaluation, SchoolCatalogue, SchoolKind, Stage, Status};
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use enrol_store::{application, assignment, insert_chunked};

use crate::error::{RoundError, corrupt};
use crate::round::{Orchestrator, RoundInfo, RoundState, expect_state, now, set_state, sha256_hex};
use crate::submit::ApplicationState;
use crate::verify::{current_decisions, parse_evaluation, round_schools};

/// The allocation instance of a round: every school of the round's stage with
/// its seats for the entry year, and every eligible child with its lottery
/// number, best tier, home and choices (its decision's `schools`, in order).
pub fn build_instance(
    schools: &SchoolCatalogue,
    stage: Stage,
    entry_year: i32,
    eligible: &BTreeMap<String, Evaluation>,
) -> Instance {
    let schools = round_schools(schools, stage)
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
        .collect();
    let applicants = eligible
        .iter()
        .map(|(id, evaluation)| {
            let decision = &evaluation.decision;
            Applicant {
                id: id.clone(),
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
        })
        .collect();
    Instance {
        mechanism: Mechanism::DeferredAcceptance,
        overflow: true,
        schools,
        applicants,
    }
}

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
        let row = expect_state(&tx, round_id, RoundState::Verified, "verified").await?;
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
        let policy = enrol_rules::Policy::from_toml_str(&row.policy_toml)?;
        let schools: SchoolCatalogue = serde_json::from_str(
            row.schools_json
                .as_deref()
                .ok_or_else(|| corrupt("round", "verified without a school catalogue"))?,
        )
        .map_err(|e| corrupt("school catalogue", e))?;

        // Applications that take part: decided by the rules, or accepted by an officer.
        let apps = application::Entity::find()
            .filter(application::Column::RoundId.eq(round_id))
            .filter(
                application::Column::State
                    .is_in([ApplicationState::Decided.as_str(), ApplicationState::Accepted.as_str()]),
            )
            .all(&tx)
            .await?;
        let decisions = current_decisions(&tx, round_id).await?;
        let mut evaluations = BTreeMap::new();
        for app in &apps {
            let row = decisions
                .get(&app.id)
                .ok_or_else(|| corrupt("decision", format!("application {} has none", app.id)))?;
            let mut evaluation = parse_evaluation(row)?;
            if evaluation.decision.status == Status::Eligible {
                evaluation.decision.lottery =
                    Some(enrol_rules::lottery_number(&round_seed, &evaluation.decision.child_id));
                // The lottery number becomes part of the decision, in this transaction.
                let mut active = row.clone().into_active_model();
                active.decision = Set(serde_json::to_string(&evaluation.decision).expect("serialisable"));
                active.evaluation = Set(serde_json::to_string(&evaluation).expect("serialisable"));
                active.update(&tx).await?;
            }
            evaluations.insert(app.id.clone(), evaluation);
        }
        let eligible: BTreeMap<String, Evaluation> = evaluations
            .iter()
            .filter(|(_, e)| e.decision.status == Status::Eligible)
            .map(|(id, e)| (id.clone(), e.clone()))
            .collect();
        let instance = build_instance(&schools, policy.stage(), policy.entry_year(), &eligible);
        let allocation = enrol_allocation::allocate(&instance)?;
        let overflow: std::collections::BTreeSet<&String> = allocation.overflow.iter().collect();

        let at = now();
        let mut rows = Vec::with_capacity(evaluations.len());
        for (id, evaluation) in &evaluations {
            let seat = allocation.assignments.get(id).cloned().flatten();
            let (route, choice_rank, priority, unit_no) = match &seat {
                None => ("none", None, None, None),
                Some(_) if overflow.contains(id) => ("overflow", None, Some("none".to_owned()), None),
                Some(school) => {
                    let decision = &evaluation.decision;
                    let rank = decision.preferences.iter().position(|p| p.as_str() == school);
                    let priority = decision.schools.iter().find(|s| s.school_id.as_str() == school);
                    let unit = evaluation
                        .seat_units
                        .iter()
                        .find(|(s, _)| s.as_str() == school)
                        .map(|(_, u)| u.to_string());
                    (
                        "choice",
                        rank.map(|r| r as i32 + 1),
                        priority.map(|p| p.priority.clone()),
                        unit,
                    )
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
        insert_chunked(&tx, rows).await?;

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
