//! Invariants over many varied families: decisions are deterministic, a better
//! tier never orders after a worse one, no reason is without evidence, and the
//! reads obey policy.md.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use enrol_domain::{
    Application, EvidenceBundle, EvidenceRead, LOTTERY_PRIORITY, LotteryNumber, SchoolCatalogue, SchoolKind, Status,
};
use enrol_rules::{Policy, evaluate, lottery_number, plan_reads};
use proptest::prelude::*;
use support::families::family;
use support::{Registries, fixtures_dir, gather, load_schools};

/// One applicant at one school as the allocation orders them: key, lottery, id; then the priority.
type Entry = (Vec<i64>, LotteryNumber, String, String);

struct World {
    registries: Registries,
    schools: SchoolCatalogue,
    policy: Policy,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = fixtures_dir().join("rules/world");
        World {
            registries: Registries::load_dir(&dir),
            schools: load_schools(&dir.join("schools.json")),
            policy: Policy::sample(),
        }
    })
}

fn decided(seed: u64) -> (Application, EvidenceBundle, Vec<Vec<EvidenceRead>>) {
    let w = world();
    let (app, registries, officer) = family(seed, &w.registries);
    let (bundle, rounds) = gather(&app, &registries, &w.policy, &w.schools, officer);
    (app, bundle, rounds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn decisions_are_deterministic(seed in any::<u64>()) {
        let w = world();
        let (app, bundle, _) = decided(seed);
        let first = evaluate(&app, &bundle, &w.policy, &w.schools, Some("seed-1"));
        // Again, and from a bundle that went through JSON (as a stored bundle would).
        prop_assert_eq!(&evaluate(&app, &bundle, &w.policy, &w.schools, Some("seed-1")), &first);
        let json = serde_json::to_string(&bundle).unwrap_or_default();
        let restored: EvidenceBundle = serde_json::from_str(&json).unwrap_or_default();
        prop_assert_eq!(&evaluate(&app, &restored, &w.policy, &w.schools, Some("seed-1")), &first);
        // The seed only sets the lottery number.
        let unseeded = evaluate(&app, &bundle, &w.policy, &w.schools, None);
        prop_assert_eq!(unseeded.decision.lottery, None);
        let mut reseeded = first.clone();
        reseeded.decision.lottery = None;
        prop_assert_eq!(&reseeded, &unseeded);
        if first.decision.status == Status::Eligible {
            prop_assert_eq!(first.decision.lottery, Some(lottery_number("seed-1", &app.child_id)));
        } else {
            prop_assert_eq!(first.decision.lottery, None);
            prop_assert!(first.decision.schools.is_empty() && first.decision.preferences.is_empty());
        }
    }

    #[test]
    fn a_better_tier_never_orders_after_a_worse_one(first in any::<u64>()) {
        let w = world();
        // Several children compete at each school; order each school's list as formats.md says.
        let mut at: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for seed in first..first.saturating_add(8) {
            let (app, bundle, _) = decided(seed);
            let e = evaluate(&app, &bundle, &w.policy, &w.schools, Some("round"));
            for s in &e.decision.schools {
                let rank = match w.policy.tier_rank(&s.priority) {
                    Some(r) => i64::from(r),
                    None => {
                        prop_assert_eq!(s.priority.as_str(), LOTTERY_PRIORITY);
                        0
                    }
                };
                prop_assert_eq!(s.key[0], rank, "key starts with the tier");
                prop_assert_eq!(s.key[1], if s.sibling { 0 } else { 1 });
                let kind = w.schools.get(&s.school_id).map(|x| x.kind);
                prop_assert_eq!(s.key.len(), if kind == Some(SchoolKind::Private) { 2 } else { 3 });
                let lottery = e.decision.lottery.unwrap_or(LotteryNumber(0));
                at.entry(s.school_id.to_string()).or_default().push((s.key.clone(), lottery, app.application_id.to_string(), s.priority.clone()));
            }
            if let Some(best) = e.best_tier {
                let ranks: Vec<i64> = e.decision.schools.iter().map(|s| s.key[0]).filter(|r| *r > 0).collect();
                prop_assert_eq!(ranks.iter().min().copied(), Some(i64::from(best)));
            }
        }
        for list in at.values_mut() {
            list.sort();
            let ranks: Vec<u32> = list.iter().map(|(_, _, _, p)| w.policy.tier_rank(p).unwrap_or(0)).collect();
            prop_assert!(ranks.windows(2).all(|p| p[0] <= p[1]), "tiers out of order: {:?}", list);
        }
    }

    #[test]
    fn no_reason_without_evidence(seed in any::<u64>()) {
        let w = world();
        let (app, bundle, _) = decided(seed);
        let e = evaluate(&app, &bundle, &w.policy, &w.schools, None);
        let mut known: BTreeSet<String> = bundle.sources().iter().map(ToString::to_string).collect();
        for units in bundle.holdings.values().filter_map(|f| f.record.as_ref()) {
            known.extend(units.iter().map(|u| format!("property:{}", u.unit_no)));
        }
        known.extend(w.schools.keys().chain(&app.choices).map(|s| format!("zones:{s}")));
        let officer: BTreeSet<String> =
            bundle.officer_facts.resolved_addresses.keys().map(|t| format!("zones:{t}")).collect();
        prop_assert!(!e.decision.reasons.is_empty() || e.decision.status == Status::Eligible);
        for r in &e.decision.reasons {
            prop_assert!(!r.evidence.is_empty(), "{} cites nothing", r.code);
            prop_assert!(!r.zh.is_empty() && !r.en.is_empty());
            prop_assert!(r.evidence.iter().any(|c| known.contains(c)), "{} cites no record of the bundle: {:?}", r.code, r.evidence);
            for c in &r.evidence {
                prop_assert!(known.contains(c) || officer.contains(c), "{} cites {} which was never read", r.code, c);
            }
        }
        // Every school and dropped choice has a reason naming it.
        for s in &e.decision.schools {
            let prefix = s.school_id.to_string();
            let named = e.decision.reasons.iter().any(|r| r.en.starts_with(&prefix));
            prop_assert!(named, "no reason names {}", prefix);
        }
    }

    #[test]
    fn reads_follow_the_policy(seed in any::<u64>()) {
        let w = world();
        let (app, bundle, rounds) = decided(seed);
        // The certificate first, alone.
        prop_assert_eq!(&rounds[0], &vec![EvidenceRead::BirthCertificate { child_id: app.child_id.clone() }]);
        let reads: Vec<&EvidenceRead> = rounds.iter().flatten().collect();
        let child_city_hukou = bundle
            .household_records
            .get(&app.child_id)
            .and_then(|f| f.record.as_ref())
            .is_some_and(|h| h.region.in_region(w.policy.region_prefix()));
        if child_city_hukou {
            let permit_read = reads
                .iter()
                .any(|r| matches!(r, EvidenceRead::Permit { .. } | EvidenceRead::InsuranceMonths { .. }));
            prop_assert!(!permit_read, "a permit or insurance read for a child with city hukou");
        }
        let certificate = bundle.birth_certificates.get(&app.child_id).and_then(|f| f.record.as_ref());
        let non_parent = app.guardians().into_iter().any(|g| {
            certificate.is_some_and(|c| !c.names_parent(g)) && !bundle.officer_facts.guardianship_confirmed.contains(g)
        });
        if certificate.is_none() || non_parent {
            prop_assert_eq!(reads.len(), 1, "nothing after the certificate");
        }
        // Complete: deciding needs nothing more, and the decision is no `evidence_incomplete`.
        prop_assert!(plan_reads(&app, &bundle, &w.policy, &w.schools).is_empty());
        let e = evaluate(&app, &bundle, &w.policy, &w.schools, None);
        prop_assert!(e.decision.reasons.iter().all(|r| r.code != "evidence_incomplete"));
        // Each round is sorted and without repeats.
        for round in &rounds {
            prop_assert!(round.windows(2).all(|p| p[0] < p[1]));
        }
    }

    #[test]
    fn preferences_are_the_schools_each_once(seed in any::<u64>()) {
        let w = world();
        let (app, bundle, _) = decided(seed);
        let e = evaluate(&app, &bundle, &w.policy, &w.schools, None);
        let d = &e.decision;
        let listed: Vec<_> = d.schools.iter().map(|s| s.school_id.clone()).collect();
        prop_assert_eq!(&listed, &d.preferences);
        let unique: BTreeSet<_> = d.preferences.iter().collect();
        prop_assert_eq!(unique.len(), d.preferences.len());
        for s in &d.schools {
            let school = w.schools.get(&s.school_id);
            prop_assert!(school.is_some_and(|x| x.stage == w.policy.stage()));
            if school.is_some_and(|x| x.kind == SchoolKind::Public) {
                prop_assert!(w.policy.tier_rank(&s.priority).is_some());
            } else {
                prop_assert_eq!(s.priority.as_str(), LOTTERY_PRIORITY);
                prop_assert!(app.choices.contains(&s.school_id), "a private school only when chosen");
            }
        }
        for (school, unit) in &e.seat_units {
            prop_assert!(d.preferences.contains(school));
            let _ = unit;
        }
    }
}

#[test]
fn an_incomplete_bundle_is_never_decided_eligible() {
    let w = world();
    let (app, bundle, rounds) = decided(42);
    prop_assume_rounds(&rounds);
    // Drop the last round's answers: the decision waits for them.
    let mut partial = bundle.clone();
    for read in rounds.last().into_iter().flatten() {
        match read {
            EvidenceRead::BirthCertificate { child_id } => {
                partial.birth_certificates.remove(child_id);
            }
            EvidenceRead::HouseholdRecord { person_id } => {
                partial.household_records.remove(person_id);
            }
            EvidenceRead::Holdings { owner_id } => {
                partial.holdings.remove(owner_id);
            }
            EvidenceRead::UnitUses { unit_no } => {
                partial.unit_uses.remove(unit_no);
            }
            EvidenceRead::Permit { holder_id } => {
                partial.permits.remove(holder_id);
            }
            EvidenceRead::InsuranceMonths { person_id, .. } => {
                partial.insurance_months.remove(person_id);
            }
            EvidenceRead::CurrentPlace { child_id } => {
                partial.current_places.remove(child_id);
            }
            EvidenceRead::AddressText { text } => {
                partial.address_matches.remove(text);
            }
            EvidenceRead::Building { building_key } => {
                partial.buildings.remove(building_key);
            }
        }
    }
    assert_eq!(
        plan_reads(&app, &partial, &w.policy, &w.schools),
        rounds[rounds.len() - 1]
    );
    let e = evaluate(&app, &partial, &w.policy, &w.schools, None);
    assert_eq!(e.decision.status, Status::Review);
    assert_eq!(e.decision.reasons.len(), 1);
    assert_eq!(e.decision.reasons[0].code, "evidence_incomplete");
}

fn prop_assume_rounds(rounds: &[Vec<EvidenceRead>]) {
    assert!(rounds.len() >= 2, "seed 42 should need several rounds");
}

/// The generated families exercise every status, every tier and the lottery,
/// so the properties above are tested on all of them.
#[test]
fn the_generated_families_are_varied() {
    let w = world();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 0..600u64 {
        let (app, bundle, _) = decided(seed);
        let e = evaluate(&app, &bundle, &w.policy, &w.schools, None);
        *seen.entry(e.decision.status.to_string()).or_default() += 1;
        for s in &e.decision.schools {
            *seen.entry(s.priority.clone()).or_default() += 1;
            if s.sibling {
                *seen.entry("sibling".to_owned()).or_default() += 1;
            }
        }
        for r in &e.decision.reasons {
            *seen.entry(r.code.clone()).or_default() += 1;
        }
    }
    println!("{seen:#?}");
    for wanted in [
        "eligible",
        "review",
        "ineligible",
        "tier1",
        "tier2",
        "tier3",
        "tier4",
        "lottery",
        "sibling",
        "seat_locked",
        "address_unresolved",
        "address_ambiguous",
        "no_tier",
    ] {
        assert!(
            seen.contains_key(wanted),
            "no generated family gives {wanted}: {seen:?}"
        );
    }
}
