//! Load benchmark of the submission endpoint: a bounded client on loopback
//! posts distinct applications to a real server, on SQLite and (when
//! `TEST_DATABASE_URL` is set) PostgreSQL, and prints submissions/s and
//! latency percentiles.
//!
//! `cargo bench -p enrol-api --bench load`; knobs: `BENCH_REQUESTS` (20000),
//! `BENCH_CONCURRENCY` (32), `BENCH_WARMUP` (500), `TEST_DATABASE_URL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use enrol_domain::NationalId;
use enrol_orchestrator::{Orchestrator, RegistryEvidence, RoundSeed};
use enrol_store::testing::TestDb;
use futures::StreamExt;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `n`-th distinct person born in `year` (a valid national ID).
fn person(year: i32, n: usize) -> NationalId {
    let day = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap() + chrono::Days::new((n / 1000 % 365) as u64);
    let prefix = format!("370811{}{:03}", day.format("%Y%m%d"), n % 1000);
    NationalId::from_prefix(&prefix).expect("valid prefix")
}

fn application(n: usize) -> (String, Vec<u8>) {
    let (child, mother, father) = (person(2020, n), person(1988, n), person(1987, n));
    let body = serde_json::json!({
        "application_id": uuid::Uuid::from_u128(n as u128 + 1).to_string(),
        "round": "2027-primary",
        "child_id": child,
        "applicant_id": mother,
        "guardian_ids": [father],
        "sibling_ids": [],
        "choices": ["S001", "S002"],
        "consent_id": format!("CNS-2027-{n:06}"),
        "submitted_at": "2027-05-06T09:00:00+08:00",
    });
    (mother.to_string(), serde_json::to_vec(&body).unwrap())
}

struct Figures {
    requests: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn run(db: &TestDb, requests: usize, concurrency: usize, warmup: usize) -> Figures {
    let orchestrator = Orchestrator::new(db.store.clone());
    orchestrator
        .create_round(
            enrol_rules::SAMPLE_POLICY_TOML,
            RoundSeed::Whole("bench".to_owned()),
            "bench",
        )
        .await
        .expect("round opens");
    // Submissions read no registry: the evidence source is never called.
    let registries = enrol_evidence::RegistriesConfig::uniform(enrol_evidence::RegistryConfig::new(
        "http://127.0.0.1:9",
        "unused-key",
    ));
    let evidence = Arc::new(RegistryEvidence::connect(&registries, Default::default()).expect("clients"));
    let mut config = enrol_api::ApiConfig::empty().without_rate_limits();
    config.add_app("bench-app", "bench-app-key-0123456789").unwrap();
    config
        .add_officer("bench", enrol_api::Role::Viewer, "bench-officer-0123456789")
        .unwrap();
    let router = enrol_api::router(orchestrator.clone(), evidence, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/applications", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(enrol_api::serve(listener, router, async move {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let send = |n: usize| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let (applicant, body) = application(n);
            let started = Instant::now();
            let response = client
                .post(&url)
                .header("X-Api-Key", "bench-app-key-0123456789")
                .header("X-Citizen-Id", applicant)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .expect("request sent");
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            assert_eq!(status, 201, "submission {n} refused");
            started.elapsed()
        }
    };
    // Warm-up: connections, statement caches, the first pages of the tables.
    futures::stream::iter(0..warmup)
        .map(send)
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;

    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures::stream::iter(warmup..warmup + requests)
        .map(send)
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1];
    let figures = Figures {
        requests,
        seconds,
        p50: at(0.50),
        p99: at(0.99),
        max: *latencies.last().unwrap(),
    };

    let stored = orchestrator.counts("2027-primary").await.unwrap().pending;
    assert_eq!(stored, warmup + requests, "every acknowledged submission is stored");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    figures
}

fn main() {
    let requests = knob("BENCH_REQUESTS", 20_000);
    let concurrency = knob("BENCH_CONCURRENCY", 32);
    let warmup = knob("BENCH_WARMUP", 500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut dbs = vec![TestDb::sqlite().await.expect("sqlite")];
        match enrol_store::testing::pg_url() {
            Some(url) => dbs.push(TestDb::postgres(&url).await.expect("postgres")),
            None => eprintln!("TEST_DATABASE_URL is not set: PostgreSQL skipped"),
        }
        println!(
            "POST /v1/applications: {requests} distinct submissions after {warmup} warm-up, {concurrency} in flight, loopback"
        );
        println!("| backend | submissions/s | p50 | p99 | max |");
        println!("|---|---|---|---|---|");
        for db in dbs {
            let f = run(&db, requests, concurrency, warmup).await;
            println!(
                "| {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms |",
                db.backend,
                f.requests as f64 / f.seconds,
                f.p50.as_secs_f64() * 1e3,
                f.p99.as_secs_f64() * 1e3,
                f.max.as_secs_f64() * 1e3,
            );
            db.cleanup().await.expect("cleanup");
        }
    });
}
