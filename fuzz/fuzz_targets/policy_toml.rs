//! cargo-fuzz harness (nightly): `cargo +nightly fuzz run --features libfuzzer policy_toml fuzz/corpus/policy_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::policy_toml(data));
