//! Shared set-up of the API tests: a store on each backend, the real
//! evidence source (registry adapters) against the registry simulator, and
//! requests in-process or over a real socket.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use enrol_domain::{Application, NationalId};
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{Orchestrator, RegistryEvidence, RoundSeed, VerifyOptions};
use enrol_registry_sim::{Dataset, RunningSimulator, SimConfig, Simulator};
use enrol_store::testing::TestDb;
use serde_json::Value;
use tower::ServiceExt;

pub const APP_KEY: &str = "gov-app-key-0123456789";
pub const KIOSK_KEY: &str = "kiosk-key-0123456789";
pub const MANAGER: &str = "manager-token-0123456789";
pub const REVIEWER: &str = "reviewer-token-0123456789";
pub const VIEWER: &str = "viewer-token-0123456789";
pub const ROUND: &str = "2027-primary";
/// The whole seed of the test rounds (a demo round takes its seed whole).
pub const SEED: &str = "api-test-seed";

/// Two apps and an officer of each role.
pub fn config() -> enrol_api::ApiConfig {
    let mut config = enrol_api::ApiConfig::empty();
    config.add_app("gov-app", APP_KEY).unwrap();
    config.add_app("kiosk", KIOSK_KEY).unwrap();
    config
        .add_officer("wang.fang", enrol_api::Role::RoundManager, MANAGER)
        .unwrap();
    config
        .add_officer("li.ming", enrol_api::Role::Reviewer, REVIEWER)
        .unwrap();
    config.add_officer("zhao.lei", enrol_api::Role::Viewer, VIEWER).unwrap();
    config.body_limit = 8 * 1024;
    config.verify = VerifyOptions {
        concurrency: 16,
        passes: 3,
        retry_delay: std::time::Duration::from_millis(50),
        leave_reviews_unplaced: false,
        ..VerifyOptions::default()
    };
    config
}

/// Client settings for tests: short timeouts, generous retries.
pub fn registries_config(base_url: &str) -> RegistriesConfig {
    let mut c = RegistryConfig::new(base_url, enrol_registry_sim::DEV_KEY);
    c.attempt_timeout_ms = 2_000;
    c.deadline_ms = 20_000;
    c.max_retries = 8;
    c.backoff_min_ms = 10;
    c.backoff_max_ms = 100;
    RegistriesConfig::uniform(c)
}

/// The real evidence source, against `base_url`.
pub fn evidence(base_url: &str) -> Arc<RegistryEvidence> {
    Arc::new(RegistryEvidence::connect(&registries_config(base_url), GatherOptions::default()).expect("clients"))
}

/// An API over a fresh store, its evidence source aimed at `registries`.
pub struct Api {
    pub router: Router,
    pub orchestrator: Orchestrator,
    pub db: TestDb,
}

impl Api {
    pub fn new(db: TestDb, registries: &str) -> Api {
        Api::with_config(db, registries, config())
    }

    /// A development (demo or audit) server: whole round seeds are accepted.
    pub fn dev(db: TestDb, registries: &str) -> Api {
        let mut config = config();
        config.dev = true;
        Api::with_config(db, registries, config)
    }

    pub fn with_config(db: TestDb, registries: &str, config: enrol_api::ApiConfig) -> Api {
        let orchestrator = Orchestrator::new(db.store.clone());
        let router = enrol_api::router(orchestrator.clone(), evidence(registries), config);
        Api {
            router,
            orchestrator,
            db,
        }
    }

    /// Opens the sample round with a whole seed, as a demo does.
    pub async fn open_round(&self) {
        self.orchestrator
            .create_round(
                enrol_rules::SAMPLE_POLICY_TOML,
                RoundSeed::Whole(SEED.to_owned()),
                "setup",
            )
            .await
            .expect("round opens");
    }

    pub async fn call(&self, request: Call) -> Answer {
        let response = self.router.clone().oneshot(request.build()).await.expect("infallible");
        Answer::read(response).await
    }
}

/// One request, built fluently.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Call {
        Call {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn get(path: impl Into<String>) -> Call {
        Call::new(Method::GET, path)
    }
    pub fn post(path: impl Into<String>) -> Call {
        Call::new(Method::POST, path)
    }
    pub fn delete(path: impl Into<String>) -> Call {
        Call::new(Method::DELETE, path)
    }
    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    /// As the upstream app `gov-app`, for the signed-in `citizen`.
    pub fn citizen(self, citizen: &str) -> Call {
        self.header("X-Api-Key", APP_KEY).header("X-Citizen-Id", citizen)
    }
    pub fn officer(self, token: &str) -> Call {
        self.header("Authorization", &format!("Bearer {token}"))
    }
    pub fn json(mut self, body: &Value) -> Call {
        self.body = Some(serde_json::to_vec(body).unwrap());
        self.header("Content-Type", "application/json")
    }
    pub fn raw(mut self, body: &str) -> Call {
        self.body = Some(body.as_bytes().to_vec());
        self.header("Content-Type", "application/json")
    }

    pub fn build(&self) -> Request<Body> {
        let mut builder = Request::builder().method(self.method.clone()).uri(&self.path);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(self.body.clone().map(Body::from).unwrap_or_else(Body::empty))
            .unwrap()
    }

    /// The same request over a real socket.
    pub async fn send(&self, client: &reqwest::Client, base: &str) -> Answer {
        let method = reqwest::Method::from_bytes(self.method.as_str().as_bytes()).unwrap();
        let mut request = client.request(method, format!("{base}{}", self.path));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let response = request.send().await.expect("request sent");
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("body read");
        Answer::from_parts(status, content_type, location, text)
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub location: Option<String>,
    /// `Retry-After`, when sent (in-process calls only).
    pub retry_after: Option<String>,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub async fn read(response: axum::response::Response) -> Answer {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let mut answer = Answer::from_parts(
            status,
            content_type,
            location,
            String::from_utf8(bytes.to_vec()).unwrap(),
        );
        answer.retry_after = retry_after;
        answer
    }

    fn from_parts(status: StatusCode, content_type: String, location: Option<String>, text: String) -> Answer {
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            location,
            retry_after: None,
            text,
            json,
        }
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Answer {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem of this status and kind.
    #[track_caller]
    pub fn problem(&self, status: u16, kind: &str) -> &Answer {
        self.expect(status);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.text);
        assert_eq!(self.json["status"], status);
        assert_eq!(
            self.json["type"],
            format!("{}{kind}", enrol_api::PROBLEM_TYPE_PREFIX),
            "{}",
            self.text
        );
        self
    }
}

/// A valid national ID from a birth date `yyyymmdd` and a sequence number.
pub fn person(birth: &str, seq: u32) -> NationalId {
    NationalId::from_prefix(&format!("370811{birth}{seq:03}")).expect("valid prefix")
}

/// A hand-made application of the sample round.
pub fn application(id: u128, child: &NationalId, applicant: &NationalId, guardians: &[&NationalId]) -> Value {
    serde_json::json!({
        "application_id": uuid::Uuid::from_u128(id).to_string(),
        "round": ROUND,
        "child_id": child,
        "applicant_id": applicant,
        "guardian_ids": guardians,
        "sibling_ids": [],
        "choices": ["S001"],
        "consent_id": format!("CNS-{id}"),
        "submitted_at": "2027-05-06T09:00:00+08:00",
    })
}

/// A generated city served by the registry simulator.
pub struct City {
    pub sim: RunningSimulator,
    pub applications: Vec<Application>,
    /// The birth registry's certificates: who each child's parents are.
    pub births: Vec<enrol_city::wire::Birth>,
    _dir: tempfile::TempDir,
}

impl City {
    pub async fn start(families: usize, seed: u64) -> City {
        let city = enrol_city::generate(&enrol_city::CityConfig::new(families, seed));
        let dir = tempfile::tempdir().expect("temporary folder");
        city.write_to(dir.path()).expect("city written");
        let dataset = Dataset::load(dir.path()).expect("generated city loads");
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let sim = Simulator::start(dataset, SimConfig::default(), addr)
            .await
            .expect("simulator starts");
        City {
            sim,
            applications: city.applications,
            births: city.births,
            _dir: dir,
        }
    }
}

/// A server on a real socket, stopped by [`Server::stop`].
pub struct Server {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(router: Router) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(enrol_api::serve(listener, router, async move {
            let _ = rx.await;
        }));
        Server {
            base,
            stop: Some(tx),
            task,
        }
    }

    /// Graceful shutdown: returns once the server has stopped.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.await.expect("server task").expect("server ran");
    }
}

/// Not an address anything listens on: for tests that never verify.
pub const NO_REGISTRIES: &str = "http://127.0.0.1:9";

/// Replaces values that vary between runs (times) for snapshots.
pub fn redact_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key.ends_with("_at") && v.is_string() {
                    *v = Value::String("[time]".to_owned());
                } else {
                    redact_times(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_times),
        _ => {}
    }
}
