//! Generates and writes a 100,000-family city once and reports the time:
//! `cargo bench -p enrol-city --bench generate [-- FAMILIES]`.

use std::time::Instant;

fn main() {
    let families = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let start = Instant::now();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(families, 2027));
    let generated = start.elapsed();
    city.write_to(dir.path()).expect("the city is written");
    let total = start.elapsed();
    let bytes: u64 = enrol_city::FILES
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "{families} families: generated in {:.2} s, written in {:.2} s, total {:.2} s; {} persons, {} applications, {:.1} MB",
        generated.as_secs_f64(),
        (total - generated).as_secs_f64(),
        total.as_secs_f64(),
        city.persons.len(),
        city.applications.len(),
        bytes as f64 / 1e6
    );
}
