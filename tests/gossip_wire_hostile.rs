//! Hostile input on felundd's gossip port: every case gets an ERROR line or a closed
//! connection, stores nothing, and the daemon keeps serving honest peers meanwhile.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use felund_tests::chat::{
    create_circle, find_message, log_tail, message_count, peers, send, texts, who, Circle,
};
use felund_tests::eventually;
use felund_tests::fake_peer::{
    hello_frame, initiate, random_hex, random_node_id, random_secret, sync, v1_message, FakeConn,
    Initiator, SyncPlan,
};
use felund_tests::{free_port, Daemon, DEADLINE};
use serde_json::{json, Value};

fn daemon() -> Daemon {
    Daemon::start_with(&["--sync-interval", "1"])
}

/// What a hostile session could have changed.
#[derive(Debug, PartialEq)]
struct Snapshot {
    messages: u64,
    status_messages: Value,
    peers: Vec<Value>,
    members: usize,
}

fn snapshot(d: &Daemon, c: &Circle) -> Snapshot {
    Snapshot {
        messages: message_count(d, &c.id),
        status_messages: d.ctl_one(&["status"])["message_count"].clone(),
        peers: peers(d, &c.id),
        members: who(d, &c.id, None).len(),
    }
}

/// An honest peer can still complete a full encrypted session.
fn assert_still_serves(d: &Daemon, c: &Circle) {
    let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true))
        .unwrap_or_else(|e| panic!("daemon stopped serving: {e}\n{}", log_tail(d, 60)));
    sync(&mut conn, &c.id, &SyncPlan::default())
        .unwrap_or_else(|e| panic!("sync after hostile input failed: {e}\n{}", log_tail(d, 60)));
}

/// The connection must end in an ERROR line and/or a close, not stay open.
fn assert_refused(conn: &mut FakeConn, what: &str, d: &Daemon) -> Vec<String> {
    let drained = conn.drain(DEADLINE);
    assert!(
        drained.closed(),
        "{what}: the daemon kept the connection open ({} lines)\n{}",
        drained.lines.len(),
        log_tail(d, 40)
    );
    drained.plain_errors()
}

#[test]
fn garbage_line_gets_an_error_or_close_and_changes_nothing() {
    let d = daemon();
    let c = create_circle(&d, "g");
    let before = snapshot(&d, &c);
    for garbage in [
        &b"this is not json\n"[..],
        b"[1,2,3]\n",
        b"{\"t\":\"NOPE\"}\n",
        b"{\"no_type\":1}\n",
        b"\xff\xfe\x00garbage\n",
        b"{\"t\":\"MSGS_SEND\",\"messages\":[]}\n",
    ] {
        let mut conn = FakeConn::connect(d.port).expect("connect");
        conn.write_raw(garbage).expect("write");
        let errs = assert_refused(&mut conn, &format!("{garbage:?}"), &d);
        assert!(errs.len() <= 1, "more than one ERROR: {errs:?}");
    }
    assert_eq!(
        snapshot(&d, &c),
        before,
        "garbage changed the daemon's state"
    );
    assert_still_serves(&d, &c);
}

#[test]
fn line_over_16kb_before_the_handshake_is_refused_without_reading_it_all() {
    let d = daemon();
    let c = create_circle(&d, "long");
    let before = snapshot(&d, &c);
    let mut conn = FakeConn::connect(d.port).expect("connect");
    let chunk = vec![b'a'; 64 * 1024];
    let mut written = 0usize;
    while written < 10 * 1024 * 1024 {
        match conn.write_raw(&chunk) {
            Ok(()) => written += chunk.len(),
            // Closed by the daemon (reset / broken pipe), or it stopped reading.
            Err(_) => break,
        }
    }
    let errs = assert_refused(&mut conn, "10 MB line", &d);
    assert!(errs.len() <= 1, "ERRORs: {errs:?}");
    assert_eq!(snapshot(&d, &c), before, "the long line changed state");
    assert_still_serves(&d, &c);
}

#[test]
fn truncated_frame_then_eof_is_refused_and_changes_nothing() {
    let d = daemon();
    let c = create_circle(&d, "trunc");
    let before = snapshot(&d, &c);
    let mut conn = FakeConn::connect(d.port).expect("connect");
    conn.write_raw(
        format!(
            "{{\"t\":\"HELLO\",\"node_id\":\"{}\",\"circ",
            random_node_id()
        )
        .as_bytes(),
    )
    .expect("write");
    conn.shutdown_write();
    assert_refused(&mut conn, "truncated frame", &d);
    assert_eq!(snapshot(&d, &c), before);
    assert_still_serves(&d, &c);
}

#[test]
fn hello_for_an_unknown_circle_gets_unknown_circle_id() {
    let d = daemon();
    let c = create_circle(&d, "known");
    let other = random_secret();
    let mut conn = FakeConn::connect(d.port).expect("connect");
    let mut opts = Initiator::new(true);
    opts.listen_addr = Some(format!("127.0.0.1:{}", free_port()));
    conn.send(&hello_frame(
        &opts,
        &other.circle_id(),
        Some(&random_hex(16)),
    ))
    .expect("send HELLO");
    let reply = conn.recv().expect("a reply to HELLO");
    assert_eq!(
        reply,
        json!({"t": "ERROR", "err": "Unknown circle_id"}),
        "reply to a HELLO for an unknown circle"
    );
    assert_refused(&mut conn, "unknown circle", &d);
    assert_eq!(d.ctl_json(&["circles"]).len(), 1, "no circle was added");
    assert_still_serves(&d, &c);
}

#[test]
fn wrong_hello_auth_token_gets_auth_failed_and_records_no_peer() {
    let d = daemon();
    let c = create_circle(&d, "auth");
    let before = snapshot(&d, &c);
    let mut opts = Initiator::new(true);
    let addr = format!("127.0.0.1:{}", free_port());
    opts.listen_addr = Some(addr.clone());
    let mut conn = FakeConn::connect(d.port).expect("connect");
    conn.send(&hello_frame(&opts, &c.id, Some(&random_hex(16))))
        .expect("HELLO");
    let ch = conn.recv_type("CHALLENGE").expect("CHALLENGE");
    // A token made with the wrong secret for the right nonce.
    let token = felund_wire::handshake::hello_auth_token(
        &random_secret(),
        &opts.node_id,
        &c.id,
        ch["nonce"].as_str().unwrap_or_default(),
    );
    conn.send(&json!({"t": "HELLO_AUTH", "token": token}))
        .expect("HELLO_AUTH");
    let reply = conn.recv().expect("a reply to HELLO_AUTH");
    assert_eq!(reply, json!({"t": "ERROR", "err": "Auth failed"}));
    assert_refused(&mut conn, "bad token", &d);
    let after = snapshot(&d, &c);
    assert_eq!(after, before, "a failed handshake changed state");
    assert!(
        !after.peers.iter().any(|p| p.to_string().contains(&addr)),
        "unauthenticated listen_addr was recorded: {:?}",
        after.peers
    );
    assert_still_serves(&d, &c);
}

#[test]
fn lines_that_do_not_open_after_an_encrypted_handshake_close_the_connection() {
    let d = daemon();
    let c = create_circle(&d, "enc");
    let before = snapshot(&d, &c);
    let mut random = vec![0u8; 60];
    random
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = i as u8);
    let bad_lines = [
        "%%% not base64 %%%\n".to_string(),
        format!("{}\n", STANDARD.encode(&random)),
        "{\"t\":\"PEERS\",\"peers\":[]}\n".to_string(),
    ];
    for bad in &bad_lines {
        let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true)).expect("handshake");
        conn.write_raw(bad.as_bytes()).expect("write");
        let drained = conn.drain(DEADLINE);
        assert!(
            drained.closed(),
            "connection stayed open after {bad:?}\n{}",
            log_tail(&d, 40)
        );
    }
    // The fakes authenticated, so being recorded as circle members is right (docs/protocol.md §8.1);
    // nothing else may change.
    let after = snapshot(&d, &c);
    assert_eq!(
        (after.messages, after.status_messages, after.peers),
        (before.messages, before.status_messages, before.peers),
        "undecryptable lines changed state"
    );
    assert_still_serves(&d, &c);
}

#[test]
fn forged_foreign_and_malformed_messages_in_msgs_send_are_not_stored() {
    let d = daemon();
    let c = create_circle(&d, "forge");
    let author = random_node_id();
    let good = v1_message(&c.secret, &author, "honest", "general", "sentinel: honest");
    let mut forged = v1_message(&c.secret, &author, "evil", "general", "forged mac");
    forged.mac = random_hex(32);
    let other = random_secret();
    let foreign = v1_message(&other, &author, "evil", "general", "other circle's message");
    let mut relabelled = v1_message(&c.secret, &author, "evil", "general", "relabelled circle");
    relabelled.circle_id = other.circle_id();
    relabelled.mac = relabelled.compute_mac(&c.secret);
    let mut bad_ts =
        v1_message(&c.secret, &author, "evil", "general", "string created_ts").to_value();
    bad_ts["created_ts"] = json!(bad_ts["created_ts"].to_string());
    let no_mac = {
        let mut m = v1_message(&c.secret, &author, "evil", "general", "empty mac");
        m.mac.clear();
        m.to_value()
    };
    let bad = [
        forged.to_value(),
        foreign.to_value(),
        relabelled.to_value(),
        bad_ts,
        no_mac,
    ];
    let mut all: Vec<Value> = bad.to_vec();
    all.push(good.to_value());
    let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true)).expect("handshake");
    let plan = SyncPlan {
        messages: all,
        send_unrequested: true,
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync");
    // The sentinel arrived in the same frame: once it is stored, the rest were judged.
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &c.id,
            "general",
            "sentinel: honest"
        )
        .is_some()),
        "the honest message was not stored\n{}",
        log_tail(&d, 60)
    );
    let stored = texts(&d, &c.id, "general");
    for t in [
        "forged mac",
        "relabelled circle",
        "string created_ts",
        "empty mac",
        "other circle's message",
    ] {
        assert!(
            !stored.iter().any(|s| s == t),
            "{t:?} was stored: {stored:?}"
        );
    }
    assert_eq!(
        d.ctl_json(&["circles"]).len(),
        1,
        "a message created a circle"
    );
    assert_still_serves(&d, &c);
}

#[test]
fn silent_connections_do_not_stop_another_daemon_from_syncing() {
    let a = daemon();
    let b = daemon();
    let c = create_circle(&a, "silent");
    send(&a, &c.id, "general", "from a");
    // One socket that says nothing, one stuck after its HELLO.
    let silent = TcpStream::connect(("127.0.0.1", a.port)).expect("silent connect");
    let mut stuck = FakeConn::connect(a.port).expect("stuck connect");
    stuck
        .send(&hello_frame(
            &Initiator::new(true),
            &c.id,
            Some(&random_hex(16)),
        ))
        .expect("HELLO");

    let v = b.ctl_one(&["join", &c.code]);
    assert_eq!(v["circle"]["circle_id"], c.id.as_str());
    assert!(
        eventually(DEADLINE, || texts(&b, &c.id, "general")
            .contains(&"from a".to_string())),
        "b could not sync while silent sockets were open\n{}",
        log_tail(&a, 60)
    );
    send(&b, &c.id, "general", "from b");
    assert!(
        eventually(DEADLINE, || texts(&a, &c.id, "general")
            .contains(&"from b".to_string())),
        "a did not get b's message while silent sockets were open\n{}",
        log_tail(&a, 60)
    );
    // Both were open the whole time.
    let mut probe = [0u8; 1];
    silent
        .set_read_timeout(Some(Duration::from_millis(1)))
        .expect("timeout");
    match silent.peek(&mut probe) {
        Ok(0) => eprintln!("note: the silent socket was closed by the daemon meanwhile"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => eprintln!("note: silent socket: {other:?}"),
    }
    drop(stuck);
}

#[test]
fn addresses_without_a_valid_port_are_never_stored_or_passed_on_in_peers() {
    // A reference node stores such addresses unchecked and its `run` dies on them
    // (docs/protocol.md §6.8): felundd must neither keep nor relay them.
    let d = daemon();
    let c = create_circle(&d, "addrs");
    let bad_ids: Vec<String> = (0..4).map(|_| random_node_id()).collect();
    let opts = Initiator {
        node_id: bad_ids[0].clone(),
        listen_addr: Some("127.0.0.1".to_string()),
        encrypted: true,
    };
    let (mut conn, _) = initiate(d.port, &c.secret, &opts).expect("handshake");
    let plan = SyncPlan {
        peers: vec![
            json!({"node_id": bad_ids[1], "addr": "127.0.0.1", "last_seen": 1}),
            json!({"node_id": bad_ids[2], "addr": "127.0.0.1:notaport", "last_seen": 1}),
            json!({"node_id": bad_ids[3], "addr": ":9999", "last_seen": 1}),
        ],
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync");
    drop(conn);
    let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true)).expect("handshake");
    let seen = sync(&mut conn, &c.id, &SyncPlan::default()).expect("sync");
    for p in seen.peers["peers"].as_array().cloned().unwrap_or_default() {
        let addr = p["addr"].as_str().unwrap_or_default();
        assert!(
            felund_wire::frame::parse_host_port(addr).is_some(),
            "daemon relays an invalid address in PEERS: {p}"
        );
    }
    for p in peers(&d, &c.id) {
        let text = p.to_string();
        assert!(
            !bad_ids.iter().any(|id| text.contains(id.as_str()))
                || felund_wire::frame::parse_host_port(p["addr"].as_str().unwrap_or("")).is_some(),
            "daemon stored a peer with an invalid address: {p}"
        );
    }
    assert_still_serves(&d, &c);
}
