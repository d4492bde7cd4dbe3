//! Where evidence comes from: an [`EvidenceSource`], used as
//! `Arc<dyn EvidenceSource>` (axum's dependency-injection style), so callers
//! are not generic over it.

use std::time::Duration;

use enrol_domain::{Application, BirthCertificate, EvidenceBundle, Fetched, SchoolCatalogue};
pub use enrol_evidence::{Access, FailureRecord, ReadError};

use crate::context::RoundContext;

/// What the registries said for one application.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// Everything the rules need.
    Complete(EvidenceBundle),
    /// A registry stayed down: what was read, and what failed (never empty,
    /// sorted). Never decided on.
    Incomplete {
        bundle: EvidenceBundle,
        failures: Vec<FailureRecord>,
    },
}

impl Evidence {
    pub fn is_complete(&self) -> bool {
        matches!(self, Evidence::Complete(_))
    }

    pub fn bundle(&self) -> &EvidenceBundle {
        match self {
            Evidence::Complete(bundle) | Evidence::Incomplete { bundle, .. } => bundle,
        }
    }
}

/// A result together with every registry request made to get it (查询留痕),
/// so that the caller stores them with what they served.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<T> {
    pub value: T,
    /// In order of completion; retries are accesses of their own.
    pub accesses: Vec<Access>,
}

impl<T> Recorded<T> {
    pub fn new(value: T, accesses: Vec<Access>) -> Self {
        Recorded { value, accesses }
    }
}

/// One application's evidence, with the reads that gathered it.
pub type Gathered = Recorded<Evidence>;

/// Where evidence comes from: the registry adapters, driven by the rules'
/// read plan. The orchestrator knows nothing of HTTP or wire formats.
/// Object-safe: hold it as `Arc<dyn EvidenceSource>`.
#[async_trait::async_trait]
pub trait EvidenceSource: Send + Sync + std::fmt::Debug {
    /// The zone registry's school catalogue, read once per round.
    async fn school_catalogue(&self) -> Recorded<Result<SchoolCatalogue, ReadError>>;

    /// Reads what the round's policy needs for `app`, starting from `start`
    /// (which may hold officer facts or earlier answers).
    async fn gather(&self, app: &Application, start: EvidenceBundle, round: &RoundContext) -> Gathered;

    /// The child's birth certificate, read at submission under the
    /// application's consent to learn who the child's parents are: the
    /// answer (`record: None` when the registry has no certificate), or
    /// `None` when no usable answer came within `deadline`. One attempt's
    /// worth of waiting: a family is never kept waiting on a registry.
    async fn birth_certificate(
        &self,
        app: &Application,
        deadline: Duration,
    ) -> Recorded<Option<Fetched<BirthCertificate>>>;
}
