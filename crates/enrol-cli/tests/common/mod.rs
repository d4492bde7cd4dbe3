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
