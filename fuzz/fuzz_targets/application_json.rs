//! cargo-fuzz harness: `cargo fuzz run --dev -s none --features libfuzzer application_json fuzz/corpus/application_json` (.ci/fuzz/run runs it in CI).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::application_json(data));
