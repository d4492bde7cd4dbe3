//! Property: well-formed but nonsensical registry records (any dates, any
//! shares, any counts, parents who are the child, permits that end before
//! they begin, units listed twice, ...) fed through the adapters' mapping
//! functions and the rules never panic, never leave an application pending
//! (the planner always ends with nothing more to read), and always give a
//! decision with at least one reason (registries.md, "Dirty records").

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use enrol_adapter_household::{birth_certificate_from_reply, household_record_from_reply};
use enrol_adapter_residence::{holdings_from_reply, insurance_months_from_reply, permit_from_reply};
use enrol_adapter_school_zone::{
    address_matches_from_reply, building_from_reply, catalogue_from_reply, current_place_from_reply,
    unit_uses_from_reply,
};
use enrol_domain::{Application, EvidenceBundle, EvidenceRead, NationalId, SchoolCatalogue};
use enrol_evidence::{Answer, ReadError, record_unusable};
use enrol_registry_client::Reply;
use enrol_rules::Policy;
use proptest::prelude::*;
use serde_json::{Value, json};

struct World {
    apps: Vec<Application>,
    schools: SchoolCatalogue,
    policy: Policy,
    /// Persons the nonsense may name: the families' own and a stranger.
    persons: Vec<NationalId>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let city = enrol_city::generate(&enrol_city::CityConfig::new(40, 13));
        let body = serde_json::to_vec(&city.schools).expect("schools serialise");
        let reply = Reply {
            received_at: Utc::now(),
            body: Some(body),
        };
        let schools = catalogue_from_reply(&reply).expect("the generated catalogue reads");
        let mut persons: Vec<NationalId> = city
            .applications
            .iter()
            .flat_map(|a| {
                std::iter::once(a.child_id.clone())
                    .chain(a.guardian_ids.iter().cloned())
                    .chain(a.sibling_ids.iter().cloned())
            })
            .collect();
        persons.sort();
        persons.dedup();
        World {
            apps: city.applications,
            schools,
            policy: Policy::sample(),
            persons,
        }
    })
}

/// Entropy for one case: shrinks towards zeros.
struct Tape<'a> {
    words: &'a [u64],
    at: usize,
}

impl Tape<'_> {
    fn next(&mut self) -> u64 {
        let w = self.words[self.at % self.words.len()];
        self.at += 1;
        // Mix in the position, so a short tape still varies.
        w ^ (self.at as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn date(&mut self) -> String {
        let year = 1900 + self.below(220);
        format!("{year:04}-{:02}-{:02}", 1 + self.below(12), 1 + self.below(28))
    }
    fn month(&mut self) -> String {
        format!("{:04}-{:02}", 2015 + self.below(20), 1 + self.below(12))
    }
    fn person(&mut self, world: &World, app: &Application) -> String {
        match self.below(4) {
            0 => app.child_id.to_string(),
            1 => app.guardian_ids.first().unwrap_or(&app.applicant_id).to_string(),
            _ => self.pick(&world.persons).to_string(),
        }
    }
    fn address(&mut self) -> Value {
        let county = *self.pick(&["370811", "370812", "370881", "110101"]);
        let code = format!(
            "{county}-{:03}-{:05}-{:02}-{:04}",
            3 * (1 + self.below(3)),
            1 + self.below(40),
            1 + self.below(3),
            101 + self.below(4)
        );
        match self.below(3) {
            0 => json!({"code": code, "text": "太白中路143号2单元501室"}),
            1 => json!({"code": null, "text": "太白中路 143号 2单元 501室"}),
            _ => json!({"code": code, "text": ""}),
        }
    }
    fn school(&mut self, world: &World) -> String {
        if self.chance(10) {
            return "S999".to_owned();
        }
        let ids: Vec<&enrol_domain::SchoolId> = world.schools.keys().collect();
        self.pick(&ids).to_string()
    }
    fn unit(&mut self, world: &World, app: &Application, unit_no: String) -> Value {
        let owners: Vec<Value> = (0..self.below(4))
            .map(|_| {
                let share = match self.below(4) {
                    0 => self.below(101),
                    1 => self.below(u64::from(u32::MAX) + 1),
                    _ => 50,
                };
                json!({"id": self.person(world, app), "share_pct": share})
            })
            .collect();
        json!({
            "unit_no": unit_no,
            "address": self.address(),
            "usage": *self.pick(&["residential", "residential", "commercial", "industrial"]),
            "registered_on": self.date(),
            "status": *self.pick(&["normal", "normal", "sealed"]),
            "owners": owners,
        })
    }
}

/// A well-formed, nonsensical answer to `read`: `None` is a `404 not_found`.
fn nonsense(read: &EvidenceRead, app: &Application, tape: &mut Tape<'_>) -> Option<Value> {
    let world = world();
    let absent = tape.chance(15);
    Some(match read {
        EvidenceRead::BirthCertificate { child_id } => {
            if absent {
                return None;
            }
            let mother = tape.person(world, app);
            let father = if tape.chance(20) {
                Value::Null
            } else {
                json!(tape.person(world, app))
            };
            json!({"certificate_no": "Q1", "child_id": child_id, "child_name": "某",
                   "birth_date": tape.date(), "mother_id": mother, "father_id": father})
        }
        EvidenceRead::HouseholdRecord { person_id } => {
            if absent {
                return None;
            }
            json!({"id": person_id, "name": "某", "sex": "F", "birth_date": tape.date(),
                   "household_no": format!("37081101200{}", tape.below(3)),
                   "relation_to_head": *tape.pick(&["head", "spouse", "child", "grandchild", "parent", "grandparent", "other"]),
                   "registered_on": tape.date(),
                   "region": *tape.pick(&["370811", "370812", "370881", "110101"]),
                   "address": tape.address()})
        }
        EvidenceRead::Holdings { .. } => {
            let units: Vec<Value> = (0..tape.below(4))
                .map(|_| {
                    let unit_no = format!("U{}", tape.below(3));
                    tape.unit(world, app, unit_no)
                })
                .collect();
            json!({"holdings": units})
        }
        EvidenceRead::UnitUses { unit_no } => {
            let uses: Vec<Value> = (0..tape.below(4))
                .map(|_| {
                    json!({"year": 1990 + tape.below(50), "school_id": tape.school(world),
                           "child_id": tape.person(world, app)})
                })
                .collect();
            json!({"unit_no": unit_no.as_str(), "uses": uses})
        }
        EvidenceRead::Permit { holder_id } => {
            if absent {
                return None;
            }
            json!({"permit_no": "JZ1", "holder_id": holder_id, "address": tape.address(),
                   "issued_on": tape.date(), "valid_until": tape.date()})
        }
        EvidenceRead::InsuranceMonths { person_id, .. } => {
            let months: Vec<String> = (0..tape.below(40)).map(|_| tape.month()).collect();
            json!({"id": person_id, "months": months})
        }
        EvidenceRead::CurrentPlace { child_id } => {
            if absent || tape.chance(50) {
                return None;
            }
            json!({"child_id": child_id, "school_id": tape.school(world), "grade": tape.below(256)})
        }
        EvidenceRead::AddressText { .. } => {
            let matches: Vec<Value> = (0..tape.below(3))
                .map(|_| json!({"code": tape.address()["code"].as_str().unwrap_or("370811-003-00001-01-0101"), "text": "某"}))
                .collect();
            json!({"matches": matches})
        }
        EvidenceRead::Building { building_key } => {
            if absent {
                return None;
            }
            let schools: Vec<String> = (0..tape.below(4)).map(|_| tape.school(world)).collect();
            json!({"building_key": building_key.as_str(), "schools": schools,
                   "location": {"lat": 35.0 + tape.below(1000) as f64 / 1000.0,
                                "lon": 116.0 + tape.below(1000) as f64 / 1000.0}})
        }
    })
}

/// What the gatherer does with one answer: the adapter's mapping, by read kind.
fn answer(read: &EvidenceRead, reply: &Reply) -> Result<Answer, ReadError> {
    Ok(match read {
        EvidenceRead::BirthCertificate { child_id } => {
            Answer::BirthCertificate(birth_certificate_from_reply(child_id, reply)?)
        }
        EvidenceRead::HouseholdRecord { person_id } => {
            Answer::HouseholdRecord(household_record_from_reply(person_id, reply)?)
        }
        EvidenceRead::Holdings { owner_id } => Answer::Holdings(holdings_from_reply(owner_id, reply)?),
        EvidenceRead::UnitUses { unit_no } => Answer::UnitUses(unit_uses_from_reply(unit_no, reply)?),
        EvidenceRead::Permit { holder_id } => Answer::Permit(permit_from_reply(holder_id, reply)?),
        EvidenceRead::InsuranceMonths { person_id, from, to } => {
            Answer::InsuranceMonths(insurance_months_from_reply(person_id, *from, *to, reply)?)
        }
        EvidenceRead::CurrentPlace { child_id } => Answer::CurrentPlace(current_place_from_reply(child_id, reply)?),
        EvidenceRead::AddressText { text } => Answer::AddressMatches(address_matches_from_reply(text, reply)?),
        EvidenceRead::Building { building_key } => Answer::Building(building_from_reply(building_key, reply)?),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nonsense_records_are_always_decided_with_a_reason(
        family in any::<prop::sample::Index>(),
        words in prop::collection::vec(any::<u64>(), 1..64),
    ) {
        let world = world();
        let app = family.get(&world.apps);
        let mut tape = Tape { words: &words, at: 0 };
        let mut bundle = EvidenceBundle::default();
        let at = Utc.with_ymd_and_hms(2027, 5, 21, 9, 0, 0).unwrap();
        let mut rounds = 0;
        loop {
            let reads = enrol_rules::plan_reads(app, &bundle, &world.policy, &world.schools);
            if reads.is_empty() {
                break;
            }
            rounds += 1;
            prop_assert!(rounds <= 16, "the planner keeps asking: {:?}", reads);
            let mut unusable = false;
            for read in reads {
                prop_assert!(!bundle.has(&read), "asked again for {:?}", read);
                let body = nonsense(&read, app, &mut tape).map(|v| serde_json::to_vec(&v).unwrap());
                let reply = Reply { received_at: at, body };
                match answer(&read, &reply) {
                    Ok(answer) => answer.insert_into(&read, &mut bundle).unwrap(),
                    Err(error) => {
                        prop_assert!(error.is_unusable(), "{}", error);
                        record_unusable(&mut bundle, read, &error);
                        unusable = true;
                    }
                }
            }
            if unusable {
                // As the gatherer: nothing more is read after an unusable answer.
                prop_assert!(enrol_rules::plan_reads(app, &bundle, &world.policy, &world.schools).is_empty());
                break;
            }
        }
        // The bundle is stored as JSON beside the decision: it must round-trip.
        let stored = serde_json::to_string(&bundle).expect("a bundle serialises");
        let back: EvidenceBundle = serde_json::from_str(&stored).expect("a stored bundle reads back");
        prop_assert_eq!(&back, &bundle);
        let evaluation = enrol_rules::evaluate(app, &bundle, &world.policy, &world.schools, Some("nonsense"));
        let decision = &evaluation.decision;
        prop_assert!(!decision.reasons.is_empty(), "{:?}", decision);
        prop_assert!(
            decision.reasons.iter().all(|r| r.code != "evidence_incomplete"),
            "decided on incomplete evidence: {:?}", decision
        );
        if !bundle.unusable.is_empty() {
            prop_assert_eq!(decision.status, enrol_domain::Status::Review);
            for (record, reason) in bundle.unusable.keys().zip(&decision.reasons) {
                prop_assert_eq!(&reason.code, "registry_answer_unusable");
                prop_assert_eq!(&reason.evidence, &vec![record.clone()]);
            }
        }
    }
}
