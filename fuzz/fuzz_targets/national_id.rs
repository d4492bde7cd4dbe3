//! cargo-fuzz harness (nightly): `cargo +nightly fuzz run --features libfuzzer national_id fuzz/corpus/national_id`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::national_id(data));
