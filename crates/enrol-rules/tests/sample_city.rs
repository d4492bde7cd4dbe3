//! The hand-made sample city (`fixtures/cities/sample/`): every family is
//! gathered through `plan_reads` from the dataset's records, decided, and
//! compared with the expectations table of that folder's README, which was
//! worked out by hand from policy.md. Lottery numbers are checked against the
//! README's table for the sample seed.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use enrol_domain::{Application, Status};
use enrol_rules::{Policy, evaluate, lottery_number};
use support::readme::{self, Expected, Priority, Seat};
use support::{Registries, fixtures_dir, gather, load_applications, load_schools};
use uuid::Uuid;

/// The sample round's seed (README: "Round seed: `sample-2027`").
const SEED: &str = "sample-2027";

fn sample_dir() -> PathBuf {
    fixtures_dir().join("cities/sample")
}

fn readme_text() -> String {
    let path = sample_dir().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.contains(&format!("Round seed: `{SEED}`")),
        "the sample README no longer names the round seed `{SEED}`"
    );
    text
}

fn applications() -> BTreeMap<Uuid, Application> {
    load_applications(&sample_dir())
        .into_iter()
        .map(|a| (a.application_id, a))
        .collect()
}

/// The reason code policy.md's status clause gives (docs/rules.md, "Reason codes").
fn clause_codes(clause: u8) -> &'static [&'static str] {
    match clause {
        1 => &["no_birth_certificate"],
        2 => &["guardian_not_parent"],
        3 => &["birth_date_mismatch"],
        4 => &["too_young"],
        5 => &["too_old"],
        6 => &["already_at_school"],
        7 => &["address_unresolved", "address_ambiguous"],
        _ => &[],
    }
}

/// Records a difference between the README and the engine.
fn differ(mismatches: &mut Vec<String>, exp: &Expected, what: &str, want: String, got: String) {
    if want != got {
        mismatches.push(format!(
            "{} (README line {}) {what}: README {want}, engine {got}",
            exp.family, exp.line
        ));
    }
}

#[test]
fn every_sample_family_decides_as_the_readme_says() {
    let dir = sample_dir();
    let text = readme_text();
    let expected = readme::results(&text);
    let lotteries = readme::lottery_numbers(&text);
    let apps = applications();
    assert_eq!(apps.len(), 41, "applications.jsonl");
    assert_eq!(expected.len(), apps.len(), "one README row per application");
    let by_app: BTreeMap<Uuid, &Expected> = expected.iter().map(|e| (e.application_id, e)).collect();
    assert_eq!(by_app.len(), expected.len(), "a family listed twice in the README");

    let registries = Registries::load_dir(&dir);
    let schools = load_schools(&dir.join("schools.json"));
    let policy = Policy::sample();

    // Every difference, so that one run reports them all.
    let mut mismatches: Vec<String> = Vec::new();
    for (id, app) in &apps {
        let Some(exp) = by_app.get(id) else {
            mismatches.push(format!("application {id} has no row in the README"));
            continue;
        };
        let (bundle, _rounds) = gather(app, &registries, &policy, &schools, Default::default());
        let evaluation = evaluate(app, &bundle, &policy, &schools, Some(SEED));
        let decision = &evaluation.decision;

        differ(
            &mut mismatches,
            exp,
            "status",
            exp.status.to_string(),
            decision.status.to_string(),
        );
        if let Some(clause) = exp.clause {
            let codes = clause_codes(clause);
            let found = decision.reasons.iter().any(|r| codes.contains(&r.code.as_str()));
            let got: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
            differ(
                &mut mismatches,
                exp,
                "reason of the status clause",
                format!("clause {clause} ({})", codes.join(" or ")),
                if found {
                    format!("clause {clause} ({})", codes.join(" or "))
                } else {
                    format!("{got:?}")
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
        differ(
            &mut mismatches,
            exp,
            "priorities (in order)",
            format!("{:?}", exp.priorities),
            format!("{priorities:?}"),
        );
        for s in &decision.schools {
            // The flag and the key's sibling component say the same thing.
            differ(
                &mut mismatches,
                exp,
                &format!("sibling flag at {}", s.school_id),
                format!("{:?}", s.key.get(1) == Some(&0)),
                format!("{:?}", s.sibling),
            );
        }
        let preferences: Vec<String> = decision.preferences.iter().map(|s| s.to_string()).collect();
        differ(
            &mut mismatches,
            exp,
            "preferences",
            format!("{:?}", exp.preferences),
            format!("{preferences:?}"),
        );
        for school in &exp.dropped {
            let cited = format!("zones:{school}");
            let explained = decision
                .reasons
                .iter()
                .any(|r| r.code.starts_with("choice_") && r.evidence.contains(&cited));
            differ(
                &mut mismatches,
                exp,
                &format!("dropped choice {school}"),
                "a choice_* reason citing it".to_owned(),
                if explained {
                    "a choice_* reason citing it".to_owned()
                } else {
                    "no choice_* reason citing it".to_owned()
                },
            );
        }

        let want_lottery = match (exp.status, lotteries.get(&exp.family)) {
            (Status::Eligible, Some((_, n))) => Some(n.clone()),
            (Status::Eligible, None) => {
                mismatches.push(format!("{}: eligible but no lottery number in the README", exp.family));
                None
            }
            (_, Some(_)) => {
                mismatches.push(format!(
                    "{}: not eligible but a lottery number in the README",
                    exp.family
                ));
                None
            }
            (_, None) => None,
        };
        differ(
            &mut mismatches,
            exp,
            "lottery",
            format!("{want_lottery:?}"),
            format!("{:?}", decision.lottery.map(|n| n.to_string())),
        );

        // A seat won by the mechanism: its rank names a preference, and a
        // tier1/tier2 seat names the unit it uses (evaluation.seat_units).
        if let Seat::Choice { school, rank } = &exp.seat {
            differ(
                &mut mismatches,
                exp,
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
                &mut mismatches,
                exp,
                &format!("unit a seat at {school} uses"),
                format!("{:?}", exp.unit_no),
                format!("{unit:?}"),
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} difference(s) from fixtures/cities/sample/README.md:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn sample_lottery_numbers_are_the_readmes() {
    let text = readme_text();
    let lotteries = readme::lottery_numbers(&text);
    let apps = applications();
    let eligible: Vec<String> = readme::results(&text)
        .into_iter()
        .filter(|e| e.status == Status::Eligible)
        .map(|e| e.family)
        .collect();
    assert_eq!(
        lotteries.keys().cloned().collect::<Vec<_>>(),
        eligible,
        "the lottery table lists exactly the eligible families"
    );
    for (family, (child_id, lottery)) in &lotteries {
        let app = &apps[&readme::application_of(family, 0)];
        assert_eq!(app.child_id.as_str(), child_id, "{family}: the README's child_id");
        assert_eq!(
            lottery_number(SEED, &app.child_id).to_string(),
            *lottery,
            "{family}: lottery number of {child_id} with seed {SEED}"
        );
    }
}

/// A parsed row in brief: family, status, clause, number of priorities, preferences, dropped.
type RowSummary<'a> = (&'a str, Status, Option<u8>, usize, Vec<&'a str>, Vec<&'a str>);

/// The parser reads each cell shape the README uses (so that a README the
/// engine agrees with is not merely a table read as empty).
#[test]
fn the_readme_parser_reads_every_cell_shape() {
    let markdown = "\
## Results

| family | what it tests | status | priorities (key) | preferences | seat | unit_no |
|---|---|---|---|---|---|---|
| F04 | two zones | eligible | S101 tier1 `[1,1,20210310]`; S102 tier1 `[1,1,20210310]` | S101, S102 | S101 choice, rank 1 | 370811001001GB00020F00010101 |
| F17 | private | eligible | S201 lottery `[0,0]`; S102 tier3 `[3,1,20210801]` | S201, S102 | S201 choice, rank 1 | |
| F11 | months | eligible | none | (none; S101 dropped: no tier) | S103 overflow | |
| F23 | junior | eligible | S103 tier3 `[3,1,20201120]` | S103 (S301 dropped) | S103 choice, rank 1 | |
| F13 | expiring | eligible | none | (none) | S103 overflow | |
| F41 | points | eligible | S104 tier4 `[4,1,-51]` | S104 | S105 overflow | |
| F38 | young | ineligible (4) | | | none | |

## Next
";
    let rows = readme::results(markdown);
    let got: Vec<RowSummary> = rows
        .iter()
        .map(|e| {
            (
                e.family.as_str(),
                e.status,
                e.clause,
                e.priorities.len(),
                e.preferences.iter().map(String::as_str).collect(),
                e.dropped.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("F04", Status::Eligible, None, 2, vec!["S101", "S102"], vec![]),
            ("F17", Status::Eligible, None, 2, vec!["S201", "S102"], vec![]),
            ("F11", Status::Eligible, None, 0, vec![], vec!["S101"]),
            ("F23", Status::Eligible, None, 1, vec!["S103"], vec!["S301"]),
            ("F13", Status::Eligible, None, 0, vec![], vec![]),
            ("F41", Status::Eligible, None, 1, vec!["S104"], vec![]),
            ("F38", Status::Ineligible, Some(4), 0, vec![], vec![]),
        ]
    );
    assert_eq!(
        rows[1].priorities[0],
        Priority {
            school: "S201".into(),
            priority: "lottery".into(),
            key: vec![0, 0]
        }
    );
    assert_eq!(rows[5].priorities[0].key, vec![4, 1, -51]);
    assert_eq!(
        rows[0].seat,
        Seat::Choice {
            school: "S101".into(),
            rank: 1
        }
    );
    assert_eq!(rows[0].unit_no.as_deref(), Some("370811001001GB00020F00010101"));
    assert_eq!(rows[2].seat, Seat::Overflow { school: "S103".into() });
    assert_eq!(rows[6].seat, Seat::None);
    assert_eq!(
        rows[0].application_id.to_string(),
        "a0000000-0000-4000-8000-000000000004"
    );
}

#[test]
#[should_panic(expected = "has no column \"preferences\"")]
fn a_readme_table_without_a_column_fails_clearly() {
    readme::results("## Results\n\n| family | status | priorities (key) | seat | unit_no |\n|---|---|---|---|---|\n");
}

#[test]
#[should_panic(expected = "line 5: the priorities cell")]
fn a_readme_cell_of_another_shape_fails_clearly() {
    readme::results(
        "## Results\n\n| family | status | priorities (key) | preferences | seat | unit_no |\n|---|---|---|---|---|---|\n| F01 | eligible | tier1 at S101 | S101 | none | |\n",
    );
}
