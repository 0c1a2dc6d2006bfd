//! `cargo fuzz run frame_decode`: see `checks::frame_decode` in felund-wire/tests/fuzz_checks/mod.rs.
#![no_main]

#[path = "../../felund-wire/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::frame_decode(data));
