//! Replays the `relay_request` fuzz corpus: every file under `tests/fuzz_corpus/relay_request/`
//! goes, in name order, through the same check as the `cargo fuzz` target
//! (`tests/fuzz_checks/mod.rs`), on one relay, plus inputs too large to keep as files. See
//! RELIABILITY.md, "Fuzzing".

mod fuzz_checks;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_checks::{relay_request, Harness};

/// The corpus must hold at least this many inputs, so that a lost corpus cannot pass silently.
const MIN_FILES: usize = 20;

fn failure(name: &str, check: impl FnOnce()) -> Option<String> {
    catch_unwind(AssertUnwindSafe(check)).err().map(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{name}: {msg}")
    })
}

#[test]
fn relay_request_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus/relay_request");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= MIN_FILES, "only {} inputs", files.len());
    let harness = Harness::new();
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).expect("read corpus file");
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            failure(&name, || relay_request(&harness, &data))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Hostile requests too big to keep as files.
#[test]
fn generated_hostile_requests() {
    let harness = Harness::new();
    let depth = 100_000;
    let mut deep = b"POST /v1/messages\n\n".to_vec();
    deep.extend(vec![b'['; depth]);
    let mut big = b"POST /v1/signal\n\n".to_vec();
    big.resize(10 * 1024 * 1024, b'{');
    let mut long_path = b"GET /".to_vec();
    long_path.extend(b"v1/".repeat(100_000));
    long_path.extend(b"health");
    let mut long_query = b"GET /v1/messages?circle_hint=".to_vec();
    long_query.extend(b"%ff".repeat(100_000));
    let mut many_headers = b"GET /v1/peers?circle_hint=@HINT@".to_vec();
    for i in 0..5_000 {
        many_headers.extend(format!("\nx-h{i}: {i}").bytes());
    }
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("deep JSON body", deep),
        ("10 MB body", big),
        ("100k /v1 segments", long_path),
        ("300 KB query", long_query),
        ("5,000 headers", many_headers),
        (
            "huge numbers",
            br#"POST /v1/register

{"node_id":"abcdefgh","circle_hint":"@HINT@","ttl_s":1e999999,"endpoints":[{"transport":"tcp","host":"h","port":18446744073709551616}]}"#
                .to_vec(),
        ),
    ];
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|(name, data)| failure(name, || relay_request(&harness, data)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
