//! cargo-fuzz harness (nightly): `cargo +nightly fuzz run --features libfuzzer address_text fuzz/corpus/address_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enrol_fuzz::targets::address_text(data));
