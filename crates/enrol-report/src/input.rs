//! The report's input: a round output of formats.md ("Round output") read
//! back and checked for coherence, plus the round facts the files do not carry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use enrol_domain::{Decision, LOTTERY_PRIORITY, NationalId, SchoolId, SchoolKind, Status, UnitNo};
use uuid::Uuid;

use crate::csv::{Record, records};
use crate::error::{LineProblem, ReportError};

/// The columns of `assignments.csv`, in order.
pub const ASSIGNMENT_COLUMNS: [&str; 8] = [
    "application_id",
    "child_id",
    "status",
    "school_id",
    "route",
    "choice_rank",
    "priority",
    "unit_no",
];

/// A priority tier (类别 / 顺位) of the round's policy, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierLabel {
    /// The tier's name in decisions and in `schools.csv`, e.g. `tier1`.
    pub name: String,
    /// Chinese label, e.g. 房户一致.
    pub label_zh: Option<String>,
    /// English label, e.g. `hukou at the family home`.
    pub label_en: Option<String>,
}

impl TierLabel {
    /// A tier known by its name only.
    pub fn named(name: impl Into<String>) -> Self {
        TierLabel {
            name: name.into(),
            label_zh: None,
            label_en: None,
        }
    }
}

/// What the report needs to know about the round beyond its output files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundFacts {
    /// 招生批次, e.g. `2027-primary`.
    pub round_id: String,
    /// The version of the policy file the round ran under.
    pub policy_version: String,
    /// The policy's tiers, best first. Empty: take the names from the tier
    /// columns of `schools.csv`, without labels.
    pub tiers: Vec<TierLabel>,
    /// SHA-256 (64 hex digits) published at open: of the sealed seed in a live
    /// round, of the whole seed in a demo or audit round.
    pub seed_commitment: String,
    /// The revealed round seed: `{sealed}-{public}` in a live round, or whole.
    pub round_seed: String,
    /// School names (校名) by school id; a school without one shows its id only.
    pub school_names: BTreeMap<SchoolId, String>,
}

/// How a child got its seat (`route` of `assignments.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// Placed by the mechanism at one of its preferences.
    Choice,
    /// 统筹安排: placed by the overflow step.
    Overflow,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Choice => "choice",
            Route::Overflow => "overflow",
        }
    }
}

/// A seat a child holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub school_id: SchoolId,
    pub route: Route,
    /// The seat's 1-based place in the child's preferences; `None` for overflow.
    pub choice_rank: Option<u32>,
    /// The priority held at the school (a tier's name or `lottery`), `none` for overflow.
    pub priority: String,
    /// The property unit (不动产单元号) whose tier1/tier2 priority won the seat.
    pub unit_no: Option<UnitNo>,
}

/// One row of `assignments.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRow {
    pub application_id: Uuid,
    pub child_id: NationalId,
    pub status: Status,
    /// `None` for route `none`.
    pub seat: Option<Seat>,
}

/// One row of `schools.csv`: seats filled by each priority and by overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolRow {
    pub school_id: SchoolId,
    pub kind: SchoolKind,
    pub capacity: u32,
    pub assigned: u32,
    /// Seats won with each tier, in the order of [`ReportInput::tiers`].
    pub by_tier: Vec<u32>,
    /// Seats won by lottery at a private school (民办派位).
    pub lottery: u32,
    /// Seats given by the overflow step (统筹安排).
    pub overflow: u32,
}

impl SchoolRow {
    /// Seats left free (空余学位).
    pub fn empty_seats(&self) -> u32 {
        self.capacity.saturating_sub(self.assigned)
    }
}

/// A round output read back and checked: every decision has exactly one
/// assignment row and agrees with it, every seat is at a listed school, and
/// `schools.csv` counts exactly the seats of `assignments.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    facts: RoundFacts,
    tiers: Vec<TierLabel>,
    decisions: Vec<Decision>,
    assignments: Vec<AssignmentRow>,
    schools: Vec<SchoolRow>,
}

/// Names the three files in errors: their paths, or their bare names for
/// in-memory input.
struct FileNames {
    decisions: String,
    assignments: String,
    schools: String,
}

impl ReportInput {
    /// Reads `decisions.jsonl`, `assignments.csv` and `schools.csv` from `dir`.
    pub fn from_output_dir(dir: impl AsRef<Path>, facts: RoundFacts) -> Result<Self, ReportError> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| ReportError::Read { path, source })
        };
        let decisions = read("decisions.jsonl")?;
        let assignments = read("assignments.csv")?;
        let schools = read("schools.csv")?;
        let names = FileNames {
            decisions: dir.join("decisions.jsonl").display().to_string(),
            assignments: dir.join("assignments.csv").display().to_string(),
            schools: dir.join("schools.csv").display().to_string(),
        };
        Self::parse(&decisions, &assignments, &schools, facts, &names)
    }

    /// Reads the three files' contents from memory (errors name the bare file names).
    pub fn from_strings(
        decisions_jsonl: &str,
        assignments_csv: &str,
        schools_csv: &str,
        facts: RoundFacts,
    ) -> Result<Self, ReportError> {
        let names = FileNames {
            decisions: "decisions.jsonl".to_owned(),
            assignments: "assignments.csv".to_owned(),
            schools: "schools.csv".to_owned(),
        };
        Self::parse(decisions_jsonl, assignments_csv, schools_csv, facts, &names)
    }

    fn parse(
        decisions_jsonl: &str,
        assignments_csv: &str,
        schools_csv: &str,
        facts: RoundFacts,
        names: &FileNames,
    ) -> Result<Self, ReportError> {
        let (schools, tiers) = parse_schools(schools_csv, &facts, &names.schools)?;
        let decisions = parse_decisions(decisions_jsonl, &names.decisions)?;
        let assignments = parse_assignments(assignments_csv, &tiers, &schools, &decisions, names)?;
        check_school_counts(&schools, &tiers, &assignments, &names.schools)?;
        Ok(ReportInput {
            facts,
            tiers,
            decisions: decisions.into_iter().map(|(_, d)| d).collect(),
            assignments,
            schools: schools.into_iter().map(|(_, s)| s).collect(),
        })
    }

    pub fn facts(&self) -> &RoundFacts {
        &self.facts
    }

    /// The round's tiers, best first, as the columns of `schools.csv`.
    pub fn tiers(&self) -> &[TierLabel] {
        &self.tiers
    }

    /// Every decision, in ascending `application_id` order.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Every assignment row, in ascending `application_id` order (one per decision).
    pub fn assignments(&self) -> &[AssignmentRow] {
        &self.assignments
    }

    /// Every school of the round's stage, in ascending `school_id` order.
    pub fn schools(&self) -> &[SchoolRow] {
        &self.schools
    }

    /// The school's name, if the facts give one.
    pub fn school_name(&self, id: &SchoolId) -> Option<&str> {
        self.facts.school_names.get(id).map(String::as_str)
    }
}

fn line_error(file: &str, line: usize, problem: LineProblem) -> ReportError {
    ReportError::Line {
        file: file.to_owned(),
        line,
        problem,
    }
}

fn field_error(file: &str, line: usize, column: &str, value: &str, why: &str) -> ReportError {
    line_error(
        file,
        line,
        LineProblem::Field {
            column: column.to_owned(),
            value: value.to_owned(),
            why: why.to_owned(),
        },
    )
}

/// Reads a CSV file whose header must be exactly `expected`; returns the data records.
fn read_csv(text: &str, expected: &[&str], file: &str) -> Result<Vec<Record>, ReportError> {
    let mut all = records(text).map_err(|(line, problem)| line_error(file, line, problem))?;
    if all.is_empty() {
        return Err(line_error(file, 1, LineProblem::NoHeader));
    }
    let header = all.remove(0);
    if header.fields != expected {
        return Err(line_error(
            file,
            header.line,
            LineProblem::Header {
                expected: expected.join(","),
                found: header.fields.join(","),
            },
        ));
    }
    for record in &all {
        if record.fields.len() != expected.len() {
            return Err(line_error(
                file,
                record.line,
                LineProblem::FieldCount {
                    expected: expected.len(),
                    found: record.fields.len(),
                },
            ));
        }
    }
    Ok(all)
}

fn parse_count(file: &str, line: usize, column: &str, value: &str) -> Result<u32, ReportError> {
    // Plain decimal digits only: `+3` or ` 3` is not what the engine writes.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(field_error(file, line, column, value, "is not a whole number"));
    }
    value
        .parse()
        .map_err(|_| field_error(file, line, column, value, "is too large"))
}

/// Rows with the 1-based line each starts on, for errors found later.
type Lined<T> = Vec<(usize, T)>;

/// The school rows with their lines, and the tiers of the header.
fn parse_schools(
    text: &str,
    facts: &RoundFacts,
    file: &str,
) -> Result<(Lined<SchoolRow>, Vec<TierLabel>), ReportError> {
    let all = records(text).map_err(|(line, problem)| line_error(file, line, problem))?;
    let Some(header) = all.first() else {
        return Err(line_error(file, 1, LineProblem::NoHeader));
    };
    // The header is `school_id,kind,capacity,assigned,<tiers>,lottery,overflow`.
    let fixed_ok = header.fields.len() >= 6
        && header.fields[..4] == ["school_id", "kind", "capacity", "assigned"]
        && header.fields[header.fields.len() - 2..] == ["lottery", "overflow"];
    if !fixed_ok {
        return Err(line_error(
            file,
            header.line,
            LineProblem::Header {
                expected: "school_id,kind,capacity,assigned,<one column per tier>,lottery,overflow".to_owned(),
                found: header.fields.join(","),
            },
        ));
    }
    let header_tiers: Vec<String> = header.fields[4..header.fields.len() - 2].to_vec();
    let tiers = if facts.tiers.is_empty() {
        header_tiers.iter().map(TierLabel::named).collect()
    } else {
        let named: Vec<String> = facts.tiers.iter().map(|t| t.name.clone()).collect();
        if named != header_tiers {
            return Err(ReportError::TierMismatch {
                facts: named,
                header: header_tiers,
            });
        }
        facts.tiers.clone()
    };
    let columns: Vec<&str> = header.fields.iter().map(String::as_str).collect();
    let rows = read_csv(text, &columns, file)?;
    let mut schools: Vec<(usize, SchoolRow)> = Vec::with_capacity(rows.len());
    for record in rows {
        let (line, f) = (record.line, &record.fields);
        let school_id = SchoolId::new(f[0].as_str());
        if school_id.as_str().is_empty() {
            return Err(field_error(file, line, "school_id", "", "is empty"));
        }
        if schools.last().is_some_and(|(_, prev)| prev.school_id >= school_id) {
            return Err(line_error(
                file,
                line,
                LineProblem::OutOfOrder {
                    what: "school",
                    id: f[0].clone(),
                },
            ));
        }
        let kind = match f[1].as_str() {
            "public" => SchoolKind::Public,
            "private" => SchoolKind::Private,
            other => return Err(field_error(file, line, "kind", other, "is neither public nor private")),
        };
        let count = |i: usize| parse_count(file, line, columns[i], &f[i]);
        let n = columns.len();
        let row = SchoolRow {
            school_id,
            kind,
            capacity: count(2)?,
            assigned: count(3)?,
            by_tier: (4..n - 2).map(count).collect::<Result<_, _>>()?,
            lottery: count(n - 2)?,
            overflow: count(n - 1)?,
        };
        schools.push((line, row));
    }
    Ok((schools, tiers))
}

fn parse_decisions(text: &str, file: &str) -> Result<Vec<(usize, Decision)>, ReportError> {
    let mut out: Vec<(usize, Decision)> = Vec::new();
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return Ok(out);
    }
    for (i, raw) in body.split('\n').enumerate() {
        let line = i + 1;
        let decision: Decision =
            serde_json::from_str(raw).map_err(|e| line_error(file, line, LineProblem::Decision(e.to_string())))?;
        if out
            .last()
            .is_some_and(|(_, prev)| prev.application_id >= decision.application_id)
        {
            return Err(line_error(
                file,
                line,
                LineProblem::OutOfOrder {
                    what: "application",
                    id: decision.application_id.to_string(),
                },
            ));
        }
        out.push((line, decision));
    }
    Ok(out)
}

fn parse_assignments(
    text: &str,
    tiers: &[TierLabel],
    schools: &[(usize, SchoolRow)],
    decisions: &[(usize, Decision)],
    names: &FileNames,
) -> Result<Vec<AssignmentRow>, ReportError> {
    let file = names.assignments.as_str();
    let rows = read_csv(text, &ASSIGNMENT_COLUMNS, file)?;
    let school_ids: BTreeSet<&SchoolId> = schools.iter().map(|(_, s)| &s.school_id).collect();
    let by_id: BTreeMap<Uuid, &Decision> = decisions.iter().map(|(_, d)| (d.application_id, d)).collect();
    let mut out: Vec<AssignmentRow> = Vec::with_capacity(rows.len());
    for record in rows {
        let (line, f) = (record.line, &record.fields);
        let application_id =
            Uuid::parse_str(&f[0]).map_err(|_| field_error(file, line, "application_id", &f[0], "is not a UUID"))?;
        if out.last().is_some_and(|prev| prev.application_id >= application_id) {
            return Err(line_error(
                file,
                line,
                LineProblem::OutOfOrder {
                    what: "application",
                    id: f[0].clone(),
                },
            ));
        }
        let Some(decision) = by_id.get(&application_id) else {
            return Err(line_error(file, line, LineProblem::NoDecision(f[0].clone())));
        };
        let child_id =
            NationalId::parse(&f[1]).map_err(|e| field_error(file, line, "child_id", &f[1], &e.to_string()))?;
        if child_id != decision.child_id {
            return Err(line_error(
                file,
                line,
                LineProblem::DisagreesWithDecision {
                    column: "child_id",
                    row: f[1].clone(),
                    decision: decision.child_id.to_string(),
                },
            ));
        }
        let status = match f[2].as_str() {
            "eligible" => Status::Eligible,
            "review" => Status::Review,
            "ineligible" => Status::Ineligible,
            other => {
                return Err(field_error(
                    file,
                    line,
                    "status",
                    other,
                    "is not eligible, review or ineligible",
                ));
            }
        };
        if status != decision.status {
            return Err(line_error(
                file,
                line,
                LineProblem::DisagreesWithDecision {
                    column: "status",
                    row: f[2].clone(),
                    decision: decision.status.to_string(),
                },
            ));
        }
        let seat = parse_seat(f, line, tiers, &school_ids, file)?;
        if seat.is_some() && status != Status::Eligible {
            return Err(line_error(file, line, LineProblem::SeatNotEligible(f[2].clone())));
        }
        out.push(AssignmentRow {
            application_id,
            child_id,
            status,
            seat,
        });
    }
    // Both files list every application: find a decision without a row.
    let listed: BTreeSet<Uuid> = out.iter().map(|a| a.application_id).collect();
    if let Some((line, d)) = decisions.iter().find(|(_, d)| !listed.contains(&d.application_id)) {
        return Err(line_error(
            &names.decisions,
            *line,
            LineProblem::NoAssignment(d.application_id.to_string()),
        ));
    }
    Ok(out)
}

/// The seat columns of one `assignments.csv` row (`school_id` to `unit_no`).
fn parse_seat(
    f: &[String],
    line: usize,
    tiers: &[TierLabel],
    school_ids: &BTreeSet<&SchoolId>,
    file: &str,
) -> Result<Option<Seat>, ReportError> {
    let (school, route, rank, priority, unit) = (&f[3], &f[4], &f[5], &f[6], &f[7]);
    let must_be_empty = |column: &'static str, value: &str, route: &'static str| {
        if value.is_empty() {
            Ok(())
        } else {
            Err(line_error(file, line, LineProblem::MustBeEmpty { column, route }))
        }
    };
    let route = match route.as_str() {
        "none" => {
            must_be_empty("school_id", school, "none")?;
            must_be_empty("choice_rank", rank, "none")?;
            must_be_empty("priority", priority, "none")?;
            must_be_empty("unit_no", unit, "none")?;
            return Ok(None);
        }
        "choice" => Route::Choice,
        "overflow" => Route::Overflow,
        other => {
            return Err(field_error(
                file,
                line,
                "route",
                other,
                "is not choice, overflow or none",
            ));
        }
    };
    let school_id = SchoolId::new(school.as_str());
    if school.is_empty() {
        return Err(field_error(
            file,
            line,
            "school_id",
            school,
            "is empty, but the route gives a seat",
        ));
    }
    if !school_ids.contains(&school_id) {
        return Err(line_error(file, line, LineProblem::UnknownSchool(school.clone())));
    }
    let choice_rank = match route {
        Route::Choice => {
            let n = parse_count(file, line, "choice_rank", rank)?;
            if n == 0 {
                return Err(field_error(file, line, "choice_rank", rank, "is not 1 or more"));
            }
            Some(n)
        }
        Route::Overflow => {
            must_be_empty("choice_rank", rank, "overflow")?;
            must_be_empty("unit_no", unit, "overflow")?;
            if priority != "none" {
                return Err(field_error(
                    file,
                    line,
                    "priority",
                    priority,
                    "is not none, as an overflow seat's is",
                ));
            }
            None
        }
    };
    if route == Route::Choice && priority != LOTTERY_PRIORITY && !tiers.iter().any(|t| &t.name == priority) {
        return Err(field_error(
            file,
            line,
            "priority",
            priority,
            "is neither a tier of the policy nor lottery",
        ));
    }
    Ok(Some(Seat {
        school_id,
        route,
        choice_rank,
        priority: priority.clone(),
        unit_no: (!unit.is_empty()).then(|| UnitNo::new(unit.as_str())),
    }))
}

/// `schools.csv` must count exactly the seats of `assignments.csv`.
fn check_school_counts(
    schools: &[(usize, SchoolRow)],
    tiers: &[TierLabel],
    assignments: &[AssignmentRow],
    file: &str,
) -> Result<(), ReportError> {
    for (line, school) in schools {
        let line = *line;
        let seats: Vec<&Seat> = assignments
            .iter()
            .filter_map(|a| a.seat.as_ref())
            .filter(|s| s.school_id == school.school_id)
            .collect();
        let count = |route: Route, priority: &str| {
            seats
                .iter()
                .filter(|s| s.route == route && (route == Route::Overflow || s.priority == priority))
                .count()
        };
        let mut checks: Vec<(String, u32, usize)> = vec![("assigned".to_owned(), school.assigned, seats.len())];
        for (tier, stated) in tiers.iter().zip(&school.by_tier) {
            checks.push((tier.name.clone(), *stated, count(Route::Choice, &tier.name)));
        }
        checks.push((
            "lottery".to_owned(),
            school.lottery,
            count(Route::Choice, LOTTERY_PRIORITY),
        ));
        checks.push(("overflow".to_owned(), school.overflow, count(Route::Overflow, "")));
        for (column, stated, counted) in checks {
            if usize::try_from(stated).ok() != Some(counted) {
                return Err(line_error(
                    file,
                    line,
                    LineProblem::CountDisagrees {
                        school: school.school_id.to_string(),
                        column,
                        stated,
                        counted: u32::try_from(counted).unwrap_or(u32::MAX),
                    },
                ));
            }
        }
    }
    Ok(())
}
