//! The round report (招生结果报告) for officers: `report.html`, one
//! self-contained file (inline SVG charts, no network), and
//! `assignments.xlsx`, both made from the round output of formats.md
//! (`decisions.jsonl`, `assignments.csv`, `schools.csv`, and `cutoffs.csv`
//! when present) plus the round facts
//! those files do not carry (round id, policy version, tier labels, the seed
//! and its commitment, school names).
//!
//! ```no_run
//! # fn main() -> Result<(), enrol_report::ReportError> {
//! use enrol_report::{ReportInput, RoundFacts, render_html, write_xlsx};
//! let facts = RoundFacts {
//!     round_id: "2027-primary".into(),
//!     policy_version: "2027-primary@1".into(),
//!     tiers: vec![],
//!     seed_commitment: "…".into(),
//!     round_seed: "demo-2027-primary".into(),
//!     school_names: Default::default(),
//! };
//! let input = ReportInput::from_output_dir("out", facts)?;
//! std::fs::write("out/report.html", render_html(&input)).expect("write report.html");
//! write_xlsx(&input, "out/assignments.xlsx")?;
//! # Ok(()) }
//! ```

mod csv;
mod cutoffs;
mod error;
mod html;
mod input;
mod read;
mod seed;
mod xlsx;

pub use cutoffs::{CUTOFF_COLUMNS, CutoffRow};
pub use error::{LineProblem, ReportError};
pub use html::{escape, render_html};
pub use input::{
    ASSIGNMENT_COLUMNS, AssignmentRow, DecisionRow, ReportInput, RoundFacts, Route, SchoolRow, Seat, TierLabel,
};
pub use seed::{CommitmentCheck, check_commitment, lottery_digest, sha256_hex};
pub use xlsx::{SHEETS, write_xlsx, xlsx_bytes};
