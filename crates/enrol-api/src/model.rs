//! The bodies the API sends and receives, as the OpenAPI document describes
//! them. Engine types are converted here so that the wire format and its
//! schema come from one definition; the application and decision keep the
//! exact JSON of formats.md (tests compare them with the domain's own).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use enrol_domain::OfficerFacts;
use enrol_orchestrator::inquiry::{AuditRecord, SchoolReport as EngineSchoolReport, Seat as EngineSeat};
use enrol_orchestrator::{
    ApplicationState, ApplicationView, RoundInfo, RoundState, VerificationStatus, VerifyProgress, VerifyReport,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Lifecycle of an application (formats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    Submitted,
    Pending,
    Decided,
    Placed,
    Unplaced,
    Withdrawn,
    Excluded,
    Accepted,
    Rejected,
}

impl From<ApplicationState> for LifecycleState {
    fn from(s: ApplicationState) -> Self {
        match s {
            ApplicationState::Submitted => LifecycleState::Submitted,
            ApplicationState::Pending => LifecycleState::Pending,
            ApplicationState::Decided => LifecycleState::Decided,
            ApplicationState::Placed => LifecycleState::Placed,
            ApplicationState::Unplaced => LifecycleState::Unplaced,
            ApplicationState::Withdrawn => LifecycleState::Withdrawn,
            ApplicationState::Excluded => LifecycleState::Excluded,
            ApplicationState::Accepted => LifecycleState::Accepted,
            ApplicationState::Rejected => LifecycleState::Rejected,
        }
    }
}

/// A decision's status (policy.md, "Status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    Eligible,
    Review,
    Ineligible,
}

impl From<enrol_domain::Status> for DecisionStatus {
    fn from(s: enrol_domain::Status) -> Self {
        match s {
            enrol_domain::Status::Eligible => DecisionStatus::Eligible,
            enrol_domain::Status::Review => DecisionStatus::Review,
            enrol_domain::Status::Ineligible => DecisionStatus::Ineligible,
        }
    }
}

/// Where an application stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationStatus {
    pub application_id: String,
    pub round: String,
    pub child_id: String,
    pub state: LifecycleState,
    /// The decision's status, once decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DecisionStatus>,
    /// The officer's reason, for an `excluded` or `rejected` application; for one
    /// `withdrawn` because another application for the child stands (parents
    /// first), why, naming no one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ApplicationStatus {
    pub fn new(view: ApplicationView, reason: Option<String>) -> Self {
        ApplicationStatus {
            application_id: view.application_id,
            round: view.round,
            child_id: view.child_id,
            state: view.state.into(),
            status: view.status.map(Into::into),
            reason,
            updated_at: view.updated_at,
        }
    }
}

/// A child's standing at one school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SchoolPriority {
    pub school_id: String,
    /// A tier's name from the policy file (`tier1`..), or `lottery`.
    pub priority: String,
    /// A verified sibling is at the school in a grade that counts.
    pub sibling: bool,
    /// The order key `[tier, sibling, value]`, compared left to right, lower first.
    pub key: Vec<i64>,
}

/// A reason in Chinese and English, citing the records it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reason {
    /// Stable snake_case code.
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Records as `registry:record`, e.g. `hukou:370811202011150023`.
    pub evidence: Vec<String>,
}

/// The decision of formats.md (one line of `decisions.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Decision {
    pub application_id: Uuid,
    pub child_id: String,
    pub status: DecisionStatus,
    /// In preference order; empty unless eligible.
    pub schools: Vec<SchoolPriority>,
    pub preferences: Vec<String>,
    /// 16 lower-case hex digits; shown once the round is allocated, for an eligible child.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub lottery: Option<String>,
    pub reasons: Vec<Reason>,
    /// Not part of formats.md's decision (nor of `decisions.jsonl`): for each
    /// public school of the preferences where the child holds less than the
    /// policy's best tier (and each public school it chose where it holds
    /// none), the first clause of each better tier that the evidence fails.
    /// Absent when there is none, so a decision without one is exactly
    /// formats.md's JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why_not_better_tier: Vec<TierShortfall>,
}

/// Why the child does not hold one better tier at one school: the tier's
/// first failing clause, with the records the finding rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TierShortfall {
    pub school_id: String,
    /// The priority held at the school, or `null` for a dropped choice.
    pub held: Option<String>,
    /// The better tier's name from the policy file.
    pub tier: String,
    /// The first failing clause: a fact of the policy's vocabulary, `dwelling` or `zoned`.
    pub clause: String,
    pub zh: String,
    pub en: String,
    /// Records as `registry:record`.
    pub evidence: Vec<String>,
}

impl From<enrol_domain::TierShortfall> for TierShortfall {
    fn from(x: enrol_domain::TierShortfall) -> Self {
        TierShortfall {
            school_id: x.school_id.to_string(),
            held: x.held,
            tier: x.tier,
            clause: x.clause,
            zh: x.zh,
            en: x.en,
            evidence: x.evidence,
        }
    }
}

impl From<enrol_domain::Decision> for Decision {
    fn from(d: enrol_domain::Decision) -> Self {
        Decision {
            application_id: d.application_id,
            child_id: d.child_id.to_string(),
            status: d.status.into(),
            schools: d
                .schools
                .into_iter()
                .map(|s| SchoolPriority {
                    school_id: s.school_id.to_string(),
                    priority: s.priority,
                    sibling: s.sibling,
                    key: s.key,
                })
                .collect(),
            preferences: d.preferences.iter().map(ToString::to_string).collect(),
            lottery: d.lottery.map(|l| l.to_string()),
            reasons: d
                .reasons
                .into_iter()
                .map(|r| Reason {
                    code: r.code,
                    zh: r.zh,
                    en: r.en,
                    evidence: r.evidence,
                })
                .collect(),
            why_not_better_tier: Vec::new(),
        }
    }
}

/// How a seat was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Placed by the mechanism at one of the preferences.
    Choice,
    /// Placed by the overflow step (统筹安排).
    Overflow,
    /// No seat.
    None,
}

impl Route {
    fn parse(route: &str) -> Route {
        match route {
            "choice" => Route::Choice,
            "overflow" => Route::Overflow,
            _ => Route::None,
        }
    }
}

/// A family's result once the round is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationResult {
    pub application_id: String,
    pub round: String,
    pub child_id: String,
    /// `placed`, `unplaced`, or the state that kept the application out of the allocation.
    pub state: LifecycleState,
    /// The school, or `null` without a seat.
    pub school_id: Option<String>,
    pub route: Route,
    /// 1-based place of the seat among the decision's `preferences` (route `choice`).
    pub choice_rank: Option<u32>,
    /// The priority held at the school (route `choice`); `none` for an overflow seat.
    pub priority: Option<String>,
    /// "Why not my first choice": every school the family ranked above its
    /// seat (all of them without a seat by choice), its own key and lottery
    /// number there beside the school's cutoff. Empty for an application
    /// that took no part in the allocation.
    pub schools_above_seat: Vec<AboveSeat>,
}

/// Where an applicant stands at a school: the order key and the lottery number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Standing {
    /// The order key `[tier, sibling, value]` (`[0, sibling]` at a private school).
    pub key: Vec<i64>,
    /// 16 lower-case hex digits.
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub lottery: String,
}

impl From<enrol_allocation::Standing> for Standing {
    fn from(s: enrol_allocation::Standing) -> Self {
        Standing {
            key: s.key,
            lottery: s.lottery,
        }
    }
}

/// A school's cutoff (录取线) after allocation: the last child admitted by
/// choice, once every seat is filled by choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Cutoff {
    pub school_id: String,
    pub capacity: u32,
    /// Seats filled at the children's own choice (overflow seats do not count).
    pub admitted_by_choice: u32,
    /// Whether choice filled every seat. A school that is not full took
    /// everyone who listed it and did not get a school they ranked higher.
    pub full: bool,
    /// Key and lottery number of the last child admitted by choice, when full.
    pub last: Option<Standing>,
}

impl From<enrol_allocation::Cutoff> for Cutoff {
    fn from(c: enrol_allocation::Cutoff) -> Self {
        Cutoff {
            school_id: c.school,
            capacity: c.capacity,
            admitted_by_choice: c.admitted_by_choice,
            full: c.full,
            last: c.last.map(Into::into),
        }
    }
}

/// A school ranked above the family's seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AboveSeat {
    pub school_id: String,
    /// 1-based rank among the decision's `preferences`.
    pub choice_rank: u32,
    /// The family's own key and lottery number there.
    pub own: Standing,
    pub cutoff: Cutoff,
}

impl From<enrol_allocation::AboveSeat> for AboveSeat {
    fn from(a: enrol_allocation::AboveSeat) -> Self {
        AboveSeat {
            school_id: a.school,
            choice_rank: a.rank,
            own: a.own.into(),
            cutoff: a.cutoff.into(),
        }
    }
}

/// A seat as officers see it (a row of `assignments.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Seat {
    pub school_id: Option<String>,
    pub route: Route,
    pub choice_rank: Option<u32>,
    pub priority: Option<String>,
    /// The unit whose `tier1`/`tier2` priority won the seat.
    pub unit_no: Option<String>,
}

impl From<EngineSeat> for Seat {
    fn from(s: EngineSeat) -> Self {
        Seat {
            route: Route::parse(&s.route),
            school_id: s.school_id,
            choice_rank: s.choice_rank,
            priority: s.priority,
            unit_no: s.unit_no,
        }
    }
}

/// States of a round, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundPhase {
    Open,
    Closed,
    Verified,
    Allocated,
    Published,
}

impl From<RoundState> for RoundPhase {
    fn from(s: RoundState) -> Self {
        match s {
            RoundState::Open => RoundPhase::Open,
            RoundState::Closed => RoundPhase::Closed,
            RoundState::Verified => RoundPhase::Verified,
            RoundState::Allocated => RoundPhase::Allocated,
            RoundState::Published => RoundPhase::Published,
        }
    }
}

/// An admission round (招生批次).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Round {
    pub id: String,
    pub state: RoundPhase,
    /// SHA-256 of the policy file: the version decisions cite.
    pub policy_version: String,
    /// SHA-256 (hex) of the sealed seed, published at open.
    pub seed_commitment: String,
    /// `{sealed}-{public}` (or the whole seed), revealed once allocated.
    pub round_seed: Option<String>,
    /// The value drawn in public (公证摇号), once entered.
    pub public_draw: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<RoundInfo> for Round {
    fn from(r: RoundInfo) -> Self {
        Round {
            id: r.id,
            state: r.state.into(),
            policy_version: r.policy_version,
            seed_commitment: r.seed_commitment,
            round_seed: r.round_seed,
            public_draw: r.public_draw,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Live applications of a round by decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub eligible: usize,
    pub review: usize,
    pub ineligible: usize,
    /// Not decided yet: submitted, or waiting for a registry.
    pub pending: usize,
}

impl From<VerifyReport> for Counts {
    fn from(r: VerifyReport) -> Self {
        Counts {
            eligible: r.eligible,
            review: r.review,
            ineligible: r.ineligible,
            pending: r.pending,
        }
    }
}

/// A round with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoundDetail {
    #[serde(flatten)]
    pub round: Round,
    pub counts: Counts,
}

/// Opens a round. Give `seed_commitment` for a live round, or `round_seed`
/// for a demo or audit round that takes its seed whole; not both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRound {
    /// The policy file (TOML), verbatim; its `round` is the round's id.
    pub policy_toml: String,
    /// SHA-256 (64 hex digits) of the sealed secret the round manager keeps until allocation.
    #[serde(default)]
    pub seed_commitment: Option<String>,
    /// The whole round seed of a demo or audit round.
    #[serde(default)]
    pub round_seed: Option<String>,
}

/// Starts (or resumes) verification.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartVerification {
    /// Move to `verified` even with reviews unresolved, leaving them unplaced.
    #[serde(default)]
    pub leave_reviews_unplaced: bool,
}

/// Progress of one pass over the undecided applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// Applications of this pass still waiting for a registry.
    pub pending: usize,
    /// Which pass over the pending applications this is (1-based).
    pub pass: usize,
}

impl From<VerifyProgress> for Progress {
    fn from(p: VerifyProgress) -> Self {
        Progress {
            done: p.done,
            total: p.total,
            pending: p.pending,
            pass: p.pass,
        }
    }
}

/// Where a verification run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Finished,
    Failed,
}

/// The latest verification run this server started for the round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerificationRun {
    pub state: JobState,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// After every application decided or left pending.
    pub progress: Option<Progress>,
    /// Whether the run moved the round to `verified`.
    pub verified: Option<bool>,
    /// Why the run failed.
    pub error: Option<String>,
}

/// How far the round's verification has come, from the database: the same
/// on every server, whichever of them verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerificationProgress {
    /// Applications verification decides: `decided` + `undecided`
    /// (withdrawn, excluded and rejected ones are not counted).
    pub total: usize,
    /// With a current decision: eligible, in review or ineligible.
    pub decided: usize,
    /// Not decided yet (`counts.pending`): never gathered, or waiting for a registry.
    pub undecided: usize,
    /// Of `undecided`, those a pass gathered whose registry did not answer.
    pub waiting: usize,
}

/// Verification claims held right now, by any server: an undecided
/// application under a live lease is being gathered by some worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerificationClaims {
    /// Undecided applications held under a live lease.
    pub applications: usize,
    /// Distinct workers holding them (a verification run each, on any server).
    pub workers: usize,
    /// The latest of those leases; `null` when none is held. The claims of
    /// a server killed mid-run count here until their leases expire.
    pub lease_until: Option<DateTime<Utc>>,
}

impl From<&VerificationStatus> for VerificationProgress {
    fn from(s: &VerificationStatus) -> Self {
        VerificationProgress {
            total: s.total(),
            decided: s.decided(),
            undecided: s.undecided(),
            waiting: s.waiting,
        }
    }
}

impl From<&VerificationStatus> for VerificationClaims {
    fn from(s: &VerificationStatus) -> Self {
        VerificationClaims {
            applications: s.claimed,
            workers: s.workers,
            lease_until: s.lease_until,
        }
    }
}

/// A round's verification: its state, counts and progress as stored (the
/// same answer from every server), whether any server is verifying it, and
/// this server's latest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Verification {
    pub round: String,
    pub state: RoundPhase,
    pub counts: Counts,
    pub progress: VerificationProgress,
    /// Some server is verifying the round: claims are held (`claims`), or
    /// this server's own run is going (between passes a run holds no claims,
    /// so another server may show `false` for up to `[verify] retry_delay_ms`).
    pub running: bool,
    pub claims: VerificationClaims,
    /// This server's latest run of the round; `null` when this server has
    /// not run a verification of the round since it started (another may have).
    pub run: Option<VerificationRun>,
}

/// Reveals the seed at allocation. A live round needs both fields; a round
/// that took its seed whole needs neither.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocateRound {
    /// The secret committed at open (at least 32 hex digits).
    #[serde(default)]
    pub sealed_seed: Option<String>,
    /// The value drawn in public after close (公证摇号).
    #[serde(default)]
    pub public_draw: Option<String>,
}

/// A page of a round's applications, ascending id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationPage {
    pub applications: Vec<ApplicationStatus>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<String>,
}

/// An application as officers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfficerApplication {
    #[schema(value_type = crate::schema::ApplicationSchema)]
    pub application: enrol_domain::Application,
    pub status: ApplicationStatus,
    pub decision: Option<Decision>,
    pub seat: Option<Seat>,
}

/// An application waiting for an officer (人工审核), with the decision's reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewItem {
    pub application: ApplicationStatus,
    pub decision: Decision,
}

/// `accept` decides again with what the officer established (needs `note`);
/// `reject` leaves the application unplaced (needs `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Accept,
    Reject,
}

/// An officer's resolution of a review.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveReview {
    pub resolution: Resolution,
    /// For `accept`: the facts established.
    #[serde(default)]
    pub facts: Option<OfficerFacts>,
    /// For `accept`: the officer's note, kept in the audit log.
    #[serde(default)]
    pub note: Option<String>,
    /// For `reject`: the reason, told to the family.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Excludes an application from its round, with a reason told to the family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub application_id: Uuid,
    pub reason: String,
}

/// Corrects a seat after publication (更正): a new, audited event. `school_id`
/// `null` takes the seat away; a school places the child there if it has a
/// free seat.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatCorrection {
    pub application_id: Uuid,
    #[serde(default)]
    pub school_id: Option<String>,
    /// Why, kept in the audit log and told to the family.
    pub reason: String,
}

/// One school's figures in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SchoolReport {
    pub school_id: String,
    pub name: String,
    /// `public` or `private`.
    pub kind: String,
    /// Seats for the round's entry year.
    pub capacity: u32,
    /// Eligible live applications whose preferences list the school.
    pub listed: u32,
    /// Eligible live applications whose first preference it is.
    pub first_choice: u32,
    /// Seats assigned, once allocated.
    pub assigned: Option<u32>,
    /// Seats won through the mechanism by each priority, once allocated.
    pub by_priority: Option<BTreeMap<String, u32>>,
    /// Seats given by the overflow step, once allocated.
    pub overflow: Option<u32>,
}

impl From<EngineSchoolReport> for SchoolReport {
    fn from(r: EngineSchoolReport) -> Self {
        SchoolReport {
            school_id: r.school_id,
            name: r.name,
            kind: r.kind,
            capacity: r.capacity,
            listed: r.listed,
            first_choice: r.first_choice,
            assigned: r.assigned,
            by_priority: r.by_priority,
            overflow: r.overflow,
        }
    }
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// An officer's name, `app:<app>:<citizen id>`, or `engine`.
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            reason: r.reason,
            details: r.details,
        }
    }
}

/// A page of the audit log, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}

/// The server is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}
