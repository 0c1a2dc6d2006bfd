//! `cargo fuzz run invite_parse`: see `checks::invite_parse` in felund-wire/tests/fuzz_checks/mod.rs.
#![no_main]

#[path = "../../felund-wire/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::invite_parse(data));
