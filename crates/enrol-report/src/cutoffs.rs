//! The cutoffs (录取线) of the round output's `cutoffs.csv`: each school's
//! last child admitted by choice, or "not full", read back for the report.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use enrol_domain::{SchoolId, SchoolKind};

use crate::csv::records;
use crate::error::{LineProblem, ReportError};
use crate::html::escape;
use crate::input::{ReportInput, SchoolRow};
use crate::read::{field_error, line_error, parse_count as count};

/// The columns of `cutoffs.csv`, in order.
pub const CUTOFF_COLUMNS: [&str; 8] = [
    "school_id",
    "kind",
    "capacity",
    "admitted_by_choice",
    "cutoff",
    "priority",
    "key",
    "lottery",
];

/// One row of `cutoffs.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffRow {
    pub school_id: SchoolId,
    pub kind: SchoolKind,
    pub capacity: u32,
    /// Seats filled by the mechanism at the children's own choice.
    pub admitted_by_choice: u32,
    /// `full`: the mechanism filled every seat; then the last child's standing follows.
    pub full: bool,
    /// The last child's priority (a tier's name or `lottery`).
    pub priority: Option<String>,
    /// The last child's order key, integers separated by spaces.
    pub key: Option<String>,
    /// The last child's lottery number, 16 hex digits.
    pub lottery: Option<String>,
}

/// Reads `cutoffs.csv` and checks it lists exactly the schools of
/// `schools.csv`, in the same order, with the same kind and capacity.
pub(crate) fn parse_cutoffs(text: &str, schools: &[SchoolRow], file: &str) -> Result<Vec<CutoffRow>, ReportError> {
    let mut all = records(text).map_err(|(line, problem)| line_error(file, line, problem))?;
    if all.is_empty() {
        return Err(line_error(file, 1, LineProblem::NoHeader));
    }
    let header = all.remove(0);
    if header.fields != CUTOFF_COLUMNS {
        return Err(line_error(
            file,
            header.line,
            LineProblem::Header {
                expected: CUTOFF_COLUMNS.join(","),
                found: header.fields.join(","),
            },
        ));
    }
    let known: BTreeSet<&SchoolId> = schools.iter().map(|s| &s.school_id).collect();
    let mut out: Vec<CutoffRow> = Vec::with_capacity(all.len());
    for record in all {
        let (line, f) = (record.line, &record.fields);
        if f.len() != CUTOFF_COLUMNS.len() {
            return Err(line_error(
                file,
                line,
                LineProblem::FieldCount {
                    expected: CUTOFF_COLUMNS.len(),
                    found: f.len(),
                },
            ));
        }
        let school_id = SchoolId::new(f[0].as_str());
        if !known.contains(&school_id) {
            return Err(line_error(file, line, LineProblem::UnknownSchool(f[0].clone())));
        }
        if out.last().is_some_and(|prev| prev.school_id >= school_id) {
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
        let full = match f[4].as_str() {
            "full" => true,
            "not full" => false,
            other => {
                return Err(field_error(
                    file,
                    line,
                    "cutoff",
                    other,
                    "is neither `full` nor `not full`",
                ));
            }
        };
        let optional = |i: usize| Some(f[i].clone()).filter(|v| !v.is_empty());
        let row = CutoffRow {
            school_id,
            kind,
            capacity: count(file, line, "capacity", &f[2])?,
            admitted_by_choice: count(file, line, "admitted_by_choice", &f[3])?,
            full,
            priority: optional(5),
            key: optional(6),
            lottery: optional(7),
        };
        if !full && (row.priority.is_some() || row.key.is_some() || row.lottery.is_some()) {
            return Err(line_error(
                file,
                line,
                LineProblem::MustBeEmpty {
                    column: "priority, key and lottery",
                    route: "not full",
                },
            ));
        }
        out.push(row);
    }
    if out.len() != schools.len() {
        let listed: BTreeSet<&SchoolId> = out.iter().map(|c| &c.school_id).collect();
        let missing = schools
            .iter()
            .find(|s| !listed.contains(&s.school_id))
            .map(|s| s.school_id.to_string())
            .unwrap_or_default();
        return Err(line_error(
            file,
            1,
            LineProblem::Field {
                column: "school_id".to_owned(),
                value: missing,
                why: "is in schools.csv but has no cutoff".to_owned(),
            },
        ));
    }
    Ok(out)
}

/// The report's cutoff section: one row per school, when the output has cutoffs.
pub(crate) fn render_cutoffs(out: &mut String, input: &ReportInput) {
    if input.cutoffs().is_empty() {
        return;
    }
    out.push_str("<section id=\"cutoffs\">\n<h2>录取线 <span class=\"en\">Cutoffs</span></h2>\n");
    out.push_str(concat!(
        "<p class=\"meta\">各校按志愿录取的最后一名儿童的排序键与随机号；未满额的学校无录取线。",
        "排在录取线之后的家庭未被该校录取。",
        "The order key and lottery number of the last child each school admitted by choice; ",
        "a school that did not fill by choice has no cutoff. A family ordered after a school's cutoff was not admitted there.</p>\n",
        "<table>\n<thead><tr><th>学校 School</th><th>类型 Kind</th><th class=\"n\">核定学位 Capacity</th>",
        "<th class=\"n\">志愿录取 By choice</th><th>录取线 Cutoff</th><th>类别 Priority</th>",
        "<th>排序键 Key</th><th>随机号 Lottery</th></tr></thead>\n<tbody>\n",
    ));
    for c in input.cutoffs() {
        let mut school = escape(c.school_id.as_str());
        if let Some(name) = input.school_name(&c.school_id) {
            let _ = write!(school, " {}", escape(name));
        }
        let kind = match c.kind {
            SchoolKind::Public => "公办 public",
            SchoolKind::Private => "民办 private",
        };
        let status = if c.full { "已满额 full" } else { "未满额 not full" };
        let priority = c
            .priority
            .as_deref()
            .map(|p| {
                input
                    .tiers()
                    .iter()
                    .find(|t| t.name == p)
                    .and_then(|t| t.label_zh.as_deref())
                    .map_or_else(|| escape(p), |zh| format!("{} {}", escape(p), escape(zh)))
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr data-cutoff=\"{}\"><td>{school}</td><td>{kind}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{status}</td><td>{priority}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(c.school_id.as_str()),
            c.capacity,
            c.admitted_by_choice,
            escape(c.key.as_deref().unwrap_or("")),
            escape(c.lottery.as_deref().unwrap_or("")),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}
