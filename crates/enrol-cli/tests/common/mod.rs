//! The sample city's README expectations, shared by the CLI tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample")
}

/// One row of the README's results table.
#[derive(Debug)]
pub struct Expected {
    pub status: String,
    /// (school, priority, key) in preference order.
    pub priorities: Vec<(String, String, Vec<i64>)>,
    pub preferences: Vec<String>,
    /// (school, route, rank)
    pub seat: Option<(String, String, Option<u32>)>,
    pub unit_no: String,
}

pub fn application_id(family: &str) -> String {
    let first = if family.starts_with('J') { 'b' } else { 'a' };
    let n: u32 = family.trim_start_matches(['F', 'J']).parse().expect("a family number");
    format!("{first}0000000-0000-4000-8000-{n:012}")
}

pub fn expectations() -> BTreeMap<String, Expected> {
    let readme = std::fs::read_to_string(sample_dir().join("README.md")).unwrap();
    let rows = parse_rows(readme.lines().filter(|l| l.starts_with("| F")));
    assert_eq!(rows.len(), 41, "the README's results table changed shape");
    rows
}

/// The rows of the results-shaped table under the README heading `heading`
/// (`## Junior results`, `## Reordered tiers`).
pub fn expectations_after(heading: &str) -> BTreeMap<String, Expected> {
    let readme = std::fs::read_to_string(sample_dir().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(heading))
        .unwrap_or_else(|| panic!("no heading {heading:?} in the sample README"));
    let table = lines[at + 1..]
        .iter()
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("| F") || l.starts_with("| J"))
        .copied();
    parse_rows(table)
}

fn parse_rows<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeMap<String, Expected> {
    let mut rows = BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() != 9 {
            continue; // another table (e.g. lottery numbers)
        }
        let (family, status, priorities, preferences, seat, unit) =
            (cells[1], cells[3], cells[4], cells[5], cells[6], cells[7]);
        let status = status.split_whitespace().next().unwrap().to_owned();
        let priorities = priorities
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty() && *p != "none")
            .map(|p| {
                let mut words = p.split_whitespace();
                let school = words.next().unwrap().to_owned();
                let priority = words.next().unwrap().to_owned();
                let key: Vec<i64> = serde_json::from_str(p.split('`').nth(1).expect("a key in backticks")).unwrap();
                (school, priority, key)
            })
            .collect();
        let preferences = if preferences.is_empty() || preferences.starts_with("(none") {
            Vec::new()
        } else {
            preferences
                .split(" (")
                .next()
                .unwrap()
                .split(", ")
                .map(str::to_owned)
                .collect()
        };
        let seat = if seat == "none" {
            None
        } else {
            let (school, rest) = seat.split_once(' ').unwrap();
            let route = rest.split(',').next().unwrap().to_owned();
            let rank = rest.split("rank ").nth(1).map(|r| r.trim().parse().unwrap());
            Some((school.to_owned(), route, rank))
        };
        rows.insert(
            application_id(family),
            Expected {
                status,
                priorities,
                preferences,
                seat,
                unit_no: unit.to_owned(),
            },
        );
    }
    rows
}

/// Every child's whole name and national ID in the sample city (the birth
/// registry's names; the applications' IDs).
pub fn sample_names_and_ids() -> (Vec<String>, Vec<String>) {
    let births = std::fs::read_to_string(sample_dir().join("births.jsonl")).unwrap();
    let names = births
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["child_name"].as_str().map(str::to_owned))
        .filter(|n| n.chars().count() >= 2)
        .collect();
    let apps = std::fs::read_to_string(sample_dir().join("applications.jsonl")).unwrap();
    let ids = apps
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| {
            let mut ids = vec![
                v["child_id"].as_str().unwrap().to_owned(),
                v["applicant_id"].as_str().unwrap().to_owned(),
            ];
            ids.extend(
                v["guardian_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g.as_str().unwrap().to_owned()),
            );
            ids
        })
        .collect();
    (names, ids)
}

/// The public notice (公示) of the sample round: `seats` lines, sorted by
/// school then masked name, every name and ID masked, and no whole name or
/// ID of the city anywhere in it.
pub fn assert_notice_is_public(notice: &str, seats: usize) {
    let notice = notice
        .strip_prefix('\u{feff}')
        .expect("a BOM, so spreadsheets read UTF-8");
    let mut lines = notice.lines();
    assert_eq!(lines.next(), Some("学校代码,学校名称,姓名,身份证号,录取方式"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), seats, "{notice}");
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[2])).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sorted by school, then masked name");
    for row in &rows {
        let id = row[3];
        assert_eq!(id.chars().count(), 18, "{row:?}");
        assert_eq!(&id[4..14], "**********", "{row:?}");
        let name = row[2];
        assert!(name == "—" || name.contains('*'), "a masked name: {row:?}");
        assert!(row[4] == "志愿录取" || row[4] == "统筹安排", "{row:?}");
    }
    assert!(
        rows.iter().any(|r| r[2] != "—"),
        "the names are there, masked: {notice}"
    );
    let (names, ids) = sample_names_and_ids();
    assert!(!names.is_empty() && !ids.is_empty());
    for name in &names {
        assert!(
            !notice.contains(name.as_str()),
            "the whole name {name} is in the notice"
        );
    }
    for id in &ids {
        assert!(!notice.contains(id.as_str()), "the whole ID {id} is in the notice");
    }
}
