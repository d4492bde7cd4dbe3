use enrol_store::StoreError;

/// Why a round operation was refused or failed. The API maps these to its
/// own status codes; nothing here knows HTTP.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error("there is no round {0:?}")]
    UnknownRound(String),
    #[error("round {0:?} already exists")]
    RoundExists(String),
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
    #[error("the school catalogue could not be read: {0}")]
    Catalogue(String),
    #[error("the allocation instance is invalid: {0}")]
    Allocation(#[from] enrol_allocation::InstanceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<enrol_store::sea_orm::DbErr> for RoundError {
    fn from(source: enrol_store::sea_orm::DbErr) -> Self {
        RoundError::Store(StoreError::Db {
            context: "running a round",
            source,
        })
    }
}

pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> RoundError {
    RoundError::Corrupt(format!("{what}: {err}"))
}
