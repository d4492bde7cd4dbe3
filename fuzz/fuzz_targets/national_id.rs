//! cargo-fuzz harness: `cargo fuzz run --dev -s none --features libfuzzer national_id fuzz/corpus/national_id` (.ci/fuzz/run runs it in CI).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::national_id(data));
