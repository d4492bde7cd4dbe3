//! cargo-fuzz harness (nightly): `cargo +nightly fuzz run --features libfuzzer application_json fuzz/corpus/application_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::application_json(data));
