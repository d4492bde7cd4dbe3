//! Evidence in, decision out: every case of `fixtures/rules/*.json` is
//! gathered through `plan_reads` from its registry records (plus the shared
//! zone registry of `fixtures/rules/world/`), decided, and snapshotted with
//! the reads of each round.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use enrol_domain::{Application, Evaluation, OfficerFacts};
use enrol_rules::{Policy, evaluate};
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use support::{Registries, fixtures_dir, gather, load_schools, read_label};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The clause of policy.md the case shows.
    clause: String,
    #[serde(default)]
    description: Option<String>,
    /// Coverage tags (see `REQUIRED_COVERAGE`).
    covers: Vec<String>,
    /// A policy file relative to `fixtures/rules/`; the sample policy by default.
    #[serde(default)]
    policy: Option<String>,
    application: Application,
    /// Registry records by dataset file name (`persons`, `births`, ...).
    #[serde(default)]
    records: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    officer_facts: OfficerFacts,
    #[serde(default)]
    round_seed: Option<String>,
}

/// What a case's snapshot shows, in this order.
#[derive(Serialize)]
struct Snapshot<'a> {
    clause: &'a str,
    /// The reads of each round of the gatherer's loop.
    reads: Vec<Vec<String>>,
    evaluation: &'a Evaluation,
}

/// Every clause and review trigger of policy.md, and the read rules, must be shown by some case.
const REQUIRED_COVERAGE: &[&str] = &[
    "status.1",
    "status.2",
    "status.3",
    "status.4",
    "status.5",
    "status.6",
    "status.7",
    "status.8",
    "officer.guardianship",
    "officer.birth_date",
    "officer.delayed_enrolment",
    "officer.current_place",
    "officer.address",
    "tier1",
    "tier2",
    "tier3",
    "tier4",
    "family_property",
    "qualifying_permit",
    "points",
    "seat_lock",
    "siblings",
    "sibling_flag",
    "address_matters",
    "no_city_hukou",
    "no_tier",
    "preferences.choices",
    "preferences.appended",
    "home",
    "private_school",
    "capacity",
    "lottery",
    "reads.city_hukou_no_permits",
    "reads.nothing_after_non_parent",
    "policy.variant",
];

fn rules_dir() -> PathBuf {
    fixtures_dir().join("rules")
}

fn cases() -> Vec<(String, Case)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(rules_dir()).unwrap_or_else(|e| panic!("fixtures/rules: {e}"));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((name, case));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_case_decides_as_snapshotted() {
    let dir = rules_dir();
    let schools = load_schools(&dir.join("world/schools.json"));
    let world = Registries::load_dir(&dir.join("world"));
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for (name, case) in cases {
        let policy = match &case.policy {
            Some(file) => Policy::load(dir.join(file)).unwrap_or_else(|e| panic!("{name}: {e}")),
            None => Policy::sample(),
        };
        let mut registries = world.clone();
        for (file, lines) in case.records {
            registries.add(&file, lines);
        }
        let (bundle, rounds) = gather(&case.application, &registries, &policy, &schools, case.officer_facts);
        let seed = case.round_seed.as_deref();
        let evaluation = evaluate(&case.application, &bundle, &policy, &schools, seed);
        // Pure: deciding again from the same bundle gives the same evaluation.
        assert_eq!(
            evaluate(&case.application, &bundle, &policy, &schools, seed),
            evaluation
        );
        let snapshot = Snapshot {
            clause: &case.clause,
            reads: rounds.iter().map(|r| r.iter().map(read_label).collect()).collect(),
            evaluation: &evaluation,
        };
        let description = case.description.unwrap_or_default();
        insta::with_settings!({
            snapshot_path => "snapshots/cases",
            prepend_module_to_snapshot => false,
            description => description,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!(name, snapshot);
        });
    }
}

#[test]
fn cases_cover_every_clause_and_trigger() {
    let covered: BTreeSet<String> = cases().into_iter().flat_map(|(_, c)| c.covers).collect();
    let missing: Vec<&&str> = REQUIRED_COVERAGE
        .iter()
        .filter(|tag| !covered.contains(**tag))
        .collect();
    assert!(missing.is_empty(), "no case covers {missing:?}");
    let unknown: Vec<&String> = covered
        .iter()
        .filter(|tag| !REQUIRED_COVERAGE.contains(&tag.as_str()))
        .collect();
    assert!(unknown.is_empty(), "unknown coverage tags {unknown:?}");
}
