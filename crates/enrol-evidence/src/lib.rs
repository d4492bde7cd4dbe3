//! Evidence gathering (材料核验): for an application, the registry reads the
//! rules need, and nothing else, into one [`EvidenceBundle`] that records
//! where each fact came from (registry, record, fetched at).
//!
//! The driver is generic over the [`ReadPlanner`], which decides what is
//! needed (the rules' `plan_reads`): it loops plan → read concurrently → add
//! to the bundle → plan again. It also keeps every read inside the family
//! (the child, the guardians, the declared siblings, and the units, address
//! texts and buildings their records name), whatever the planner asks.
//!
//! When a registry stays down beyond the client's retries and deadline, the
//! outcome is [`GatherOutcome::Pending`] with the failures recorded and the
//! partial bundle kept to resume from: never a decision on partial evidence.
//! When a registry answers with something that cannot be read (after the
//! client's own retries), the failure is permanent: the read is filed in
//! `bundle.unusable` and the outcome is complete, for the rules to decide
//! `review` citing the record. A round never waits on a registry that answers.
//!
//! ```no_run
//! # async fn demo(config: enrol_evidence::RegistriesConfig, app: enrol_domain::Application)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use enrol_domain::{Application, EvidenceBundle};
//! use enrol_evidence::{AccessLog, GatherOptions, GatherOutcome, Gatherer, Registries};
//!
//! let log = Arc::new(AccessLog::new()); // or any AccessRecorder, e.g. a channel
//! let registries = Registries::connect(&config, log.clone())?;
//! let schools = registries.school_catalogue().await?; // once per round
//! let policy = enrol_rules::Policy::sample();
//! let planner = move |app: &Application, bundle: &EvidenceBundle| {
//!     enrol_rules::plan_reads(app, bundle, &policy, &schools)
//! };
//! let gatherer = Gatherer::new(registries, planner, GatherOptions::default());
//! match gatherer.gather(&app, EvidenceBundle::default()).await {
//!     GatherOutcome::Complete(bundle) => { /* decide on it */ }
//!     GatherOutcome::Pending(incomplete) => {
//!         // store incomplete.failure_records(); gather again later from incomplete.bundle
//!     }
//! }
//! for access in log.drain() { /* write to the audit log */ }
//! # Ok(()) }
//! ```

mod gather;
mod registries;
mod scope;

pub use enrol_registry_client::{
    Access, AccessIntent, AccessLog, AccessOutcome, AccessRecorder, CallError, ConfigError, FailureClass, JournalError,
    JournalFuture, NoAccessLog, ReadError, ReadFailureKind, RegistriesConfig, RegistryConfig,
};
pub use gather::{
    Failure, FailureKind, FailureRecord, GatherOptions, GatherOutcome, Gatherer, Incomplete, Progress, ReadPlanner,
    record_unusable,
};
pub use registries::{Answer, Mismatch, Registries};
pub use scope::outside_family;
