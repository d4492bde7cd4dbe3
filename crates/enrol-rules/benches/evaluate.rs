//! Deciding 100,000 evidence bundles on one core (issue 6: under 1 s).
//!
//! Setup (not timed): 10,000 varied families of the property tests' generator
//! are gathered through `plan_reads` into complete bundles. Each iteration
//! decides every bundle ten times (100,000 decisions), with a round seed, so
//! the lottery number is computed too.
//!
//! Run: `cargo bench -p enrol-rules --bench evaluate`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use enrol_domain::{Application, EvidenceBundle};
use enrol_rules::{Policy, evaluate, plan_reads};
use support::families::family;
use support::{Registries, fixtures_dir, gather, load_schools};

const FAMILIES: u64 = 10_000;
const PASSES: usize = 10;

fn families() -> u64 {
    std::env::var("RULES_BENCH_FAMILIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FAMILIES)
}

fn bench(c: &mut Criterion) {
    let dir = fixtures_dir().join("rules/world");
    let world = Registries::load_dir(&dir);
    let schools = load_schools(&dir.join("schools.json"));
    let policy = Policy::sample();
    let families = families();
    let passes = usize::try_from(100_000 / families.max(1)).unwrap_or(PASSES);
    let bundles: Vec<(Application, EvidenceBundle)> = (0..families)
        .map(|seed| {
            let (app, registries, officer) = family(seed, &world);
            let (bundle, _) = gather(&app, &registries, &policy, &schools, officer);
            (app, bundle)
        })
        .collect();

    let mut group = c.benchmark_group("rules");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(families * passes as u64));
    group.bench_function("evaluate_100k_bundles", |b| {
        b.iter(|| {
            for _ in 0..passes {
                for (app, bundle) in &bundles {
                    black_box(evaluate(app, bundle, &policy, &schools, Some("bench-seed")));
                }
            }
        });
    });
    group.bench_function("plan_reads_100k_complete_bundles", |b| {
        b.iter(|| {
            for _ in 0..passes {
                for (app, bundle) in &bundles {
                    black_box(plan_reads(app, bundle, &policy, &schools));
                }
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
