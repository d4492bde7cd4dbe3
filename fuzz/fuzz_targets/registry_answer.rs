//! cargo-fuzz harness (nightly): `cargo +nightly fuzz run --features libfuzzer registry_answer fuzz/corpus/registry_answer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::registry_answer(data));
