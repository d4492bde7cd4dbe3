//! Fuzz targets of the engine's parsers, and a bounded mutation runner that
//! drives them inside `cargo test` (docs/fuzzing.md says how much).
//!
//! Each target takes arbitrary bytes, feeds them to the code that meets the
//! outside world, and asserts what must hold whatever the input: no panic,
//! and where the parser accepts, the value it built keeps its promises
//! (round trips, caps). The same functions serve cargo-fuzz's harness in
//! `fuzz_targets/`, which CI runs under libFuzzer (`.ci/fuzz/run`).

pub mod runner;
pub mod targets;

pub use runner::{Limits, Report, run};
