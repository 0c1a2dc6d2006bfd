//! `cargo fuzz run session_line`: see `checks::session_line` in felund-wire/tests/fuzz_checks/mod.rs.
#![no_main]

#[path = "../../felund-wire/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::session_line(data));
