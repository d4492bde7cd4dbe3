//! Dirty registry data never stalls a round (issue 13, registries.md "Dirty
//! records"), end to end through `enrol demo`:
//! - a generated city with `--dirty 0.02` completes in one run, on SQLite
//!   and on PostgreSQL, and every family whose dirt no clause reads is
//!   decided byte for byte as in the same city without dirt;
//! - under the simulator's answer corruption (2% of records, always
//!   corrupt), the round completes; each family is decided as without the
//!   fault, or is in `review` with `registry_answer_unusable` citing records.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use enrol_store::testing::TestDb;

/// Small enough for CI (2 cores): a few seconds a run in a debug build.
const FAMILIES: usize = 240;
const RATE: f64 = 0.02;

fn demo(out: &Path, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(["demo", "--families", &FAMILIES.to_string(), "--seed", "dirty-2027"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("the demo starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo {extra:?} failed: {stderr}");
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(summary.contains("published"), "{summary}");
    summary
}

/// `decisions.jsonl` by application id, each line as written.
fn decisions(out: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(out.join("decisions.jsonl"))
        .expect("decisions written")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            (v["application_id"].as_str().expect("an id").to_owned(), l.to_owned())
        })
        .collect()
}

/// Applications one of whose persons (child, applicant, guardians, siblings)
/// a dirty record that a clause reads is about.
fn touched_by_dirt_that_matters(city: &enrol_city::City) -> BTreeSet<String> {
    let persons: BTreeSet<&enrol_domain::NationalId> = city
        .dirt
        .iter()
        .filter(|d| d.kind.matters())
        .flat_map(|d| &d.persons)
        .collect();
    city.applications
        .iter()
        .filter(|a| {
            std::iter::once(&a.child_id)
                .chain(std::iter::once(&a.applicant_id))
                .chain(&a.guardian_ids)
                .chain(&a.sibling_ids)
                .any(|p| persons.contains(p))
        })
        .map(|a| a.application_id.to_string())
        .collect()
}

fn compare_with_clean(clean: &BTreeMap<String, String>, dirty: &BTreeMap<String, String>, touched: &BTreeSet<String>) {
    assert_eq!(clean.len(), dirty.len(), "every application decided");
    let mut differ = Vec::new();
    for (id, line) in clean {
        if dirty[id] != *line && !touched.contains(id) {
            differ.push(format!("{id}:\n  clean {line}\n  dirty {}", dirty[id]));
        }
    }
    assert!(
        differ.is_empty(),
        "families whose dirt no clause reads decided differently:\n{}",
        differ.join("\n")
    );
    for line in dirty.values() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(!v["reasons"].as_array().unwrap().is_empty(), "{line}");
    }
}

#[test]
fn a_dirty_city_completes_in_one_run_on_sqlite_and_postgres_and_clean_families_are_decided_alike() {
    let work = tempfile::tempdir().unwrap();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(FAMILIES, 2027).with_dirt(RATE));
    let kinds: BTreeSet<_> = city.dirt.iter().map(|d| d.kind).collect();
    assert!(kinds.len() >= 4, "dirt across the record kinds: {kinds:?}");
    let touched = touched_by_dirt_that_matters(&city);

    let clean_out = work.path().join("clean");
    demo(&clean_out, &[]);
    let clean = decisions(&clean_out);
    let dirty_out = work.path().join("dirty-sqlite");
    demo(&dirty_out, &["--dirty", "0.02"]);
    compare_with_clean(&clean, &decisions(&dirty_out), &touched);

    let Some(base) = enrol_store::testing::pg_url() else {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL half does not run");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDb::postgres(&base)).unwrap();
    let pg_out = work.path().join("dirty-postgres");
    demo(&pg_out, &["--dirty", "0.02", "--database-url", &db.url]);
    let pg = decisions(&pg_out);
    compare_with_clean(&clean, &pg, &touched);
    assert_eq!(
        pg,
        decisions(&dirty_out),
        "SQLite and PostgreSQL decide the dirty city alike"
    );
    runtime.block_on(db.cleanup()).unwrap();
}

#[test]
fn under_answer_corruption_the_round_completes_and_unusable_answers_are_reviews() {
    let work = tempfile::tempdir().unwrap();
    let clean_out = work.path().join("clean");
    demo(&clean_out, &[]);
    let clean = decisions(&clean_out);

    // 2% of records, always corrupt: the client's retries cannot get past them.
    let faults = work.path().join("corrupt.toml");
    std::fs::write(
        &faults,
        "[all]\np_truncated = 0.007\np_wrong_type = 0.007\np_bad_utf8 = 0.006\n",
    )
    .unwrap();
    let corrupt_out = work.path().join("corrupt");
    demo(&corrupt_out, &["--faults", faults.to_str().unwrap()]);
    let corrupt = decisions(&corrupt_out);
    assert_eq!(clean.len(), corrupt.len(), "every application decided");
    let mut unusable = 0;
    for (id, line) in &clean {
        if corrupt[id] == *line {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&corrupt[id]).unwrap();
        assert_eq!(v["status"], "review", "{id} differs without review: {v}");
        let reasons = v["reasons"].as_array().unwrap();
        assert!(
            reasons
                .iter()
                .all(|r| r["code"] == "registry_answer_unusable"
                    && r["evidence"].as_array().is_some_and(|e| e.len() == 1)),
            "{v}"
        );
        unusable += 1;
    }
    assert!(
        unusable > 0,
        "2% corruption left no application in review: the test would prove nothing"
    );

    let healing = work.path().join("healing.toml");
    std::fs::write(
        &healing,
        "[all]\np_truncated = 0.03\np_bad_utf8 = 0.03\ncorrupt_times = 1\n",
    )
    .unwrap();
    let healed_out = work.path().join("healed");
    demo(&healed_out, &["--faults", healing.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(clean_out.join("decisions.jsonl")).unwrap(),
        std::fs::read(healed_out.join("decisions.jsonl")).unwrap(),
        "answers corrupt once are asked again within the call: nothing changes"
    );
}
