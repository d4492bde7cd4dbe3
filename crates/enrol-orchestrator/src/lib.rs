//! Admission rounds (招生批次): a durable state machine, open → closed →
//! verified → allocated → published, persisted through `enrol-store`.
//!
//! Every transition is one transaction; every officer action is an entry of
//! the append-only audit log; each application's evidence and decision is
//! stored in a transaction of its own, so a crash at any point loses nothing
//! and a restart continues where the round stood.
//!
//! The orchestrator knows the store, the rules and the allocation; it reaches
//! the registries only through an [`EvidenceSource`] (held as
//! `Arc<dyn EvidenceSource>`), and knows no HTTP. One module decides an
//! application (evidence snapshot → evaluation → decision → state) for both
//! verification and review; a [`RoundContext`] carries the round's policy,
//! version and school catalogue, decoded once.

mod access;
mod answers;
mod context;
mod correction;
mod cutoffs;
mod decide;
mod error;
pub mod inquiry;
mod instance;
mod journal;
mod locks;
mod notice;
mod output;
mod pending;
mod precedence;
mod precheck;
mod progress;
mod registry_source;
mod replay;
mod review;
mod round;
mod source;
mod submit;
mod verify;

pub use access::PersonAccess;
pub use context::RoundContext;
pub use cutoffs::{
    CUTOFF_COLUMNS, CutoffLine, NOTICE_CUTOFF_HEADER, cutoff_lines, cutoffs_csv, notice_cutoffs_csv, priority_of_key,
};
pub use decide::NO_PRIORITY;
pub use error::{Corrupt, RoundError, Stored};
pub use instance::{SeedReveal, build_instance};
pub use notice::{NOTICE_HEADER, Notice, NoticeLine, route_zh};
pub use output::{OutputError, OutputSummary, RoundOutput, csv_field};
pub use precedence::{EARLIER_STANDS, PARENTS_READ_DEADLINE, SUPERSEDED_BY_PARENT};
pub use precheck::{Precheck, UnknownFact};
pub use progress::VerificationStatus;
pub use registry_source::RegistryEvidence;
pub use replay::{
    Change, CorrectedDecision, Corrections, RecordCorrections, Replay, RoundReplay, SeatChange, SeatReplay,
};
pub use review::{ReviewQuery, ReviewQueuePage, ReviewResolution};
pub use round::{Orchestrator, RoundInfo, RoundSeed, RoundState};
pub use source::{Access, Evidence, EvidenceSource, FailureRecord, Gathered, ReadError, Recorded};
pub use submit::{ApplicationState, ApplicationView, SubmitOutcome};
pub use verify::{VerifyOptions, VerifyProgress, VerifyReport};
