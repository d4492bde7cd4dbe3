//! `enrol demo --policy fixtures/policies/2027-junior.toml` runs the sample
//! city's junior-middle round (小升初) end to end: every junior family is
//! decided and seated exactly as the README's "Junior results" table says.
//! The file that ranks 房户一致 before 对口直升 runs without a code change and
//! differs from the default exactly as the README's "Reordered tiers" says.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Expected, expectations_after, sample_dir};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn run_demo(policy: &Path, out: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(["demo", "--seed", "sample-2027"])
        .arg("--policy")
        .arg(policy)
        .arg("--dataset")
        .arg(sample_dir())
        .arg("--out")
        .arg(out)
        .output()
        .expect("the demo starts");
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("round 2027-junior: published"), "{summary}");
    assert!(!summary.contains("refused"), "{summary}");
}

/// decisions.jsonl lines and assignments.csv rows, by application id.
fn read_output(out: &Path) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let decisions = std::fs::read_to_string(out.join("decisions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["application_id"].as_str().unwrap().to_owned(), l.to_owned())
        })
        .collect();
    let seats = std::fs::read_to_string(out.join("assignments.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<String> = l.split(',').map(str::to_owned).collect();
            (f[0].clone(), f)
        })
        .collect();
    (decisions, seats)
}

/// Every difference between the README's rows and the round output.
fn differences(
    expected: &BTreeMap<String, Expected>,
    decisions: &BTreeMap<String, String>,
    seats: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (id, want) in expected {
        let got: serde_json::Value = serde_json::from_str(&decisions[id]).unwrap();
        let seat = &seats[id];
        let priorities: Vec<(String, String, Vec<i64>)> = got["schools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["school_id"].as_str().unwrap().to_owned(),
                    s["priority"].as_str().unwrap().to_owned(),
                    serde_json::from_value(s["key"].clone()).unwrap(),
                )
            })
            .collect();
        let preferences: Vec<String> = serde_json::from_value(got["preferences"].clone()).unwrap();
        let got_seat = (!seat[3].is_empty()).then(|| (seat[3].clone(), seat[4].clone(), seat[5].parse().ok()));
        for (what, ok) in [
            ("status", got["status"].as_str().unwrap() == want.status),
            ("priorities", priorities == want.priorities),
            ("preferences", preferences == want.preferences),
            ("seat", got_seat == want.seat),
            ("unit_no", seat[7] == want.unit_no),
        ] {
            if !ok {
                out.push(format!("{id} {what}: expected {want:?}, got {got} / {seat:?}"));
            }
        }
    }
    out
}

#[test]
fn the_junior_demo_seats_every_junior_family_as_worked_out_by_hand_and_reordering_is_a_file() {
    let work = std::env::temp_dir().join(format!("enrol-junior-test-{}", uuid::Uuid::new_v4().simple()));
    let (default_out, reordered_out) = (work.join("default"), work.join("reordered"));

    run_demo(&fixtures().join("policies/2027-junior.toml"), &default_out);
    let expected = expectations_after("## Junior results");
    assert_eq!(expected.len(), 17, "the README's junior table changed shape");
    let (decisions, seats) = read_output(&default_out);
    assert_eq!(decisions.len(), expected.len(), "one decision per junior application");
    let mismatches = differences(&expected, &decisions, &seats);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Only junior schools are listed in schools.csv.
    let schools_csv = std::fs::read_to_string(default_out.join("schools.csv")).unwrap();
    let listed: Vec<&str> = schools_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(listed, ["S301", "S302", "S303", "S304"]);
    assert!(schools_csv.lines().next().unwrap().contains("tier5"), "{schools_csv}");

    run_demo(
        &fixtures().join("rules/policies/2027-junior-same-dwelling-first.toml"),
        &reordered_out,
    );
    let changed = expectations_after("## Reordered tiers");
    assert_eq!(changed.len(), 6, "the README's reordered table changed shape");
    let (reordered, reordered_seats) = read_output(&reordered_out);
    let mut want = expected;
    want.extend(changed);
    let mut mismatches = differences(&want, &reordered, &reordered_seats);
    for (id, line) in &reordered {
        let listed = expectations_after("## Reordered tiers").contains_key(id);
        if !listed && (line != &decisions[id] || reordered_seats[id] != seats[id]) {
            mismatches.push(format!(
                "{id}: not in the README's reordered table, but its output changed"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    let _ = std::fs::remove_dir_all(&work);
}
