//! Same seed, same bytes: the SHA-256 of every file of a small city is pinned.

use std::collections::BTreeMap;
use std::path::Path;

use enrol_city::{CityConfig, FILES};
use sha2::{Digest, Sha256};

fn digests(dir: &Path) -> BTreeMap<&'static str, String> {
    FILES
        .iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            (*name, hex::encode(Sha256::digest(&bytes)))
        })
        .collect()
}

fn written(families: usize, seed: u64) -> (tempfile::TempDir, BTreeMap<&'static str, String>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    enrol_city::generate(&CityConfig::new(families, seed))
        .write_to(dir.path())
        .expect("the city is written");
    let d = digests(dir.path());
    (dir, d)
}

#[test]
fn a_small_city_has_pinned_bytes() {
    let (_dir, digests) = written(200, 2027);
    insta::assert_yaml_snapshot!(digests);
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let (_a, first) = written(300, 42);
    let (_b, again) = written(300, 42);
    assert_eq!(first, again);
    let (_c, other) = written(300, 43);
    for name in ["persons.jsonl", "applications.jsonl"] {
        assert_ne!(first[name], other[name], "{name}");
    }
}

#[test]
fn every_file_is_sorted_by_its_key_with_lf_line_ends() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    enrol_city::generate(&CityConfig::new(500, 7))
        .write_to(dir.path())
        .expect("the city is written");
    let keys = [
        ("persons.jsonl", "id"),
        ("births.jsonl", "child_id"),
        ("properties.jsonl", "unit_no"),
        ("permits.jsonl", "holder_id"),
        ("social_insurance.jsonl", "id"),
        ("buildings.jsonl", "building_key"),
        ("applications.jsonl", "application_id"),
    ];
    for (name, key) in keys {
        let text = std::fs::read_to_string(dir.path().join(name)).expect("UTF-8");
        assert!(!text.contains('\r') && text.ends_with('\n'), "{name}");
        let values: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                v[key].as_str().expect("a string key").to_owned()
            })
            .collect();
        let mut sorted = values.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(values, sorted, "{name} is sorted by a unique {key}");
    }
    let history = std::fs::read_to_string(dir.path().join("enrolment_history.jsonl")).expect("UTF-8");
    let lines: Vec<serde_json::Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let split = lines
        .iter()
        .position(|v| v.get("child_id").is_some())
        .expect("children at school");
    assert!(lines[..split].iter().all(|v| v.get("unit_no").is_some()));
    assert!(lines[split..].iter().all(|v| v.get("child_id").is_some()));
    let schools: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("schools.json")).expect("UTF-8"))
            .expect("schools.json is one JSON array");
    let ids: Vec<&str> = schools.iter().map(|s| s["id"].as_str().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    /// Any size and seed: the same city twice, unique people and units, and
    /// every application's people on record where the family's kind says so.
    #[test]
    fn any_city_is_deterministic_and_consistent(families in 0usize..150, seed in proptest::prelude::any::<u64>()) {
        let config = CityConfig::new(families, seed);
        let city = enrol_city::generate(&config);
        proptest::prop_assert_eq!(&city, &enrol_city::generate(&config));
        proptest::prop_assert_eq!(city.applications.len(), families);
        let persons: std::collections::BTreeSet<_> = city.persons.iter().map(|p| &p.id).collect();
        proptest::prop_assert_eq!(persons.len(), city.persons.len());
        let units: std::collections::BTreeSet<_> = city.properties.iter().map(|u| &u.unit_no).collect();
        proptest::prop_assert_eq!(units.len(), city.properties.len());
        let births: std::collections::BTreeSet<_> = city.births.iter().map(|b| &b.child_id).collect();
        for (app, profile) in city.applications.iter().zip(&city.families) {
            let has_cert = births.contains(&app.child_id);
            proptest::prop_assert_eq!(has_cert, profile.trigger != enrol_city::Trigger::NoBirthCertificate);
            proptest::prop_assert_eq!(
                persons.contains(&app.child_id),
                profile.residence.city_hukou() || profile.from_province
            );
        }
    }
}
