//! cargo-fuzz harness: `cargo fuzz run --dev -s none --features libfuzzer address_text fuzz/corpus/address_text` (.ci/fuzz/run runs it in CI).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::address_text(data));
