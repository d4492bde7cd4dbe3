//! cargo-fuzz harness: `cargo fuzz run --dev -s none --features libfuzzer registry_answer fuzz/corpus/registry_answer` (.ci/fuzz/run runs it in CI).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::registry_answer(data));
