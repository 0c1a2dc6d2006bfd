//! `cargo fuzz run sync`: see `checks::sync` in felund-wire/tests/fuzz_checks/sync.rs.
#![no_main]

#[path = "../../felund-wire/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::sync::sync(data));
