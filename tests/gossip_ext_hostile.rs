//! A scripted felundd node on felundd's gossip port (extensions announced, transcript proven):
//! an honest one syncs and keeps a live link, driven by felund-wire's own sync machines; one
//! that sends more than the protocol lets it send in a run or a push is cut off, stores
//! nothing and is never made a member, and the daemon keeps serving honest peers.

use felund_tests::chat::{create_circle, find_message, log_tail, message_count, send, who};
use felund_tests::eventually;
use felund_tests::fake_peer::{
    check_sent_message, ext_sync, initiate_ext, random_node_id, v1_message, FakeConn,
};
use felund_tests::{Daemon, DEADLINE};
use felund_wire::ext::{SetDigest, BUCKETS, MAX_PUSH_MESSAGES};
use felund_wire::sync::link::LinkOffered;
use felund_wire::Frame;
use serde_json::{json, Value};

fn daemon() -> Daemon {
    Daemon::start_with(&["--sync-interval", "1"])
}

/// Reads the daemon's frames until it closes the connection; returns the ERROR texts. Fails
/// if the connection stays open.
fn errors_until_closed(conn: &mut FakeConn, d: &Daemon) -> Vec<String> {
    let mut errors = Vec::new();
    let end = loop {
        match conn.recv() {
            Ok(v) if v["t"] == "ERROR" => errors.push(v["err"].as_str().unwrap_or_default().into()),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(
        end.contains("closed") || end.contains("reset") || end.contains("EOF"),
        "the daemon did not close the connection: {end}\n{}",
        log_tail(d, 40)
    );
    errors
}

fn is_member(d: &Daemon, circle: &str, node: &str) -> bool {
    who(d, circle, None).iter().any(|(id, _)| id == node)
}

#[test]
fn a_felundd_peer_listing_more_ids_than_its_digest_counts_is_cut_off_and_honest_ones_sync() {
    let d = daemon();
    let c = create_circle(&d, "digest overrun");
    for t in ["one", "two", "three"] {
        send(&d, &c.id, "general", t);
    }
    let count = |d: &Daemon| message_count(d, &c.id);
    let before = count(&d);

    // Positive control: an honest felundd node gets every message, each one verifiable.
    let honest = random_node_id();
    let mut conn = initiate_ext(d.port, &c.secret, &honest).expect("honest handshake");
    let seen = ext_sync(&mut conn, &c.id, &[]).expect("honest sync");
    assert!(!seen.in_sync);
    let texts: Vec<String> = seen
        .messages
        .iter()
        .map(|m| {
            check_sent_message(m, &c.secret)
                .expect("a verifiable message")
                .text
        })
        .collect();
    for t in ["one", "two", "three"] {
        assert!(texts.iter().any(|x| x == t), "{t} missing from {texts:?}");
    }
    let held = seen.messages.len();
    drop(conn);

    // The attacker claims one id, then lists five.
    let mallory = random_node_id();
    let mut conn = initiate_ext(d.port, &c.secret, &mallory).expect("handshake");
    conn.send(&json!({"t": "PEERS", "circle_id": c.id, "peers": []}))
        .expect("PEERS");
    let one = SetDigest::of(["x"]);
    conn.send(&json!({"t": "X_DIGEST", "count": one.count(), "digest": one.digest_hex()}))
        .expect("X_DIGEST");
    conn.recv_type("PEERS").expect("its PEERS");
    conn.recv_type("X_DIGEST").expect("its X_DIGEST");
    conn.send(&json!({"t": "X_BUCKETS", "buckets": vec!["0:00"; BUCKETS]}))
        .expect("X_BUCKETS");
    conn.recv_type("X_BUCKETS").expect("its X_BUCKETS");
    let five: Vec<String> = (0..5).map(|i| format!("{mallory}-{i}")).collect();
    conn.send(&json!({"t": "X_IDS", "ids": five, "more": false}))
        .expect("X_IDS");
    let errors = errors_until_closed(&mut conn, &d);
    assert_eq!(errors, ["Bad sync frames"], "{}", log_tail(&d, 40));
    assert_eq!(count(&d), before, "nothing stored");
    assert!(
        !is_member(&d, &c.id, &mallory),
        "the attacker became a member"
    );
    assert!(is_member(&d, &c.id, &honest), "the honest node is a member");

    // The daemon still serves honest felundd nodes.
    let mut conn = initiate_ext(d.port, &c.secret, &random_node_id()).expect("handshake");
    let seen = ext_sync(&mut conn, &c.id, &[]).expect("sync after the attack");
    assert_eq!(seen.messages.len(), held);
}

/// Syncs as honest felundd node `me` (holding nothing) and opens a live link.
fn linked(d: &Daemon, c: &felund_tests::chat::Circle, me: &str) -> FakeConn {
    let mut conn = initiate_ext(d.port, &c.secret, me).expect("handshake");
    ext_sync(&mut conn, &c.id, &[]).expect("sync");
    let (offered, x_link) = LinkOffered::offer();
    conn.send_frame(&x_link).expect("X_LINK");
    let answer = conn.recv_frame().expect("an answer to X_LINK");
    offered.on_frame(answer).expect("X_LINK_OK");
    conn
}

fn push(conn: &mut FakeConn, messages: Vec<Value>) {
    conn.send_frame(&Frame::XPush { messages }).expect("X_PUSH");
}

#[test]
fn a_live_link_push_of_more_than_one_push_carries_ends_the_link_and_stores_none_of_it() {
    let d = daemon();
    let c = create_circle(&d, "push flood");
    let me = random_node_id();
    let mut conn = linked(&d, &c, &me);

    // Positive control: a push on the link is stored at once.
    let hello = v1_message(&c.secret, &me, "pusher", "general", "pushed on the link");
    push(&mut conn, vec![hello.to_value()]);
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &c.id,
            "general",
            "pushed on the link"
        )
        .is_some()),
        "the pushed message was not stored\n{}",
        log_tail(&d, 40)
    );
    let before = message_count(&d, &c.id);

    // One message more than a push may carry ends the link; none of them is stored.
    let flood: Vec<Value> = (0..=MAX_PUSH_MESSAGES)
        .map(|i| v1_message(&c.secret, &me, "pusher", "general", &format!("flood {i}")).to_value())
        .collect();
    push(&mut conn, flood);
    errors_until_closed(&mut conn, &d);
    assert_eq!(
        message_count(&d, &c.id),
        before,
        "a flooded push was stored"
    );

    // The daemon still links with honest felundd nodes.
    let other = random_node_id();
    let mut conn = linked(&d, &c, &other);
    let after = v1_message(&c.secret, &other, "other", "general", "after the flood");
    push(&mut conn, vec![after.to_value()]);
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &c.id,
            "general",
            "after the flood"
        )
        .is_some()),
        "a push after the flood was not stored\n{}",
        log_tail(&d, 40)
    );
}
