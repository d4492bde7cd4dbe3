//! `enrol demo` on the sample city: its output matches the expectations
//! worked out by hand in fixtures/cities/sample/README.md, and is the same,
//! byte for byte, with the `flaky` fault preset.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{expectations, sample_dir};

fn run_demo(out: &Path, faults: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(["demo", "--seed", "sample-2027", "--faults", faults])
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
    assert!(summary.contains("published"), "{summary}");
}

#[test]
fn the_demo_places_every_sample_family_as_worked_out_by_hand_and_faults_change_nothing() {
    let work = std::env::temp_dir().join(format!("enrol-demo-test-{}", uuid::Uuid::new_v4().simple()));
    let (clean, flaky) = (work.join("clean"), work.join("flaky"));
    run_demo(&clean, "none");

    let expected = expectations();
    let decisions: BTreeMap<String, serde_json::Value> = std::fs::read_to_string(clean.join("decisions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["application_id"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    let assignments: BTreeMap<String, Vec<String>> = std::fs::read_to_string(clean.join("assignments.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<String> = l.split(',').map(str::to_owned).collect();
            (f[0].clone(), f)
        })
        .collect();
    assert_eq!(decisions.len(), expected.len());
    let mut mismatches = Vec::new();
    for (id, want) in &expected {
        let got = &decisions[id];
        let seat = &assignments[id];
        let got_priorities: Vec<(String, String, Vec<i64>)> = got["schools"]
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
        let got_preferences: Vec<String> = serde_json::from_value(got["preferences"].clone()).unwrap();
        let got_seat = (!seat[3].is_empty()).then(|| (seat[3].clone(), seat[4].clone(), seat[5].parse().ok()));
        let checks = [
            ("status", got["status"].as_str().unwrap() == want.status),
            ("priorities", got_priorities == want.priorities),
            ("preferences", got_preferences == want.preferences),
            ("seat", got_seat == want.seat),
            ("unit_no", seat[7] == want.unit_no),
        ];
        for (what, ok) in checks {
            if !ok {
                mismatches.push(format!("{id} {what}: expected {want:?}, got {got} / {seat:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    run_demo(&flaky, "flaky");
    for file in [
        "decisions.jsonl",
        "assignments.csv",
        "schools.csv",
        "instance.json",
        "report.html",
        "assignments.xlsx",
    ] {
        let (a, b) = (
            std::fs::read(clean.join(file)).unwrap(),
            std::fs::read(flaky.join(file)).unwrap(),
        );
        assert!(a == b, "{file} differs under the flaky fault preset");
    }
    let _ = std::fs::remove_dir_all(&work);
}
