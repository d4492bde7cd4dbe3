//! Throughput of evidence gathering against the simulator.
//!
//! `cargo bench -p enrol-evidence --bench gather` gathers the evidence of
//! every application of a generated city (10,000 families) from the
//! simulator, every registry answering after 20 ms, and reports
//! applications/s beside the bound the concurrency limits set: for each
//! registry, limit ÷ latency ÷ its average calls per application; the
//! smallest of these.
//!
//! Environment: `BENCH_FAMILIES` (10000), `BENCH_SEED` (2027),
//! `BENCH_LATENCY_MS` (20), `BENCH_LIMIT` (16, every registry),
//! `BENCH_IN_FLIGHT` (applications at once, 512).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use enrol_domain::{Application, EvidenceBundle, Registry};
use enrol_evidence::{AccessLog, GatherOptions, Gatherer, Registries, RegistriesConfig, RegistryConfig};
use enrol_registry_sim::{Dataset, FaultPlan, RegistryFaults, SimConfig, Simulator};

fn env(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v.parse().with_context(|| format!("{name}={v:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let families = env("BENCH_FAMILIES", 10_000)? as usize;
    let seed = env("BENCH_SEED", 2027)?;
    let latency_ms = env("BENCH_LATENCY_MS", 20)?;
    let limit = env("BENCH_LIMIT", 16)? as usize;
    let in_flight = env("BENCH_IN_FLIGHT", 512)? as usize;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(families, seed, latency_ms, limit, in_flight))
}

async fn run(families: usize, seed: u64, latency_ms: u64, limit: usize, in_flight: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(families, seed));
    let dir = tempfile::tempdir()?;
    city.write_to(dir.path())?;
    let dataset = Arc::new(Dataset::load(dir.path())?);
    let apps: Vec<Application> = city.applications;
    eprintln!("city of {families} families ready in {:.1?}", started.elapsed());

    let faults = FaultPlan::uniform(RegistryFaults {
        latency_ms,
        ..RegistryFaults::default()
    });
    let sim = Simulator::start(
        dataset,
        SimConfig::default().with_faults(faults),
        "127.0.0.1:0".parse()?,
    )
    .await?;

    let mut registry = RegistryConfig::new(sim.base_url(), "dev-key");
    registry.concurrency = limit;
    let config = RegistriesConfig::uniform(registry);
    let log = Arc::new(AccessLog::new());
    let registries = Registries::connect(&config, log.clone())?;
    let schools = registries.school_catalogue().await?;
    log.drain(); // the catalogue is read once per round, not per application
    let policy = enrol_rules::Policy::sample();
    let planner =
        move |app: &Application, bundle: &EvidenceBundle| enrol_rules::plan_reads(app, bundle, &policy, &schools);
    let options = GatherOptions {
        applications_in_flight: in_flight,
        ..GatherOptions::default()
    };
    let gatherer = Gatherer::new(registries, planner, options);

    let work: Vec<_> = apps.iter().map(|a| (a.clone(), EvidenceBundle::default())).collect();
    let t0 = Instant::now();
    let outcomes = gatherer
        .gather_all(work, |p| {
            if p.done % 2_000 == 0 {
                eprintln!("  {} / {} gathered", p.done, p.total);
            }
        })
        .await;
    let elapsed = t0.elapsed();
    let pending = outcomes.values().filter(|o| !o.is_complete()).count();
    anyhow::ensure!(pending == 0, "{pending} applications pending without faults");

    let mut calls: BTreeMap<Registry, usize> = BTreeMap::new();
    let accesses = log.drain();
    for a in &accesses {
        *calls.entry(a.registry).or_default() += 1;
    }
    let retries = accesses.iter().filter(|a| a.attempt > 1).count();
    let latency = Duration::from_millis(latency_ms).as_secs_f64();
    let n = apps.len() as f64;
    println!("registry   calls  calls/app  limit  bound (apps/s)");
    let mut bound = f64::INFINITY;
    let mut bottleneck = None;
    for r in Registry::ALL {
        let c = calls.get(&r).copied().unwrap_or(0);
        let per_app = c as f64 / n;
        let b = if c == 0 {
            f64::INFINITY
        } else {
            limit as f64 / latency / per_app
        };
        if b < bound {
            bound = b;
            bottleneck = Some(r);
        }
        println!("{:<9} {c:>6} {per_app:>10.3} {limit:>6} {b:>15.0}", r.citation_name());
    }
    let rate = n / elapsed.as_secs_f64();
    println!(
        "gathered {} applications in {:.2?}: {rate:.0} applications/s; bound {bound:.0} applications/s ({}); {:.1}% of the bound; {} requests, {retries} retries",
        apps.len(),
        elapsed,
        bottleneck.map_or("none", |r| r.citation_name()),
        100.0 * rate / bound,
        accesses.len(),
    );
    sim.shutdown().await?;
    Ok(())
}
