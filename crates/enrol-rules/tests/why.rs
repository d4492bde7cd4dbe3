//! "Why not a better tier": every explanation names a clause the evidence
//! really fails, checked against the counterfactual evaluation with that
//! clause forced true; none is given where the child has the best tier; and
//! the explanations of the hand-made sample city read as snapshotted.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use enrol_domain::{Application, EvidenceBundle, SchoolCatalogue, SchoolId, SchoolKind, Status, TierShortfall};
use enrol_rules::{Policy, clauses, evaluate, explain, tier_holds};
use proptest::prelude::*;
use support::families::family;
use support::{Registries, fixtures_dir, gather, load_applications, load_schools};

struct World {
    registries: Registries,
    schools: SchoolCatalogue,
    /// The sample policy and two variants: another district's file explains itself.
    policies: Vec<Policy>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = fixtures_dir().join("rules/world");
        let variant = |name: &str| {
            Policy::load(fixtures_dir().join("rules/policies").join(name)).unwrap_or_else(|e| panic!("{e}"))
        };
        World {
            registries: Registries::load_dir(&dir),
            schools: load_schools(&dir.join("schools.json")),
            policies: vec![
                Policy::sample(),
                variant("no-tier3.toml"),
                variant("hukou-12-months.toml"),
            ],
        }
    })
}

struct Case<'w> {
    app: Application,
    bundle: EvidenceBundle,
    policy: &'w Policy,
    schools: &'w SchoolCatalogue,
}

impl Case<'_> {
    fn holds(&self, tier: usize, school: &SchoolId, forced: &[enrol_rules::Clause]) -> bool {
        tier_holds(&self.app, &self.bundle, self.policy, self.schools, tier, school, forced)
            .unwrap_or_else(|| panic!("tier_holds on an eligible child answers"))
    }
}

fn case(seed: u64, policy: usize) -> Case<'static> {
    let w = world();
    let policy = &w.policies[policy];
    let (app, registries, officer) = family(seed, &w.registries);
    let (bundle, _) = gather(&app, &registries, policy, &w.schools, officer);
    Case {
        app,
        bundle,
        policy,
        schools: &w.schools,
    }
}

/// Checks every property of one family's explanations; returns how many were checked.
fn check(c: &Case<'_>) -> Result<usize, TestCaseError> {
    let e = evaluate(&c.app, &c.bundle, c.policy, c.schools, None);
    let explained = explain(&c.app, &c.bundle, c.policy, c.schools);
    let d = &e.decision;
    if d.status != Status::Eligible {
        prop_assert!(explained.is_empty(), "explanations for a child who is not eligible");
        return Ok(0);
    }
    let tiers = c.policy.tiers();
    let public = |s: &SchoolId| c.schools.get(s).is_some_and(|x| x.kind == SchoolKind::Public);

    // Which (school, tier) pairs must be explained: every better tier than the one held.
    let mut wanted: Vec<(SchoolId, String)> = Vec::new();
    for s in &d.schools {
        let Some(rank) = c.policy.tier_rank(&s.priority) else {
            continue; // lottery: a private school has no tiers
        };
        let rank = rank as usize;
        // The counterfactual evaluator agrees with the engine: the held tier holds, no better one does.
        prop_assert!(
            c.holds(rank - 1, &s.school_id, &[]),
            "{} does not hold at {}",
            s.priority,
            s.school_id
        );
        for (i, t) in tiers[..rank - 1].iter().enumerate() {
            prop_assert!(
                !c.holds(i, &s.school_id, &[]),
                "{} holds at {} but the decision gives {}",
                t.name,
                s.school_id,
                s.priority
            );
            wanted.push((s.school_id.clone(), t.name.clone()));
        }
    }
    for choice in &c.app.choices {
        let dropped = public(choice)
            && c.schools.get(choice).is_some_and(|x| x.stage == c.policy.stage())
            && !d.preferences.contains(choice);
        if dropped && !wanted.iter().any(|(s, _)| s == choice) {
            for (i, t) in tiers.iter().enumerate() {
                prop_assert!(
                    !c.holds(i, choice, &[]),
                    "{} holds at dropped choice {}",
                    t.name,
                    choice
                );
                wanted.push((choice.clone(), t.name.clone()));
            }
        }
    }
    let got: Vec<(SchoolId, String)> = explained
        .iter()
        .map(|x| (x.school_id.clone(), x.tier.clone()))
        .collect();
    prop_assert_eq!(
        &got,
        &wanted,
        "one explanation per better tier, none where the best tier is held"
    );

    // Each names the first clause the evidence fails.
    let mut known: BTreeSet<String> = c.bundle.sources().iter().map(ToString::to_string).collect();
    for units in c.bundle.holdings.values().filter_map(|f| f.record.as_ref()) {
        known.extend(units.iter().map(|u| format!("property:{}", u.unit_no)));
    }
    known.extend(
        c.bundle
            .officer_facts
            .resolved_addresses
            .keys()
            .map(|t| format!("zones:{t}")),
    );
    for x in &explained {
        let index = tiers.iter().position(|t| t.name == x.tier).unwrap_or(usize::MAX);
        let tier = &tiers[index];
        let list = clauses(tier);
        let k = list.iter().position(|cl| cl.as_str() == x.clause);
        prop_assert!(k.is_some(), "{} is not a clause of {}", x.clause, x.tier);
        let k = k.unwrap_or_default();
        // With every later clause given, the tier still fails: the named clause really fails.
        prop_assert!(
            !c.holds(index, &x.school_id, &list[k + 1..]),
            "{}: forcing the clauses after {} makes {} hold",
            x.school_id,
            x.clause,
            x.tier
        );
        // With the named clause forced too, the tier holds: every clause before it passes.
        // A dwelling cannot be conjured: when the family has none of the tier's
        // kind, nothing makes the tier hold, and the named clause is that one or an earlier one.
        if c.holds(index, &x.school_id, &list) {
            prop_assert!(
                c.holds(index, &x.school_id, &list[k..]),
                "{}: forcing {} and later does not make {} hold",
                x.school_id,
                x.clause,
                x.tier
            );
        } else {
            let existence = list
                .iter()
                .position(|cl| matches!(cl.as_str(), "dwelling" | "family_property" | "qualifying_permit"));
            prop_assert!(
                existence.is_some_and(|e| k <= e),
                "{}: {} named after the missing dwelling",
                x.school_id,
                x.clause
            );
        }
        // Texts from the policy's tier, naming the school; evidence that was read.
        prop_assert!(x.en.starts_with(x.school_id.as_str()) && x.zh.starts_with(x.school_id.as_str()));
        prop_assert!(x.en.contains(&tier.label_en) && x.zh.contains(&tier.label_zh));
        prop_assert!(!x.evidence.is_empty(), "{} cites nothing", x.en);
        for cite in &x.evidence {
            prop_assert!(known.contains(cite), "{} cites {} which was never read", x.en, cite);
        }
    }
    Ok(explained.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_explanation_names_a_clause_the_evidence_fails(seed in any::<u64>(), policy in 0usize..3) {
        check(&case(seed, policy))?;
    }
}

/// The generated families give explanations of every kind of clause, so the
/// property above is tested on all of them.
#[test]
fn the_generated_families_fail_every_kind_of_clause() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 0..400u64 {
        for policy in 0..3 {
            let c = case(seed, policy);
            let n = check(&c).unwrap_or_else(|e| panic!("seed {seed}, policy {policy}: {e}"));
            if n > 0 {
                for x in explain(&c.app, &c.bundle, c.policy, c.schools) {
                    *seen.entry(format!("{}:{}", x.tier, x.clause)).or_default() += 1;
                }
            }
        }
    }
    println!("{seen:#?}");
    for wanted in [
        "tier1:family_property",
        "tier1:not_seat_locked",
        "tier1:city_hukou",
        "tier1:registered_by_cutoff",
        "tier1:guardian_in_household",
        "tier1:zoned",
        "tier2:family_property",
        "tier2:zoned",
        "tier3:city_hukou",
    ] {
        assert!(
            seen.contains_key(wanted),
            "no generated family explains {wanted}: {seen:?}"
        );
    }
}

/// The sample city's explanations, as a family reads them.
#[test]
fn sample_city_explanations() {
    let dir = fixtures_dir().join("cities/sample");
    let registries = Registries::load_dir(&dir);
    let schools = load_schools(&dir.join("schools.json"));
    let policy = Policy::sample();
    let mut all: BTreeMap<String, Vec<TierShortfall>> = BTreeMap::new();
    for app in load_applications(&dir) {
        let (bundle, _) = gather(&app, &registries, &policy, &schools, Default::default());
        let c = Case {
            app,
            bundle,
            policy: &policy,
            schools: &schools,
        };
        check(&c).unwrap_or_else(|e| panic!("{}: {e}", c.app.application_id));
        let x = explain(&c.app, &c.bundle, &policy, &schools);
        if !x.is_empty() {
            all.insert(c.app.application_id.to_string(), x);
        }
    }
    assert!(!all.is_empty(), "the sample city has children below the best tier");
    insta::assert_json_snapshot!(all);
}
