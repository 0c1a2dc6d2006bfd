//! Replays the fuzz corpus: every file under `tests/fuzz_corpus/<target>/` goes through the
//! same check as the `cargo fuzz` target of that name (`tests/fuzz_checks/mod.rs`), plus inputs
//! too large to keep as files. See RELIABILITY.md, "Fuzzing".

mod fuzz_checks;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use felund_wire::session::SessionCipher;
use fuzz_checks::TARGETS;

/// Largest generated input that [`generated_hostile_inputs`] seals and opens in full.
const SESSION_ROUND_TRIP_MAX: usize = 1024 * 1024;

/// Every corpus directory must hold at least this many inputs, so that a lost corpus cannot
/// pass silently.
const MIN_FILES_PER_TARGET: usize = 20;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(target)
}

/// Runs `check` on `data`, turning a panic into a description of the failing input.
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

fn replay(target: &str) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= MIN_FILES_PER_TARGET,
        "{} holds only {} inputs",
        dir.display(),
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).expect("read corpus file");
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            failure(&name, || {
                assert!(fuzz_checks::run(target, &data));
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn frame_decode_corpus() {
    replay("frame_decode");
}

#[test]
fn session_line_corpus() {
    replay("session_line");
}

#[test]
fn invite_parse_corpus() {
    replay("invite_parse");
}

#[test]
fn message_decode_corpus() {
    replay("message_decode");
}

#[test]
fn handshake_corpus() {
    replay("handshake");
}

#[test]
fn sync_corpus() {
    replay("sync");
}

#[test]
fn every_target_has_a_corpus_and_a_test() {
    for target in TARGETS {
        assert!(corpus_dir(target).is_dir(), "no corpus for {target}");
    }
    assert!(!fuzz_checks::run("no_such_target", b""));
}

/// The hand-written handshake seeds reach what they were written for: the honest ones an
/// established session (where the sync frames are checked), the hostile ones a refusal —
/// plaintext sessions included, in both roles.
#[test]
fn handshake_seeds_reach_their_outcome() {
    let dir = corpus_dir("handshake");
    for (seed, established) in [
        ("seed-resp-enc-auto", true),
        ("seed-resp-enc-real-token", true),
        ("seed-resp-sealed-frames", true),
        ("seed-init-enc", true),
        ("seed-resp-ext-proof", true),
        ("seed-init-ext-proof", true),
        ("seed-resp-plain", false),
        ("seed-init-plain", false),
        ("seed-resp-ext-bad-proof", false),
        ("seed-init-ext-no-proof", false),
        ("seed-resp-upper-token", false),
        ("seed-resp-wrong-token", false),
        ("seed-resp-unknown-circle", false),
        ("seed-resp-bad-nonce", false),
        ("seed-resp-self", false),
        ("seed-init-self", false),
        ("seed-init-bad-challenge", false),
    ] {
        let data = fs::read(dir.join(seed)).expect(seed);
        assert_eq!(
            fuzz_checks::handshake_established(&data),
            established,
            "{seed}"
        );
    }
}

/// The hand-written sync seeds reach what they were written for: the honest ones the end
/// of their machine, the hostile ones a refusal (or a quiet end).
#[test]
fn sync_seeds_reach_their_outcome() {
    let dir = corpus_dir("sync");
    for (seed, completed) in [
        ("seed-ref-honest", true),
        ("seed-ref-request-everything", true),
        ("seed-ref-have-200-unknown", true),
        ("seed-ref-have-first", false),
        ("seed-ref-error-first", false),
        ("seed-ref-unexpected-instead-of-req", false),
        ("seed-ref-unexpected-instead-of-send", false),
        ("seed-ref-internal-error-instead-of-send", false),
        ("seed-ref-not-a-frame", false),
        ("seed-ext-in-sync", true),
        ("seed-ext-honest", true),
        ("seed-ext-ids-over-count", false),
        ("seed-ext-empty-ids-chunk-with-more", false),
        ("seed-ext-req-over-offered", false),
        ("seed-ext-send-over-asked", false),
        ("seed-ext-empty-send-chunk-with-more", false),
        ("seed-ext-error-mid-run", false),
        ("seed-ext-digest-first", false),
        ("seed-ext-reference-frame", false),
        ("seed-link-i-honest", true),
        ("seed-link-i-declined", false),
        ("seed-link-r-honest", true),
        ("seed-link-r-no-offer", false),
        ("seed-link-push-flood", false),
        ("seed-link-unexpected", false),
        ("seed-anchor-i-honest", true),
        ("seed-anchor-i-error", false),
        ("seed-anchor-r-honest", true),
        ("seed-anchor-r-negative-since", true),
        ("seed-anchor-r-other", false),
    ] {
        let data = fs::read(dir.join(seed)).expect(seed);
        assert_eq!(
            fuzz_checks::sync::sync_completed(&data),
            completed,
            "{seed}"
        );
    }
}

/// Runs too long to keep as files, through the sync machines: a reference MSGS_REQ of 20,000
/// ids (answered with what fits one line), a full X_IDS chunk beyond its digest's count, and
/// a push of 100,000 messages on a live link.
#[test]
fn generated_hostile_sync_runs() {
    let ids = |n: usize| -> Vec<String> { (0..n).map(|i| format!("id{i}")).collect() };
    let frame = |v: serde_json::Value| v.to_string();
    let peers = frame(serde_json::json!({"t": "PEERS", "peers": []}));
    let lines = |mode: &str, frames: &[String]| {
        [vec![mode.to_string()], frames.to_vec()]
            .concat()
            .join("\n")
            .into_bytes()
    };
    let huge_req = lines(
        "ref",
        &[
            peers.clone(),
            frame(serde_json::json!({"t": "MSGS_HAVE", "msg_ids": []})),
            frame(serde_json::json!({"t": "MSGS_REQ", "msg_ids": ids(20_000)})),
            frame(serde_json::json!({"t": "MSGS_SEND", "messages": []})),
        ],
    );
    assert!(fuzz_checks::sync::sync_completed(&huge_req));
    let over_count = lines(
        "ext",
        &[
            peers,
            frame(serde_json::json!({"t": "X_DIGEST", "count": 10, "digest": "ff"})),
            frame(serde_json::json!({"t": "X_BUCKETS", "buckets": []})),
            frame(serde_json::json!({"t": "X_IDS", "ids": ids(20_000), "more": false})),
        ],
    );
    assert!(!fuzz_checks::sync::sync_completed(&over_count));
    let push = vec![serde_json::json!({}); 100_000];
    let flood = lines(
        "link-r",
        &[
            frame(serde_json::json!({"t": "X_LINK"})),
            frame(serde_json::json!({"t": "X_PUSH", "messages": push})),
        ],
    );
    assert!(!fuzz_checks::sync::sync_completed(&flood));
}

/// Hostile inputs too big to keep as files, through every target.
#[test]
fn generated_hostile_inputs() {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    // A 10 MB line: JSON that opens a frame and never ends, and one that is complete.
    let mut head = br#"{"t":"MSGS_SEND","messages":[{"text":""#.to_vec();
    head.resize(10 * 1024 * 1024, b'A');
    inputs.push(("10MB unterminated line".into(), head.clone()));
    head.extend_from_slice(br#""}]}"#);
    inputs.push(("10MB frame".into(), head));
    inputs.push(("10MB of NUL".into(), vec![0; 10 * 1024 * 1024]));
    // Nesting far beyond serde_json's recursion limit, as array, object and inside a frame.
    let depth = 100_000;
    inputs.push((
        "deep arrays".into(),
        [vec![b'['; depth], vec![b']'; depth]].concat(),
    ));
    inputs.push(("deep objects".into(), br#"{"a":"#.repeat(depth)));
    inputs.push((
        "deep frame".into(),
        [br#"{"t":"X_PUSH","messages":"#.to_vec(), vec![b'['; depth]].concat(),
    ));
    // Huge numbers.
    for n in [
        "1e999999",
        "-1e999999",
        &"9".repeat(100_000),
        "18446744073709551616",
    ] {
        inputs.push((
            format!("number {}", &n[..n.len().min(12)]),
            format!(r#"{{"t":"ANCHOR_PULL","circle_id":"c","since":{n}}}"#).into_bytes(),
        ));
    }
    // 100,000 PEERS entries, half of them bad.
    let peers: Vec<String> = (0..100_000)
        .map(|i| match i % 2 {
            0 => format!(r#"{{"node_id":"n{i}","addr":"h:{}"}}"#, i % 65_536),
            _ => format!(r#"{{"node_id":"n{i}","addr":"h:{i}0"}}"#),
        })
        .collect();
    inputs.push((
        "100k peers".into(),
        format!(r#"{{"t":"PEERS","peers":[{}]}}"#, peers.join(",")).into_bytes(),
    ));
    // A 1 MB base64 session line and a 1 MB invite code.
    inputs.push(("1MB base64 line".into(), b"QUFB".repeat(256 * 1024)));
    let mut invite = b"felund1.".to_vec();
    invite.extend_from_slice(&b"eyJ2IjoxfQ".repeat(100_000));
    inputs.push(("1MB invite".into(), invite));

    let failures: Vec<String> = inputs
        .iter()
        .flat_map(|(name, data)| {
            TARGETS.iter().filter_map(move |target| {
                failure(&format!("{target} / {name}"), || {
                    if *target == "session_line" && data.len() > SESSION_ROUND_TRIP_MAX {
                        // Sealing and opening 10 MB twice takes ~10 s in a debug build; the
                        // receiving side is what faces hostile input, so check only that.
                        let cipher = SessionCipher::new(fuzz_checks::SESSION_KEY);
                        assert!(cipher.open_line(data).is_err());
                    } else {
                        assert!(fuzz_checks::run(target, data));
                    }
                })
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
