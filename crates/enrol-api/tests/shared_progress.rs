//! `GET /v1/rounds/{round}/verify` tells the same story on every server of
//! one database (issue 14): two API routers over one store, as two
//! `enrol serve` processes behind a gateway would be. Verification started
//! on one is seen, with the same counts and progress, on the other, which
//! never ran it; both running it at once show two workers holding claims.
//! On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
//!
//! Before the shared status (issue 14), the second server answered only its
//! own in-memory run: `run` null and nothing to say about who was working.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use enrol_orchestrator::Orchestrator;
use enrol_registry_sim::{Dataset, FaultPlan, SimConfig, Simulator};
use enrol_store::testing::TestDb;
use serde_json::Value;
use tower::ServiceExt;

const FAMILIES: usize = 40;

/// Applications a server gathers at once.
const CONCURRENCY: usize = 4;

/// The most applications one server's worker holds claimed at once.
fn held_at_most() -> u64 {
    let options = enrol_orchestrator::VerifyOptions {
        concurrency: CONCURRENCY,
        ..Default::default()
    };
    options.claims_held_at_most() as u64
}

/// A server's router over the shared store, gathering four applications at once.
fn server(db: &TestDb, registries: &str) -> axum::Router {
    let mut config = config();
    config.verify.concurrency = CONCURRENCY;
    enrol_api::router(Orchestrator::new(db.store.clone()), evidence(registries), config)
}

async fn call(router: &axum::Router, request: Call) -> Answer {
    Answer::read(router.clone().oneshot(request.build()).await.unwrap()).await
}

async fn status(router: &axum::Router) -> Value {
    let answer = call(router, Call::get(format!("/v1/rounds/{ROUND}/verify")).officer(VIEWER)).await;
    answer.expect(200);
    answer.json
}

/// What every server must agree on: the stored state, counts and progress.
fn shared(v: &Value) -> Value {
    serde_json::json!({"state": v["state"], "counts": v["counts"], "progress": v["progress"]})
}

async fn start(router: &axum::Router) {
    call(
        router,
        Call::post(format!("/v1/rounds/{ROUND}/verify"))
            .officer(MANAGER)
            .raw("{\"leave_reviews_unplaced\": true}"),
    )
    .await
    .expect(202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_tells_the_same_story_of_a_verification() {
    let city = enrol_city::generate(&enrol_city::CityConfig::new(FAMILIES, 2027));
    let dir = tempfile::tempdir().unwrap();
    city.write_to(dir.path()).unwrap();
    // Slow registries, so that a run is seen going.
    let faults = FaultPlan::from_toml_str("[all]\nlatency_ms = 40\n").unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = Simulator::start(
        Dataset::load(dir.path()).unwrap(),
        SimConfig::default().with_faults(faults),
        addr,
    )
    .await
    .unwrap();
    let applications = city.applications.len();

    for db in TestDb::all().await.unwrap() {
        let backend = db.backend;
        let (a, b) = (server(&db, &sim.base_url()), server(&db, &sim.base_url()));
        let o = Orchestrator::new(db.store.clone());
        o.create_round(
            enrol_rules::SAMPLE_POLICY_TOML,
            enrol_orchestrator::RoundSeed::Whole(SEED.into()),
            "setup",
        )
        .await
        .unwrap();
        for app in &city.applications {
            o.submit_unread(app, "app:test").await.unwrap();
        }
        o.close(ROUND, "setup").await.unwrap();

        // Nothing going yet: both say so.
        let before = status(&b).await;
        assert_eq!(before["running"], false, "{backend:?}: {before}");
        assert_eq!(before["progress"]["total"], applications, "{backend:?}: {before}");
        assert_eq!(before["progress"]["undecided"], applications, "{backend:?}: {before}");
        assert_eq!(before["progress"]["decided"], 0, "{backend:?}: {before}");
        assert_eq!(before["claims"]["applications"], 0, "{backend:?}: {before}");
        assert_eq!(before["claims"]["lease_until"], Value::Null, "{backend:?}: {before}");
        assert_eq!(shared(&before), shared(&status(&a).await), "{backend:?}");

        // Started on A; B, which never ran it, sees it going with A's counts.
        start(&a).await;
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut seen_running, mut seen_same_midway) = (false, false);
        loop {
            let (a1, seen, a2) = (status(&a).await, status(&b).await, status(&a).await);
            assert_eq!(seen["run"], Value::Null, "{backend:?}: B ran nothing: {seen}");
            let decided = seen["progress"]["decided"].as_u64().unwrap();
            if seen["running"] == true {
                seen_running = true;
                // A worker claims ahead of its gathering and stores behind
                // it, never more than its bound.
                assert!(
                    seen["claims"]["applications"].as_u64().unwrap() <= held_at_most(),
                    "{backend:?}: {seen}"
                );
                assert!(seen["claims"]["workers"].as_u64().unwrap() <= 1, "{backend:?}: {seen}");
            }
            // Counts only grow during a run, so B read between two equal
            // answers of A must give that answer too.
            if shared(&a1) == shared(&a2) && decided > 0 && (decided as usize) < applications {
                assert_eq!(shared(&seen), shared(&a1), "{backend:?}: B differs from A midway");
                seen_same_midway = true;
            }
            if a2["run"]["state"] != "running" && seen["running"] == false {
                assert_eq!(a2["run"]["state"], "finished", "{backend:?}: {a2}");
                break;
            }
            assert!(Instant::now() < deadline, "{backend:?}: the run did not finish: {a2}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(seen_running, "{backend:?}: B never saw the run going");
        assert!(seen_same_midway, "{backend:?}: no midway comparison was made");
        let (done_a, done_b) = (status(&a).await, status(&b).await);
        assert_eq!(shared(&done_a), shared(&done_b), "{backend:?}");
        assert_eq!(done_b["state"], "verified", "{backend:?}: {done_b}");
        assert_eq!(done_b["progress"]["decided"], applications, "{backend:?}: {done_b}");
        assert_eq!(done_b["progress"]["undecided"], 0, "{backend:?}: {done_b}");
        assert_eq!(done_b["claims"]["applications"], 0, "{backend:?}: {done_b}");
        assert_eq!(done_b["running"], false, "{backend:?}: {done_b}");
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_verifying_at_once_show_two_workers_on_both() {
    let city = enrol_city::generate(&enrol_city::CityConfig::new(FAMILIES, 2028));
    let dir = tempfile::tempdir().unwrap();
    city.write_to(dir.path()).unwrap();
    let faults = FaultPlan::from_toml_str("[all]\nlatency_ms = 40\n").unwrap();
    let sim = Simulator::start(
        Dataset::load(dir.path()).unwrap(),
        SimConfig::default().with_faults(faults),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();

    for db in TestDb::all().await.unwrap() {
        let backend = db.backend;
        let (a, b) = (server(&db, &sim.base_url()), server(&db, &sim.base_url()));
        let o = Orchestrator::new(db.store.clone());
        o.create_round(
            enrol_rules::SAMPLE_POLICY_TOML,
            enrol_orchestrator::RoundSeed::Whole(SEED.into()),
            "setup",
        )
        .await
        .unwrap();
        for app in &city.applications {
            o.submit_unread(app, "app:test").await.unwrap();
        }
        o.close(ROUND, "setup").await.unwrap();

        start(&a).await;
        start(&b).await;
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut most_workers = 0;
        loop {
            let (on_a, on_b) = (status(&a).await, status(&b).await);
            for seen in [&on_a, &on_b] {
                let workers = seen["claims"]["workers"].as_u64().unwrap();
                let claimed = seen["claims"]["applications"].as_u64().unwrap();
                assert!(workers <= 2 && claimed <= 2 * held_at_most(), "{backend:?}: {seen}");
                assert_eq!(
                    workers > 0,
                    seen["claims"]["lease_until"].is_string(),
                    "{backend:?}: {seen}"
                );
                most_workers = most_workers.max(workers);
            }
            if on_a["state"] == "verified" && on_b["state"] == "verified" && on_b["running"] == false {
                break;
            }
            assert!(Instant::now() < deadline, "{backend:?}: not verified: {on_a} {on_b}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(most_workers, 2, "{backend:?}: both servers were seen working");
        let (on_a, on_b) = (status(&a).await, status(&b).await);
        assert_eq!(shared(&on_a), shared(&on_b), "{backend:?}");
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await.unwrap();
}
