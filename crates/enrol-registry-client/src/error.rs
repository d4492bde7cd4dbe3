//! What can go wrong when asking a registry.

use std::time::Duration;

use enrol_domain::{RecordRef, Registry};

/// A failure worth another attempt: the registry may well answer next time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Transient {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("503 unavailable: {0}")]
    Unavailable(String),
    #[error("429 rate limited (Retry-After {0:?})")]
    RateLimited(Option<Duration>),
    #[error("circuit breaker open: the registry failed repeatedly, calls paused")]
    CircuitOpen,
    /// The access journal could not record the request, so it was not sent
    /// (never a read without a record): the registry was not asked.
    #[error("not sent: {0}")]
    NotRecorded(String),
}

impl Transient {
    /// The wait the registry asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Transient::RateLimited(d) => *d,
            _ => None,
        }
    }
}

/// Why a call to a registry brought no answer. Each names the registry and
/// the path, which holds the record asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// `401`: the engine's key for the registry is wrong or missing.
    #[error("{registry} registry refused the engine's API key for {path}: {message}")]
    Unauthenticated {
        registry: Registry,
        path: String,
        message: String,
    },
    /// `403`: consent or purpose refused (`consent_required`, `purpose_not_allowed`).
    #[error("{registry} registry refused {path} ({code}): {message}")]
    ConsentRefused {
        registry: Registry,
        path: String,
        code: String,
        message: String,
    },
    /// Transient failures until the retries or the deadline ran out: the
    /// registry is down for now. `attempts` counts requests sent (none while
    /// an open breaker held them back); `elapsed` runs from the call's start.
    #[error("{registry} registry unavailable for {path} after {attempts} attempt(s) in {elapsed:?}: {last}")]
    Unavailable {
        registry: Registry,
        path: String,
        attempts: u32,
        elapsed: Duration,
        last: Transient,
    },
    /// A status the interface does not define for this call.
    #[error("{registry} registry answered {path} with unexpected status {status}: {message}")]
    UnexpectedStatus {
        registry: Registry,
        path: String,
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// The request could not be formed (a bug or a bad configuration).
    #[error("cannot send {path} to the {registry} registry: {detail}")]
    InvalidRequest {
        registry: Registry,
        path: String,
        detail: String,
    },
}

impl CallError {
    pub fn registry(&self) -> Registry {
        match self {
            CallError::Unauthenticated { registry, .. }
            | CallError::ConsentRefused { registry, .. }
            | CallError::Unavailable { registry, .. }
            | CallError::UnexpectedStatus { registry, .. }
            | CallError::InvalidRequest { registry, .. } => *registry,
        }
    }

    /// Whether the registry was down: asking again later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CallError::Unavailable { .. })
    }
}

/// Broad class of a failed read, for storage and for deciding whether to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFailureKind {
    /// The registry stayed down (timeouts, 503, 429, breaker): try again later.
    Unavailable,
    /// Key, consent or purpose refused: needs an operator.
    Refused,
    /// The answer broke the interface (bad JSON, wrong types, unexpected
    /// status): needs the registry's operator.
    Malformed,
    /// The answer contradicts itself or the question: needs the registry's operator.
    Contradictory,
}

/// What a failed read means for the application it was made for
/// (registries.md, "Dirty records"). The two kinds never mix: a registry
/// that did not answer is asked again; an answer that cannot be read is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// No usable exchange took place: the registry stayed down (timeouts,
    /// connection errors, `503`, `429`, an open breaker), refused the
    /// engine's key or consent, or answered with a status the interface does
    /// not define (a wrong route or base URL). The application stays
    /// `pending`, and the next verification pass asks again.
    Transient,
    /// The registry answered, and the answer cannot be read even after the
    /// client's own retries: a body that breaks the format (bad JSON, a
    /// field of the wrong type, invalid UTF-8, a cut body), an answer about
    /// another record than the one asked for, or one contradictory beyond
    /// reading. Asking again will not help: the application goes to
    /// `review` citing the record.
    Unusable,
}

/// Why a read of one record failed. Always names the record (and so the
/// registry) it was about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{record}: {source}")]
    Call {
        record: RecordRef,
        #[source]
        source: CallError,
    },
    /// The answer is not what the interface defines (JSON, field types, formats).
    #[error("{record}: malformed answer from the {} registry: {detail}", record.registry)]
    Malformed { record: RecordRef, detail: String },
    /// The answer is well-formed but contradicts the question or itself.
    #[error("{record}: self-contradictory answer from the {} registry: {detail}", record.registry)]
    Contradictory { record: RecordRef, detail: String },
    /// `404 not_found` where the interface promises an answer (e.g. an empty list).
    #[error("{record}: 'no record' (404) where the {} registry promises an answer", record.registry)]
    UnexpectedNotFound { record: RecordRef },
}

impl ReadError {
    pub fn record(&self) -> &RecordRef {
        match self {
            ReadError::Call { record, .. }
            | ReadError::Malformed { record, .. }
            | ReadError::Contradictory { record, .. }
            | ReadError::UnexpectedNotFound { record } => record,
        }
    }

    pub fn kind(&self) -> ReadFailureKind {
        match self {
            ReadError::Call { source, .. } => match source {
                CallError::Unavailable { .. } => ReadFailureKind::Unavailable,
                CallError::Unauthenticated { .. } | CallError::ConsentRefused { .. } => ReadFailureKind::Refused,
                CallError::UnexpectedStatus { .. } | CallError::InvalidRequest { .. } => ReadFailureKind::Malformed,
            },
            ReadError::Malformed { .. } | ReadError::UnexpectedNotFound { .. } => ReadFailureKind::Malformed,
            ReadError::Contradictory { .. } => ReadFailureKind::Contradictory,
        }
    }

    /// Whether the registry was down: asking again later may succeed.
    pub fn is_unavailable(&self) -> bool {
        self.kind() == ReadFailureKind::Unavailable
    }

    /// Transient (pending, ask again) or unusable (review).
    pub fn class(&self) -> FailureClass {
        match self {
            ReadError::Call { .. } => FailureClass::Transient,
            ReadError::Malformed { .. } | ReadError::Contradictory { .. } | ReadError::UnexpectedNotFound { .. } => {
                FailureClass::Unusable
            }
        }
    }

    /// Whether the answer came and cannot be read ([`FailureClass::Unusable`]).
    pub fn is_unusable(&self) -> bool {
        self.class() == FailureClass::Unusable
    }

    /// What failed, without the record (for evidence: the record is its key).
    pub fn detail(&self) -> String {
        match self {
            ReadError::Call { source, .. } => source.to_string(),
            ReadError::Malformed { detail, .. } | ReadError::Contradictory { detail, .. } => detail.clone(),
            ReadError::UnexpectedNotFound { .. } => {
                "'no record' (404) where the registry promises an answer".to_owned()
            }
        }
    }

    pub fn contradictory(record: &RecordRef, detail: impl Into<String>) -> Self {
        ReadError::Contradictory {
            record: record.clone(),
            detail: detail.into(),
        }
    }
}
