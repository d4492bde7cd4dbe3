//! Reads the expectations of `fixtures/cities/sample/README.md` (worked out by
//! hand from policy.md): the "Results" table and the "Lottery numbers" table.
//! The README is Markdown for people, so the parser is strict about the
//! shape it relies on and fails loudly, naming the line, when it changes.

use std::collections::BTreeMap;

use enrol_domain::Status;
use uuid::Uuid;

/// A Markdown pipe table: its header cells and rows, with the README line of each row.
#[derive(Debug)]
pub struct Table {
    pub heading: String,
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// The first table after the heading line that starts with `heading`.
pub fn table_after(markdown: &str, heading: &str) -> Table {
    let lines: Vec<&str> = markdown.lines().collect();
    let Some(at) = lines.iter().position(|l| l.starts_with(heading)) else {
        panic!("sample README: no heading starting with {heading:?}");
    };
    let Some(start) = (at + 1..lines.len()).find(|&i| lines[i].trim_start().starts_with('|')) else {
        panic!("sample README: no table after {heading:?}");
    };
    if lines[at + 1..start].iter().any(|l| l.starts_with('#')) {
        panic!("sample README: the table after {heading:?} is under another heading");
    }
    let header = cells(lines[start]);
    let separator = lines.get(start + 1).map(|l| cells(l)).unwrap_or_default();
    let is_rule = |c: &String| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':');
    if separator.len() != header.len() || !separator.iter().all(is_rule) {
        panic!(
            "sample README line {}: the table after {heading:?} has no |---| row under its header",
            start + 2
        );
    }
    let mut rows = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(start + 2) {
        if !line.trim_start().starts_with('|') {
            break;
        }
        let row = cells(line);
        if row.len() != header.len() {
            panic!(
                "sample README line {}: {} cells where the table after {heading:?} has {} columns: {line}",
                i + 1,
                row.len(),
                header.len()
            );
        }
        rows.push((i + 1, row));
    }
    Table {
        heading: heading.to_owned(),
        header,
        rows,
    }
}

impl Table {
    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| {
            panic!(
                "sample README: the table after {:?} has no column {name:?} (its columns: {:?})",
                self.heading, self.header
            )
        })
    }
}

/// Where the README says the child is seated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seat {
    /// Placed by the mechanism at its `rank`-th preference (1-based).
    Choice {
        school: String,
        rank: usize,
    },
    Overflow {
        school: String,
    },
    None,
}

/// One priority of the "priorities (key)" column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    pub school: String,
    pub priority: String,
    pub key: Vec<i64>,
}

/// One row of the "Results" table.
#[derive(Debug, Clone)]
pub struct Expected {
    /// `F01` … `F41`.
    pub family: String,
    pub line: usize,
    pub application_id: Uuid,
    pub status: Status,
    /// The status clause of policy.md for review and ineligible (`review (1)`).
    pub clause: Option<u8>,
    pub priorities: Vec<Priority>,
    pub preferences: Vec<String>,
    /// Choices the README says are dropped.
    pub dropped: Vec<String>,
    pub seat: Seat,
    pub unit_no: Option<String>,
}

fn shape(line: usize, what: &str, cell: &str) -> ! {
    panic!("sample README line {line}: the {what} cell {cell:?} is not in the shape this test reads")
}

fn is_school(s: &str) -> bool {
    s.len() > 1 && s.starts_with('S') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// `FNN` is application `a0000000-0000-4000-8000-0000000000NN` (README, first
/// paragraph); junior family `JNN` is `b0000000-0000-4000-8000-0000000000NN`.
pub fn application_of(family: &str, line: usize) -> Uuid {
    let (first, n) = match (family.strip_prefix('F'), family.strip_prefix('J')) {
        (Some(n), _) => ('a', n),
        (_, Some(n)) => ('b', n),
        _ => shape(line, "family", family),
    };
    if n.len() != 2 || !n.bytes().all(|b| b.is_ascii_digit()) {
        shape(line, "family", family);
    }
    Uuid::parse_str(&format!("{first}0000000-0000-4000-8000-0000000000{n}"))
        .unwrap_or_else(|_| shape(line, "family", family))
}

fn status(line: usize, cell: &str) -> (Status, Option<u8>) {
    if cell == "eligible" {
        return (Status::Eligible, None);
    }
    let (word, rest) = cell.split_once(' ').unwrap_or_else(|| shape(line, "status", cell));
    let clause = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or_else(|| shape(line, "status", cell));
    match word {
        "review" => (Status::Review, Some(clause)),
        "ineligible" => (Status::Ineligible, Some(clause)),
        _ => shape(line, "status", cell),
    }
}

fn key(line: usize, cell: &str, text: &str) -> Vec<i64> {
    let inner = text
        .strip_prefix("`[")
        .and_then(|t| t.strip_suffix("]`"))
        .unwrap_or_else(|| shape(line, "priorities", cell));
    inner
        .split(',')
        .map(|n| {
            n.trim()
                .parse::<i64>()
                .unwrap_or_else(|_| shape(line, "priorities", cell))
        })
        .collect()
}

/// `S101 tier1 `[1,1,20210310]`; S102 tier1 `[1,1,20210310]``, `none`, or empty.
fn priorities(line: usize, cell: &str) -> Vec<Priority> {
    if cell.is_empty() || cell == "none" {
        return Vec::new();
    }
    cell.split(';')
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words[..] {
                [school, priority, k] if is_school(school) => Priority {
                    school: school.to_owned(),
                    priority: priority.to_owned(),
                    key: key(line, cell, k),
                },
                _ => shape(line, "priorities", cell),
            }
        })
        .collect()
}

/// `S101, S102`, `S103 (S301 dropped)`, `(none; S101 dropped: no tier)`, `(none)`, or empty:
/// the preferences, and the choices the notes in parentheses say are dropped.
fn preferences(line: usize, cell: &str) -> (Vec<String>, Vec<String>) {
    let (list, note) = match cell.split_once('(') {
        Some((list, note)) => {
            let note = note
                .strip_suffix(')')
                .unwrap_or_else(|| shape(line, "preferences", cell));
            (list.trim(), Some(note))
        }
        None => (cell, None),
    };
    let mut dropped = Vec::new();
    let mut none = false;
    for part in note.into_iter().flat_map(|n| n.split(';')).map(str::trim) {
        if part == "none" {
            none = true;
        } else if let Some((school, _why)) = part.split_once(" dropped")
            && is_school(school)
        {
            dropped.push(school.to_owned());
        } else {
            shape(line, "preferences", cell);
        }
    }
    let kept: Vec<String> = if list.is_empty() {
        Vec::new()
    } else {
        list.split(',').map(|s| s.trim().to_owned()).collect()
    };
    if kept.iter().any(|s| !is_school(s)) || (none && !kept.is_empty()) {
        shape(line, "preferences", cell);
    }
    (kept, dropped)
}

/// `S101 choice, rank 1`, `S103 overflow`, `none`.
fn seat(line: usize, cell: &str) -> Seat {
    if cell == "none" {
        return Seat::None;
    }
    if let Some(school) = cell.strip_suffix(" overflow")
        && is_school(school)
    {
        return Seat::Overflow {
            school: school.to_owned(),
        };
    }
    if let Some((school, rank)) = cell.split_once(" choice, rank ")
        && is_school(school)
        && let Ok(rank) = rank.parse::<usize>()
    {
        return Seat::Choice {
            school: school.to_owned(),
            rank,
        };
    }
    shape(line, "seat", cell)
}

/// The "Results" table, one entry per family, in table order.
pub fn results(markdown: &str) -> Vec<Expected> {
    results_after(markdown, "## Results")
}

/// A results-shaped table under another heading (`## Junior results`, the reordered tiers).
pub fn results_after(markdown: &str, heading: &str) -> Vec<Expected> {
    let table = table_after(markdown, heading);
    let [family, status_col, priorities_col, preferences_col, seat_col, unit_col] =
        ["family", "status", "priorities (key)", "preferences", "seat", "unit_no"].map(|name| table.column(name));
    table
        .rows
        .iter()
        .map(|(line, row)| {
            let line = *line;
            let (status, clause) = status(line, &row[status_col]);
            let (preferences, dropped) = preferences(line, &row[preferences_col]);
            let unit_no = &row[unit_col];
            Expected {
                family: row[family].clone(),
                line,
                application_id: application_of(&row[family], line),
                status,
                clause,
                priorities: priorities(line, &row[priorities_col]),
                preferences,
                dropped,
                seat: seat(line, &row[seat_col]),
                unit_no: (!unit_no.is_empty()).then(|| unit_no.clone()),
            }
        })
        .collect()
}

/// The "Lottery numbers" table: family → (child_id, lottery), both as written.
pub fn lottery_numbers(markdown: &str) -> BTreeMap<String, (String, String)> {
    lottery_numbers_after(markdown, "## Lottery numbers")
}

/// A lottery table under another heading (`## Junior lottery numbers`).
pub fn lottery_numbers_after(markdown: &str, heading: &str) -> BTreeMap<String, (String, String)> {
    let table = table_after(markdown, heading);
    let [family, child, lottery] = ["family", "child_id", "lottery"].map(|name| table.column(name));
    let mut out = BTreeMap::new();
    for (line, row) in &table.rows {
        application_of(&row[family], *line);
        let previous = out.insert(row[family].clone(), (row[child].clone(), row[lottery].clone()));
        assert!(
            previous.is_none(),
            "sample README line {line}: {} listed twice",
            row[family]
        );
    }
    out
}
