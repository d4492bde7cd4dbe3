//! No national ID, name or address in any log line at any level
//! (docs/privacy.md): a full demo on the sample city, at `trace` level and
//! with the `flaky` faults (so retries and failures are logged too), prints
//! none of the dataset's IDs, names or address texts.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::sample_dir;

/// Every ID, name and address text of the sample dataset's people and homes.
fn personal_data() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for file in [
        "persons.jsonl",
        "births.jsonl",
        "properties.jsonl",
        "permits.jsonl",
        "social_insurance.jsonl",
        "enrolment_history.jsonl",
        "applications.jsonl",
    ] {
        let text = std::fs::read_to_string(sample_dir().join(file)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            collect(&value, None, &mut found);
        }
    }
    found
}

fn collect(value: &serde_json::Value, key: Option<&str>, found: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) => {
            let personal = key.is_some_and(|k| k.ends_with("_id") || k.ends_with("name") || k == "id" || k == "text");
            if personal && s.chars().count() >= 2 && k_is_not_public(key) {
                found.insert(s.clone());
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, key, found)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| collect(v, Some(k), found)),
        _ => {}
    }
}

/// Ids that are not about a person: the application's and the consent's ids, a school's.
fn k_is_not_public(key: Option<&str>) -> bool {
    !matches!(key, Some("application_id" | "consent_id" | "school_id" | "round"))
}

/// Runs of 17 digits and a check character standing alone: anything shaped like a national ID.
fn id_shaped(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        if !chars[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < chars.len() && (chars[end].is_ascii_alphanumeric()) {
            end += 1;
        }
        let run: String = chars[start..end].iter().collect();
        if run.len() == 18 && run[..17].bytes().all(|b| b.is_ascii_digit()) {
            let last = run.as_bytes()[17];
            if last.is_ascii_digit() || last == b'X' || last == b'x' {
                found.push(run);
            }
        }
        start = end;
    }
    found
}

#[test]
fn a_trace_level_demo_logs_no_id_name_or_address() {
    let personal = personal_data();
    assert!(
        personal.len() > 100,
        "the sample dataset has people: {}",
        personal.len()
    );
    let out = std::env::temp_dir().join(format!("enrol-privacy-test-{}", uuid::Uuid::new_v4().simple()));
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(["demo", "--seed", "sample-2027", "--faults", "flaky"])
        .arg("--dataset")
        .arg(sample_dir())
        .arg("--out")
        .arg(&out)
        .env("RUST_LOG", "trace")
        .output()
        .expect("the demo starts");
    let _ = std::fs::remove_dir_all(&out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed: {stderr}");
    let lines: Vec<&str> = stderr.lines().chain(stdout.lines()).collect();
    // The capture is real: trace lines of our crates and of the HTTP stack are in it.
    assert!(lines.len() > 1_000, "only {} lines: is trace logging on?", lines.len());
    assert!(lines.iter().any(|l| l.contains("TRACE")), "no trace line");
    let mut leaks = Vec::new();
    for line in &lines {
        for id in id_shaped(line) {
            leaks.push(format!("ID {id}: {line}"));
        }
        for item in personal.iter().filter(|p| line.contains(p.as_str())) {
            leaks.push(format!("{item:?}: {line}"));
        }
    }
    leaks.truncate(20);
    assert!(leaks.is_empty(), "personal data in the logs:\n{}", leaks.join("\n"));
}

#[test]
fn the_id_detector_finds_ids() {
    assert_eq!(id_shaped("x person=11010519491231002X y"), vec!["11010519491231002X"]);
    assert_eq!(
        id_shaped("/hukou/v1/persons/370811202011150023?x"),
        vec!["370811202011150023"]
    );
    assert!(id_shaped("a0000000-0000-4000-8000-000000000001 12345678901234567890").is_empty());
}
