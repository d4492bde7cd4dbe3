//! Several `enrol serve` processes on one PostgreSQL database (issue 14):
//! three real servers verify a generated city of 5,000 families together,
//! one is killed with SIGKILL mid-run, and the round still completes with
//! output byte-identical to a one-process run, one decision row per
//! application, and one access record per registry read: the two survivors'
//! one for one, all settled; the killed process's too, its reads in flight
//! on record with the outcome `unknown` (journaled before they were sent),
//! and no record of no read but a few `unknown` ones journaled and never sent.
//!
//! Skipped, with a message, when TEST_DATABASE_URL is not set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{Orchestrator, RegistryEvidence, RoundOutput, RoundSeed, VerifyOptions};
use enrol_registry_sim::{Dataset, Registry, SimConfig, Simulator};
use enrol_store::sea_orm::{ConnectionTrait, DbBackend, Statement};
use enrol_store::testing::{TestDb, pg_url};
use serde_json::Value;

const POLICY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");
const ROUND: &str = "2027-primary";
const SEED: &str = "multi-process-2027";
const FAMILIES: usize = 5_000;
/// Applications one server gathers at once (and claims at a time).
const CONCURRENCY: usize = 16;

struct Server {
    child: Child,
    base: String,
    token: String,
    officer: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(work: &Path, n: usize, database_url: &str, registries: &str) -> Server {
    let port = free_port();
    let officer = format!("officer-{n}");
    let token = format!("manager-token-{n}-0123456789abcdef");
    let config = work.join(format!("enrol-{n}.toml"));
    std::fs::write(
        &config,
        format!(
            r#"addr = "127.0.0.1:{port}"
database_url = "{database_url}"

[log]
level = "warn"

[verify]
concurrency = {CONCURRENCY}
passes = 3
retry_delay_ms = 100
lease_ms = 2000

[[apps]]
name = "gov-app"
key = "gov-app-key-0123456789"

[[officers]]
name = "{officer}"
role = "round_manager"
token = "{token}"

[registry_defaults]
base_url = "{registries}"
api_key = "dev-key"
"#
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join(format!("serve-{n}.log"))).unwrap())
        .spawn()
        .unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        token,
        officer,
    }
}

async fn get(http: &reqwest::Client, server: &Server, path: &str) -> Value {
    let answer = http
        .get(format!("{}{path}", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.json().await.unwrap()
}

/// Submitted and closed, in-process (the servers only verify).
async fn closed_round(db: &TestDb, city: &enrol_city::City) -> Orchestrator {
    let o = Orchestrator::new(db.store.clone());
    o.create_round(POLICY, RoundSeed::Whole(SEED.into()), "manager")
        .await
        .unwrap();
    for app in &city.applications {
        o.submit_unread(app, "app:test").await.unwrap();
    }
    o.close(ROUND, "manager").await.unwrap();
    o
}

async fn finish(o: &Orchestrator) -> RoundOutput {
    o.allocate(ROUND, None, "manager").await.unwrap();
    o.publish(ROUND, "manager").await.unwrap();
    o.output(ROUND).await.unwrap()
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    let row = db
        .store
        .connection()
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_one_killed_verify_a_city_as_one_would() {
    let Some(pg) = pg_url() else {
        eprintln!("TEST_DATABASE_URL is not set: the multi-process test needs PostgreSQL, skipped");
        return;
    };
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(FAMILIES, 2027));
    city.write_to(work.path()).unwrap();
    let sim = Simulator::start(
        Dataset::load(work.path()).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let applications = city.applications.len();
    assert!(applications >= FAMILIES, "{applications} applications");

    // The one-process run: the same engine, in this process.
    let single = TestDb::postgres(&pg).await.unwrap();
    let o = closed_round(&single, &city).await;
    let source = RegistryEvidence::connect(
        &RegistriesConfig::uniform(RegistryConfig::new(sim.base_url(), "dev-key")),
        GatherOptions::default(),
    )
    .unwrap();
    let options = VerifyOptions {
        concurrency: CONCURRENCY,
        leave_reviews_unplaced: true,
        retry_delay: Duration::from_millis(100),
        ..Default::default()
    };
    let report = o.verify(ROUND, &source, options, "manager", &|_| {}).await.unwrap();
    assert!(report.verified, "{report:?}");
    let expected = finish(&o).await;
    single.cleanup().await.unwrap();
    eprintln!("one-process run done after {:?}", started.elapsed());

    // Three servers on one database.
    let shared = TestDb::postgres(&pg).await.unwrap();
    let o = closed_round(&shared, &city).await;
    let mut servers: Vec<Server> = (0..3)
        .map(|n| serve(work.path(), n, &shared.url, &sim.base_url()))
        .collect();
    let http = reqwest::Client::new();
    for server in &servers {
        let deadline = Instant::now() + Duration::from_secs(60);
        while http.get(format!("{}/healthz", server.base)).send().await.is_err() {
            assert!(Instant::now() < deadline, "{} did not come up", server.base);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    sim.clear_access_logs();
    for (n, server) in servers.iter().enumerate() {
        let answer = http
            .post(format!("{}/v1/rounds/{ROUND}/verify", server.base))
            .bearer_auth(&server.token)
            .header("X-Request-Id", format!("verify-{n}"))
            .json(&serde_json::json!({"leave_reviews_unplaced": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202, "{}", answer.text().await.unwrap());
    }

    // Every server tells the same story, from the database; kill one a third of the way.
    let decided = |v: &Value| {
        let c = &v["counts"];
        ["eligible", "review", "ineligible"]
            .iter()
            .map(|k| c[k].as_u64().unwrap())
            .sum::<u64>()
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let progress = get(&http, &servers[0], &format!("/v1/rounds/{ROUND}/verify")).await;
        if decided(&progress) * 3 >= applications as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "verification stalled: {progress}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut killed = servers.pop().unwrap();
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    let at_kill = decided(&get(&http, &servers[0], &format!("/v1/rounds/{ROUND}/verify")).await);
    eprintln!("killed {} with {at_kill} of {applications} decided", killed.officer);
    assert!((at_kill as usize) < applications, "killed after the end: no test");

    loop {
        let views: Vec<Value> = futures_join(&http, &servers).await;
        if views.iter().all(|v| v["state"] == "verified") {
            assert!(views.windows(2).all(|w| w[0]["counts"] == w[1]["counts"]), "{views:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the round did not complete: {views:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("three-process run verified after {:?}", started.elapsed());
    let output = finish(&o).await;
    for (file, got, want) in [
        ("decisions.jsonl", &output.decisions_jsonl, &expected.decisions_jsonl),
        ("assignments.csv", &output.assignments_csv, &expected.assignments_csv),
        ("schools.csv", &output.schools_csv, &expected.schools_csv),
        ("instance.json", &output.instance_json, &expected.instance_json),
    ] {
        assert!(got == want, "{file} differs from the one-process run");
    }

    // One decision row per application.
    let n = count(&shared, "SELECT count(*) AS n FROM decisions").await;
    assert_eq!(n, applications as i64, "decision rows");
    let twice = count(
        &shared,
        "SELECT count(*) AS n FROM (SELECT application_id FROM decisions GROUP BY application_id HAVING count(*) > 1) d",
    )
    .await;
    assert_eq!(twice, 0, "an application decided twice");

    // Access records against what the registries saw, per server (the
    // request id its run carried, the officer who started it).
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in Registry::ALL.into_iter().flat_map(|r| sim.access_log(r)) {
        let run = entry.request_id.clone().unwrap_or_default();
        seen.entry(run).or_default().push(entry.path);
    }
    let rows = shared
        .store
        .connection()
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT actor, path, outcome, application_id FROM registry_accesses WHERE round_id = '2027-primary'"
                .to_owned(),
        ))
        .await
        .unwrap();
    // Per actor, per path: records settled with an outcome, and records
    // still `unknown` (journaled before sending, result never stored).
    let mut stored: BTreeMap<String, BTreeMap<String, (usize, usize)>> = BTreeMap::new();
    // Per actor: the applications its `unknown` records served.
    let mut unsettled: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for row in rows {
        let actor: String = row.try_get("", "actor").unwrap();
        let path: String = row.try_get("", "path").unwrap();
        let outcome: String = row.try_get("", "outcome").unwrap();
        let application: Option<String> = row.try_get("", "application_id").unwrap();
        let slot = stored.entry(actor.clone()).or_default().entry(path).or_default();
        if outcome == "unknown" {
            slot.1 += 1;
            unsettled.entry(actor).or_default().insert(application);
        } else {
            slot.0 += 1;
        }
    }
    let mut all_seen = 0;
    for n in 0..3 {
        let reads = seen.remove(&format!("verify-{n}")).unwrap_or_default();
        let records = stored.remove(&format!("officer-{n}")).unwrap_or_default();
        all_seen += reads.len();
        let mut reads_per_path: BTreeMap<&str, usize> = BTreeMap::new();
        for path in &reads {
            *reads_per_path.entry(path).or_default() += 1;
        }
        let settled: usize = records.values().map(|r| r.0).sum();
        let unknown: usize = records.values().map(|r| r.1).sum();
        // One record per read: a settled record is of a read the registry
        // saw; a read the registry saw has a record, settled or `unknown`;
        // a record of no read is `unknown` (journaled, never sent).
        for (path, (settled, unknown)) in &records {
            let reads = reads_per_path.remove(path.as_str()).unwrap_or(0);
            assert!(
                *settled <= reads && reads <= settled + unknown,
                "server {n}: {reads} reads, {settled} settled and {unknown} unknown records of one path"
            );
        }
        assert!(
            reads_per_path.is_empty(),
            "server {n}: {} paths read without a record",
            reads_per_path.len()
        );
        if n < 2 {
            assert_eq!(unknown, 0, "server {n} ran to the end: every record settled");
            assert_eq!(settled, reads.len(), "server {n}: records and reads one for one");
        } else {
            // Killed: its reads in flight are on record, `unknown`; records of
            // no read are only those journaled and never sent. All of them
            // served applications it held claims on at the kill: no more
            // than a worker holds at once.
            let unsent = settled + unknown - reads.len();
            let held = unsettled.remove("officer-2").unwrap_or_default();
            let bound = VerifyOptions {
                concurrency: CONCURRENCY,
                ..Default::default()
            }
            .claims_held_at_most();
            assert!(
                held.iter().all(Option::is_some) && held.len() <= bound,
                "the killed server left unknown records of {} applications (at most {bound} held)",
                held.len()
            );
            eprintln!(
                "killed server: {} reads, {settled} settled and {unknown} unknown records ({unsent} never sent) \
                 of {} applications",
                reads.len(),
                held.len()
            );
        }
    }
    assert!(
        seen.is_empty() && stored.is_empty(),
        "reads of no run: {seen:?} {stored:?}"
    );
    assert!(all_seen > applications, "{all_seen} reads");
    eprintln!("done after {:?}", started.elapsed());

    drop(servers);
    drop(killed);
    sim.shutdown().await.unwrap();
    shared.cleanup().await.unwrap();
}

async fn futures_join(http: &reqwest::Client, servers: &[Server]) -> Vec<Value> {
    let mut views = Vec::new();
    for server in servers {
        views.push(get(http, server, &format!("/v1/rounds/{ROUND}/verify")).await);
    }
    views
}
