//! One resilient client per registry, over one shared connection pool.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use enrol_domain::{ConsentId, RecordRef, Registry};
use failsafe::failure_policy::ConsecutiveFailures;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::access::{Access, AccessIntent, AccessOutcome, AccessRecorder};
use crate::config::{ConfigError, RegistriesConfig, RegistryConfig};
use crate::error::{CallError, ReadError, Transient};
use crate::observe::{self, BreakerCell, BreakerState};

/// The first path segment under which a registry serves (registries.md), e.g.
/// `social-insurance` for [`Registry::Insurance`].
pub fn wire_segment(registry: Registry) -> &'static str {
    match registry {
        Registry::Hukou => "hukou",
        Registry::Birth => "birth",
        Registry::Property => "property",
        Registry::Residence => "residence",
        Registry::Insurance => "social-insurance",
        Registry::Zones => "zones",
        Registry::History => "enrolment-history",
    }
}

const API_KEY: &str = "x-api-key";
const CONSENT_ID: &str = "x-consent-id";
const PURPOSE: &str = "x-purpose";

/// What a registry answered to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// When the answer arrived: the `fetched_at` of the evidence it becomes.
    pub received_at: DateTime<Utc>,
    /// The body of a `200`; `None` for `404 not_found`, which is an answer.
    pub body: Option<Vec<u8>>,
}

impl Reply {
    /// Decodes a `200` body into `T`; `Ok(None)` for "no record".
    pub fn decode<T: DeserializeOwned>(&self, record: &RecordRef) -> Result<Option<T>, ReadError> {
        self.body.as_deref().map(|body| decode(record, body)).transpose()
    }

    /// Decodes a `200` body into `T`, where the interface promises an answer
    /// (so a `404` is a fault, not "no record").
    pub fn decode_required<T: DeserializeOwned>(&self, record: &RecordRef) -> Result<T, ReadError> {
        self.decode(record)?
            .ok_or_else(|| ReadError::UnexpectedNotFound { record: record.clone() })
    }
}

/// Decodes a registry's JSON body, naming the record and the JSON path of
/// whatever does not fit.
pub fn decode<T: DeserializeOwned>(record: &RecordRef, body: &[u8]) -> Result<T, ReadError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        observe::unusable(record.registry);
        let path = e.path().to_string();
        let inner = e.into_inner();
        ReadError::Malformed {
            record: record.clone(),
            detail: if path == "." {
                inner.to_string()
            } else {
                format!("at `{path}`: {inner}")
            },
        }
    })
}

/// The error body every registry uses.
#[derive(Debug, serde::Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

fn error_body(body: &[u8]) -> (Option<String>, String) {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => (Some(b.code), b.message),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let cut: String = text.chars().take(200).collect();
            (None, cut)
        }
    }
}

/// Logs breaker transitions (an open breaker is an operational event) and
/// keeps the state where probes and metrics read it.
#[derive(Debug, Clone)]
struct BreakerLog {
    registry: Registry,
    cell: Arc<BreakerCell>,
}

impl failsafe::Instrument for BreakerLog {
    fn on_call_rejected(&self) {
        observe::rejected(self.registry);
    }

    fn on_open(&self) {
        self.cell.set(BreakerState::Open);
        tracing::warn!(registry = %self.registry, "circuit breaker opened");
    }

    fn on_half_open(&self) {
        self.cell.set(BreakerState::HalfOpen);
        tracing::info!(registry = %self.registry, "circuit breaker half-open: probing");
    }

    fn on_closed(&self) {
        self.cell.set(BreakerState::Closed);
        tracing::info!(registry = %self.registry, "circuit breaker closed");
    }
}

/// How long the breaker stays open, each time in a row: backon's jittered
/// exponential back-off (failsafe's own back-offs count whole seconds only).
/// A clone starts afresh, which is what failsafe wants when a registry revives.
struct OpenDurations {
    builder: ExponentialBuilder,
    current: <ExponentialBuilder as BackoffBuilder>::Backoff,
}

impl OpenDurations {
    fn new(first: Duration, max: Duration) -> Self {
        let builder = ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(first)
            .with_max_delay(max)
            .without_max_times();
        OpenDurations {
            builder,
            current: builder.build(),
        }
    }
}

impl Clone for OpenDurations {
    fn clone(&self) -> Self {
        OpenDurations {
            builder: self.builder,
            current: self.builder.build(),
        }
    }
}

impl Iterator for OpenDurations {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.current.next()
    }
}

type Breaker = failsafe::StateMachine<ConsecutiveFailures<OpenDurations>, BreakerLog>;

struct Inner {
    registry: Registry,
    base: Url,
    api_key: HeaderValue,
    purpose: String,
    purpose_header: HeaderValue,
    config: RegistryConfig,
    http: reqwest::Client,
    /// Requests in flight at most (`concurrency`).
    limit: Semaphore,
    breaker: Breaker,
    recorder: Arc<dyn AccessRecorder>,
}

/// A client for one registry: cheap to clone, clones share the limit, the
/// breaker and the connection pool.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.inner.registry)
            .field("base", &self.inner.base.as_str())
            .field("concurrency", &self.inner.config.concurrency)
            .field("breaker", &self.inner.breaker)
            .finish_non_exhaustive()
    }
}

/// How one attempt ended, for the retry loop.
enum AttemptError {
    Transient(Transient),
    Final(CallError),
}

impl RegistryClient {
    fn new(
        registry: Registry,
        config: &RegistryConfig,
        purpose: &str,
        http: reqwest::Client,
        recorder: Arc<dyn AccessRecorder>,
    ) -> Result<Self, ConfigError> {
        let base = config.validate(registry)?;
        let invalid_key = || ConfigError::Invalid {
            registry,
            field: "api_key",
            reason: "must be a header value".to_owned(),
        };
        let mut api_key = HeaderValue::from_str(&config.api_key).map_err(|_| invalid_key())?;
        api_key.set_sensitive(true);
        let purpose_header = HeaderValue::from_str(purpose).map_err(|_| ConfigError::Purpose(purpose.to_owned()))?;
        let breaker = failsafe::Config::new()
            .failure_policy(failsafe::failure_policy::consecutive_failures(
                config.breaker_failures,
                OpenDurations::new(
                    Duration::from_millis(config.breaker_open_ms),
                    Duration::from_millis(config.breaker_open_max_ms),
                ),
            ))
            .instrument(BreakerLog {
                registry,
                cell: BreakerCell::register(registry),
            })
            .build();
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                registry,
                base,
                api_key,
                purpose: purpose.to_owned(),
                purpose_header,
                config: config.clone(),
                http,
                limit: Semaphore::new(config.concurrency),
                breaker,
                recorder,
            }),
        })
    }

    pub fn registry(&self) -> Registry {
        self.inner.registry
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// `GET /{registry}/v1/{segments...}?{query}` with the key, the purpose
    /// and, for personal data, the application's consent; retried through
    /// transient failures within the limits of the configuration.
    pub async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        consent: Option<&ConsentId>,
    ) -> Result<Reply, CallError> {
        let inner = &*self.inner;
        let url = self.url(segments, query)?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(API_KEY, inner.api_key.clone());
        headers.insert(PURPOSE, inner.purpose_header.clone());
        if let Some(consent) = consent {
            let value = HeaderValue::from_str(consent.as_str()).map_err(|_| CallError::InvalidRequest {
                registry: inner.registry,
                path: path.clone(),
                detail: format!("consent id {:?} is not a header value", consent.as_str()),
            })?;
            headers.insert(CONSENT_ID, value);
        }
        // The id of the request that caused this call, so the registry's
        // operator can match the read to it (checked by whoever set it).
        if let Some(value) = observe::current_request_id().and_then(|id| HeaderValue::from_str(&id).ok()) {
            headers.insert(observe::REQUEST_ID_HEADER, value);
        }

        let config = &inner.config;
        let mut delays = ExponentialBuilder::new()
            .with_jitter()
            .with_factor(2.0)
            .with_min_delay(Duration::from_millis(config.backoff_min_ms))
            .with_max_delay(Duration::from_millis(config.backoff_max_ms))
            .with_max_times(config.max_retries as usize)
            .build();
        // The deadline runs from the first attempt that leaves the local
        // queue: waiting behind our own concurrency limit is not the
        // registry's fault.
        let mut deadline: Option<Instant> = None;
        let began = Instant::now();
        let mut sent = 0u32;
        loop {
            let last = if inner.breaker.is_call_permitted() {
                sent += 1;
                match self
                    .attempt(&url, &path, headers.clone(), consent, sent, &mut deadline)
                    .await
                {
                    Ok(reply) => return Ok(reply),
                    Err(AttemptError::Final(e)) => return Err(e),
                    Err(AttemptError::Transient(t)) => {
                        if matches!(t, Transient::NotRecorded(_)) {
                            // Refused by the journal before it left: not sent.
                            sent -= 1;
                        }
                        t
                    }
                }
            } else {
                Transient::CircuitOpen
            };
            let now = Instant::now();
            let deadline = *deadline.get_or_insert_with(|| now + config.deadline());
            let give_up = |last: Transient| CallError::Unavailable {
                registry: inner.registry,
                path: path.clone(),
                attempts: sent,
                elapsed: began.elapsed(),
                last,
            };
            let delay = if last == Transient::CircuitOpen {
                // Waiting for the breaker to let a probe through sends
                // nothing, so it spends no retry: only the deadline bounds it.
                Duration::from_millis(config.backoff_min_ms)
            } else {
                let Some(backoff) = delays.next() else {
                    return Err(give_up(last));
                };
                // Honour Retry-After: never come back sooner than asked.
                last.retry_after().map_or(backoff, |ra| ra.max(backoff))
            };
            if now + delay >= deadline {
                return Err(give_up(last));
            }
            // Never the path: it holds a national ID or an address (docs/privacy.md).
            tracing::debug!(registry = %inner.registry, sent, ?delay, failure = %last, "retrying");
            if !matches!(last, Transient::CircuitOpen | Transient::NotRecorded(_)) {
                observe::retry(inner.registry);
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// [`get`](Self::get), then `parse` reads the answer. An answer `parse`
    /// finds unusable ([`ReadError::is_unusable`]: a body cut short, a field
    /// of the wrong type, invalid UTF-8, ...) may be a cut connection, so it
    /// is asked for again, up to `unusable_retries` times after jittered
    /// back-off and within the call's deadline; the last such error is then
    /// returned as it stands, a permanent failure of the read. A failed call
    /// becomes [`ReadError::Call`] about `record`.
    pub async fn get_parsed<T>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        consent: Option<&ConsentId>,
        record: &RecordRef,
        parse: impl Fn(&Reply) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        let config = &self.inner.config;
        let began = Instant::now();
        let mut delays = ExponentialBuilder::new()
            .with_jitter()
            .with_factor(2.0)
            .with_min_delay(Duration::from_millis(config.backoff_min_ms))
            .with_max_delay(Duration::from_millis(config.backoff_max_ms))
            .with_max_times(config.unusable_retries as usize)
            .build();
        loop {
            let reply = self
                .get(segments, query, consent)
                .await
                .map_err(|source| ReadError::Call {
                    record: record.clone(),
                    source,
                })?;
            let error = match parse(&reply) {
                Ok(value) => return Ok(value),
                Err(e) if e.is_unusable() => e,
                Err(e) => return Err(e),
            };
            let Some(delay) = delays.next() else {
                return Err(error);
            };
            if began.elapsed() + delay >= config.deadline() {
                return Err(error);
            }
            // No path here: it holds the record's id, personal data.
            tracing::debug!(registry = %self.inner.registry, ?delay, "unusable answer, asking again");
            tokio::time::sleep(delay).await;
        }
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, CallError> {
        let registry = self.inner.registry;
        let mut url = self.inner.base.clone();
        {
            let Ok(mut path) = url.path_segments_mut() else {
                return Err(CallError::InvalidRequest {
                    registry,
                    path: segments.join("/"),
                    detail: "base URL cannot take a path".to_owned(),
                });
            };
            // Each segment is percent-encoded: a record id never changes the path's shape.
            path.pop_if_empty()
                .push(wire_segment(registry))
                .push("v1")
                .extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn attempt(
        &self,
        url: &Url,
        path: &str,
        headers: HeaderMap,
        consent: Option<&ConsentId>,
        attempt: u32,
        deadline: &mut Option<Instant>,
    ) -> Result<Reply, AttemptError> {
        let inner = &*self.inner;
        let config = &inner.config;
        // On record before it is sent (查询留痕): the journal's write comes
        // before the concurrency slot, so slots are spent on registry time
        // only. Not recorded, not sent.
        let journal_id = match inner.recorder.journal(&AccessIntent {
            registry: inner.registry,
            path: path.to_owned(),
            consent_id: consent.cloned(),
            purpose: inner.purpose.clone(),
            attempt,
            at: Utc::now(),
        }) {
            None => None,
            Some(journaled) => match journaled.await {
                Ok(id) => Some(id),
                Err(e) => {
                    // Never the path: it holds a national ID or an address (docs/privacy.md).
                    tracing::warn!(registry = %inner.registry, attempt, error = %e, "request not sent: not journaled");
                    return Err(AttemptError::Transient(Transient::NotRecorded(e.to_string())));
                }
            },
        };
        // The semaphore is never closed, so acquiring only fails if it were.
        let _permit = inner.limit.acquire().await.map_err(|_| {
            AttemptError::Final(CallError::InvalidRequest {
                registry: inner.registry,
                path: path.to_owned(),
                detail: "client shut down".to_owned(),
            })
        })?;
        let started = Instant::now();
        let deadline = *deadline.get_or_insert(started + config.deadline());
        let limit = config
            .attempt_timeout()
            .min(deadline.saturating_duration_since(started));
        let mut sent = InFlight {
            inner,
            path,
            consent,
            attempt,
            at: Utc::now(),
            started,
            journal_id,
            done: false,
        };
        let request = inner.http.get(url.clone()).headers(headers).send();
        let exchange = async {
            let response = request.await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, retry_after, body))
        };
        let result = tokio::time::timeout(limit, exchange).await;
        let received_at = Utc::now();
        let mut record = |outcome: AccessOutcome| sent.finish(outcome);
        let breaker = &inner.breaker;
        let final_error = |status: StatusCode, body: &[u8]| {
            let (code, message) = error_body(body);
            let registry = inner.registry;
            let path = path.to_owned();
            match status {
                StatusCode::UNAUTHORIZED => CallError::Unauthenticated {
                    registry,
                    path,
                    message,
                },
                StatusCode::FORBIDDEN => CallError::ConsentRefused {
                    registry,
                    path,
                    code: code.unwrap_or_else(|| "forbidden".to_owned()),
                    message,
                },
                _ => CallError::UnexpectedStatus {
                    registry,
                    path,
                    status: status.as_u16(),
                    code,
                    message,
                },
            }
        };

        match result {
            Err(_elapsed) => {
                record(AccessOutcome::TimedOut);
                breaker.on_error();
                Err(AttemptError::Transient(Transient::Timeout(limit)))
            }
            Ok(Err(e)) if e.is_builder() => {
                record(AccessOutcome::ConnectionFailed);
                Err(AttemptError::Final(CallError::InvalidRequest {
                    registry: inner.registry,
                    path: path.to_owned(),
                    detail: chain(&e),
                }))
            }
            Ok(Err(e)) => {
                record(AccessOutcome::ConnectionFailed);
                breaker.on_error();
                Err(AttemptError::Transient(Transient::Connection(chain(&e))))
            }
            Ok(Ok((status, retry_after, body))) => {
                record(AccessOutcome::Answered {
                    status: status.as_u16(),
                });
                match status {
                    StatusCode::OK => {
                        breaker.on_success();
                        Ok(Reply {
                            received_at,
                            body: Some(body.to_vec()),
                        })
                    }
                    StatusCode::NOT_FOUND => {
                        breaker.on_success();
                        // Only the registry's own "no record" is an answer; a
                        // bare 404 (a wrong route or base URL) is a fault.
                        match error_body(&body) {
                            (Some(code), _) if code == "not_found" => Ok(Reply {
                                received_at,
                                body: None,
                            }),
                            _ => Err(AttemptError::Final(final_error(status, &body))),
                        }
                    }
                    StatusCode::TOO_MANY_REQUESTS => {
                        // The registry is alive and pacing us: not a breaker failure.
                        Err(AttemptError::Transient(Transient::RateLimited(retry_after)))
                    }
                    StatusCode::SERVICE_UNAVAILABLE => {
                        breaker.on_error();
                        Err(AttemptError::Transient(Transient::Unavailable(error_body(&body).1)))
                    }
                    s if s.is_server_error() => {
                        breaker.on_error();
                        Err(AttemptError::Final(final_error(status, &body)))
                    }
                    _ => {
                        breaker.on_success();
                        Err(AttemptError::Final(final_error(status, &body)))
                    }
                }
            }
        }
    }
}

/// A request on its way: recorded once, with how it ended, or, when the
/// caller stops waiting first (the attempt's future is dropped, as a
/// submission's short deadline does), as [`AccessOutcome::Abandoned`]. The
/// request left the engine either way, so it is an access either way.
struct InFlight<'a> {
    inner: &'a Inner,
    path: &'a str,
    consent: Option<&'a ConsentId>,
    attempt: u32,
    /// When the request was sent.
    at: DateTime<Utc>,
    started: Instant,
    /// Its journal record, if the recorder keeps a journal.
    journal_id: Option<i64>,
    done: bool,
}

impl InFlight<'_> {
    fn finish(&mut self, outcome: AccessOutcome) {
        self.done = true;
        let inner = self.inner;
        let latency = self.started.elapsed();
        observe::request_sent(inner.registry, &outcome, latency);
        inner.recorder.record(Access {
            registry: inner.registry,
            path: self.path.to_owned(),
            consent_id: self.consent.cloned(),
            purpose: inner.purpose.clone(),
            outcome,
            attempt: self.attempt,
            at: self.at,
            latency,
            journal_id: self.journal_id,
        });
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(AccessOutcome::Abandoned);
        }
    }
}

/// An error with its causes, on one line, without its URL: reqwest names the
/// URL, whose path holds a national ID or an address, and this text reaches
/// logs (the retry line) as well as the stored failure, which names its record.
fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        let origin = url.origin().ascii_serialization();
        text = text.replace(url.as_str(), &format!("{origin}/…"));
    }
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Clients for all seven registries over one connection pool, recording
/// every access to one recorder.
#[derive(Debug, Clone)]
pub struct RegistryClients {
    clients: [RegistryClient; 7],
}

fn index(registry: Registry) -> usize {
    match registry {
        Registry::Hukou => 0,
        Registry::Birth => 1,
        Registry::Property => 2,
        Registry::Residence => 3,
        Registry::Insurance => 4,
        Registry::Zones => 5,
        Registry::History => 6,
    }
}

impl RegistryClients {
    /// Builds the clients; fails on a missing or unusable registry configuration.
    pub fn new(config: &RegistriesConfig, recorder: Arc<dyn AccessRecorder>) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .tls_version_min(reqwest::tls::Version::TLS_1_2);
        // A private CA is trusted besides the system's roots.
        for certificate in config.ca_certificates()? {
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder.build().map_err(|e| ConfigError::Http(chain(&e)))?;
        let build = |registry: Registry| {
            let c = config.registries.get(&registry).ok_or(ConfigError::Missing(registry))?;
            RegistryClient::new(registry, c, &config.purpose, http.clone(), recorder.clone())
        };
        Ok(RegistryClients {
            clients: [
                build(Registry::Hukou)?,
                build(Registry::Birth)?,
                build(Registry::Property)?,
                build(Registry::Residence)?,
                build(Registry::Insurance)?,
                build(Registry::Zones)?,
                build(Registry::History)?,
            ],
        })
    }

    pub fn get(&self, registry: Registry) -> &RegistryClient {
        &self.clients[index(registry)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_segments_follow_registries_md() {
        let segments: Vec<_> = Registry::ALL.into_iter().map(wire_segment).collect();
        assert_eq!(
            segments,
            [
                "hukou",
                "birth",
                "property",
                "residence",
                "social-insurance",
                "zones",
                "enrolment-history"
            ]
        );
        for r in Registry::ALL {
            assert_eq!(Registry::ALL[index(r)], r);
        }
    }

    #[test]
    fn decode_names_the_record_and_the_json_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Wire {
            items: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            n: u32,
        }
        let record = RecordRef::new(Registry::Property, "370811198803120042");
        let err = decode::<Wire>(&record, br#"{"items": [{"n": 1}, {"n": 50.5}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "property:370811198803120042: malformed answer from the property registry: at `items[1].n`: \
             invalid type: floating point `50.5`, expected u32 at line 1 column 31"
        );
        let err = decode::<Wire>(&record, b"<html>").unwrap_err();
        assert!(matches!(err, ReadError::Malformed { .. }), "{err}");
    }

    #[test]
    fn error_bodies_are_read_or_quoted() {
        assert_eq!(
            error_body(br#"{"code": "not_found", "message": "no such person"}"#),
            (Some("not_found".to_owned()), "no such person".to_owned())
        );
        assert_eq!(error_body(b"Not Found"), (None, "Not Found".to_owned()));
    }
}
