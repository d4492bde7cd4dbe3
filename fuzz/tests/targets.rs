//! Every fuzz target over its checked-in corpus and then mutations of it,
//! bounded: `ENROL_FUZZ_INPUTS` inputs per target (default 20,000, the
//! corpus included) or `ENROL_FUZZ_SECONDS` seconds per target (default 20),
//! whichever comes first; `ENROL_FUZZ_SEED` (default 2027) picks the
//! mutations. The inputs each target ran are printed
//! (`cargo test -p enrol-fuzz -- --nocapture`) and recorded in docs/fuzzing.md.

use std::path::Path;
use std::time::Duration;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    let limits = enrol_fuzz::Limits {
        max_inputs: env_or("ENROL_FUZZ_INPUTS", 20_000),
        budget: Duration::from_secs_f64(env_or("ENROL_FUZZ_SECONDS", 20.0)),
    };
    let seed: u64 = env_or("ENROL_FUZZ_SEED", 2027);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // One target after another: the runner quiets the panic hook while it runs.
    for (name, target) in enrol_fuzz::targets::ALL {
        let report = enrol_fuzz::run(
            name,
            target,
            &root.join("corpus").join(name),
            &root.join("artifacts"),
            limits,
            seed,
        );
        println!(
            "fuzz target {name}: {} inputs ({} from the corpus) in {:.1} s without a failure (seed {seed})",
            report.inputs,
            report.corpus,
            report.elapsed.as_secs_f64()
        );
        assert!(report.inputs > report.corpus as u64, "{name} ran only its corpus");
    }
}
