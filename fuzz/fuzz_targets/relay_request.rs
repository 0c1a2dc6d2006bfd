//! `cargo fuzz run relay_request`: see felund-relay/tests/fuzz_checks/mod.rs.
#![no_main]

use std::sync::OnceLock;

#[path = "../../felund-relay/tests/fuzz_checks/mod.rs"]
mod checks;

static HARNESS: OnceLock<checks::Harness> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::relay_request(HARNESS.get_or_init(checks::Harness::new), data)
});
