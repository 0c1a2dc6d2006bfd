//! `cargo fuzz run message_decode`: see `checks::message_decode` in felund-wire/tests/fuzz_checks/mod.rs.
#![no_main]

#[path = "../../felund-wire/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::message_decode(data));
