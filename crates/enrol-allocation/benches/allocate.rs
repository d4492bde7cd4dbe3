//! A city's whole cohort: 200,000 applicants with up to 6 choices over 1,000
//! schools, generated from a fixed seed.
//!
//! `cargo bench -p enrol-allocation --bench allocate`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use enrol_allocation::{
    Applicant, Choice, Home, Instance, Location, Mechanism, School, allocate, allocate_json, parse_instance,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const APPLICANTS: usize = 200_000;
const SCHOOLS: usize = 1_000;
const COUNTIES: usize = 12;
const MAX_CHOICES: usize = 6;

/// Popularity follows a Zipf-like law (a few famous schools, a long tail),
/// capacities average 200 seats (about the cohort in total), one school in ten
/// is private, and keys look like policy.md's `[tier, sibling, value]`.
fn city(mechanism: Mechanism, overflow: bool) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(2027);
    let centre = (35.41, 116.59);
    let county_centres: Vec<(f64, f64)> = (0..COUNTIES)
        .map(|_| {
            (
                centre.0 + rng.random_range(-0.6..0.6),
                centre.1 + rng.random_range(-0.6..0.6),
            )
        })
        .collect();
    let mut schools = Vec::with_capacity(SCHOOLS);
    let mut weights = Vec::with_capacity(SCHOOLS);
    for i in 0..SCHOOLS {
        let county = rng.random_range(0..COUNTIES);
        let (lat, lon) = county_centres[county];
        schools.push(School {
            id: format!("S{i:04}"),
            capacity: rng.random_range(120..=280),
            public: Some(rng.random_range(0..10) != 0),
            county: Some(format!("3708{:02}", county + 1)),
            location: Some(Location {
                lat: lat + rng.random_range(-0.15..0.15),
                lon: lon + rng.random_range(-0.15..0.15),
            }),
        });
        weights.push(1.0 / ((i + 1) as f64).powf(0.8));
    }
    // Popularity rank is unrelated to id.
    for i in (1..SCHOOLS).rev() {
        weights.swap(i, rng.random_range(0..=i));
    }
    let total: f64 = weights.iter().sum();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |sum, w| {
            *sum += w / total;
            Some(*sum)
        })
        .collect();

    let mut applicants = Vec::with_capacity(APPLICANTS);
    for _ in 0..APPLICANTS {
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.random::<u32>(),
            rng.random::<u16>(),
            rng.random_range(0..0x1000u16),
            rng.random_range(0..0x1000u16),
            rng.random::<u64>() & 0xffff_ffff_ffff
        );
        let count = rng.random_range(1..=MAX_CHOICES);
        let mut picked: Vec<usize> = Vec::with_capacity(count);
        while picked.len() < count {
            let u: f64 = rng.random();
            let s = cumulative.partition_point(|&c| c < u).min(SCHOOLS - 1);
            if !picked.contains(&s) {
                picked.push(s);
            }
        }
        let choices = picked
            .into_iter()
            .map(|s| {
                let sibling = i64::from(rng.random_range(0..20) != 0);
                let key = if schools[s].public == Some(true) {
                    let tier = rng.random_range(1..=4i64);
                    let value = if tier == 4 {
                        -rng.random_range(20..=110i64)
                    } else {
                        20_150_101 + rng.random_range(0..100_000i64)
                    };
                    vec![tier, sibling, value]
                } else {
                    vec![0, sibling]
                };
                Choice {
                    school: schools[s].id.clone(),
                    key,
                }
            })
            .collect();
        let county = rng.random_range(0..COUNTIES);
        let (lat, lon) = county_centres[county];
        let located = rng.random_range(0..20) != 0;
        applicants.push(Applicant {
            id,
            lottery: format!("{:016x}", rng.random::<u64>()),
            best_tier: (rng.random_range(0..5) != 0).then(|| rng.random_range(1..=4)),
            home: Some(Home {
                county: Some(format!("3708{:02}", county + 1)),
                lat: located.then(|| lat + rng.random_range(-0.2..0.2)),
                lon: located.then(|| lon + rng.random_range(-0.2..0.2)),
            }),
            choices,
        });
    }
    Instance {
        mechanism,
        overflow,
        schools,
        applicants,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocate-200k");
    group.sample_size(10);
    for (name, mechanism, overflow) in [
        ("deferred-acceptance", Mechanism::DeferredAcceptance, false),
        ("immediate-acceptance", Mechanism::ImmediateAcceptance, false),
        ("deferred-acceptance+overflow", Mechanism::DeferredAcceptance, true),
    ] {
        let instance = city(mechanism, overflow);
        let result = allocate(&instance).expect("generated instance is valid");
        let unplaced = result.assignments.values().filter(|s| s.is_none()).count();
        eprintln!(
            "{name}: {} placed by the mechanism, {} by overflow, {unplaced} without a seat",
            APPLICANTS - unplaced - result.overflow.len(),
            result.overflow.len()
        );
        group.bench_function(name, |b| b.iter(|| allocate(black_box(&instance))));
    }
    // What `enrol allocate` does: parse the file's text, allocate, write the result.
    let instance = city(Mechanism::DeferredAcceptance, true);
    let text = serde_json::to_string(&instance).expect("serializable");
    eprintln!("instance JSON: {} MB", text.len() / 1_000_000);
    group.bench_function("json-in-json-out+overflow", |b| {
        b.iter(|| allocate_json(black_box(&text)))
    });
    group.bench_function("parse_instance", |b| b.iter(|| parse_instance(black_box(&text))));
    // The borrowed read `allocate_json` makes (ids borrowed, keys packed).
    group.bench_function("read-borrowed", |b| {
        b.iter(|| enrol_allocation::bench_read_instance(black_box(&text)))
    });
    // File to file, as the round publishes it: `instance.json` is pretty-printed.
    let dir = std::env::temp_dir().join(format!("enrol-allocation-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let (input, output) = (dir.join("instance.json"), dir.join("result.json"));
    let pretty = serde_json::to_string_pretty(&instance).expect("serializable") + "\n";
    eprintln!("pretty instance.json: {} MB", pretty.len() / 1_000_000);
    std::fs::write(&input, pretty).expect("writing the instance");
    drop(instance);
    group.bench_function("file-to-file+overflow", |b| {
        b.iter(|| {
            let text = std::fs::read_to_string(&input).expect("reading the instance");
            let result = allocate_json(&text).expect("a valid instance");
            std::fs::write(&output, result).expect("writing the result");
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
