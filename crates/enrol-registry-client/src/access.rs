//! The access-record hooks: every request the engine sends to a registry, for
//! the engine's audit log (查询留痕). A recorder may keep a journal: it is
//! told of each request before it is sent ([`AccessRecorder::journal`]), and
//! the request waits until the journal has it, so a request is on record even
//! if the process dies before its outcome is stored.

use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use enrol_domain::{ConsentId, Registry};
use serde::{Deserialize, Serialize};

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AccessOutcome {
    /// The registry answered with this HTTP status.
    Answered { status: u16 },
    /// No full answer within the attempt's time limit.
    TimedOut,
    /// The connection could not be made or broke off.
    ConnectionFailed,
    /// The caller stopped waiting before the answer came (a submission's
    /// short deadline): the request was sent, so it is recorded all the same.
    Abandoned,
}

/// One request that left the engine for a registry. Requests refused locally
/// by an open circuit breaker never reach a registry and are not accesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub registry: Registry,
    /// Path and query as sent, e.g. `/hukou/v1/persons/370811202011150023`:
    /// the form the registries' own access logs use.
    pub path: String,
    /// The application's consent (`X-Consent-Id`); `None` only for reads of
    /// public data outside any application (the school catalogue).
    pub consent_id: Option<ConsentId>,
    /// `X-Purpose`.
    pub purpose: String,
    pub outcome: AccessOutcome,
    /// 1 for the first attempt of a call, 2 for its first retry, and so on.
    pub attempt: u32,
    /// When the request was sent.
    pub at: DateTime<Utc>,
    /// From sending to the full answer (or to giving up on it).
    #[serde(with = "millis")]
    pub latency: Duration,
    /// The id the recorder's journal gave the request before it was sent
    /// ([`AccessRecorder::journal`]); `None` when the recorder keeps none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_id: Option<i64>,
}

/// A request about to be sent, as a journal records it: what is known
/// before the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessIntent {
    pub registry: Registry,
    /// Path and query as they will be sent.
    pub path: String,
    pub consent_id: Option<ConsentId>,
    pub purpose: String,
    /// 1 for the first attempt of a call, 2 for its first retry, and so on.
    pub attempt: u32,
    /// When the request was journaled: it is sent after this, if at all.
    pub at: DateTime<Utc>,
}

/// The journal could not record a request, so it was not sent. Never holds
/// the path or anything else that names a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("access journal: {0}")]
pub struct JournalError(pub String);

/// A journal's answer: the id it recorded the request under.
pub type JournalFuture = Pin<Box<dyn Future<Output = Result<i64, JournalError>> + Send + 'static>>;

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Duration::try_from_secs_f64(ms / 1000.0).map_err(serde::de::Error::custom)
    }
}

/// Receives every access as it happens. Implementations must be cheap and
/// must not block: they run on the request path.
pub trait AccessRecorder: Send + Sync + std::fmt::Debug {
    fn record(&self, access: Access);

    /// Records a request durably before it is sent, answering the id it is
    /// recorded under (then carried by its [`Access`], `journal_id`). The
    /// client awaits the answer before it takes a concurrency slot and
    /// sends; an error means the request is not sent (the attempt fails as
    /// a transient failure would, [`crate::Transient::NotRecorded`]).
    /// `None`, the default: this recorder keeps no journal, send at once.
    fn journal(&self, _intent: &AccessIntent) -> Option<JournalFuture> {
        None
    }
}

/// Records nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAccessLog;

impl AccessRecorder for NoAccessLog {
    fn record(&self, _access: Access) {}
}

/// Keeps every access in memory, in order of completion.
#[derive(Debug, Default)]
pub struct AccessLog {
    entries: Mutex<Vec<Access>>,
}

impl AccessLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of what was recorded so far.
    pub fn snapshot(&self) -> Vec<Access> {
        self.entries
            .lock()
            .map(|e| e.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Takes what was recorded so far, leaving the log empty.
    pub fn drain(&self) -> Vec<Access> {
        match self.entries.lock() {
            Ok(mut e) => std::mem::take(&mut *e),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }

    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .map(|e| e.len())
            .unwrap_or_else(|p| p.into_inner().len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AccessRecorder for AccessLog {
    fn record(&self, access: Access) {
        match self.entries.lock() {
            Ok(mut e) => e.push(access),
            // A panic elsewhere while holding the lock must not lose audit records.
            Err(p) => p.into_inner().push(access),
        }
    }
}

/// Sends each access down a channel, e.g. to a task that writes the audit log.
impl AccessRecorder for tokio::sync::mpsc::UnboundedSender<Access> {
    fn record(&self, access: Access) {
        // A closed receiver means the audit writer is gone; the send error
        // carries the record back and there is nowhere else to put it.
        if let Err(e) = self.send(access) {
            // Never the path: it holds a national ID or an address (docs/privacy.md).
            let access = &e.0;
            tracing::error!(registry = %access.registry, outcome = ?access.outcome, attempt = access.attempt,
                "access record dropped: audit channel closed");
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn access(attempt: u32) -> Access {
        Access {
            registry: Registry::Insurance,
            path: "/social-insurance/v1/persons/370811198803120042/months?from=2025-05&to=2027-04".into(),
            consent_id: Some(ConsentId::new("CNS-2027-000123")),
            purpose: "school-enrolment".into(),
            outcome: AccessOutcome::Answered { status: 200 },
            attempt,
            at: Utc.with_ymd_and_hms(2027, 5, 6, 1, 0, 0).unwrap(),
            latency: Duration::from_micros(20_500),
            journal_id: None,
        }
    }

    #[test]
    fn an_access_serialises_for_the_audit_log() {
        insta::assert_json_snapshot!(access(1), @r#"
        {
          "registry": "insurance",
          "path": "/social-insurance/v1/persons/370811198803120042/months?from=2025-05&to=2027-04",
          "consent_id": "CNS-2027-000123",
          "purpose": "school-enrolment",
          "outcome": {
            "outcome": "answered",
            "status": 200
          },
          "attempt": 1,
          "at": "2027-05-06T01:00:00Z",
          "latency": 20.5
        }
        "#);
        let back: Access = serde_json::from_value(serde_json::to_value(access(1)).unwrap()).unwrap();
        assert_eq!(back, access(1));
    }

    #[test]
    fn recorders_keep_every_access_in_order() {
        let log = AccessLog::new();
        log.record(access(1));
        log.record(access(2));
        assert_eq!(log.snapshot().len(), 2);
        assert_eq!(log.drain().iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 2]);
        assert!(log.is_empty());

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tx.record(access(3));
        assert_eq!(rx.try_recv().map(|a| a.attempt), Ok(3));
        drop(rx);
        tx.record(access(4)); // a closed audit channel is logged, not a panic
    }
}
