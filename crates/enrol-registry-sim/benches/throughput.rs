//! Requests per second the simulator serves on loopback with faults off.
//!
//! `cargo bench -p enrol-registry-sim --bench throughput [-- --secs N --conns N]`
//!
//! Client and server share the machine (2 cores in our sandbox), so the figure includes
//! the client's own cost: it is a floor for what the simulator alone can serve. Without
//! `--bench` (as under `cargo test --all-targets`) it runs a short smoke pass instead.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use enrol_registry_sim::{Dataset, Registry, SimConfig, Simulator};

/// A mix of endpoints, personal and public, hits and misses.
const PATHS: &[&str] = &[
    "/hukou/v1/persons/370811202011150023",
    "/birth/v1/certificates/370811202011150023",
    "/property/v1/holdings?owner_id=370811198803120042",
    "/property/v1/units/370811012001GB00143F00020501",
    "/residence/v1/permits/411522198907070031",
    "/social-insurance/v1/persons/411522198907070031/months?from=2025-05&to=2027-04",
    "/zones/v1/schools",
    "/zones/v1/buildings/370811-012-00143",
    "/zones/v1/addresses?text=%E4%BB%BB%E5%9F%8E%E5%8C%BA%E5%A4%AA%E7%99%BD%E4%B8%AD%E8%B7%AF143%E5%8F%B72-501",
    "/enrolment-history/v1/units/370811012001GB00143F00020501",
    "/enrolment-history/v1/children/370811201806050021",
    "/hukou/v1/persons/411522198907070031",
];

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let secs = if bench { arg(&args, "--secs", 10) } else { 0 };
    let conns = arg(&args, "--conns", 32) as usize;
    let workers = arg(&args, "--threads", 2) as usize;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(run(secs, conns))
}

async fn run(secs: u64, conns: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/basic");
    let sim = Simulator::start(Dataset::load(&dir)?, SimConfig::default(), "127.0.0.1:0".parse()?).await?;
    let base = sim.base_url();
    let client = reqwest::Client::builder().pool_max_idle_per_host(conns).build()?;

    let stop = Arc::new(AtomicBool::new(false));
    let counting = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (client, base) = (client.clone(), base.clone());
        let (stop, counting, done, failed) = (stop.clone(), counting.clone(), done.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            // Smoke mode: one pass over the paths per connection.
            let smoke = secs == 0;
            let finished = |i: usize| smoke && i >= c + PATHS.len();
            while !stop.load(Ordering::Relaxed) && !finished(i) {
                let path = PATHS[i % PATHS.len()];
                i += 1;
                // The last path is a person with no household record: a 404 is right.
                let expected = if i % PATHS.len() == 0 { 404 } else { 200 };
                let response = client
                    .get(format!("{base}{path}"))
                    .header("X-Api-Key", "dev-key")
                    .header("X-Consent-Id", "CNS-BENCH")
                    .header("X-Purpose", "school-enrolment")
                    .send()
                    .await;
                // Read the whole body, as a client does, so the connection is reused.
                let ok = match response {
                    Ok(r) => r.status().as_u16() == expected && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if counting.load(Ordering::Relaxed) || smoke {
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    if secs == 0 {
        for t in tasks {
            t.await?;
        }
        let (ok, bad) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
        println!("throughput smoke pass: {ok} requests answered, {bad} failed");
        sim.shutdown().await?;
        return if bad == 0 {
            Ok(())
        } else {
            Err("smoke pass had failures".into())
        };
    }

    // Warm up connections and caches, then count for `secs`.
    tokio::time::sleep(Duration::from_secs(1)).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let (ok, bad) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    let logged: usize = Registry::ALL.into_iter().map(|r| sim.access_log(r).len()).sum();
    println!(
        "registry simulator, faults off, {conns} keep-alive connections, {} endpoints mixed: \
         {ok} requests in {elapsed:.2} s = {:.0} requests/s ({bad} failed; {logged} access-log entries)",
        PATHS.len(),
        ok as f64 / elapsed
    );
    sim.shutdown().await?;
    Ok(())
}
