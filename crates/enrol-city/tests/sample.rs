//! The hand-made sample city (`fixtures/cities/sample`) is well formed and its
//! README's lottery numbers are the ones policy.md defines.

use std::collections::BTreeSet;
use std::path::PathBuf;

use enrol_city::{FILES, Gazetteer, wire};
use enrol_domain::{AddressCode, Application, NationalId};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

const ROUND_SEED: &str = "sample-2027";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample")
}

fn lines<T: DeserializeOwned>(name: &str) -> Vec<T> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1)))
        .collect()
}

fn readme() -> String {
    std::fs::read_to_string(dir().join("README.md")).expect("the sample README")
}

fn lottery(child: &str) -> String {
    hex::encode(&Sha256::digest(format!("{ROUND_SEED}:{child}").as_bytes())[..8])
}

#[test]
fn the_sample_has_exactly_the_fixture_files_and_they_parse() {
    let mut present: BTreeSet<String> = std::fs::read_dir(dir())
        .expect("the sample folder")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(present.remove("README.md"));
    let expected: BTreeSet<String> = FILES.iter().map(|f| (*f).to_owned()).collect();
    assert_eq!(present, expected);

    let persons: Vec<wire::Person> = lines("persons.jsonl");
    let births: Vec<wire::Birth> = lines("births.jsonl");
    let _: Vec<wire::Property> = lines("properties.jsonl");
    let _: Vec<wire::Permit> = lines("permits.jsonl");
    let _: Vec<wire::Insurance> = lines("social_insurance.jsonl");
    let buildings: Vec<wire::Building> = lines("buildings.jsonl");
    let apps: Vec<Application> = lines("applications.jsonl");
    let schools: Vec<wire::School> =
        serde_json::from_str(&std::fs::read_to_string(dir().join("schools.json")).expect("schools.json"))
            .expect("schools.json is an array of schools");
    assert_eq!(apps.len(), 41);
    assert_eq!(schools.len(), 11, "8 primary-round schools and 3 more juniors");
    // Sex on the household record agrees with the ID's sequence number.
    for p in &persons {
        assert_eq!(p.id.is_male(), p.sex == wire::Sex::M, "{}", p.id);
    }
    for b in &births {
        assert!(b.child_id.as_str().len() == 18);
    }
    // Sorted by key, as the generator writes them.
    let ids: Vec<&NationalId> = persons.iter().map(|p| &p.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let app_ids: Vec<_> = apps.iter().map(|a| a.application_id).collect();
    assert!(app_ids.windows(2).all(|w| w[0] < w[1]));
    assert!(!buildings.iter().any(|b| b.building_key.as_str() == "370811-001-00099"));
}

#[test]
fn the_readme_lottery_numbers_follow_policy_md() {
    let apps: Vec<Application> = lines("applications.jsonl");
    let text = readme();
    let mut checked = 0;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | F01 | 370811202102141034 | e27b7f4f7878f671 |
        if cells.len() == 5 && cells[1].starts_with('F') && cells[2].len() == 18 && cells[3].len() == 16 {
            let n: usize = cells[1][1..].parse().expect("a family number");
            let app = &apps[n - 1];
            assert_eq!(
                app.application_id.to_string(),
                format!("a0000000-0000-4000-8000-0000000000{n:02}")
            );
            assert_eq!(app.child_id.as_str(), cells[2], "F{n:02}");
            assert_eq!(lottery(cells[2]), cells[3], "lottery of F{n:02}");
            checked += 1;
        }
    }
    assert_eq!(checked, 33, "every eligible family's lottery number is listed");
    // The documented command gives the same digits.
    assert_eq!(lottery("370811202102141034"), "e27b7f4f7878f671");
}

#[test]
fn text_only_addresses_fare_as_the_readme_says() {
    let buildings: Vec<wire::Building> = lines("buildings.jsonl");
    let g = Gazetteer::new(&buildings);
    let code = |s: &str| AddressCode::parse(s).expect("a code");
    assert_eq!(
        g.resolve("任城区太白中路10号3-602"),
        vec![code("370811-001-00010-03-0602")]
    );
    assert_eq!(
        g.resolve("太白中路 10号 3单元 502室"),
        vec![code("370811-001-00010-03-0502")]
    );
    assert_eq!(
        g.resolve("济宁市任城区越河街道古槐路5号1单元201室"),
        vec![code("370811-002-00005-01-0201")]
    );
    assert_eq!(
        g.resolve("建设路 7号 3单元 301室"),
        vec![code("370811-002-00007-03-0301"), code("370812-001-00007-03-0301")]
    );
    assert_eq!(g.resolve("建设路 7号 2单元 202室").len(), 2);
    assert!(g.resolve("济宁市任城区古槐街道太白中路一〇号1单元801室").is_empty());
    assert!(g.resolve("济南市历下区泉城路街道泉城路100号1单元101室").is_empty());
}
