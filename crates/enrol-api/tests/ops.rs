//! The operator's endpoints: liveness, readiness that follows the database
//! away and back (through a TCP proxy this test controls, in front of the
//! real PostgreSQL server), and request ids.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use enrol_orchestrator::Orchestrator;
use enrol_store::testing::{TestDb, pg_url};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy to PostgreSQL that can be cut: while down, every connection
/// through it is closed and new ones are closed at once, as when the
/// database's host goes away.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (up, links) = (up.clone(), links.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let target = target.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    links.lock().unwrap().push(link);
                }
            }
        });
        Proxy {
            port,
            up,
            links,
            accept,
        }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
        self.accept.abort();
    }
}

async fn readiness(api: &Api) -> Answer {
    api.call(Call::get("/readyz")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_away_and_back() {
    let Some(base) = pg_url() else {
        eprintln!("TEST_DATABASE_URL is not set: the readiness test needs PostgreSQL");
        return;
    };
    let db = TestDb::postgres(&base).await.unwrap();
    let mut url = reqwest::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(target).await;
    url.set_port(Some(proxy.port)).unwrap();
    let store = enrol_store::Store::open(url.as_str()).await.unwrap();
    let api = Api {
        router: enrol_api::router(Orchestrator::new(store.clone()), evidence(NO_REGISTRIES), config()),
        orchestrator: Orchestrator::new(store.clone()),
        db,
    };

    let ready = readiness(&api).await;
    ready.expect(200);
    assert_eq!(ready.json["status"], "ready", "{}", ready.text);
    assert_eq!(ready.json["database"]["status"], "up");
    // Each registry's breaker is reported; nothing has failed yet.
    assert_eq!(ready.json["registries"]["hukou"], "closed", "{}", ready.text);
    assert_eq!(ready.json["registries"].as_object().unwrap().len(), 7);
    api.call(Call::get("/healthz")).await.expect(200);

    // The database goes away: not ready, saying why, naming no secret.
    proxy.down();
    let started = Instant::now();
    let down = readiness(&api).await;
    down.expect(503);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "readiness must answer promptly"
    );
    assert_eq!(down.json["status"], "not_ready", "{}", down.text);
    assert_eq!(down.json["database"]["status"], "down");
    let reason = down.json["database"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("database unreachable"), "{reason}");
    assert!(
        !down.text.contains("postgres://") && !down.text.contains(&proxy.port.to_string()),
        "{}",
        down.text
    );
    // Liveness does not depend on the database.
    api.call(Call::get("/healthz")).await.expect(200);

    // It comes back: ready again, without a restart.
    proxy.up();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = readiness(&api).await;
        if answer.status == 200 {
            assert_eq!(answer.json["database"]["status"], "up");
            break;
        }
        assert!(Instant::now() < deadline, "never ready again: {}", answer.text);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    store.close().await.unwrap();
    drop(proxy);
    api.db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_request_id_is_kept_or_made_and_always_returned() {
    let api = Api::new(TestDb::sqlite().await.unwrap(), NO_REGISTRIES);
    let request_id = |answer: &axum::response::Response| {
        answer
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let call = |c: Call| {
        let router = api.router.clone();
        async move {
            use tower::ServiceExt;
            router.oneshot(c.build()).await.unwrap()
        }
    };
    // Kept when acceptable, on a success and on a refusal alike.
    let answer = call(Call::get("/healthz").header("X-Request-Id", "lb-7f3a.2")).await;
    assert_eq!(request_id(&answer).as_deref(), Some("lb-7f3a.2"));
    let answer = call(Call::get("/v1/rounds").header("X-Request-Id", "lb-7f3a.3")).await;
    assert_eq!(answer.status(), 401);
    assert_eq!(request_id(&answer).as_deref(), Some("lb-7f3a.3"));
    // Made when absent, or when what was sent could carry personal data.
    for sent in [None, Some("370811201811150025"), Some("has spaces in it")] {
        let mut c = Call::get("/no/such/route");
        if let Some(sent) = sent {
            c = c.header("X-Request-Id", sent);
        }
        let answer = call(c).await;
        assert_eq!(answer.status(), 404);
        let made = request_id(&answer).expect("a request id");
        assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    }
    api.db.cleanup().await.unwrap();
}
