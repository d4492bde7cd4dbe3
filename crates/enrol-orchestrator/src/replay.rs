//! Appeal replay (复核重放): an application's decision made again from its
//! stored evidence snapshot under the round's stored policy, shown to be the
//! same bytes; with corrected facts, the new decision and its difference; for
//! a published round, the seat the decision would have won by re-running the
//! stored allocation instance with that one applicant changed, and whom it
//! would displace. Nothing is changed but one audit entry.

use std::collections::BTreeMap;

use enrol_allocation::{Instance, allocate};
use enrol_domain::{
    AddressCode, BirthCertificate, BuildingKey, BuildingZone, CurrentPlace, Evaluation, EvidenceBundle, Fetched,
    HouseholdRecord, NationalId, OfficerFacts, PropertyUnit, ResidencePermit, SeatUse, Status, UnitNo, YearMonth,
};
use enrol_domain::{Application, SchoolCatalogue};
use enrol_rules::Policy;
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use enrol_store::{application, decision, evidence_snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answers::{Decided, allocation_of, decided};
use crate::error::{Corrupt, RoundError, Stored, decode};
use crate::instance::build_instance;
use crate::round::{Orchestrator, RoundState, load_round, now};
use crate::submit::parse_body;

/// Corrected records, in the evidence bundle's own shape (as the snapshot
/// stores it): each entry replaces the snapshot's entry under the same key,
/// or adds one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordCorrections {
    #[serde(default)]
    pub birth_certificates: BTreeMap<NationalId, Fetched<BirthCertificate>>,
    #[serde(default)]
    pub household_records: BTreeMap<NationalId, Fetched<HouseholdRecord>>,
    #[serde(default)]
    pub holdings: BTreeMap<NationalId, Fetched<Vec<PropertyUnit>>>,
    #[serde(default)]
    pub unit_uses: BTreeMap<UnitNo, Fetched<Vec<SeatUse>>>,
    #[serde(default)]
    pub permits: BTreeMap<NationalId, Fetched<ResidencePermit>>,
    #[serde(default)]
    pub insurance_months: BTreeMap<NationalId, Fetched<Vec<YearMonth>>>,
    #[serde(default)]
    pub current_places: BTreeMap<NationalId, Fetched<CurrentPlace>>,
    #[serde(default)]
    pub address_matches: BTreeMap<String, Fetched<Vec<AddressCode>>>,
    #[serde(default)]
    pub buildings: BTreeMap<BuildingKey, Fetched<BuildingZone>>,
}

/// What an appeal committee puts to the replay (the body of `POST …/replay`,
/// the file of `enrol round replay --facts`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corrections {
    /// Officer facts (人工审核认定) to decide with, instead of the snapshot's.
    #[serde(default)]
    pub officer_facts: Option<OfficerFacts>,
    /// Corrected registry records.
    #[serde(default)]
    pub records: RecordCorrections,
}

impl Corrections {
    pub fn is_empty(&self) -> bool {
        *self == Corrections::default()
    }

    /// The snapshot with the corrections applied.
    pub fn apply(&self, mut bundle: EvidenceBundle) -> EvidenceBundle {
        let r = self.records.clone();
        bundle.birth_certificates.extend(r.birth_certificates);
        bundle.household_records.extend(r.household_records);
        bundle.holdings.extend(r.holdings);
        bundle.unit_uses.extend(r.unit_uses);
        bundle.permits.extend(r.permits);
        bundle.insurance_months.extend(r.insurance_months);
        bundle.current_places.extend(r.current_places);
        bundle.address_matches.extend(r.address_matches);
        bundle.buildings.extend(r.buildings);
        if let Some(facts) = &self.officer_facts {
            bundle.officer_facts = facts.clone();
        }
        bundle
    }
}

/// One difference between two decisions: a JSON Pointer into the decision,
/// the value before and after (absent: `null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The decision made from corrected evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrectedDecision {
    pub decision: Value,
    /// What differs from the stored decision, in document order.
    pub changes: Vec<Change>,
    /// Reads the corrected evidence still needs (e.g. the zones of a corrected
    /// address): with any, the rules answer `review` (`evidence_incomplete`).
    /// The replay reads no registry.
    pub reads_needed: Vec<String>,
}

/// A child whose seat would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatChange {
    pub application_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The allocation re-run on the stored instance with the one applicant changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatReplay {
    /// The applicant's seat as the stored instance gives it (`null`: none).
    pub before: Option<String>,
    /// The seat the replayed (or corrected) decision would win.
    pub after: Option<String>,
    /// `choice`, `overflow` or `none`, for `after`.
    pub route: String,
    /// Other children whose seat would change, ascending id.
    pub displaced: Vec<SeatChange>,
}

/// The replay's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    pub round: String,
    pub application_id: String,
    /// The SHA-256 of the policy file the decision was made under.
    pub policy_version: String,
    pub evidence_snapshot_id: i64,
    /// The stored decision, as stored.
    pub stored: Value,
    /// Whether deciding again from the snapshot gives the stored bytes.
    pub identical: bool,
    /// The decision made again, when it is not identical (it always should be).
    pub replayed: Option<Value>,
    /// The decision from the corrected evidence, when corrections were given.
    pub corrected: Option<CorrectedDecision>,
    /// For a published round in which the application took part or would now:
    /// the allocation re-run with the (corrected) decision.
    pub seat: Option<SeatReplay>,
}

impl Orchestrator {
    /// Replays an application's decision (reviewer): see the module docs.
    /// Writes one audit entry (`decision_replayed`) and changes nothing else.
    /// `Ok(None)` before the application is decided.
    pub async fn replay(
        &self,
        round_id: &str,
        application_id: &str,
        corrections: &Corrections,
        actor: &str,
    ) -> Result<Option<Replay>, RoundError> {
        let conn = self.store.connection();
        let Some(d) = decided(conn, application_id).await? else {
            return Ok(None);
        };
        if d.round.id != round_id {
            return Err(RoundError::UnknownApplication(application_id.to_owned()));
        }
        let stored: Value = decode(Stored::Decision, application_id, &d.row.decision)?;
        let (again, identical) = redecide(
            &d.app,
            &d.bundle,
            &d.policy,
            &d.schools,
            d.round.round_seed.as_deref(),
            &d.row.decision,
        );

        let (final_eval, corrected) = if corrections.is_empty() {
            (again.clone(), None)
        } else {
            let bundle = corrections.apply(d.bundle.clone());
            let reads = enrol_rules::plan_reads(&d.app, &bundle, &d.policy, &d.schools);
            let round_seed = d.round.round_seed.as_deref();
            let eval = enrol_rules::evaluate(&d.app, &bundle, &d.policy, &d.schools, round_seed);
            let decision = serde_json::to_value(&eval.decision).expect("serialisable");
            let mut changes = Vec::new();
            diff("", Some(&stored), Some(&decision), &mut changes);
            let corrected = CorrectedDecision {
                decision,
                changes,
                reads_needed: reads.iter().map(|r| r.record_ref().to_string()).collect(),
            };
            (eval, Some(corrected))
        };
        let seat = self.seat_replay(&d, application_id, &final_eval).await?;

        let replay = Replay {
            round: d.round.id.clone(),
            application_id: application_id.to_owned(),
            policy_version: d.row.policy_version.clone(),
            evidence_snapshot_id: d.row.evidence_snapshot_id.unwrap_or_default(),
            stored,
            identical,
            replayed: (!identical).then(|| serde_json::to_value(&again.decision).expect("serialisable")),
            corrected,
            seat,
        };
        let details = serde_json::json!({
            "identical": replay.identical,
            "policy_version": replay.policy_version,
            "evidence_snapshot_id": replay.evidence_snapshot_id,
            "corrections": if corrections.is_empty() { Value::Null } else { serde_json::to_value(corrections).expect("serialisable") },
            "changes": replay.corrected.as_ref().map(|c| c.changes.len()),
            "seat_before": replay.seat.as_ref().map(|s| s.before.clone()),
            "seat_after": replay.seat.as_ref().map(|s| s.after.clone()),
            "displaced": replay.seat.as_ref().map(|s| s.displaced.len()),
        });
        let tx = self.store.begin_write().await?;
        // Through append_audit: a round's entries get their ids in commit order.
        enrol_store::append_audit(
            &tx,
            now(),
            enrol_store::AuditEntry {
                round_id: Some(replay.round.clone()),
                actor: actor.to_owned(),
                action: "decision_replayed".to_owned(),
                subject: Some(application_id.to_owned()),
                reason: None,
                details,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(replay))
    }

    /// For a published round: the stored instance re-run with the applicant
    /// as `evaluation` decides it (removed when not eligible).
    async fn seat_replay(
        &self,
        d: &Decided,
        application_id: &str,
        evaluation: &Evaluation,
    ) -> Result<Option<SeatReplay>, RoundError> {
        let state: RoundState = d.round.state.parse()?;
        if state < RoundState::Published {
            return Ok(None);
        }
        let Some((stored, _)) = allocation_of(self.store.connection(), &d.round).await? else {
            return Ok(None);
        };
        let took_part = stored.applicants.iter().any(|a| a.id == application_id);
        let eligible = evaluation.decision.status == Status::Eligible;
        if !took_part && !eligible {
            return Ok(None);
        }
        let mut changed: Instance = stored.clone();
        changed.applicants.retain(|a| a.id != application_id);
        if eligible {
            let one = BTreeMap::from([(application_id.to_owned(), evaluation.clone())]);
            let built = build_instance(&d.schools, d.policy.stage(), d.policy.entry_year(), &one);
            changed.applicants.extend(built.applicants);
        }
        let before = allocate(&stored)?;
        let after = allocate(&changed)?;
        let seat = |a: &enrol_allocation::Allocation, id: &str| a.assignments.get(id).cloned().flatten();
        let new_seat = seat(&after, application_id);
        let route = match &new_seat {
            None => "none",
            Some(_) if after.overflow.iter().any(|o| o == application_id) => "overflow",
            Some(_) => "choice",
        };
        let displaced = before
            .assignments
            .iter()
            .filter(|(id, _)| id.as_str() != application_id)
            .filter_map(|(id, was)| {
                let now = seat(&after, id);
                (now != *was).then(|| SeatChange {
                    application_id: id.clone(),
                    before: was.clone(),
                    after: now,
                })
            })
            .collect();
        Ok(Some(SeatReplay {
            before: seat(&before, application_id),
            after: new_seat,
            route: route.to_owned(),
            displaced,
        }))
    }
}

/// Decides again from a stored snapshot, under the stored policy, with the
/// round seed when the stored decision carries a lottery number (it is part
/// of a decision once it took part in an allocation); and whether that gives
/// the stored bytes.
fn redecide(
    app: &Application,
    bundle: &EvidenceBundle,
    policy: &Policy,
    schools: &SchoolCatalogue,
    round_seed: Option<&str>,
    stored: &str,
) -> (Evaluation, bool) {
    /// The one field of a stored decision that says how it was made.
    #[derive(Deserialize)]
    struct Drawn {
        lottery: Option<String>,
    }
    let drawn = serde_json::from_str::<Drawn>(stored).is_ok_and(|d| d.lottery.is_some());
    let seed = round_seed.filter(|_| drawn);
    let again = enrol_rules::evaluate(app, bundle, policy, schools, seed);
    let identical = serde_json::to_string(&again.decision).expect("serialisable") == stored;
    (again, identical)
}

/// What replaying every decision of a round came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundReplay {
    pub round: String,
    /// The SHA-256 of the policy file the round runs.
    pub policy_version: String,
    /// Current decisions replayed.
    pub decisions: usize,
    /// Of those, how many gave the stored bytes again.
    pub identical: usize,
    /// Applications whose decision did not replay to the stored bytes, ascending id.
    pub differing: Vec<String>,
}

/// Decisions replayed at once by [`Orchestrator::replay_round`].
const REPLAY_PAGE: u64 = 500;

impl Orchestrator {
    /// Replays every current decision of a round (an auditor's check that
    /// the round's decisions follow from its stored evidence and policy):
    /// each is decided again from its evidence snapshot, as [`Orchestrator::replay`]
    /// does without corrections, a page of decisions at a time. Writes one
    /// audit entry (`round_replayed`) and changes nothing else.
    pub async fn replay_round(&self, round_id: &str, actor: &str) -> Result<RoundReplay, RoundError> {
        let conn = self.store.connection();
        let round = load_round(conn, round_id).await?;
        let policy = Policy::from_toml_str(&round.policy_toml)?;
        let schools: SchoolCatalogue = decode(
            Stored::SchoolCatalogue,
            &round.id,
            round.schools_json.as_deref().unwrap_or("{}"),
        )?;
        let mut result = RoundReplay {
            round: round.id.clone(),
            policy_version: round.policy_version.clone(),
            decisions: 0,
            identical: 0,
            differing: Vec::new(),
        };
        let mut after: Option<String> = None;
        loop {
            let query = decision::Entity::find().filter(decision::Column::RoundId.eq(round_id));
            let query = match &after {
                Some(last) => query.filter(decision::Column::CurrentFor.gt(last.as_str())),
                None => query.filter(decision::Column::CurrentFor.is_not_null()),
            };
            let page = query
                .order_by_asc(decision::Column::CurrentFor)
                .limit(REPLAY_PAGE)
                .all(conn)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.current_for.clone();
            let ids: Vec<&str> = page.iter().map(|d| d.application_id.as_str()).collect();
            let apps: BTreeMap<String, application::Model> = application::Entity::find()
                .filter(application::Column::Id.is_in(ids.iter().copied()))
                .all(conn)
                .await?
                .into_iter()
                .map(|a| (a.id.clone(), a))
                .collect();
            let snapshot_ids: Vec<i64> = page.iter().filter_map(|d| d.evidence_snapshot_id).collect();
            let snapshots: BTreeMap<i64, String> = evidence_snapshot::Entity::find()
                .filter(evidence_snapshot::Column::Id.is_in(snapshot_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|s| (s.id, s.bundle))
                .collect();
            for row in &page {
                let id = &row.application_id;
                if row.policy_version != round.policy_version {
                    return Err(Corrupt::PolicyMismatch {
                        application: id.clone(),
                        cited: row.policy_version.clone(),
                        runs: round.policy_version.clone(),
                    }
                    .into());
                }
                let app_row = apps.get(id).ok_or_else(|| Corrupt::Value {
                    what: Stored::Application,
                    owner: id.clone(),
                    value: "(no such application)".into(),
                })?;
                let bundle = row
                    .evidence_snapshot_id
                    .and_then(|s| snapshots.get(&s))
                    .ok_or_else(|| Corrupt::MissingSnapshot {
                        application: id.clone(),
                        decision: row.id,
                    })?;
                let bundle: EvidenceBundle = decode(Stored::EvidenceSnapshot, id, bundle)?;
                let app = parse_body(app_row)?;
                let (_, identical) = redecide(
                    &app,
                    &bundle,
                    &policy,
                    &schools,
                    round.round_seed.as_deref(),
                    &row.decision,
                );
                result.decisions += 1;
                if identical {
                    result.identical += 1;
                } else {
                    result.differing.push(id.clone());
                }
            }
            if page.len() < REPLAY_PAGE as usize {
                break;
            }
        }
        let details = serde_json::json!({
            "policy_version": result.policy_version,
            "decisions": result.decisions,
            "identical": result.identical,
            "differing": result.differing,
        });
        let tx = self.store.begin_write().await?;
        // Through append_audit: a round's entries get their ids in commit order.
        enrol_store::append_audit(
            &tx,
            now(),
            enrol_store::AuditEntry {
                round_id: Some(result.round.clone()),
                actor: actor.to_owned(),
                action: "round_replayed".to_owned(),
                subject: None,
                reason: None,
                details,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(result)
    }
}

/// The differences between two JSON values, as JSON Pointers (RFC 6901).
/// Objects compare by key; arrays by position.
pub(crate) fn diff(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                diff(&p, x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                diff(&format!("{path}/{i}"), x.get(i), y.get(i), out);
            }
        }
        _ if a == b => {}
        _ => out.push(Change {
            path: path.to_owned(),
            before: a.cloned(),
            after: b.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_name_each_changed_leaf_by_json_pointer() {
        let a = serde_json::json!({"status": "eligible", "schools": [{"key": [1, 1, 5]}], "a/b": 1});
        let b = serde_json::json!({"status": "review", "schools": [], "lottery": "x", "a/b": 1});
        let mut out = Vec::new();
        diff("", Some(&a), Some(&b), &mut out);
        let paths: Vec<&str> = out.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/lottery", "/schools/0", "/status"]);
        assert_eq!(out[0].before, None);
        assert_eq!(out[2].after, Some(Value::from("review")));
        let mut none = Vec::new();
        diff("", Some(&a), Some(&a), &mut none);
        assert!(none.is_empty());
    }
}
