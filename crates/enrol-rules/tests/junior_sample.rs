//! The sample city's junior-middle round (小升初): every junior family of
//! `fixtures/cities/sample/applications-junior.jsonl` is gathered through
//! `plan_reads`, decided under `fixtures/policies/2027-junior.toml`, and
//! compared with the README's "Junior results" table (worked out by hand from
//! policy-junior.md). The same families under a file that ranks 房户一致
//! before 对口直升 differ from the default exactly as the README's "Reordered
//! tiers" table says, and in nothing else. Seats are checked by `enrol demo`
//! (crates/enrol-cli/tests/junior.rs).

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use enrol_domain::{Application, Evaluation, Status};
use enrol_rules::{Policy, evaluate};
use support::readme::{self, Expected, Priority, Seat};
use support::{Registries, fixtures_dir, gather, load_applications_from, load_schools};
use uuid::Uuid;

const SEED: &str = "sample-2027";

fn sample_dir() -> PathBuf {
    fixtures_dir().join("cities/sample")
}

fn readme_text() -> String {
    let path = sample_dir().join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// policy-junior.md's status clause → the reason codes that give it.
fn clause_codes(clause: u8) -> &'static [&'static str] {
    match clause {
        1 => &["no_birth_certificate"],
        2 => &["guardian_not_parent"],
        3 => &["birth_date_mismatch"],
        4 => &["no_current_place", "not_in_final_grade", "current_school_unknown"],
        5 => &["address_unresolved", "address_ambiguous"],
        _ => &[],
    }
}

/// Every junior family decided under `policy`, by application id.
fn decide(policy: &Policy) -> BTreeMap<Uuid, (Application, Evaluation)> {
    let dir = sample_dir();
    let registries = Registries::load_dir(&dir);
    let schools = load_schools(&dir.join("schools.json"));
    load_applications_from(&dir, "applications-junior.jsonl")
        .into_iter()
        .map(|app| {
            assert_eq!(app.round.as_str(), policy.round_id().as_str());
            let (bundle, _rounds) = gather(&app, &registries, policy, &schools, Default::default());
            let evaluation = evaluate(&app, &bundle, policy, &schools, Some(SEED));
            (app.application_id, (app, evaluation))
        })
        .collect()
}

/// The differences between a README row and an evaluation, described.
fn differences(exp: &Expected, evaluation: &Evaluation) -> Vec<String> {
    let decision = &evaluation.decision;
    let mut out = Vec::new();
    let mut differ = |what: &str, want: String, got: String| {
        if want != got {
            out.push(format!(
                "{} (README line {}) {what}: README {want}, engine {got}",
                exp.family, exp.line
            ));
        }
    };
    differ("status", exp.status.to_string(), decision.status.to_string());
    if let Some(clause) = exp.clause {
        let codes = clause_codes(clause);
        let found = decision.reasons.iter().any(|r| codes.contains(&r.code.as_str()));
        differ(
            "reason of the status clause",
            format!("one of {codes:?}"),
            if found {
                format!("one of {codes:?}")
            } else {
                format!("{:?}", decision.reasons.iter().map(|r| &r.code).collect::<Vec<_>>())
            },
        );
    }
    let priorities: Vec<Priority> = decision
        .schools
        .iter()
        .map(|s| Priority {
            school: s.school_id.to_string(),
            priority: s.priority.clone(),
            key: s.key.clone(),
        })
        .collect();
    differ("priorities", format!("{:?}", exp.priorities), format!("{priorities:?}"));
    let preferences: Vec<String> = decision.preferences.iter().map(ToString::to_string).collect();
    differ(
        "preferences",
        format!("{:?}", exp.preferences),
        format!("{preferences:?}"),
    );
    if let Seat::Choice { school, rank } = &exp.seat {
        differ(
            &format!("preference of rank {rank}"),
            school.clone(),
            preferences.get(rank.wrapping_sub(1)).cloned().unwrap_or_default(),
        );
        let unit = evaluation
            .seat_units
            .iter()
            .find(|(s, _)| s.as_str() == school)
            .map(|(_, u)| u.to_string());
        differ(
            &format!("unit a seat at {school} uses"),
            format!("{:?}", exp.unit_no),
            format!("{unit:?}"),
        );
    }
    out
}

#[test]
fn every_junior_family_decides_as_the_readme_says() {
    let text = readme_text();
    let expected = readme::results_after(&text, "## Junior results");
    let lotteries = readme::lottery_numbers_after(&text, "## Junior lottery numbers");
    let decided = decide(&Policy::sample_junior());
    assert_eq!(decided.len(), 17, "applications-junior.jsonl");
    assert_eq!(expected.len(), decided.len(), "one README row per junior application");

    let mut mismatches = Vec::new();
    for exp in &expected {
        let Some((app, evaluation)) = decided.get(&exp.application_id) else {
            mismatches.push(format!("{}: no application {}", exp.family, exp.application_id));
            continue;
        };
        mismatches.extend(differences(exp, evaluation));
        let want = match (exp.status, lotteries.get(&exp.family)) {
            (Status::Eligible, Some((child, n))) => {
                assert_eq!(child, app.child_id.as_str(), "{}", exp.family);
                Some(n.clone())
            }
            (Status::Eligible, None) => panic!("{}: eligible without a lottery number in the README", exp.family),
            (_, Some(_)) => panic!("{}: a lottery number for a family not eligible", exp.family),
            (_, None) => None,
        };
        let got = evaluation.decision.lottery.map(|n| n.to_string());
        if want != got {
            mismatches.push(format!("{}: lottery README {want:?}, engine {got:?}", exp.family));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} difference(s) from the sample README's junior tables:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn a_junior_round_reads_no_primary_school_and_no_age() {
    let decided = decide(&Policy::sample_junior());
    let schools = load_schools(&sample_dir().join("schools.json"));
    for (app, evaluation) in decided.values() {
        for s in &evaluation.decision.schools {
            assert_eq!(
                schools[&s.school_id].stage,
                enrol_domain::Stage::Junior,
                "{}: {} is not a junior school",
                app.application_id,
                s.school_id
            );
        }
        for r in &evaluation.decision.reasons {
            assert!(
                !["too_young", "too_old", "already_at_school"].contains(&r.code.as_str()),
                "{}: a primary-only clause {}",
                app.application_id,
                r.code
            );
        }
    }
}

#[test]
fn reordering_the_tiers_changes_exactly_the_readme_rows() {
    let text = readme_text();
    let changed: BTreeMap<Uuid, Expected> = readme::results_after(&text, "## Reordered tiers")
        .into_iter()
        .map(|e| (e.application_id, e))
        .collect();
    assert_eq!(changed.len(), 6);
    let reordered = Policy::load(fixtures_dir().join("rules/policies/2027-junior-same-dwelling-first.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let default = Policy::sample_junior();
    // The file is the default with two tiers swapped: same facts, other order.
    assert_eq!(reordered.tiers()[0].facts, default.tiers()[1].facts);
    assert_eq!(reordered.tiers()[1].dwelling, default.tiers()[0].dwelling);
    assert_eq!(reordered.tiers()[2..], default.tiers()[2..]);

    let before = decide(&default);
    let after = decide(&reordered);
    let mut mismatches = Vec::new();
    for (id, (_, evaluation)) in &after {
        let json = |e: &Evaluation| serde_json::to_string(&e.decision).unwrap_or_default();
        match changed.get(id) {
            Some(exp) => {
                mismatches.extend(differences(exp, evaluation));
                if json(evaluation) == json(&before[id].1) {
                    mismatches.push(format!("{}: listed as changed, decides as before", exp.family));
                }
            }
            None => {
                if json(evaluation) != json(&before[id].1) || evaluation.seat_units != before[id].1.seat_units {
                    mismatches.push(format!("{id}: not listed as changed, but decides otherwise"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The sample city with every trace of the junior stage taken out of the zone
/// registry: no junior school in any building's zones, no `feeds`.
fn without_junior_zoning() -> PathBuf {
    let from = sample_dir();
    let to = std::env::temp_dir().join(format!("enrol-sample-primary-only-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&to).unwrap_or_else(|e| panic!("{e}"));
    let schools = load_schools(&from.join("schools.json"));
    for entry in std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = match name.as_str() {
            "buildings.jsonl" => text
                .lines()
                .map(|line| {
                    let mut b: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
                    if let Some(list) = b["schools"].as_array_mut() {
                        list.retain(|s| {
                            let id = enrol_domain::SchoolId::new(s.as_str().unwrap_or_default());
                            schools[&id].stage == enrol_domain::Stage::Primary
                        });
                    }
                    format!("{b}\n")
                })
                .collect(),
            "schools.json" => {
                let mut list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
                for s in &mut list {
                    s.as_object_mut().map(|o| o.remove("feeds"));
                }
                serde_json::to_string(&list).unwrap_or_default()
            }
            _ => text,
        };
        std::fs::write(to.join(&name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    to
}

#[test]
fn a_primary_round_ignores_the_junior_stage_entirely() {
    // Every building the sample's zone registry knows is zoned for one junior
    // school beside its primary ones, and primaries carry `feeds`. The first-grade
    // decisions are byte for byte those of the same city without any of it.
    let both = sample_dir();
    let primary_only = without_junior_zoning();
    let policy = Policy::sample();
    let decide_all = |dir: &std::path::Path| -> Vec<String> {
        let registries = Registries::load_dir(dir);
        let schools = load_schools(&dir.join("schools.json"));
        support::load_applications(dir)
            .iter()
            .map(|app| {
                let (bundle, rounds) = gather(app, &registries, &policy, &schools, Default::default());
                let e = evaluate(app, &bundle, &policy, &schools, Some(SEED));
                format!("{rounds:?}\n{}", serde_json::to_string(&e).unwrap_or_default())
            })
            .collect()
    };
    let buildings = std::fs::read_to_string(both.join("buildings.jsonl")).unwrap_or_default();
    let schools = load_schools(&both.join("schools.json"));
    for line in buildings.lines() {
        let b: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
        let juniors = b["schools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| {
                schools[&enrol_domain::SchoolId::new(s.as_str().unwrap_or_default())].stage
                    == enrol_domain::Stage::Junior
            })
            .count();
        assert_eq!(juniors, 1, "every building is zoned for one junior school: {line}");
    }
    let with_juniors = decide_all(&both);
    let without = decide_all(&primary_only);
    assert_eq!(with_juniors.len(), 41);
    for (a, b) in with_juniors.iter().zip(&without) {
        assert_eq!(a, b);
    }
    let _ = std::fs::remove_dir_all(&primary_only);
}

#[test]
fn an_officer_clears_the_grade_check_and_the_child_takes_part() {
    let dir = sample_dir();
    let registries = Registries::load_dir(&dir);
    let schools = load_schools(&dir.join("schools.json"));
    let policy = Policy::sample_junior();
    let apps: BTreeMap<String, Application> = load_applications_from(&dir, "applications-junior.jsonl")
        .into_iter()
        .map(|a| (a.application_id.to_string(), a))
        .collect();
    let cleared = enrol_domain::OfficerFacts {
        current_place_cleared: true,
        ..Default::default()
    };
    let decide = |id: &str| {
        let app = &apps[id];
        let (bundle, _) = gather(app, &registries, &policy, &schools, cleared.clone());
        evaluate(app, &bundle, &policy, &schools, Some(SEED))
    };
    let codes = |e: &Evaluation| e.decision.reasons.iter().map(|r| r.code.clone()).collect::<Vec<_>>();
    // J13, grade 5 at S101 (which feeds S302): cleared, it holds 对口直升 at S302.
    let j13 = decide("b0000000-0000-4000-8000-000000000013");
    assert_eq!(j13.decision.status, Status::Eligible, "{:?}", codes(&j13));
    assert_eq!(j13.decision.reasons[0].code, "final_grade_cleared");
    assert_eq!(j13.decision.reasons[0].evidence, ["history:370811201506060535"]);
    let s302 = &j13.decision.schools[0];
    assert_eq!((s302.school_id.as_str(), s302.priority.as_str()), ("S302", "tier1"));
    let feeder = j13
        .decision
        .reasons
        .iter()
        .find(|r| r.code == "tier1_feeder_school")
        .expect("a feeder reason");
    assert_eq!(feeder.evidence, ["zones:S101", "history:370811201506060535"]);
    // J12, no record: cleared, it has no current school and so no 对口直升; 有户 at S301 remains.
    let j12 = decide("b0000000-0000-4000-8000-000000000012");
    assert_eq!(j12.decision.status, Status::Eligible, "{:?}", codes(&j12));
    assert_eq!(j12.decision.reasons[0].code, "final_grade_cleared");
    let priorities: Vec<(&str, &str)> = j12
        .decision
        .schools
        .iter()
        .map(|s| (s.school_id.as_str(), s.priority.as_str()))
        .collect();
    assert_eq!(priorities, [("S301", "tier4")]);
    // J14, at a school the registry does not list: the review cites the catalogue too.
    let (bundle, _) = gather(
        &apps["b0000000-0000-4000-8000-000000000014"],
        &registries,
        &policy,
        &schools,
        Default::default(),
    );
    let j14 = evaluate(
        &apps["b0000000-0000-4000-8000-000000000014"],
        &bundle,
        &policy,
        &schools,
        None,
    );
    assert_eq!(j14.decision.reasons[0].code, "current_school_unknown");
    assert_eq!(
        j14.decision.reasons[0].evidence,
        ["zones:S998", "history:370811201409150635"]
    );
}

#[test]
fn junior_families_read_what_the_staging_says() {
    let dir = sample_dir();
    let registries = Registries::load_dir(&dir);
    let schools = load_schools(&dir.join("schools.json"));
    let policy = Policy::sample_junior();
    let mut shown = String::new();
    for app in load_applications_from(&dir, "applications-junior.jsonl") {
        let (_, rounds) = gather(&app, &registries, &policy, &schools, Default::default());
        shown.push_str(&format!("{}\n", app.application_id));
        for (i, round) in rounds.iter().enumerate() {
            let reads: Vec<String> = round.iter().map(support::read_label).collect();
            shown.push_str(&format!("  {}: {}\n", i + 1, reads.join(", ")));
        }
    }
    insta::assert_snapshot!(shown);
}
