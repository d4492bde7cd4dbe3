//! Verification throughput with several `enrol serve` processes on one
//! PostgreSQL database (issue 14): `cargo bench -p enrol-cli --bench processes`.
//!
//! It generates a city (`enrol city generate`, seed 2027), submits and closes
//! its round once into a template database (in this process, through the
//! orchestrator), and then for each number of processes N: copies the
//! template into a fresh database (`CREATE DATABASE … TEMPLATE`), starts the
//! simulated registries in a process of their own (`enrol registries serve`,
//! every registry answering after the latency), starts N `enrol serve`
//! processes on that database, posts `verify` to each at once and polls
//! `GET …/verify` until the round is `verified`. It records:
//!
//! - applications per second, first `POST` to `verified`;
//! - the registry-bound figure: for each registry, concurrency ÷ latency ÷
//!   its calls per application (the simulator's access logs), the smallest;
//!   each process has its own per-registry limit, so N processes may have
//!   N times as many requests in flight (both bounds are recorded);
//! - CPU per process over the run (`utime + stime` of `/proc/PID/stat`): each
//!   server, the simulator, and the PostgreSQL backends serving the database
//!   (found in `pg_stat_activity`), with the whole machine's busy share from
//!   `/proc/stat` (other work on the machine included) and the load average;
//! - PostgreSQL backends of the database waiting for a lock, sampled at each poll.
//!
//! Knobs (environment):
//! - `PROCS_FAMILIES`: the city's size, `10000`;
//! - `PROCS_PROCESSES`: comma-separated process counts, `1,2,3`;
//! - `PROCS_LATENCY_MS`: every registry's latency, `20`;
//! - `PROCS_CONCURRENCY`: requests in flight per registry and process, `16`;
//! - `PROCS_VERIFY_CONCURRENCY`: applications one process gathers at once
//!   (`[verify] concurrency`), `64`;
//! - `PROCS_PG_URL`: the PostgreSQL server, `postgres://postgres@127.0.0.1:5432`
//!   (the bench drops and creates the databases `enrol_procs_template` and
//!   `enrol_procs_run` there);
//! - `PROCS_ENROL_BIN`: the `enrol` binary to run (the one cargo built);
//! - `PROCS_RESULTS`: the JSON-lines file runs are appended to,
//!   `docs/bench/processes.jsonl` (relative to the workspace root).
//!
//! A `harness = false` bench: `cargo test` never runs it, clippy only
//! compiles it. Run it under `flock /work/bench.lock` on a shared machine.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enrol_orchestrator::{Orchestrator, RoundSeed};
use enrol_store::sea_orm::{ConnectionTrait, DbBackend, Statement};
use futures::StreamExt;
use serde_json::{Value, json};

const POLICY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");
const ROUND: &str = "2027-primary";
const TEMPLATE_DB: &str = "enrol_procs_template";
const RUN_DB: &str = "enrol_procs_run";
const TOKEN: &str = "bench-manager-token-0123456789abcdef";
const REGISTRIES: [&str; 7] = [
    "hukou",
    "birth",
    "property",
    "residence",
    "social-insurance",
    "zones",
    "enrolment-history",
];

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

struct Knobs {
    families: usize,
    latency_ms: u64,
    concurrency: usize,
    verify_concurrency: usize,
    pg_url: String,
    enrol: PathBuf,
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let processes: Vec<usize> = env_or("PROCS_PROCESSES", "1,2,3")
        .split(',')
        .map(|n| n.trim().parse().expect("PROCS_PROCESSES: comma-separated numbers"))
        .collect();
    let knobs = Knobs {
        families: env_or("PROCS_FAMILIES", "10000").parse().expect("PROCS_FAMILIES"),
        latency_ms: env_or("PROCS_LATENCY_MS", "20").parse().expect("PROCS_LATENCY_MS"),
        concurrency: env_or("PROCS_CONCURRENCY", "16").parse().expect("PROCS_CONCURRENCY"),
        verify_concurrency: env_or("PROCS_VERIFY_CONCURRENCY", "64")
            .parse()
            .expect("PROCS_VERIFY_CONCURRENCY"),
        pg_url: env_or("PROCS_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        enrol: std::env::var_os("PROCS_ENROL_BIN")
            .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_enrol")), PathBuf::from),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let results = root.join(env_or("PROCS_RESULTS", "docs/bench/processes.jsonl"));
    if let Some(dir) = results.parent() {
        std::fs::create_dir_all(dir).expect("creating the results folder");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");

    let work = std::env::temp_dir().join(format!("enrol-procs-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("creating the work folder");
    let city = work.join("city");
    let status = Command::new(&knobs.enrol)
        .args([
            "city",
            "generate",
            "--families",
            &knobs.families.to_string(),
            "--seed",
            "2027",
            "--out",
        ])
        .arg(&city)
        .status()
        .expect("running enrol city generate");
    assert!(status.success(), "enrol city generate failed");
    let started = Instant::now();
    let applications = runtime.block_on(prepare_template(&city, &knobs));
    eprintln!(
        "template: {applications} applications submitted and closed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    for &n in &processes {
        let record = runtime.block_on(run(n, applications, &work, &city, &knobs));
        println!("{record}");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&results)
            .expect("opening the results file");
        writeln!(file, "{record}").expect("appending to the results file");
    }
    psql(&knobs, &format!("DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)"));
    psql(&knobs, &format!("DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"));
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("results appended to {}", results.display());
}

fn psql(knobs: &Knobs, sql: &str) {
    let status = Command::new("psql")
        .args([&format!("{}/postgres", knobs.pg_url), "-q", "-c", sql])
        .status()
        .expect("running psql");
    assert!(status.success(), "psql {sql} failed");
}

/// The round, opened, submitted and closed in a database of its own: each
/// run starts from a copy of it.
async fn prepare_template(city: &Path, knobs: &Knobs) -> usize {
    psql(knobs, &format!("DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"));
    psql(knobs, &format!("CREATE DATABASE {TEMPLATE_DB}"));
    let store = enrol_store::Store::open(&format!("{}/{TEMPLATE_DB}", knobs.pg_url))
        .await
        .expect("opening the template database");
    let o = Orchestrator::new(store.clone());
    o.create_round(POLICY, RoundSeed::Whole("processes-bench-2027".into()), "bench")
        .await
        .expect("the round opens");
    let text = std::fs::read_to_string(city.join("applications.jsonl")).expect("the city's applications");
    let applications: Vec<enrol_domain::Application> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("an application"))
        .collect();
    let o = &o;
    futures::stream::iter(&applications)
        .map(|app| async move { o.submit_unread(app, "app:bench").await.expect("submitted") })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    o.close(ROUND, "bench").await.expect("the round closes");
    store.close().await.expect("closing the template database");
    applications.len()
}

/// A child process killed when dropped, however the run ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("127.0.0.1:{port}")
}

fn serve(work: &Path, n: usize, database_url: &str, registries: &str, knobs: &Knobs) -> (Guard, String) {
    let addr = free_addr();
    let config = work.join(format!("serve-{n}.toml"));
    std::fs::write(
        &config,
        format!(
            r#"addr = "{addr}"
database_url = "{database_url}"

[log]
level = "warn"

[verify]
concurrency = {verify}
passes = 5
retry_delay_ms = 500

[[apps]]
name = "bench-app"
key = "bench-app-key-0123456789"

[[officers]]
name = "bench-{n}"
role = "round_manager"
token = "{TOKEN}"

[registry_defaults]
base_url = "{registries}"
api_key = "dev-key"
concurrency = {concurrency}
"#,
            verify = knobs.verify_concurrency,
            concurrency = knobs.concurrency,
        ),
    )
    .expect("writing a server's configuration");
    let child = Command::new(&knobs.enrol)
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join(format!("serve-{n}.log"))).expect("a log file"))
        .spawn()
        .expect("starting enrol serve");
    (Guard(child), format!("http://{addr}"))
}

/// CPU time of a process so far, in seconds (`utime + stime`).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces: the fields start after its closing parenthesis.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The machine's busy and total CPU time so far (`/proc/stat`, all cores), in ticks.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The PostgreSQL backends serving the run's database, with their CPU so far.
async fn pg_backends(conn: &impl ConnectionTrait) -> BTreeMap<u32, f64> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pid FROM pg_stat_activity WHERE datname = '{RUN_DB}' AND pid <> pg_backend_pid()"),
        ))
        .await
        .expect("listing the backends");
    rows.iter()
        .filter_map(|r| r.try_get::<i32>("", "pid").ok())
        .filter_map(|pid| {
            let pid = u32::try_from(pid).ok()?;
            Some((pid, cpu_seconds(pid)?))
        })
        .collect()
}

async fn run(processes: usize, applications: usize, work: &Path, city: &Path, knobs: &Knobs) -> Value {
    psql(knobs, &format!("DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)"));
    psql(knobs, &format!("CREATE DATABASE {RUN_DB} TEMPLATE {TEMPLATE_DB}"));
    let database_url = format!("{}/{RUN_DB}", knobs.pg_url);

    let faults = work.join("latency.toml");
    std::fs::write(&faults, format!("[all]\nlatency_ms = {}\n", knobs.latency_ms)).expect("writing the fault file");
    let sim_addr = free_addr();
    let sim = Guard(
        Command::new(&knobs.enrol)
            .args(["registries", "serve", "--addr", &sim_addr, "--dataset"])
            .arg(city)
            .arg("--faults")
            .arg(&faults)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting the simulator"),
    );
    let servers: Vec<(Guard, String)> = (0..processes)
        .map(|n| serve(work, n, &database_url, &format!("http://{sim_addr}"), knobs))
        .collect();
    let http = reqwest::Client::new();
    let ready = Instant::now();
    while std::net::TcpStream::connect(&sim_addr).is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(600),
            "the simulator did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (_, base) in &servers {
        while http.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(ready.elapsed() < Duration::from_secs(600), "{base} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // One connection of our own: the backends' list and the lock samples.
    let observer = enrol_store::sea_orm::Database::connect(&database_url)
        .await
        .expect("an observer connection");

    let pids: Vec<u32> = servers.iter().map(|(g, _)| g.0.id()).collect();
    let cpu_at_start: Vec<f64> = pids.iter().map(|&p| cpu_seconds(p).unwrap_or(0.0)).collect();
    let sim_at_start = cpu_seconds(sim.0.id()).unwrap_or(0.0);
    let pg_at_start = pg_backends(&observer).await;
    let machine_at_start = machine_ticks();
    let load_at_start = load_average();

    let started = Instant::now();
    for (n, (_, base)) in servers.iter().enumerate() {
        let answer = http
            .post(format!("{base}/v1/rounds/{ROUND}/verify"))
            .bearer_auth(TOKEN)
            .header("X-Request-Id", format!("bench-verify-{n}"))
            .json(&json!({"leave_reviews_unplaced": true}))
            .send()
            .await
            .expect("posting verify");
        assert_eq!(answer.status(), 202, "{}", answer.text().await.unwrap_or_default());
    }
    let (mut samples, mut lock_waits, mut active, mut most_workers) = (0usize, 0usize, 0usize, 0u64);
    let mut pg_seen = pg_at_start.clone();
    let last = loop {
        let status: Value = http
            .get(format!("{}/v1/rounds/{ROUND}/verify", servers[0].1))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("polling verify")
            .json()
            .await
            .expect("a verification status");
        most_workers = most_workers.max(status["claims"]["workers"].as_u64().unwrap_or(0));
        if status["state"] != "closed" {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3600),
            "verification did not finish: {status}"
        );
        let row = observer
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS locks, \
                     count(*) FILTER (WHERE state = 'active') AS active \
                     FROM pg_stat_activity WHERE datname = '{RUN_DB}' AND pid <> pg_backend_pid()"
                ),
            ))
            .await
            .expect("sampling the backends")
            .expect("one row");
        samples += 1;
        lock_waits += usize::try_from(row.try_get::<i64>("", "locks").unwrap_or(0)).unwrap_or(0);
        active += usize::try_from(row.try_get::<i64>("", "active").unwrap_or(0)).unwrap_or(0);
        // Backends may come and go with the pools: keep the last CPU figure of each.
        for (pid, cpu) in pg_backends(&observer).await {
            pg_seen.insert(pid, cpu);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let wall_s = started.elapsed().as_secs_f64();
    for (pid, cpu) in pg_backends(&observer).await {
        pg_seen.insert(pid, cpu);
    }
    let machine_at_end = machine_ticks();
    let load_at_end = load_average();
    let server_cpu: Vec<f64> = pids
        .iter()
        .zip(&cpu_at_start)
        .map(|(&p, start)| cpu_seconds(p).unwrap_or(0.0) - start)
        .collect();
    let sim_cpu = cpu_seconds(sim.0.id()).unwrap_or(0.0) - sim_at_start;
    let pg_cpu: f64 = pg_seen
        .iter()
        .map(|(pid, cpu)| cpu - pg_at_start.get(pid).copied().unwrap_or(0.0))
        .sum();
    let machine_busy = {
        let busy = (machine_at_end.0 - machine_at_start.0) as f64;
        let total = (machine_at_end.1 - machine_at_start.1) as f64;
        if total > 0.0 { busy / total } else { f64::NAN }
    };

    let server_peak_mb: Vec<Option<u64>> = pids.iter().map(|&p| peak_rss_mb(p)).collect();
    let mut calls: Vec<(&str, usize)> = Vec::new();
    for registry in REGISTRIES {
        calls.push((registry, access_log_len(&http, &sim_addr, registry).await));
    }
    drop(observer);
    drop(servers);
    drop(sim);

    let per_app = |n: usize| n as f64 / applications as f64;
    let (binding, most) = calls
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1))
        .map(|&(r, n)| (r, per_app(n)))
        .expect("seven registries");
    let bound_one = knobs.concurrency as f64 / (knobs.latency_ms as f64 / 1000.0) / most;
    let bound_all = bound_one * processes as f64;
    let apps_per_s = applications as f64 / wall_s;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let record = json!({
        "processes": processes,
        "families": knobs.families,
        "applications": applications,
        "state": last["state"],
        "decided": last["progress"]["decided"],
        "latency_ms": knobs.latency_ms,
        "registry_concurrency": knobs.concurrency,
        "verify_concurrency": knobs.verify_concurrency,
        "verify_s": round3(wall_s),
        "apps_per_s": round3(apps_per_s),
        "calls_per_app": calls.iter().map(|&(r, n)| (r.to_owned(), json!(round3(per_app(n))))).collect::<serde_json::Map<_, _>>(),
        "bound_registry": binding,
        "bound_apps_per_s_one_process": round3(bound_one),
        "bound_apps_per_s": round3(bound_all),
        "of_bound": round3(apps_per_s / bound_all),
        "most_workers_seen": most_workers,
        "server_peak_rss_mb": server_peak_mb,
        "cpu_s": {
            "servers": server_cpu.iter().map(|c| round3(*c)).collect::<Vec<_>>(),
            "simulator": round3(sim_cpu),
            "postgres_backends": round3(pg_cpu),
        },
        "cores": cores,
        "machine_busy": round3(machine_busy),
        "load_average": [load_at_start, load_at_end],
        "pg_lock_waiting_mean": round3(lock_waits as f64 / samples.max(1) as f64),
        "pg_active_mean": round3(active as f64 / samples.max(1) as f64),
        "date": utc_now(),
    });
    eprintln!(
        "{processes} process(es): {applications} applications in {wall_s:.1} s = {apps_per_s:.0}/s \
         (bound {bound_all:.0}/s, {binding}); CPU s: servers {server_cpu:.1?}, simulator {sim_cpu:.1}, \
         PostgreSQL {pg_cpu:.1}; machine busy {:.0}%",
        machine_busy * 100.0
    );
    record
}

fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line["VmHWM:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%MZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// How many requests a registry's access log holds (registries.md, "Access log").
async fn access_log_len(http: &reqwest::Client, addr: &str, registry: &str) -> usize {
    #[derive(serde::Deserialize)]
    struct Log {
        entries: Vec<serde::de::IgnoredAny>,
    }
    let body = http
        .get(format!("http://{addr}/{registry}/v1/_access-log"))
        .header("X-Api-Key", "dev-key")
        .send()
        .await
        .expect("reading the access log")
        .text()
        .await
        .expect("the access log's body");
    serde_json::from_str::<Log>(&body).expect("an access log").entries.len()
}
