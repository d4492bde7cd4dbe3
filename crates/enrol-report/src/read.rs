//! Reading a round output's three files into a [`ReportInput`], checking
//! that they agree. Every error names its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use enrol_domain::{Decision, LOTTERY_PRIORITY, NationalId, SchoolId, SchoolKind, Status, UnitNo};
use uuid::Uuid;

use crate::csv::{Record, records};
use crate::error::{LineProblem, ReportError};
use crate::input::{
    ASSIGNMENT_COLUMNS, AssignmentRow, DecisionRow, DecisionsFile, Files, ReportInput, RoundFacts, Route, SchoolRow,
    Seat, TierLabel,
};

pub(crate) fn report_input<R: BufRead>(files: Files<'_, R>, facts: RoundFacts) -> Result<ReportInput, ReportError> {
    let (schools_csv, schools_file) = files.schools;
    let (assignments_csv, assignments_file) = files.assignments;
    let decisions_file = files.decisions.name.clone();
    let (schools, tiers) = parse_schools(schools_csv, &facts, &schools_file)?;
    let decisions = parse_decisions(files.decisions)?;
    let names = AssignmentFiles {
        assignments: &assignments_file,
        decisions: &decisions_file,
    };
    let assignments = parse_assignments(assignments_csv, &tiers, &schools, &decisions, &names)?;
    check_school_counts(&schools, &tiers, &assignments, &schools_file)?;
    Ok(ReportInput::new(
        facts,
        tiers,
        decisions.into_iter().map(|(_, d)| d).collect(),
        assignments,
        schools.into_iter().map(|(_, s)| s).collect(),
    ))
}

/// The names errors give `assignments.csv` and `decisions.jsonl`.
struct AssignmentFiles<'n> {
    assignments: &'n str,
    decisions: &'n str,
}

pub(crate) fn line_error(file: &str, line: usize, problem: LineProblem) -> ReportError {
    ReportError::Line {
        file: file.to_owned(),
        line,
        problem,
    }
}

pub(crate) fn field_error(file: &str, line: usize, column: &str, value: &str, why: &str) -> ReportError {
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

pub(crate) fn parse_count(file: &str, line: usize, column: &str, value: &str) -> Result<u32, ReportError> {
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

/// Reads `decisions.jsonl` a line at a time, keeping what the report shows.
fn parse_decisions<R: BufRead>(file: DecisionsFile<R>) -> Result<Vec<(usize, DecisionRow)>, ReportError> {
    let DecisionsFile { mut reader, name, path } = file;
    let mut out: Vec<(usize, DecisionRow)> = Vec::new();
    let mut raw = String::new();
    let mut line = 0;
    loop {
        raw.clear();
        let read = reader.read_line(&mut raw).map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
        if read == 0 {
            break;
        }
        line += 1;
        let text = raw.strip_suffix('\n').unwrap_or(&raw);
        let decision: Decision =
            serde_json::from_str(text).map_err(|e| line_error(&name, line, LineProblem::Decision(e.to_string())))?;
        if out
            .last()
            .is_some_and(|(_, prev)| prev.application_id >= decision.application_id)
        {
            return Err(line_error(
                &name,
                line,
                LineProblem::OutOfOrder {
                    what: "application",
                    id: decision.application_id.to_string(),
                },
            ));
        }
        out.push((line, DecisionRow::of(decision)));
    }
    Ok(out)
}

fn parse_assignments(
    text: &str,
    tiers: &[TierLabel],
    schools: &[(usize, SchoolRow)],
    decisions: &[(usize, DecisionRow)],
    names: &AssignmentFiles<'_>,
) -> Result<Vec<AssignmentRow>, ReportError> {
    let file = names.assignments;
    let rows = read_csv(text, &ASSIGNMENT_COLUMNS, file)?;
    let school_ids: BTreeSet<&SchoolId> = schools.iter().map(|(_, s)| &s.school_id).collect();
    let by_id: BTreeMap<Uuid, &DecisionRow> = decisions.iter().map(|(_, d)| (d.application_id, d)).collect();
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
            names.decisions,
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
    // Seats by school in one pass over the assignments: [assigned, each tier…, lottery, overflow].
    let width = tiers.len() + 3;
    let mut counted: BTreeMap<&SchoolId, Vec<u64>> = BTreeMap::new();
    for seat in assignments.iter().filter_map(|a| a.seat.as_ref()) {
        let row = counted.entry(&seat.school_id).or_insert_with(|| vec![0; width]);
        row[0] += 1;
        let column = match seat.route {
            Route::Overflow => Some(width - 1),
            Route::Choice if seat.priority == LOTTERY_PRIORITY => Some(width - 2),
            Route::Choice => tiers.iter().position(|t| t.name == seat.priority).map(|i| i + 1),
        };
        if let Some(column) = column {
            row[column] += 1;
        }
    }
    let none = vec![0; width];
    for (line, school) in schools {
        let counts = counted.get(&school.school_id).unwrap_or(&none);
        let mut stated: Vec<(String, u32)> = vec![("assigned".to_owned(), school.assigned)];
        stated.extend(tiers.iter().zip(&school.by_tier).map(|(t, n)| (t.name.clone(), *n)));
        stated.push(("lottery".to_owned(), school.lottery));
        stated.push(("overflow".to_owned(), school.overflow));
        for ((column, stated), counted) in stated.into_iter().zip(counts) {
            if u64::from(stated) != *counted {
                return Err(line_error(
                    file,
                    *line,
                    LineProblem::CountDisagrees {
                        school: school.school_id.to_string(),
                        column,
                        stated,
                        counted: u32::try_from(*counted).unwrap_or(u32::MAX),
                    },
                ));
            }
        }
    }
    Ok(())
}
