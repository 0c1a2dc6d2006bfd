//! `felund-relay migrate`: a real SQLite relay's database moved into a real PostgreSQL one by
//! the binary, then served by a relay on PostgreSQL: every client resumes its cursor
//! (`after_seq` and the reference `since`) without loss or repeat, what waits for a node that
//! never pulled is there, seqs and signal ids continue above the old ones, members' keys and
//! nonces carry over. A target that already holds relay data is refused, unchanged.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::since::{Rule, SinceReader};
use common::{message, msg_ids, start_instance, Backend, Member, Relay};
use felund_relay::ManualClock;
use reqwest::Method;
use serde_json::{json, Value};

/// Runs `felund-relay migrate`; (success, stdout, stderr).
fn migrate(from: &Path, to_url: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_felund-relay"))
        .arg("migrate")
        .arg("--from-db")
        .arg(from)
        .env("FELUND_RELAY_MIGRATE_TO_DATABASE_URL", to_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run felund-relay migrate");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A URL with a password in it (trust authentication ignores it).
fn with_password(url: &str) -> String {
    url.replacen("postgres@", "postgres:s3cret-pw@", 1)
}

/// Stops the relay's server but keeps its directory (and SQLite file).
async fn stop_keeping_files(relay: &mut Relay) {
    relay
        .handle
        .take()
        .expect("running")
        .shutdown()
        .await
        .expect("shutdown");
}

/// Pages `after_seq` from `cursor` to the end; the ids and the last cursor.
async fn after_seq(relay: &Relay, member: &Member, mut cursor: i64) -> (Vec<String>, i64) {
    let mut got = Vec::new();
    loop {
        let reply = relay
            .pull(member, &format!("&after_seq={cursor}&limit=60"))
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        got.extend(msg_ids(&reply.json));
        cursor = reply.json["cursor"].as_i64().expect("cursor");
        if reply.json["more"] == json!(false) {
            return (got, cursor);
        }
    }
}

fn signal(to: &str, payload: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"session_id": "session-0001", "from_node_id": "caller-node-1",
        "to_node_id": to, "circle_hint": "circle-hint-1", "type": "offer", "payload": payload}),
    )
    .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_relay_moves_to_postgresql_and_every_cursor_resumes() {
    let Some(Backend::Postgres(url)) = Backend::postgres("a_sqlite_relay_moves_to_postgresql")
    else {
        return;
    };
    let clock = Arc::new(ManualClock::starting_now());
    let pg_options = Backend::pg_options();
    let mut old = start_instance(&Backend::Sqlite, clock.clone(), 0, pg_options, |_| {}).await;
    let (alice, bob) = (
        Member::new(1, "alice-node-0001"),
        Member::new(1, "bob-node-000001"),
    );
    old.register(&alice).await;
    old.register(&bob).await;
    // One message that expires and is pruned: SQLite's seq high-water mark is above what is
    // left, and must not be handed out again.
    old.push(&alice, &[message("expired-00001", 1)]).await;
    clock.advance(30 * 24 * 3600 + 1);
    let policy = felund_relay::server::prune_policy(&Default::default());
    assert_eq!(
        old.store
            .prune(old.now(), policy)
            .await
            .expect("prune")
            .messages,
        1
    );
    old.register(&alice).await;
    old.register(&bob).await;
    // 300 messages in one second: positions run ahead of the clock.
    let mut written = Vec::new();
    for batch in 0..6 {
        let msgs: Vec<Value> = (0..50)
            .map(|i| message(&format!("moved-{batch}-{i:03}"), 1))
            .collect();
        assert_eq!(old.push(&alice, &msgs).await.json["stored"], json!(50));
        written.extend(
            msgs.iter()
                .map(|m| m["msg_id"].as_str().expect("id").to_owned()),
        );
    }
    // Bob has pulled 120 by after_seq; a reference client 200 by its since cursor.
    let first = old.pull(&bob, "&after_seq=0&limit=120").await;
    let bob_cursor = first.json["cursor"].as_i64().expect("cursor");
    let old_high = after_seq(&old, &bob, bob_cursor).await.1;
    let mut reference = SinceReader::new(Rule::Python, &alice.hint, 100);
    reference.pull(&old).await;
    reference.pull(&old).await;
    // A signal waits for a callee; a request signed just before the move.
    let posted = old
        .send(
            Method::POST,
            "/v1/signal",
            Some(signal("callee-node-1", "before")),
            Default::default(),
        )
        .await;
    assert_eq!(posted.status, 200, "{:?}", posted.json);
    let replayed_headers = alice.headers("GET", "/messages", b"", old.now());
    let pull_path = format!("/v1/messages?circle_hint={}&since=0", alice.hint);
    assert_eq!(
        old.send(Method::GET, &pull_path, None, replayed_headers.clone())
            .await
            .status,
        200
    );
    stop_keeping_files(&mut old).await;

    let (ok, stdout, stderr) = migrate(&old.dir.path().join("relay.sqlite"), &with_password(&url));
    assert!(ok, "migrate failed: {stderr}");
    assert!(stdout.contains("migrated 300 messages"), "{stdout}");
    assert!(stdout.contains("2 presence records"), "{stdout}");

    let new = start_instance(
        &Backend::Postgres(url.clone()),
        clock,
        0,
        pg_options,
        |_| {},
    )
    .await;
    // Bob resumes where he stopped: the other 180, once, in order.
    let (rest, _) = after_seq(&new, &bob, bob_cursor).await;
    assert_eq!(rest, written[120..].to_vec());
    // The reference client resumes its since cursor: the other 100, once.
    reference.drain(&[&new], 5).await;
    reference.assert_exactly(&written.iter().cloned().collect::<HashSet<_>>());
    // A node that never pulled finds everything waiting.
    let (all, _) = after_seq(&new, &alice, 0).await;
    assert_eq!(all, written);
    // New messages continue above every old seq, also the pruned one's.
    new.push(&alice, &[message("after-the-move", 1)]).await;
    let (next, cursor) = after_seq(&new, &bob, old_high).await;
    assert_eq!(next, vec!["after-the-move"]);
    assert!(cursor > old_high, "{cursor} after {old_high}");
    // Members' keys came along: signed requests verify without registering again.
    assert_eq!(new.peer_ids(&alice).await, vec![bob.node_id.clone()]);
    // A request signed before the move cannot be replayed after it.
    new.send(Method::GET, &pull_path, None, replayed_headers)
        .await
        .assert_code(409, "NONCE_REPLAY");
    // The waiting signal is delivered; new signal ids continue above it.
    new.send(
        Method::POST,
        "/v1/signal",
        Some(signal("callee-node-1", "after")),
        Default::default(),
    )
    .await;
    let polled = new.get("/v1/signal?to_node_id=callee-node-1").await;
    let signals = polled.json["signals"].as_array().expect("signals");
    let payloads: Vec<&str> = signals
        .iter()
        .map(|s| s["payload"].as_str().expect("p"))
        .collect();
    assert_eq!(payloads, vec!["before", "after"]);
    assert!(signals[1]["id"].as_i64() > signals[0]["id"].as_i64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_refuses_a_target_holding_relay_data_and_a_missing_source() {
    let Some(Backend::Postgres(url)) = Backend::postgres("migrate_refuses_a_target_holding_data")
    else {
        return;
    };
    let clock = Arc::new(ManualClock::starting_now());
    let options = Backend::pg_options();
    let mut old = start_instance(&Backend::Sqlite, clock.clone(), 0, options, |_| {}).await;
    let hint = Member::new(1, "x-node-00001").hint;
    old.push_unsigned(&hint, &[message("from-sqlite-1", 1)], None)
        .await;
    stop_keeping_files(&mut old).await;
    // The target already serves a relay that stored a message.
    let live = start_instance(&Backend::Postgres(url.clone()), clock, 0, options, |_| {}).await;
    live.push_unsigned(&hint, &[message("already-there", 1)], None)
        .await;

    let (ok, stdout, stderr) = migrate(&old.dir.path().join("relay.sqlite"), &with_password(&url));
    assert!(!ok, "migrated into a non-empty database: {stdout}");
    assert!(stderr.contains("not empty"), "{stderr}");
    assert!(
        !stderr.contains("s3cret-pw"),
        "the password was printed: {stderr}"
    );
    let reply = live
        .get(&format!("/v1/messages?circle_hint={hint}&since=0"))
        .await;
    assert_eq!(msg_ids(&reply.json), vec!["already-there"]);

    // A mistyped source is refused, not created empty and "migrated".
    let missing = old.dir.path().join("no-such-relay.sqlite");
    let (ok, _, stderr) = migrate(&missing, &url);
    assert!(!ok);
    assert!(
        stderr.contains("not a felund-relay SQLite database file"),
        "{stderr}"
    );
    assert!(!missing.exists());
}
