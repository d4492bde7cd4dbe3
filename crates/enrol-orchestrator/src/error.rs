use std::fmt;

use enrol_store::StoreError;

/// Why a round operation was refused or failed. The API maps these to its
/// own status codes; nothing here knows HTTP.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error("there is no round {0:?}")]
    UnknownRound(String),
    #[error("round {0:?} already exists")]
    RoundExists(String),
    /// The round is not in the state the operation needs. `state` is what
    /// the database holds now (read under the round row's lock), so a stale
    /// caller learns where the round stands.
    #[error("round {round:?} is {state}; this needs it {expected}")]
    WrongState {
        round: String,
        state: String,
        expected: &'static str,
    },
    #[error("the policy file is invalid: {0}")]
    Policy(#[from] enrol_rules::PolicyError),
    #[error("the seed is not usable: {0}")]
    Seed(String),
    #[error("there is no application {0}")]
    UnknownApplication(String),
    #[error("application {id} was already submitted with other content")]
    ApplicationIdConflict { id: String },
    // The message names no child: errors reach logs (docs/privacy.md).
    #[error("the child already has a live application in round {round}")]
    ChildConflict {
        round: String,
        child_id: String,
        existing_id: String,
        existing_family: Vec<String>,
    },
    /// The application is not in a state that allows the action. `state` is
    /// what the database holds now (read under the application row's lock).
    #[error("application {id} is {state}; {action} is not possible")]
    ApplicationState {
        id: String,
        state: String,
        action: &'static str,
    },
    #[error("round {round} cannot be verified yet: {pending} pending, {review} in review")]
    NotVerifiable {
        round: String,
        pending: usize,
        review: usize,
    },
    #[error("the correction is refused: {0}")]
    Correction(String),
    /// The round has not read its school catalogue yet (verification does).
    #[error("round {round:?} is {state} and has no school catalogue yet (verification reads it)")]
    NoCatalogue { round: String, state: String },
    /// The zone registry did not give the school catalogue.
    #[error("the school catalogue could not be read: {0}")]
    Catalogue(#[source] Box<enrol_evidence::ReadError>),
    #[error("the allocation instance is invalid: {0}")]
    Allocation(#[from] enrol_allocation::InstanceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Boxed: kept small, so every `Result<_, RoundError>` stays small.
    #[error(transparent)]
    Corrupt(Box<Corrupt>),
}

impl RoundError {
    /// Whether the database refused a write on a unique index: a concurrent
    /// writer got there first (PostgreSQL).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, RoundError::Store(err) if err.is_unique_violation())
    }
}

impl From<Corrupt> for RoundError {
    fn from(corrupt: Corrupt) -> Self {
        RoundError::Corrupt(Box::new(corrupt))
    }
}

impl From<enrol_store::sea_orm::DbErr> for RoundError {
    fn from(source: enrol_store::sea_orm::DbErr) -> Self {
        RoundError::Store(StoreError::Db {
            context: "running a round",
            source,
        })
    }
}

/// What kind of stored value was found corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    RoundState,
    ApplicationState,
    Application,
    DecisionStatus,
    Decision,
    Evaluation,
    SchoolCatalogue,
    EvidenceSnapshot,
    AuditEntry,
    AccessRecord,
    SeatCount,
}

impl fmt::Display for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stored::RoundState => "round state",
            Stored::ApplicationState => "application state",
            Stored::Application => "application",
            Stored::DecisionStatus => "decision status",
            Stored::Decision => "decision",
            Stored::Evaluation => "evaluation",
            Stored::SchoolCatalogue => "school catalogue",
            Stored::EvidenceSnapshot => "evidence snapshot",
            Stored::AuditEntry => "audit entry",
            Stored::AccessRecord => "access record",
            Stored::SeatCount => "seat count",
        })
    }
}

/// Stored data the engine cannot read back: a fault of the database or of
/// whoever edited it, never of the caller.
#[derive(Debug, thiserror::Error)]
pub enum Corrupt {
    #[error("stored {what} of {owner} is not valid: {source}")]
    Json {
        what: Stored,
        /// The row it belongs to (an application or round id).
        owner: String,
        source: serde_json::Error,
    },
    #[error("stored {what} of {owner} has the unknown value {value:?}")]
    Value { what: Stored, owner: String, value: String },
    #[error("application {application} is {state} but has no current decision")]
    MissingDecision { application: String, state: String },
    #[error("round {round} is {state} but has no school catalogue")]
    MissingCatalogue { round: String, state: String },
    #[error("the decision {decision} of application {application} has no stored evidence snapshot")]
    MissingSnapshot { application: String, decision: i64 },
    #[error("the decision of application {application} cites policy {cited}, but its round runs {runs}")]
    PolicyMismatch {
        application: String,
        cited: String,
        runs: String,
    },
    #[error("application {application} collided with no stored application")]
    PhantomCollision { application: String },
    /// Rows paged in id order came back out of order (a collation that
    /// sorts ids other than bytewise): the output promises byte order.
    #[error("round {round}: the database returned {id} after {previous}")]
    OutOfOrder {
        round: String,
        id: String,
        previous: String,
    },
    #[error("round {round}: {taking_part} applications take part, but {decided} have a current decision")]
    DecisionCount {
        round: String,
        taking_part: u64,
        decided: usize,
    },
}

/// Decodes stored JSON, naming what and whose it is when it fails.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(what: Stored, owner: &str, json: &str) -> Result<T, Corrupt> {
    serde_json::from_str(json).map_err(|source| Corrupt::Json {
        what,
        owner: owner.to_owned(),
        source,
    })
}

pub(crate) fn unknown_value(what: Stored, owner: &str, value: &str) -> Corrupt {
    Corrupt::Value {
        what,
        owner: owner.to_owned(),
        value: value.to_owned(),
    }
}
