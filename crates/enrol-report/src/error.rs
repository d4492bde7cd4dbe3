//! What can go wrong reading a round output or writing the report.

use std::path::PathBuf;

/// An error of this crate. Every problem with an input file names the file
/// and the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}: {problem}")]
    Line {
        file: String,
        line: usize,
        problem: LineProblem,
    },
    #[error("the round facts name the tiers {facts:?}, but schools.csv has the tier columns {header:?}")]
    TierMismatch { facts: Vec<String>, header: Vec<String> },
    #[error("cannot build the workbook: {0}")]
    Xlsx(#[source] rust_xlsxwriter::XlsxError),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// What is wrong with one line of an input file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("a quoted field is not closed")]
    UnclosedQuote,
    #[error("a quote inside an unquoted field")]
    StrayQuote,
    #[error("text after the closing quote of a field")]
    TextAfterQuote,
    #[error("the header is {found:?}, expected {expected:?}")]
    Header { expected: String, found: String },
    #[error("the file is empty: it needs at least its header row")]
    NoHeader,
    #[error("{found} fields, expected {expected}")]
    FieldCount { expected: usize, found: usize },
    #[error("{column} {value:?} {why}")]
    Field { column: String, value: String, why: String },
    #[error("not a decision of formats.md: {0}")]
    Decision(String),
    #[error("{what} {id} does not come after the line before: lines are in ascending order, each once")]
    OutOfOrder { what: &'static str, id: String },
    #[error("application {0} has a row in assignments.csv but no decision in decisions.jsonl")]
    NoDecision(String),
    #[error("application {0} has a decision but no row in assignments.csv")]
    NoAssignment(String),
    #[error("{column} is {row:?} here but {decision:?} in decisions.jsonl")]
    DisagreesWithDecision {
        column: &'static str,
        row: String,
        decision: String,
    },
    #[error("an application with status {0} has a seat: only an eligible child is placed")]
    SeatNotEligible(String),
    #[error("school {0} is not in schools.csv")]
    UnknownSchool(String),
    #[error("{column} must be empty when route is {route}")]
    MustBeEmpty { column: &'static str, route: &'static str },
    #[error("{column} of school {school}: schools.csv says {stated}, assignments.csv counts {counted}")]
    CountDisagrees {
        school: String,
        column: String,
        stated: u32,
        counted: u32,
    },
}
