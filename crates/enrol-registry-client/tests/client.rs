//! The client against a small scripted registry on a real socket on 127.0.0.1.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use enrol_domain::{ConsentId, Registry};
use enrol_registry_client::{
    Access, AccessLog, AccessOutcome, CallError, RegistriesConfig, RegistryClients, RegistryConfig, Transient,
};

/// What the scripted registry does with the next request.
#[derive(Debug, Clone)]
enum Script {
    Answer(u16, &'static str),
    RateLimited(u64),
    Hang,
    Slow(u64),
}

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    at: Instant,
}

#[derive(Debug, Default)]
struct ScriptedRegistry {
    script: Mutex<VecDeque<Script>>,
    /// Answer when the script runs out.
    default: Mutex<Option<Script>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

async fn handle(State(reg): State<Arc<ScriptedRegistry>>, req: Request) -> Response {
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    reg.seen.lock().unwrap().push(Seen {
        path,
        headers: req.headers().clone(),
        at: Instant::now(),
    });
    let now = reg.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    reg.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let next = reg.script.lock().unwrap().pop_front();
    let next = next.or_else(|| reg.default.lock().unwrap().clone());
    let response = match next.unwrap_or(Script::Answer(200, "{}")) {
        Script::Answer(status, body) => (StatusCode::from_u16(status).unwrap(), body).into_response(),
        Script::RateLimited(s) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", s.to_string())],
            r#"{"code": "rate_limited", "message": "slow down"}"#,
        )
            .into_response(),
        Script::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Script::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (StatusCode::OK, "{}").into_response()
        }
    };
    reg.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

struct Fixture {
    registry: Arc<ScriptedRegistry>,
    base_url: String,
    log: Arc<AccessLog>,
}

impl Fixture {
    async fn start(script: Vec<Script>) -> Fixture {
        let registry = Arc::new(ScriptedRegistry {
            script: Mutex::new(script.into()),
            ..ScriptedRegistry::default()
        });
        let app = Router::new().fallback(handle).with_state(registry.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fixture {
            registry,
            base_url: format!("http://{addr}"),
            log: Arc::new(AccessLog::new()),
        }
    }

    fn clients(&self, tune: impl Fn(&mut RegistryConfig)) -> RegistryClients {
        let mut config = RegistryConfig::new(&self.base_url, "dev-key");
        config.attempt_timeout_ms = 300;
        config.deadline_ms = 5_000;
        config.backoff_min_ms = 10;
        config.backoff_max_ms = 50;
        tune(&mut config);
        RegistryClients::new(&RegistriesConfig::uniform(config), self.log.clone()).unwrap()
    }

    fn seen(&self) -> Vec<Seen> {
        self.registry.seen.lock().unwrap().clone()
    }

    fn set_default(&self, s: Script) {
        *self.registry.default.lock().unwrap() = Some(s);
    }
}

fn consent() -> ConsentId {
    ConsentId::new("CNS-2027-000123")
}

const NOT_FOUND: &str = r#"{"code": "not_found", "message": "no such person"}"#;
const UNAVAILABLE: &str = r#"{"code": "unavailable", "message": "down for maintenance"}"#;

#[tokio::test]
async fn every_call_carries_key_purpose_and_consent_and_is_recorded() {
    let fx = Fixture::start(vec![Script::Answer(200, r#"{"ok": true}"#)]).await;
    let clients = fx.clients(|_| {});
    let reply = clients
        .get(Registry::Hukou)
        .get(&["persons", "370811202011150023"], &[], Some(&consent()))
        .await
        .unwrap();
    assert_eq!(reply.body.as_deref(), Some(&br#"{"ok": true}"#[..]));

    let seen = fx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/hukou/v1/persons/370811202011150023");
    let h = &seen[0].headers;
    assert_eq!(h["x-api-key"], "dev-key");
    assert_eq!(h["x-purpose"], "school-enrolment");
    assert_eq!(h["x-consent-id"], "CNS-2027-000123");

    let log = fx.log.snapshot();
    assert_eq!(log.len(), 1);
    let Access {
        registry,
        path,
        consent_id,
        purpose,
        outcome,
        attempt,
        ..
    } = log[0].clone();
    assert_eq!(registry, Registry::Hukou);
    assert_eq!(path, "/hukou/v1/persons/370811202011150023");
    assert_eq!(consent_id, Some(consent()));
    assert_eq!(purpose, "school-enrolment");
    assert_eq!(outcome, AccessOutcome::Answered { status: 200 });
    assert_eq!(attempt, 1);
}

#[tokio::test]
async fn record_ids_and_texts_are_encoded_not_spliced() {
    let fx = Fixture::start(vec![]).await;
    let clients = fx.clients(|_| {});
    let insurance = clients.get(Registry::Insurance);
    insurance
        .get(
            &["persons", "a/b?c", "months"],
            &[("from", "2025-05"), ("to", "2027-04")],
            Some(&consent()),
        )
        .await
        .unwrap();
    clients
        .get(Registry::Zones)
        .get(&["addresses"], &[("text", "太白中路 143号&x=1")], Some(&consent()))
        .await
        .unwrap();
    let seen = fx.seen();
    assert_eq!(
        seen[0].path,
        "/social-insurance/v1/persons/a%2Fb%3Fc/months?from=2025-05&to=2027-04"
    );
    assert_eq!(
        seen[1].path,
        "/zones/v1/addresses?text=%E5%A4%AA%E7%99%BD%E4%B8%AD%E8%B7%AF+143%E5%8F%B7%26x%3D1"
    );
    // The engine's own record names the path exactly as the registry saw it.
    let log = fx.log.snapshot();
    assert_eq!(log[0].path, seen[0].path);
    assert_eq!(log[1].path, seen[1].path);
}

#[tokio::test]
async fn not_found_is_an_answer_only_with_the_registry_code() {
    let fx = Fixture::start(vec![Script::Answer(404, NOT_FOUND), Script::Answer(404, "Not Found")]).await;
    let clients = fx.clients(|_| {});
    let birth = clients.get(Registry::Birth);
    let reply = birth.get(&["certificates", "x"], &[], Some(&consent())).await.unwrap();
    assert_eq!(reply.body, None);
    let err = birth
        .get(&["certificates", "x"], &[], Some(&consent()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::UnexpectedStatus {
                status: 404,
                code: None,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fx.seen().len(), 2, "neither is retried");
}

#[tokio::test]
async fn transient_failures_are_retried_until_an_answer() {
    let fx = Fixture::start(vec![
        Script::Answer(503, UNAVAILABLE),
        Script::Hang,
        Script::Answer(503, UNAVAILABLE),
        Script::Answer(200, "{}"),
    ])
    .await;
    let clients = fx.clients(|c| c.attempt_timeout_ms = 200);
    let reply = clients
        .get(Registry::Property)
        .get(&["holdings"], &[("owner_id", "x")], Some(&consent()))
        .await;
    assert!(reply.is_ok(), "{reply:?}");
    let outcomes: Vec<(u32, AccessOutcome)> = fx.log.snapshot().iter().map(|a| (a.attempt, a.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (1, AccessOutcome::Answered { status: 503 }),
            (2, AccessOutcome::TimedOut),
            (3, AccessOutcome::Answered { status: 503 }),
            (4, AccessOutcome::Answered { status: 200 }),
        ]
    );
    assert!(fx.log.snapshot().iter().all(|a| a.consent_id == Some(consent())));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let fx = Fixture::start(vec![Script::RateLimited(1), Script::Answer(200, "{}")]).await;
    let clients = fx.clients(|_| {});
    clients
        .get(Registry::Residence)
        .get(&["permits", "x"], &[], Some(&consent()))
        .await
        .unwrap();
    let seen = fx.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_secs(1),
        "came back after {gap:?}, asked to wait 1 s"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_gives_up_at_once() {
    let fx = Fixture::start(vec![Script::RateLimited(60)]).await;
    let clients = fx.clients(|c| c.deadline_ms = 2_000);
    let started = Instant::now();
    let err = clients
        .get(Registry::Residence)
        .get(&["permits", "x"], &[], Some(&consent()))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(60));
    match err {
        CallError::Unavailable { attempts, last, .. } => {
            assert_eq!(attempts, 1);
            assert_eq!(last, Transient::RateLimited(Some(Duration::from_secs(60))));
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_registry_that_stays_down_is_unavailable_after_the_retries() {
    let fx = Fixture::start(vec![]).await;
    fx.set_default(Script::Answer(503, UNAVAILABLE));
    let clients = fx.clients(|c| {
        c.max_retries = 3;
        c.breaker_failures = 100;
    });
    let err = clients
        .get(Registry::Birth)
        .get(&["certificates", "370811202011150023"], &[], Some(&consent()))
        .await;
    let err = err.unwrap_err();
    assert!(err.is_unavailable());
    assert!(
        err.to_string()
            .starts_with("birth registry unavailable for /birth/v1/certificates/370811202011150023 after 4 attempt(s)"),
        "{err}"
    );
    assert_eq!(fx.seen().len(), 4);
}

#[tokio::test]
async fn hanging_registry_meets_the_deadline() {
    let fx = Fixture::start(vec![]).await;
    fx.set_default(Script::Hang);
    let clients = fx.clients(|c| {
        c.attempt_timeout_ms = 100;
        c.deadline_ms = 400;
        c.max_retries = 100;
        c.breaker_failures = 100;
    });
    let started = Instant::now();
    let err = clients
        .get(Registry::Hukou)
        .get(&["persons", "x"], &[], Some(&consent()))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        CallError::Unavailable {
            last: Transient::Timeout(_),
            attempts,
            ..
        } => assert!(*attempts >= 2, "{err}"),
        other => panic!("{other}"),
    }
    assert!(fx.log.snapshot().iter().all(|a| a.outcome == AccessOutcome::TimedOut));
}

/// A caller that stops waiting (a submission's short deadline) drops the
/// request in flight: it left the engine, so it is recorded, as abandoned.
#[tokio::test]
async fn a_request_the_caller_stops_waiting_for_is_recorded_as_abandoned() {
    let fx = Fixture::start(vec![]).await;
    fx.set_default(Script::Hang);
    let clients = fx.clients(|c| {
        c.attempt_timeout_ms = 10_000;
        c.deadline_ms = 20_000;
    });
    let consent = consent();
    let call = clients
        .get(Registry::Birth)
        .get(&["certificates", "x"], &[], Some(&consent));
    assert!(tokio::time::timeout(Duration::from_millis(200), call).await.is_err());
    let log = fx.log.snapshot();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].outcome, AccessOutcome::Abandoned);
    assert_eq!(log[0].path, "/birth/v1/certificates/x");
    assert_eq!(log[0].consent_id, Some(consent));
    assert!(log[0].latency >= Duration::from_millis(200), "{:?}", log[0].latency);
}

#[tokio::test]
async fn refusals_are_final() {
    let fx = Fixture::start(vec![
        Script::Answer(401, r#"{"code": "unauthenticated", "message": "bad key"}"#),
        Script::Answer(403, r#"{"code": "consent_required", "message": "no consent"}"#),
        Script::Answer(403, r#"{"code": "purpose_not_allowed", "message": "marketing"}"#),
        Script::Answer(500, r#"{"code": "internal", "message": "oops"}"#),
        Script::Answer(400, "bad"),
    ])
    .await;
    let clients = fx.clients(|_| {});
    let hukou = clients.get(Registry::Hukou);
    let consent = consent();
    let call = || hukou.get(&["persons", "x"], &[], Some(&consent));
    assert!(matches!(call().await, Err(CallError::Unauthenticated { message, .. }) if message == "bad key"));
    assert!(matches!(call().await, Err(CallError::ConsentRefused { code, .. }) if code == "consent_required"));
    assert!(matches!(call().await, Err(CallError::ConsentRefused { code, .. }) if code == "purpose_not_allowed"));
    assert!(matches!(
        call().await,
        Err(CallError::UnexpectedStatus { status: 500, .. })
    ));
    assert!(matches!(
        call().await,
        Err(CallError::UnexpectedStatus { status: 400, .. })
    ));
    assert_eq!(fx.seen().len(), 5, "no refusal is retried");
}

#[tokio::test]
async fn the_breaker_opens_and_spares_the_registry() {
    let fx = Fixture::start(vec![]).await;
    fx.set_default(Script::Answer(503, UNAVAILABLE));
    let clients = fx.clients(|c| {
        c.breaker_failures = 3;
        c.breaker_open_ms = 60_000;
        c.breaker_open_max_ms = 60_000;
        c.max_retries = 10;
        c.deadline_ms = 500;
    });
    let zones = clients.get(Registry::Zones);
    let err = zones
        .get(&["buildings", "370811-012-00143"], &[], Some(&consent()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Unavailable {
                last: Transient::CircuitOpen,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        fx.seen().len(),
        3,
        "three failures open the breaker; the rest stay local"
    );
    let err = zones
        .get(&["buildings", "370811-012-00144"], &[], Some(&consent()))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert_eq!(fx.seen().len(), 3, "an open breaker sends nothing");
    assert_eq!(fx.log.len(), 3, "refused locally is not an access");
    // Other registries have their own breaker.
    fx.set_default(Script::Answer(200, "{}"));
    clients
        .get(Registry::History)
        .get(&["children", "x"], &[], Some(&consent()))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_breaker_closes_after_a_successful_probe() {
    let fx = Fixture::start(vec![
        Script::Answer(503, UNAVAILABLE),
        Script::Answer(503, UNAVAILABLE),
        Script::Answer(200, "{}"),
    ])
    .await;
    let clients = fx.clients(|c| {
        c.breaker_failures = 2;
        c.breaker_open_ms = 100;
        c.breaker_open_max_ms = 100;
        c.max_retries = 20;
        c.backoff_min_ms = 20;
        c.backoff_max_ms = 40;
    });
    let reply = clients.get(Registry::Zones).get(&["schools"], &[], None).await;
    assert!(reply.is_ok(), "{reply:?}");
    assert_eq!(fx.seen().len(), 3);
    assert_eq!(
        fx.log.snapshot()[2].consent_id,
        None,
        "the catalogue is read without consent"
    );
}

#[tokio::test]
async fn the_concurrency_limit_holds() {
    let fx = Fixture::start(vec![]).await;
    fx.set_default(Script::Slow(50));
    let clients = fx.clients(|c| c.concurrency = 3);
    let hukou = clients.get(Registry::Hukou).clone();
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let hukou = hukou.clone();
            tokio::spawn(async move { hukou.get(&["persons", &i.to_string()], &[], Some(&consent())).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    let max = fx.registry.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "{max} requests in flight with a limit of 3");
    assert_eq!(fx.seen().len(), 20);
}

#[tokio::test]
async fn a_closed_port_is_a_connection_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let log = Arc::new(AccessLog::new());
    let mut config = RegistryConfig::new(format!("http://{addr}"), "dev-key");
    config.max_retries = 2;
    config.backoff_min_ms = 5;
    let clients = RegistryClients::new(&RegistriesConfig::uniform(config), log.clone()).unwrap();
    let err = clients
        .get(Registry::Hukou)
        .get(&["persons", "x"], &[], Some(&consent()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Unavailable {
                attempts: 3,
                last: Transient::Connection(_),
                ..
            }
        ),
        "{err}"
    );
    assert!(
        log.snapshot()
            .iter()
            .all(|a| a.outcome == AccessOutcome::ConnectionFailed)
    );
}

#[test]
fn configuration_is_checked() {
    let log = Arc::new(AccessLog::new());
    let bad = |tune: fn(&mut RegistryConfig)| {
        let mut c = RegistryConfig::new("http://127.0.0.1:1", "dev-key");
        tune(&mut c);
        RegistryClients::new(&RegistriesConfig::uniform(c), log.clone())
            .unwrap_err()
            .to_string()
    };
    assert!(bad(|c| c.base_url = "ftp://registry.example".into()).contains("http or https"));
    assert!(bad(|c| c.base_url = "not a url".into()).contains("base_url"));
    assert!(bad(|c| c.api_key = String::new()).contains("api_key"));
    assert!(bad(|c| c.concurrency = 0).contains("concurrency"));
    assert!(bad(|c| c.attempt_timeout_ms = 0).contains("attempt_timeout_ms"));
    assert!(bad(|c| c.backoff_max_ms = 1).contains("backoff_max_ms"));
    let mut partial = RegistriesConfig::uniform(RegistryConfig::new("http://127.0.0.1:1", "k"));
    partial.registries.remove(&Registry::History);
    assert_eq!(
        RegistryClients::new(&partial, log).unwrap_err().to_string(),
        "no configuration for the history registry"
    );
}

#[test]
fn configuration_reads_from_toml_with_defaults() {
    let text = r#"
        [registries.hukou]
        base_url = "http://127.0.0.1:8080"
        api_key = "k1"
        concurrency = 32
        [registries.birth]
        base_url = "http://127.0.0.1:8080"
        api_key = "k2"
    "#;
    let config: RegistriesConfig = toml::from_str(text).unwrap();
    assert_eq!(config.purpose, "school-enrolment");
    insta::assert_json_snapshot!(config, @r#"
    {
      "purpose": "school-enrolment",
      "registries": {
        "hukou": {
          "base_url": "http://127.0.0.1:8080",
          "api_key": "k1",
          "attempt_timeout_ms": 2000,
          "deadline_ms": 20000,
          "max_retries": 8,
          "backoff_min_ms": 50,
          "backoff_max_ms": 2000,
          "concurrency": 32,
          "breaker_failures": 10,
          "breaker_open_ms": 1000,
          "breaker_open_max_ms": 30000,
          "unusable_retries": 2
        },
        "birth": {
          "base_url": "http://127.0.0.1:8080",
          "api_key": "k2",
          "attempt_timeout_ms": 2000,
          "deadline_ms": 20000,
          "max_retries": 8,
          "backoff_min_ms": 50,
          "backoff_max_ms": 2000,
          "concurrency": 16,
          "breaker_failures": 10,
          "breaker_open_ms": 1000,
          "breaker_open_max_ms": 30000,
          "unusable_retries": 2
        }
      }
    }
    "#);
}

/// A recorder that keeps a journal: it notes how many requests the registry
/// had seen when each was journaled, and can refuse (a database down).
#[derive(Debug)]
struct Journaling {
    registry: Arc<ScriptedRegistry>,
    refuse: bool,
    journaled: Mutex<Vec<(enrol_registry_client::AccessIntent, usize)>>,
    log: AccessLog,
}

impl enrol_registry_client::AccessRecorder for Journaling {
    fn record(&self, access: Access) {
        self.log.record(access);
    }

    fn journal(&self, intent: &enrol_registry_client::AccessIntent) -> Option<enrol_registry_client::JournalFuture> {
        let seen = self.registry.seen.lock().unwrap().len();
        let mut journaled = self.journaled.lock().unwrap();
        journaled.push((intent.clone(), seen));
        let id = 100 + journaled.len() as i64;
        let refuse = self.refuse;
        Some(Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if refuse {
                Err(enrol_registry_client::JournalError("database down".to_owned()))
            } else {
                Ok(id)
            }
        }))
    }
}

#[tokio::test]
async fn each_request_is_journaled_before_it_is_sent_and_its_access_carries_the_id() {
    let fx = Fixture::start(vec![Script::Answer(503, UNAVAILABLE), Script::Answer(200, "{}")]).await;
    let recorder = Arc::new(Journaling {
        registry: fx.registry.clone(),
        refuse: false,
        journaled: Mutex::default(),
        log: AccessLog::new(),
    });
    let mut config = RegistryConfig::new(&fx.base_url, "dev-key");
    config.backoff_min_ms = 10;
    config.backoff_max_ms = 50;
    let clients = RegistryClients::new(&RegistriesConfig::uniform(config), recorder.clone()).unwrap();
    clients
        .get(Registry::Hukou)
        .get(&["persons", "370811202011150023"], &[], Some(&consent()))
        .await
        .unwrap();
    let journaled = recorder.journaled.lock().unwrap().clone();
    // Two attempts, each journaled while the registry had seen the ones before only.
    assert_eq!(
        journaled.iter().map(|(i, seen)| (i.attempt, *seen)).collect::<Vec<_>>(),
        [(1, 0), (2, 1)]
    );
    assert!(
        journaled
            .iter()
            .all(|(i, _)| i.path == "/hukou/v1/persons/370811202011150023"
                && i.consent_id == Some(consent())
                && i.purpose == "school-enrolment")
    );
    let accesses = recorder.log.snapshot();
    assert_eq!(
        accesses.iter().map(|a| (a.journal_id, a.outcome)).collect::<Vec<_>>(),
        [
            (Some(101), AccessOutcome::Answered { status: 503 }),
            (Some(102), AccessOutcome::Answered { status: 200 })
        ]
    );
    assert!(accesses.iter().zip(&journaled).all(|(a, (i, _))| a.at >= i.at));
}

#[tokio::test]
async fn a_request_the_journal_cannot_record_is_not_sent() {
    let fx = Fixture::start(vec![]).await;
    let recorder = Arc::new(Journaling {
        registry: fx.registry.clone(),
        refuse: true,
        journaled: Mutex::default(),
        log: AccessLog::new(),
    });
    let mut config = RegistryConfig::new(&fx.base_url, "dev-key");
    config.deadline_ms = 300;
    config.backoff_min_ms = 10;
    config.backoff_max_ms = 50;
    let clients = RegistryClients::new(&RegistriesConfig::uniform(config), recorder.clone()).unwrap();
    let err = clients
        .get(Registry::Hukou)
        .get(&["persons", "370811202011150023"], &[], Some(&consent()))
        .await
        .unwrap_err();
    // A registry failure as any other: the application would stay pending.
    assert!(
        matches!(
            err,
            CallError::Unavailable {
                attempts: 0,
                last: Transient::NotRecorded(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_unavailable());
    assert!(fx.seen().is_empty(), "nothing sent without a record");
    assert!(recorder.log.is_empty());
    assert!(!recorder.journaled.lock().unwrap().is_empty());
}
