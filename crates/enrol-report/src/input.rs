//! The report's input: a round output of formats.md ("Round output") read
//! back and checked for coherence, plus the round facts the files do not carry.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use enrol_domain::{Decision, LotteryNumber, NationalId, Reason, SchoolId, SchoolKind, Status, UnitNo};
use uuid::Uuid;

use crate::cutoffs::{CutoffRow, parse_cutoffs};
use crate::error::ReportError;
use crate::read;

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

/// What the report keeps of a decision (one line of `decisions.jsonl`).
///
/// A city's decisions do not all fit in memory as read, so the report keeps
/// the reasons only where it shows them: for applications in review and
/// ineligible ones. An eligible child's reasons explain its priorities, which
/// `schools.csv` and `assignments.csv` already count; its priorities at each
/// school are not kept either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    pub application_id: Uuid,
    pub child_id: NationalId,
    pub status: Status,
    pub preferences: Vec<SchoolId>,
    pub lottery: Option<LotteryNumber>,
    /// The decision's reasons when it is in review or ineligible; empty for
    /// an eligible one.
    pub reasons: Vec<Reason>,
}

impl DecisionRow {
    /// What the report keeps of `decision`.
    pub fn of(decision: Decision) -> Self {
        let reasons = if decision.status == Status::Eligible {
            Vec::new()
        } else {
            decision.reasons
        };
        DecisionRow {
            application_id: decision.application_id,
            child_id: decision.child_id,
            status: decision.status,
            preferences: decision.preferences,
            lottery: decision.lottery,
            reasons,
        }
    }
}

/// A round output read back and checked: every decision has exactly one
/// assignment row and agrees with it, every seat is at a listed school, and
/// `schools.csv` counts exactly the seats of `assignments.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    facts: RoundFacts,
    tiers: Vec<TierLabel>,
    decisions: Vec<DecisionRow>,
    assignments: Vec<AssignmentRow>,
    schools: Vec<SchoolRow>,
    /// From `cutoffs.csv`, when the output has one (empty otherwise).
    cutoffs: Vec<CutoffRow>,
}

impl ReportInput {
    /// Reads `decisions.jsonl`, `assignments.csv` and `schools.csv` from
    /// `dir`, and `cutoffs.csv` when it is there. `decisions.jsonl` is read
    /// a line at a time, so a city's round needs memory for what the report
    /// keeps, not for the file.
    pub fn from_output_dir(dir: impl AsRef<Path>, facts: RoundFacts) -> Result<Self, ReportError> {
        let dir = dir.as_ref();
        let path = |name: &str| dir.join(name);
        let read = |name: &str| {
            let path = path(name);
            std::fs::read_to_string(&path).map_err(|source| ReportError::Read { path, source })
        };
        let decisions_path = path("decisions.jsonl");
        let decisions = std::fs::File::open(&decisions_path).map_err(|source| ReportError::Read {
            path: decisions_path.clone(),
            source,
        })?;
        let assignments = read("assignments.csv")?;
        let schools = read("schools.csv")?;
        let files = Files {
            decisions: DecisionsFile {
                reader: BufReader::new(decisions),
                name: decisions_path.display().to_string(),
                path: decisions_path,
            },
            assignments: (&assignments, path("assignments.csv").display().to_string()),
            schools: (&schools, path("schools.csv").display().to_string()),
        };
        let input = read::report_input(files, facts)?;
        let cutoffs = dir.join("cutoffs.csv");
        if !cutoffs.exists() {
            return Ok(input);
        }
        let text = std::fs::read_to_string(&cutoffs).map_err(|source| ReportError::Read {
            path: cutoffs.clone(),
            source,
        })?;
        input.with_cutoffs(&text, &cutoffs.display().to_string())
    }

    /// Adds the cutoffs of `cutoffs.csv` (errors name it by its bare name).
    pub fn with_cutoffs_csv(self, cutoffs_csv: &str) -> Result<Self, ReportError> {
        self.with_cutoffs(cutoffs_csv, "cutoffs.csv")
    }

    fn with_cutoffs(mut self, text: &str, file: &str) -> Result<Self, ReportError> {
        self.cutoffs = parse_cutoffs(text, &self.schools, file)?;
        Ok(self)
    }

    /// Reads the three files' contents from memory (errors name the bare file names).
    pub fn from_strings(
        decisions_jsonl: &str,
        assignments_csv: &str,
        schools_csv: &str,
        facts: RoundFacts,
    ) -> Result<Self, ReportError> {
        let files = Files {
            decisions: DecisionsFile {
                reader: decisions_jsonl.as_bytes(),
                name: "decisions.jsonl".to_owned(),
                path: PathBuf::from("decisions.jsonl"),
            },
            assignments: (assignments_csv, "assignments.csv".to_owned()),
            schools: (schools_csv, "schools.csv".to_owned()),
        };
        read::report_input(files, facts)
    }

    pub(crate) fn new(
        facts: RoundFacts,
        tiers: Vec<TierLabel>,
        decisions: Vec<DecisionRow>,
        assignments: Vec<AssignmentRow>,
        schools: Vec<SchoolRow>,
    ) -> Self {
        ReportInput {
            facts,
            tiers,
            decisions,
            assignments,
            schools,
            cutoffs: Vec::new(),
        }
    }

    pub fn facts(&self) -> &RoundFacts {
        &self.facts
    }

    /// The round's tiers, best first, as the columns of `schools.csv`.
    pub fn tiers(&self) -> &[TierLabel] {
        &self.tiers
    }

    /// Every decision, in ascending `application_id` order.
    pub fn decisions(&self) -> &[DecisionRow] {
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

    /// Each school's cutoff, in ascending `school_id` order; empty when the
    /// output has no `cutoffs.csv`.
    pub fn cutoffs(&self) -> &[CutoffRow] {
        &self.cutoffs
    }

    /// The school's name, if the facts give one.
    pub fn school_name(&self, id: &SchoolId) -> Option<&str> {
        self.facts.school_names.get(id).map(String::as_str)
    }
}

/// `decisions.jsonl` as a reader, with the name errors give it.
pub(crate) struct DecisionsFile<R> {
    pub reader: R,
    pub name: String,
    pub path: PathBuf,
}

/// The three files of a round output, each with the name errors give it.
pub(crate) struct Files<'t, R> {
    pub decisions: DecisionsFile<R>,
    pub assignments: (&'t str, String),
    pub schools: (&'t str, String),
}
