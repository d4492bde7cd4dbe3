//! What operators see of registry calls: the request id each call carries,
//! Prometheus metrics (through the `metrics` facade: whoever installs a
//! recorder sees them, nobody else pays for them), and the circuit breakers'
//! states for readiness probes.
//!
//! No label carries a record id: a path holds national IDs, so metrics are
//! labelled by registry and outcome only.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use enrol_domain::Registry;

use crate::access::AccessOutcome;

/// The header a registry call carries its request id in (as the engine's own API does).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// Runs `work` so that every registry call it makes (on this task) carries
/// `id` as `X-Request-Id`: a registry's operator can then match a read to the
/// request that caused it. `id` must be a valid header value; the API only
/// passes ids it checked.
pub async fn with_request_id<F: Future>(id: Arc<str>, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The request id of the task, if it runs under [`with_request_id`].
pub fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// One probe is let through to see whether the registry is back.
    HalfOpen,
    /// Calls are refused without being sent.
    Open,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
        }
    }

    fn from_u8(v: u8) -> BreakerState {
        match v {
            0 => BreakerState::Closed,
            1 => BreakerState::HalfOpen,
            _ => BreakerState::Open,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

/// One breaker's state, shared by its client and the process-wide table.
#[derive(Debug)]
pub(crate) struct BreakerCell {
    registry: Registry,
    state: AtomicU8,
}

impl BreakerCell {
    /// A closed breaker, entered in the process-wide table.
    pub(crate) fn register(registry: Registry) -> Arc<BreakerCell> {
        let cell = Arc::new(BreakerCell {
            registry,
            state: AtomicU8::new(BreakerState::Closed.as_u8()),
        });
        let mut table = table().lock().unwrap_or_else(PoisonError::into_inner);
        table.retain(|c| c.strong_count() > 0);
        table.push(Arc::downgrade(&cell));
        drop(table);
        cell.set(BreakerState::Closed);
        cell
    }

    pub(crate) fn set(&self, state: BreakerState) {
        self.state.store(state.as_u8(), Ordering::Relaxed);
        metrics::gauge!("enrol_registry_breaker_state", "registry" => self.registry.citation_name())
            .set(f64::from(state.as_u8()));
    }

    fn get(&self) -> BreakerState {
        BreakerState::from_u8(self.state.load(Ordering::Relaxed))
    }
}

fn table() -> &'static Mutex<Vec<Weak<BreakerCell>>> {
    static TABLE: OnceLock<Mutex<Vec<Weak<BreakerCell>>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(Vec::new()))
}

/// The state of each registry's circuit breaker among the clients alive in
/// this process; where several clients reach one registry, the worst.
/// Registries without a client are absent.
pub fn breaker_states() -> BTreeMap<Registry, BreakerState> {
    let table = table().lock().unwrap_or_else(PoisonError::into_inner);
    let mut states = BTreeMap::new();
    for cell in table.iter().filter_map(Weak::upgrade) {
        let state = cell.get();
        states
            .entry(cell.registry)
            .and_modify(|s: &mut BreakerState| *s = (*s).max(state))
            .or_insert(state);
    }
    states
}

/// The `outcome` label of one request sent: what the registry answered, or
/// how the attempt failed.
pub fn outcome_label(outcome: &AccessOutcome) -> &'static str {
    match outcome {
        AccessOutcome::TimedOut => "timeout",
        AccessOutcome::ConnectionFailed => "connection_failed",
        AccessOutcome::Abandoned => "abandoned",
        AccessOutcome::Answered { status: 200 } => "answered",
        AccessOutcome::Answered { status: 404 } => "not_found",
        AccessOutcome::Answered { status: 429 } => "rate_limited",
        AccessOutcome::Answered { status: 503 } => "unavailable",
        AccessOutcome::Answered { status: 401 | 403 } => "refused",
        AccessOutcome::Answered { .. } => "other_status",
    }
}

/// Counts one request sent and its latency.
pub(crate) fn request_sent(registry: Registry, outcome: &AccessOutcome, latency: Duration) {
    let name = registry.citation_name();
    metrics::counter!("enrol_registry_requests_total", "registry" => name, "outcome" => outcome_label(outcome))
        .increment(1);
    metrics::histogram!("enrol_registry_request_duration_seconds", "registry" => name).record(latency.as_secs_f64());
}

/// Counts a retry (a request sent again after a transient failure).
pub(crate) fn retry(registry: Registry) {
    metrics::counter!("enrol_registry_retries_total", "registry" => registry.citation_name()).increment(1);
}

/// Counts a call the open breaker refused to send.
pub(crate) fn rejected(registry: Registry) {
    metrics::counter!("enrol_registry_breaker_rejections_total", "registry" => registry.citation_name()).increment(1);
}

/// Counts an answer that broke the interface's format (unusable, registries.md).
pub(crate) fn unusable(registry: Registry) {
    metrics::counter!("enrol_registry_unusable_total", "registry" => registry.citation_name()).increment(1);
}
