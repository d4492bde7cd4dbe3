//! Helpers shared by the integration tests: a simulator on an ephemeral loopback port and
//! a small HTTP client that records exchanges for snapshots.

#![allow(dead_code)]

use std::path::PathBuf;

use enrol_registry_sim::{Dataset, RunningSimulator, SimConfig, Simulator};
use serde_json::{Value, json};

pub const KEY: &str = "dev-key";
pub const CONSENT: &str = "CNS-2027-000123";

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/basic")
}

pub fn dataset() -> Dataset {
    match Dataset::load(data_dir()) {
        Ok(ds) => ds,
        Err(e) => panic!("test dataset refused: {e}"),
    }
}

pub async fn start(config: SimConfig) -> RunningSimulator {
    match Simulator::start(dataset(), config, "127.0.0.1:0".parse().expect("addr")).await {
        Ok(sim) => sim,
        Err(e) => panic!("simulator did not start: {e}"),
    }
}

/// Which headers a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// No header at all.
    Nothing,
    /// `X-Api-Key` only.
    Key,
    /// A given key only.
    WrongKey(&'a str),
    /// Key, consent id and the right purpose.
    Personal,
    /// Key and consent id, no purpose.
    ConsentOnly,
    /// Key and purpose, no consent id.
    PurposeOnly,
    /// Key, consent id and another purpose.
    OtherPurpose(&'a str),
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

/// One request and its answer, as snapshots show it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Exchange {
    pub fn code(&self) -> Option<&str> {
        self.body.get("code").and_then(Value::as_str)
    }
}

impl Client {
    pub fn new(sim: &RunningSimulator) -> Client {
        Client {
            base: sim.base_url(),
            http: reqwest::Client::new(),
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str, auth: Auth<'_>) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        let (key, consent, purpose) = match auth {
            Auth::Nothing => (None, None, None),
            Auth::Key => (Some(KEY), None, None),
            Auth::WrongKey(k) => (Some(k), None, None),
            Auth::Personal => (Some(KEY), Some(CONSENT), Some("school-enrolment")),
            Auth::ConsentOnly => (Some(KEY), Some(CONSENT), None),
            Auth::PurposeOnly => (Some(KEY), None, Some("school-enrolment")),
            Auth::OtherPurpose(p) => (Some(KEY), Some(CONSENT), Some(p)),
        };
        if let Some(k) = key {
            rb = rb.header("X-Api-Key", k);
        }
        if let Some(c) = consent {
            rb = rb.header("X-Consent-Id", c);
        }
        if let Some(p) = purpose {
            rb = rb.header("X-Purpose", p);
        }
        rb
    }

    pub async fn send(rb: reqwest::RequestBuilder) -> Exchange {
        let response = match rb.send().await {
            Ok(r) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&bytes)),
            }
        };
        Exchange { status, headers, body }
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Exchange {
        Client::send(self.request(reqwest::Method::GET, path, auth)).await
    }

    /// Runs the requests in order and returns a transcript for a snapshot.
    pub async fn transcript(&self, cases: &[(&str, Auth<'_>)]) -> Value {
        let mut out = Vec::new();
        for (path, auth) in cases {
            let ex = self.get(path, *auth).await;
            assert_error_shape(&ex);
            out.push(json!({
                "request": format!("GET {path} ({auth:?})"),
                "status": ex.status,
                "body": ex.body,
            }));
        }
        Value::Array(out)
    }
}

/// An error body is always exactly `{"code", "message"}`, with a snake_case code.
pub fn assert_error_shape(ex: &Exchange) {
    if ex.status >= 400 {
        let obj = ex.body.as_object().expect("error body is an object");
        assert_eq!(obj.len(), 2, "error body {}", ex.body);
        let code = obj.get("code").and_then(Value::as_str).expect("code");
        assert!(
            !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "code {code}"
        );
        assert!(
            obj.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(
            ex.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }
}
