//! The HTTP side: one address serving all seven registries, each behind its own gateway.
//!
//! Order of checks for a request to `/{registry}/…` (documented in `docs/registry-sim.md`):
//! 1. the access-log endpoint is answered at once (key required; no faults, not logged);
//! 2. the gateway's faults: outage, latency, 503, 429, hang (the request never reaches the
//!    registry, so it is not logged);
//! 3. the API key (401, not logged);
//! 4. from here on every answer is logged: endpoint (404), method (405), consent and purpose
//!    for personal data (403), parameters (400), record lookup (404 / 200).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::dataset::{Dataset, DatasetError};
use crate::faults::{Corruption, FaultOutcome, FaultPlan, FaultSequence, OutageWindow};
use crate::records::{NationalId, PropertyUnit};
use crate::registry::Registry;

/// The key every registry accepts when the configuration names none.
pub const DEV_KEY: &str = "dev-key";
/// The only purpose for which personal data is released.
pub const PURPOSE: &str = "school-enrolment";

/// How the simulator runs: API keys, faults and the seed that makes faults replay.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The key each registry accepts; a registry not listed accepts [`DEV_KEY`].
    pub keys: BTreeMap<Registry, String>,
    /// Faults per registry (none by default).
    pub faults: FaultPlan,
    /// Seed of the fault draws.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            keys: BTreeMap::new(),
            faults: FaultPlan::none(),
            seed: 0,
        }
    }
}

impl SimConfig {
    /// Sets the key of one registry.
    pub fn with_key(mut self, registry: Registry, key: impl Into<String>) -> Self {
        self.keys.insert(registry, key.into());
        self
    }

    /// Sets the fault plan.
    pub fn with_faults(mut self, faults: FaultPlan) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The key `registry` accepts.
    pub fn key(&self, registry: Registry) -> &str {
        self.keys.get(&registry).map_or(DEV_KEY, String::as_str)
    }
}

/// One line of a registry's access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLogEntry {
    /// When the request reached the registry (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// Path and query exactly as received.
    pub path: String,
    /// `X-Consent-Id` as received, `null` when absent.
    pub consent_id: Option<String>,
    /// `X-Purpose` as received, `null` when absent.
    pub purpose: Option<String>,
    /// The status answered.
    pub status: u16,
    /// `X-Request-Id` as received: the caller's request that caused this
    /// read. Not in registries.md's log format, so absent when not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Why the simulator could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The dataset was refused.
    #[error("dataset refused: {0}")]
    Dataset(#[from] DatasetError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("registry simulator failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("registry simulator task ended abnormally: {0}")]
    Task(String),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(#[source] std::io::Error),
}

/// An access-log line as kept in memory; `at` is formatted only when the log is read.
#[derive(Debug, Clone)]
struct LogRecord {
    at: chrono::DateTime<chrono::Utc>,
    path: String,
    consent_id: Option<String>,
    purpose: Option<String>,
    status: u16,
    request_id: Option<String>,
}

impl LogRecord {
    fn entry(&self) -> AccessLogEntry {
        AccessLogEntry {
            at: self.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            path: self.path.clone(),
            consent_id: self.consent_id.clone(),
            purpose: self.purpose.clone(),
            status: self.status,
            request_id: self.request_id.clone(),
        }
    }
}

/// Per-registry state of the running simulator.
#[derive(Debug)]
struct Gate {
    key: String,
    /// `None` when the registry has no random faults: nothing is drawn.
    faults: Option<Mutex<FaultSequence>>,
    outage_window: Option<OutageWindow>,
    hang_cap: Duration,
    outage_switch: AtomicBool,
    log: Mutex<Vec<LogRecord>>,
    /// Answer corruption of this registry, and how often each corrupt record was served.
    corruption: Corruption,
    corrupt_served: Mutex<std::collections::HashMap<String, u32>>,
}

#[derive(Debug)]
struct Shared {
    dataset: Arc<Dataset>,
    gates: Vec<Gate>,
    started: Instant,
    shutdown: watch::Receiver<bool>,
    hanging: AtomicUsize,
    seed: u64,
}

impl Shared {
    fn gate(&self, registry: Registry) -> &Gate {
        &self.gates[registry.index()]
    }
}

/// The registry simulator. Start it with [`Simulator::start`].
#[derive(Debug)]
pub struct Simulator;

/// A simulator serving on a bound address. Dropping it stops the server too; prefer
/// [`RunningSimulator::shutdown`], which waits for it.
#[derive(Debug)]
pub struct RunningSimulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Binds `addr` (port 0 = an ephemeral port) and serves all seven registries from
    /// `dataset` on the current tokio runtime.
    pub async fn start(
        dataset: impl Into<Arc<Dataset>>,
        config: SimConfig,
        addr: SocketAddr,
    ) -> Result<RunningSimulator, SimError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let (tx, rx) = watch::channel(false);
        let gates = Registry::ALL
            .into_iter()
            .map(|r| {
                let faults = config.faults.registry(r);
                let random = faults.latency_ms > 0
                    || faults.jitter_ms > 0
                    || faults.p_503 > 0.0
                    || faults.p_429 > 0.0
                    || faults.p_hang > 0.0;
                Gate {
                    key: config.key(r).to_owned(),
                    outage_window: faults.outage,
                    hang_cap: Duration::from_secs(faults.hang_cap_s),
                    faults: random.then(|| Mutex::new(config.faults.sequence(config.seed, r))),
                    outage_switch: AtomicBool::new(false),
                    log: Mutex::new(Vec::new()),
                    corruption: faults.corruption.clone(),
                    corrupt_served: Mutex::new(std::collections::HashMap::new()),
                }
            })
            .collect();
        let shared = Arc::new(Shared {
            dataset: dataset.into(),
            gates,
            started: Instant::now(),
            shutdown: rx.clone(),
            hanging: AtomicUsize::new(0),
            seed: config.seed,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = listener.tap_io(|tcp| {
            // Small JSON answers: do not let Nagle hold them back.
            let _ = tcp.set_nodelay(true);
        });
        let mut stop = rx;
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|down| *down).await;
                })
                .await
        });
        Ok(RunningSimulator {
            addr: local,
            shared,
            shutdown: tx,
            task: Some(task),
        })
    }
}

impl RunningSimulator {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://IP:PORT/{registry}/v1`.
    pub fn registry_url(&self, registry: Registry) -> String {
        format!("http://{}/{}/v1", self.addr, registry.segment())
    }

    /// Puts a registry into (`true`) or out of (`false`) an outage: every request then gets
    /// `503 unavailable` (the access-log endpoint stays up). The configured outage window
    /// applies independently.
    pub fn set_outage(&self, registry: Registry, down: bool) {
        self.shared.gate(registry).outage_switch.store(down, Ordering::SeqCst);
    }

    /// The access log of one registry, in order of arrival.
    pub fn access_log(&self, registry: Registry) -> Vec<AccessLogEntry> {
        lock(&self.shared.gate(registry).log)
            .iter()
            .map(LogRecord::entry)
            .collect()
    }

    /// Empties every access log.
    pub fn clear_access_logs(&self) {
        for gate in &self.shared.gates {
            lock(&gate.log).clear();
        }
    }

    /// Requests being held open by a `hang` fault right now.
    pub fn hanging_requests(&self) -> usize {
        self.shared.hanging.load(Ordering::SeqCst)
    }

    /// The dataset being served.
    pub fn dataset(&self) -> &Dataset {
        &self.shared.dataset
    }

    /// Stops accepting, releases hung requests, waits for in-flight ones to finish.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        let _ = self.shutdown.send(true);
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SimError::Serve(e)),
                Err(e) => Err(SimError::Task(e.to_string())),
            },
            None => Ok(()),
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Loads `dataset_dir`, serves it on `addr` until Ctrl-C, then shuts down gracefully.
/// Logs the bound address and the dataset summary with `tracing` at info level.
pub async fn serve(dataset_dir: impl AsRef<Path>, addr: SocketAddr, config: SimConfig) -> Result<(), SimError> {
    let signal = async { tokio::signal::ctrl_c().await.map_err(SimError::Signal) };
    serve_until(dataset_dir, addr, config, signal).await
}

/// Like [`serve`], but runs until `stop` completes; an error from `stop` is returned after
/// the shutdown.
pub async fn serve_until<F>(
    dataset_dir: impl AsRef<Path>,
    addr: SocketAddr,
    config: SimConfig,
    stop: F,
) -> Result<(), SimError>
where
    F: Future<Output = Result<(), SimError>>,
{
    let dataset = Dataset::load(dataset_dir.as_ref())?;
    let summary = dataset.summary();
    let sim = Simulator::start(dataset, config, addr).await?;
    tracing::info!(
        addr = %sim.addr(),
        dataset = %dataset_dir.as_ref().display(),
        "registry simulator serving {summary}"
    );
    let stopped = stop.await;
    sim.shutdown().await?;
    stopped
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave a log or an RNG in a state worse than a lost entry.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `{"code": ..., "message": ...}` with a status.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        code: &'a str,
        message: String,
    }
    json(
        status,
        &ErrorBody {
            code,
            message: message.into(),
        },
    )
}

fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Decodes `%XX` escapes of a path segment; malformed escapes stay as they are.
fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_owned();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response {
    let uri = req.uri();
    let raw_path = uri.path();
    let segments: Vec<String> = raw_path
        .strip_prefix('/')
        .unwrap_or(raw_path)
        .split('/')
        .map(percent_decode)
        .collect();
    let Some(registry) = segments.first().and_then(|s| Registry::from_segment(s)) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no registry serves {raw_path}"),
        );
    };
    let rest: Vec<&str> = segments[1..].iter().map(String::as_str).collect();
    let gate = shared.gate(registry);
    let key_ok = req
        .headers()
        .get("x-api-key")
        .is_some_and(|k| k.as_bytes() == gate.key.as_bytes());
    let unauthenticated = || {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            format!("missing or wrong X-Api-Key for the {registry} registry"),
        )
    };

    if rest == ["v1", "_access-log"] {
        if !key_ok {
            return unauthenticated();
        }
        if req.method() != Method::GET {
            return method_not_allowed(req.method());
        }
        #[derive(Serialize)]
        struct Log<'a> {
            entries: &'a [AccessLogEntry],
        }
        let entries: Vec<AccessLogEntry> = lock(&gate.log).iter().map(LogRecord::entry).collect();
        return json(StatusCode::OK, &Log { entries: &entries });
    }

    if let Some(fault) = gateway_fault(&shared, registry).await {
        return fault;
    }
    if !key_ok {
        return unauthenticated();
    }

    let consent_id = header_text(req.headers(), "x-consent-id");
    let purpose = header_text(req.headers(), "x-purpose");
    let response = answer(
        &shared.dataset,
        registry,
        &rest,
        req.method(),
        uri,
        consent_id.as_deref(),
        purpose.as_deref(),
    );
    let path = uri
        .path_and_query()
        .map_or_else(|| raw_path.to_owned(), |pq| pq.as_str().to_owned());
    // Answer corruption, after the registry answered `200` (never the catalogue,
    // which is read once per round and not about anyone).
    let response = if response.status() == StatusCode::OK
        && !gate.corruption.is_off()
        && Endpoint::route(registry, &rest) != Some(Endpoint::Schools)
    {
        corrupt_answer(&shared, gate, registry, &path, response).await
    } else {
        response
    };
    let mut entry = LogRecord {
        at: chrono::Utc::now(),
        path,
        consent_id,
        purpose,
        status: response.status().as_u16(),
        request_id: header_text(req.headers(), "x-request-id"),
    };
    {
        // Stamp under the lock, so the log's order and its times agree.
        let mut log = lock(&gate.log);
        entry.at = chrono::Utc::now();
        log.push(entry);
    }
    response
}

/// `response` as the registry's corruption fault serves it for `record`.
async fn corrupt_answer(
    shared: &Shared,
    gate: &Gate,
    registry: Registry,
    record: &str,
    response: Response,
) -> Response {
    let Some(kind) = gate.corruption.kind_for(shared.seed, registry, record) else {
        return response;
    };
    let n = {
        let mut served = lock(&gate.corrupt_served);
        let count = served.entry(record.to_owned()).or_insert(0);
        *count += 1;
        *count - 1
    };
    if !gate.corruption.corrupts_answer(n) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cannot read the answer");
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(crate::corrupt::corrupt_body(kind, &bytes)))
}

/// The gateway in front of a registry: `Some(answer)` when a fault answers instead.
async fn gateway_fault(shared: &Shared, registry: Registry) -> Option<Response> {
    let gate = shared.gate(registry);
    // Draw first, whatever happens next, so the n-th request's fault depends only on n.
    let decision = gate.faults.as_ref().map(|f| lock(f).next_decision());
    let in_window = gate.outage_window.is_some_and(|w| w.contains(shared.started.elapsed()));
    if gate.outage_switch.load(Ordering::SeqCst) || in_window {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the {registry} registry is down (outage)"),
        ));
    }
    let decision = decision?;
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.outcome {
        FaultOutcome::Pass => None,
        FaultOutcome::Unavailable => Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the {registry} registry is temporarily unavailable"),
        )),
        FaultOutcome::RateLimited { retry_after_s } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests to the {registry} registry; retry after {retry_after_s} s"),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            Some(response)
        }
        FaultOutcome::Hang => {
            hang(shared, gate.hang_cap).await;
            Some(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the {registry} registry did not answer in time"),
            ))
        }
    }
}

/// Counts a hung request while it lives (a client that gives up drops the future).
struct HangGuard<'a>(&'a AtomicUsize);

impl Drop for HangGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Holds the request until the cap passes or the simulator shuts down. When the client
/// disconnects first, the server drops this future.
async fn hang(shared: &Shared, cap: Duration) {
    shared.hanging.fetch_add(1, Ordering::SeqCst);
    let _guard = HangGuard(&shared.hanging);
    let mut stop = shared.shutdown.clone();
    tokio::select! {
        () = tokio::time::sleep(cap) => {}
        _ = stop.wait_for(|down| *down) => {}
    }
}

fn method_not_allowed(method: &Method) -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed here; the registries answer GET only"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

/// The endpoints of `registries.md`, path parameters decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint<'a> {
    Person(&'a str),
    Certificate(&'a str),
    Holdings,
    Unit(&'a str),
    Permit(&'a str),
    InsuranceMonths(&'a str),
    Schools,
    Building(&'a str),
    Addresses,
    UnitUses(&'a str),
    ChildPlace(&'a str),
}

impl<'a> Endpoint<'a> {
    fn route(registry: Registry, rest: &[&'a str]) -> Option<Endpoint<'a>> {
        let param = |p: &'a str| (!p.is_empty()).then_some(p);
        match (registry, rest) {
            (Registry::Hukou, ["v1", "persons", id]) => param(id).map(Endpoint::Person),
            (Registry::Birth, ["v1", "certificates", id]) => param(id).map(Endpoint::Certificate),
            (Registry::Property, ["v1", "holdings"]) => Some(Endpoint::Holdings),
            (Registry::Property, ["v1", "units", unit]) => param(unit).map(Endpoint::Unit),
            (Registry::Residence, ["v1", "permits", id]) => param(id).map(Endpoint::Permit),
            (Registry::SocialInsurance, ["v1", "persons", id, "months"]) => param(id).map(Endpoint::InsuranceMonths),
            (Registry::Zones, ["v1", "schools"]) => Some(Endpoint::Schools),
            (Registry::Zones, ["v1", "buildings", key]) => param(key).map(Endpoint::Building),
            (Registry::Zones, ["v1", "addresses"]) => Some(Endpoint::Addresses),
            (Registry::EnrolmentHistory, ["v1", "units", unit]) => param(unit).map(Endpoint::UnitUses),
            (Registry::EnrolmentHistory, ["v1", "children", id]) => param(id).map(Endpoint::ChildPlace),
            _ => None,
        }
    }

    /// Everything but the three public school-zone endpoints is personal data.
    fn is_personal(&self) -> bool {
        !matches!(self, Endpoint::Schools | Endpoint::Building(_) | Endpoint::Addresses)
    }
}

/// An error answer of the registry proper: `{"code", "message"}` with a status.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn respond(self) -> Response {
        error(self.status, self.code, self.message)
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "bad_request",
        message: message.into(),
    }
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: message.into(),
    }
}

fn national_id(raw: &str) -> Result<NationalId, ApiError> {
    NationalId::parse(raw).map_err(|e| bad_request(format!("`{raw}` is not a valid national ID: {e}")))
}

/// The first value of each query parameter.
fn query(uri: &axum::http::Uri) -> Result<BTreeMap<String, String>, ApiError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| bad_request(format!("malformed query string: {e}")))?;
    let mut params = BTreeMap::new();
    for (k, v) in pairs {
        params.entry(k).or_insert(v);
    }
    Ok(params)
}

fn required<'p>(params: &'p BTreeMap<String, String>, name: &str) -> Result<&'p str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| bad_request(format!("query parameter `{name}` is required")))
}

/// Everything after the key check; synchronous, so log order is arrival order.
fn answer(
    dataset: &Dataset,
    registry: Registry,
    rest: &[&str],
    method: &Method,
    uri: &axum::http::Uri,
    consent_id: Option<&str>,
    purpose: Option<&str>,
) -> Response {
    let Some(endpoint) = Endpoint::route(registry, rest) else {
        return not_found(format!("the {registry} registry has no endpoint {}", uri.path())).respond();
    };
    if method != Method::GET {
        return method_not_allowed(method);
    }
    if endpoint.is_personal() {
        let consent = consent_id.map(str::trim).filter(|c| !c.is_empty());
        let purpose = purpose.map(str::trim).filter(|p| !p.is_empty());
        match (consent, purpose) {
            (Some(_), Some(PURPOSE)) => {}
            (Some(_), Some(other)) => {
                return error(
                    StatusCode::FORBIDDEN,
                    "purpose_not_allowed",
                    format!("personal data is released for `{PURPOSE}` only, not for `{other}`"),
                );
            }
            _ => {
                return error(
                    StatusCode::FORBIDDEN,
                    "consent_required",
                    format!("personal data needs X-Consent-Id and X-Purpose: {PURPOSE}"),
                );
            }
        }
    }
    serve_endpoint(dataset, endpoint, uri).unwrap_or_else(ApiError::respond)
}

fn ok<T: Serialize + ?Sized>(body: &T) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, body))
}

fn serve_endpoint(dataset: &Dataset, endpoint: Endpoint<'_>, uri: &axum::http::Uri) -> Result<Response, ApiError> {
    match endpoint {
        Endpoint::Person(raw) => {
            let id = national_id(raw)?;
            match dataset.persons.get(id.as_str()) {
                Some(p) => ok(p),
                None => Err(not_found(format!(
                    "no household registration in the province for {}",
                    id.as_str()
                ))),
            }
        }
        Endpoint::Certificate(raw) => {
            let id = national_id(raw)?;
            match dataset.births.get(id.as_str()) {
                Some(b) => ok(b),
                None => Err(not_found(format!("no birth certificate for child {}", id.as_str()))),
            }
        }
        Endpoint::Holdings => {
            let params = query(uri)?;
            let id = national_id(required(&params, "owner_id")?)?;
            #[derive(Serialize)]
            struct Holdings<'a> {
                holdings: Vec<&'a PropertyUnit>,
            }
            let holdings = dataset
                .holdings
                .get(id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|unit_no| dataset.units.get(unit_no))
                .collect();
            ok(&Holdings { holdings })
        }
        Endpoint::Unit(unit_no) => match dataset.units.get(unit_no) {
            Some(u) => ok(u),
            None => Err(not_found(format!("no property unit {unit_no}"))),
        },
        Endpoint::Permit(raw) => {
            let id = national_id(raw)?;
            match dataset.permits.get(id.as_str()) {
                Some(p) => ok(p),
                None => Err(not_found(format!("no residence permit held by {}", id.as_str()))),
            }
        }
        Endpoint::InsuranceMonths(raw) => {
            let id = national_id(raw)?;
            let params = query(uri)?;
            let month = |name: &str| -> Result<String, ApiError> {
                let m = required(&params, name)?;
                if crate::ids::is_month(m) {
                    Ok(m.to_owned())
                } else {
                    Err(bad_request(format!(
                        "query parameter `{name}` must be a month YYYY-MM, found `{m}`"
                    )))
                }
            };
            let (from, to) = (month("from")?, month("to")?);
            #[derive(Serialize)]
            struct Months<'a> {
                id: &'a str,
                months: Vec<&'a str>,
            }
            let months = match dataset.insurance.get(id.as_str()) {
                // On file ascending, a month listed twice served twice
                // (registries.md: dirt is served as it stands).
                Some(all) if from <= to => all
                    .iter()
                    .filter(|m| (&from..=&to).contains(m))
                    .map(String::as_str)
                    .collect(),
                _ => Vec::new(),
            };
            ok(&Months {
                id: id.as_str(),
                months,
            })
        }
        Endpoint::Schools => {
            let schools: Vec<_> = dataset.schools.values().collect();
            ok(&schools)
        }
        Endpoint::Building(key) => match dataset.buildings.get(key) {
            Some(b) => ok(&b.body()),
            None => Err(not_found(format!("no building {key}"))),
        },
        Endpoint::Addresses => {
            let params = query(uri)?;
            let text = required(&params, "text")?;
            #[derive(Serialize)]
            struct Matches {
                matches: Vec<crate::address::AddressMatch>,
            }
            ok(&Matches {
                matches: dataset.resolve_address(text),
            })
        }
        Endpoint::UnitUses(unit_no) => {
            #[derive(Serialize)]
            struct Uses<'a> {
                unit_no: &'a str,
                uses: &'a [crate::records::SeatUse],
            }
            let uses = dataset.unit_uses.get(unit_no).map_or(&[][..], |u| u.uses.as_slice());
            ok(&Uses { unit_no, uses })
        }
        Endpoint::ChildPlace(raw) => {
            let id = national_id(raw)?;
            match dataset.children.get(id.as_str()) {
                Some(c) => ok(c),
                None => Err(not_found(format!("child {} is not at school", id.as_str()))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_of_segments() {
        assert_eq!(percent_decode("abc"), "abc");
        assert_eq!(percent_decode("37081120201115002%58"), "37081120201115002X");
        assert_eq!(percent_decode("%E5%A4%AA"), "太");
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz1"), "%zz1");
    }

    #[test]
    fn routes_and_personal_data() {
        assert_eq!(
            Endpoint::route(Registry::Hukou, &["v1", "persons", "x"]),
            Some(Endpoint::Person("x"))
        );
        assert_eq!(Endpoint::route(Registry::Hukou, &["v1", "persons", ""]), None);
        assert_eq!(Endpoint::route(Registry::Birth, &["v1", "persons", "x"]), None);
        assert_eq!(
            Endpoint::route(Registry::SocialInsurance, &["v1", "persons", "x", "months"]),
            Some(Endpoint::InsuranceMonths("x"))
        );
        assert!(!Endpoint::Schools.is_personal());
        assert!(!Endpoint::Addresses.is_personal());
        assert!(!Endpoint::Building("k").is_personal());
        assert!(Endpoint::UnitUses("u").is_personal());
        assert!(Endpoint::Unit("u").is_personal());
    }
}
