//! cargo-fuzz harness: `cargo fuzz run --dev -s none --features libfuzzer policy_toml fuzz/corpus/policy_toml` (.ci/fuzz/run runs it in CI).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::policy_toml(data));
