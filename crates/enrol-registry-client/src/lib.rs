//! The resilient HTTP core the registry adapters share (reqwest on tokio).
//!
//! Per registry: a per-attempt timeout and an overall deadline; retries only
//! for transient failures (timeouts, connection errors, `503`, `429`) with
//! jittered exponential back-off ([`backon`]) that honours `Retry-After`; a
//! circuit breaker ([`failsafe`]) and a concurrency limit (a tokio
//! semaphore); the API key, the purpose and the application's consent on
//! every call; and an [`AccessRecorder`] hook that sees every request sent
//! (registry, path, consent id, purpose, outcome, latency) for the engine's
//! audit log, and may journal each request durably before it is sent
//! ([`AccessRecorder::journal`]).
//!
//! The client knows the registries' path prefixes and status codes; what the
//! bodies mean is the adapters' business.

mod access;
mod client;
mod config;
mod error;
mod observe;
pub mod wire;

pub use access::{
    Access, AccessIntent, AccessLog, AccessOutcome, AccessRecorder, JournalError, JournalFuture, NoAccessLog,
};
pub use client::{RegistryClient, RegistryClients, Reply, decode, wire_segment};
pub use config::{ConfigError, RegistriesConfig, RegistryConfig, SCHOOL_ENROLMENT_PURPOSE};
pub use error::{CallError, FailureClass, ReadError, ReadFailureKind, Transient};
pub use observe::{
    BreakerState, REQUEST_ID_HEADER, breaker_states, current_request_id, outcome_label, with_request_id,
};
