//! felundd's gossip frames checked one by one by a scripted raw-TCP peer that looks like a
//! reference node (no extension keys): the session of `tests/data/transcript.json` replayed
//! by shape against the daemon as responder and as initiator, the
//! messages it sends, the peers it lists and the peers it dials.

use std::time::Duration;

use felund_tests::chat::{
    create_circle, find_message, log_tail, node_id, peers, send, send_many, Circle,
};
use felund_tests::eventually;
use felund_tests::fake_peer::{
    check_sent_message, initiate, now_ts, random_node_id, random_secret, respond, str_list, sync,
    v1_message, BackgroundPeer, FakeConn, FakeListener, Initiator, SyncPlan,
};
use felund_tests::transcript::{replay, DaemonRole, Seen, Side};
use felund_tests::{free_port, Daemon, DEADLINE};
use felund_wire::handshake::parse_nonce16;
use serde_json::{json, Value};

fn daemon() -> Daemon {
    Daemon::start_with(&["--sync-interval", "1", "--name", "dmn"])
}

/// Checks the daemon's sync frames after a replay: its MSGS_HAVE is sorted and holds
/// `its_ids`, it asked for exactly the fake's messages, and every message it sent is a
/// strict ten-key object that verifies; the recipient is not in its PEERS and no line
/// exceeds `line_limit`.
fn check_sync(seen: &Seen, me: &Side, its_ids: &[String], line_limit: usize, conn: &FakeConn) {
    let have = str_list(&seen.get("MSGS_HAVE")["msg_ids"]);
    let mut sorted = have.clone();
    sorted.sort();
    assert_eq!(have, sorted, "MSGS_HAVE is sorted");
    for id in its_ids {
        assert!(have.contains(id), "MSGS_HAVE lacks {id}: {have:?}");
    }
    let mut mine: Vec<String> = me.messages.iter().map(|m| m.msg_id.clone()).collect();
    mine.sort();
    assert_eq!(
        str_list(&seen.get("MSGS_REQ")["msg_ids"]),
        mine,
        "daemon asks for exactly the messages it lacks"
    );
    let sent = seen.get("MSGS_SEND")["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let asked: Vec<String> = have.into_iter().filter(|i| !mine.contains(i)).collect();
    assert_eq!(sent.len(), asked.len(), "daemon sends what was asked for");
    for m in &sent {
        check_sent_message(m, &me.secret).unwrap_or_else(|e| panic!("{e}"));
    }
    let peers = seen.get("PEERS")["peers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !peers.iter().any(|p| p["node_id"] == me.node_id.as_str()),
        "daemon lists the recipient itself in PEERS: {peers:?}"
    );
    assert!(
        conn.max_line_len <= line_limit,
        "daemon sent a {}-byte line; a reference peer reads at most {line_limit}",
        conn.max_line_len
    );
}

fn responder_replay(encrypted: bool) {
    let d = daemon();
    let c = create_circle(&d, "wire");
    let ours: Vec<String> = ["from the daemon", "ünïcödé 🎉 | pipe"]
        .iter()
        .map(|t| {
            send(&d, &c.id, "general", t)["msg_id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    let me_id = random_node_id();
    let msg = v1_message(&c.secret, &me_id, "fakebob", "general", "hi from the fake");
    let me = Side {
        secret: c.secret.clone(),
        node_id: me_id,
        listen_addr: format!("127.0.0.1:{}", free_port()),
        encrypted,
        daemon_node_id: node_id(&d),
        daemon_addr: format!("127.0.0.1:{}", d.port),
        messages: vec![msg.clone()],
    };
    let mut conn = FakeConn::connect(d.port).expect("connect to the daemon");
    let seen = replay(&mut conn, DaemonRole::Responder, &me);
    let limit = if encrypted { 32_768 } else { 16_384 };
    check_sync(&seen, &me, &ours, limit, &conn);
    let texts: Vec<String> = seen.get("MSGS_SEND")["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| {
            check_sent_message(m, &c.secret)
                .ok()
                .map(|w| w.text.clone())
        })
        .collect();
    for t in ["from the daemon", "ünïcödé 🎉 | pipe"] {
        assert!(
            texts.iter().any(|x| x == t),
            "MSGS_SEND lacks {t:?}: {texts:?}"
        );
    }
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &c.id,
            "general",
            "hi from the fake"
        )
        .is_some_and(
            |m| m["display_name"] == "fakebob" && m["msg_id"] == msg.msg_id.as_str()
        )),
        "the fake's v1 message was not stored\n{}",
        log_tail(&d, 80)
    );
    let own = me.daemon_node_id.clone();
    assert!(
        !peers(&d, &c.id)
            .iter()
            .any(|p| p["node_id"] == own.as_str()),
        "daemon stored itself as a peer after a PEERS frame listing it: {:?}",
        peers(&d, &c.id)
    );
}

#[test]
fn daemon_as_responder_follows_the_reference_transcript_with_session_encryption() {
    responder_replay(true);
}

#[test]
fn daemon_as_initiator_follows_the_reference_transcript_when_joining_a_code() {
    let d = daemon();
    let secret = random_secret();
    let listener = FakeListener::bind();
    let me_id = random_node_id();
    let msg = v1_message(
        &secret,
        &me_id,
        "fakealice",
        "general",
        "hello from the fake host",
    );
    let me = Side {
        secret: secret.clone(),
        node_id: me_id,
        listen_addr: listener.addr(),
        encrypted: true,
        daemon_node_id: node_id(&d),
        daemon_addr: format!("127.0.0.1:{}", d.port),
        messages: vec![msg.clone()],
    };
    let code = felund_wire::invite::encode_invite(&secret, &listener.addr());
    // The join may wait for its bootstrap sync, which needs the fake: run it alongside.
    let join = d
        .ctl_cmd(&["--json", "join", &code])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn felundctl join");
    let mut conn = listener
        .accept(DEADLINE)
        .unwrap_or_else(|| panic!("daemon never dialled the code's peer\n{}", log_tail(&d, 60)));

    let seen = replay(&mut conn, DaemonRole::Initiator, &me);
    let hello = seen.get("HELLO");
    assert_eq!(
        hello["node_id"],
        me.daemon_node_id.as_str(),
        "HELLO {hello}"
    );
    assert_eq!(
        hello["circle_id"],
        secret.circle_id().as_str(),
        "HELLO {hello}"
    );
    assert_eq!(
        hello["listen_addr"],
        me.daemon_addr.as_str(),
        "HELLO {hello}"
    );
    assert!(
        hello["nonce"].as_str().and_then(parse_nonce16).is_some(),
        "HELLO nonce must be 32 hex chars: {hello}"
    );
    assert!(
        hello["can_anchor"].is_boolean(),
        "HELLO can_anchor: {hello}"
    );
    check_sync(&seen, &me, &[], 32_768, &conn);

    let out = join.wait_with_output().expect("felundctl join");
    assert!(
        out.status.success(),
        "join failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &secret.circle_id(),
            "general",
            "hello from the fake host"
        )
        .is_some_and(|m| m["display_name"] == "fakealice" && m["own"] == false)),
        "the fake host's v1 message is not in the inbox\n{}",
        log_tail(&d, 80)
    );
}

#[test]
fn daemon_lists_other_peers_but_never_the_recipient_or_itself() {
    let d = daemon();
    let c = create_circle(&d, "peers");
    let own = node_id(&d);
    let alice = BackgroundPeer::spawn(&c.secret);
    let fake_b = BackgroundPeer::spawn(&c.secret);

    // A session from alice (advertising her listener) that also tells the daemon about
    // the daemon itself, as reference nodes do.
    let first = session_from(
        &d,
        &c,
        &alice.node_id,
        &alice.addr,
        vec![json!({
        "node_id": own, "addr": format!("127.0.0.1:{}", d.port), "last_seen": now_ts()})],
    );
    assert!(
        !first.contains(&alice.node_id),
        "PEERS to alice lists alice: {first:?}"
    );
    // Alice becomes a peer once her session has run to the end.
    assert!(
        eventually(DEADLINE, || peers(&d, &c.id)
            .iter()
            .any(|p| p["node_id"] == alice.node_id.as_str())),
        "alice never became a peer\n{}",
        log_tail(&d, 40)
    );
    let second = session_from(&d, &c, &fake_b.node_id, &fake_b.addr, vec![]);
    assert!(
        second.contains(&alice.node_id),
        "PEERS to bob lacks alice, a peer since her session: {second:?}\n{}",
        log_tail(&d, 40)
    );
    assert!(
        !second.contains(&fake_b.node_id),
        "PEERS to bob lists bob himself: {second:?}"
    );
    assert!(
        !second.contains(&own),
        "PEERS lists the daemon itself: {second:?}"
    );
    let listed = peers(&d, &c.id);
    assert!(
        !listed.iter().any(|p| p["node_id"] == own.as_str()),
        "daemon stored itself as a peer: {listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|p| p["node_id"] == alice.node_id.as_str()),
        "alice (observed IP + advertised port) is not a known peer: {listed:?}"
    );
}

/// One full encrypted session from a fake node advertising `addr`; returns the node ids
/// in the daemon's PEERS.
fn session_from(d: &Daemon, c: &Circle, node: &str, addr: &str, peers: Vec<Value>) -> Vec<String> {
    let opts = Initiator {
        node_id: node.to_string(),
        listen_addr: Some(addr.to_string()),
        encrypted: true,
    };
    let (mut conn, _) = initiate(d.port, &c.secret, &opts).expect("handshake");
    let plan = SyncPlan {
        peers,
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync").peer_ids()
}

#[test]
fn daemon_syncs_with_every_circle_peer_over_time_not_only_five() {
    let d = daemon();
    let c = create_circle(&d, "many peers");
    let fakes: Vec<BackgroundPeer> = (0..8).map(|_| BackgroundPeer::spawn(&c.secret)).collect();
    // Tell the daemon about all eight in one PEERS frame.
    let opts = Initiator::new(true);
    let (mut conn, _) = initiate(d.port, &c.secret, &opts).expect("handshake");
    let plan = SyncPlan {
        peers: fakes.iter().map(BackgroundPeer::peer_entry).collect(),
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync");
    drop(conn);
    let within = Duration::from_secs(60);
    assert!(
        eventually(within, || fakes.iter().all(|f| f.syncs() > 0)),
        "after {within:?} only {} of 8 peers were synced (counts {:?}, errors {:?})\n{}",
        fakes.iter().filter(|f| f.syncs() > 0).count(),
        fakes.iter().map(BackgroundPeer::syncs).collect::<Vec<_>>(),
        fakes
            .iter()
            .flat_map(BackgroundPeer::errors)
            .collect::<Vec<_>>(),
        log_tail(&d, 60)
    );
}

#[test]
fn daemon_dialling_a_fake_peer_sends_only_verifiable_ten_key_messages() {
    // The daemon as initiator, on a round: it holds messages and dials a peer it learned.
    let d = daemon();
    let c = create_circle(&d, "rounds");
    for t in ["one", "two", "three"] {
        send(&d, &c.id, "general", t);
    }
    let listener = FakeListener::bind();
    let me = random_node_id();
    let opts = Initiator::new(true);
    let (mut conn, _) = initiate(d.port, &c.secret, &opts).expect("handshake");
    let plan = SyncPlan {
        peers: vec![json!({"node_id": me, "addr": listener.addr(), "last_seen": now_ts()})],
        request_nothing: true,
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync");
    drop(conn);
    let mut conn = listener.accept(DEADLINE).unwrap_or_else(|| {
        panic!(
            "daemon never dialled the learned peer\n{}",
            log_tail(&d, 60)
        )
    });
    let hs = respond(&mut conn, &c.secret, &me).expect("daemon's handshake");
    assert_eq!(
        hs.hello["listen_addr"],
        format!("127.0.0.1:{}", d.port).as_str()
    );
    let seen = sync(&mut conn, &c.id, &SyncPlan::default()).expect("sync with the daemon");
    let texts: Vec<String> = seen
        .messages()
        .iter()
        .map(|m| {
            check_sent_message(m, &c.secret)
                .unwrap_or_else(|e| panic!("{e}"))
                .text
        })
        .collect();
    for t in ["one", "two", "three"] {
        assert!(
            texts.iter().any(|x| x == t),
            "daemon did not send {t:?}: {texts:?}"
        );
    }
    assert!(
        conn.max_line_len <= 32_768,
        "line of {} bytes",
        conn.max_line_len
    );
}

/// A reference-like newcomer (no extensions) that syncs again and again with the daemon,
/// keeping what it gets; every line the daemon sends must fit the reference's limits.
fn newcomer_converges(n: usize) {
    let d = daemon();
    let c = create_circle(&d, "history");
    let lines: Vec<String> = (0..n)
        .map(|i| format!("history line {i:04} — with some padding to look like a chat line"))
        .collect();
    let sent: std::collections::BTreeSet<String> =
        send_many(&d, &c.id, &lines).into_iter().collect();
    let limit = 32_768;
    let mut held: std::collections::BTreeMap<String, Value> = Default::default();
    let mut sessions = 0;
    let start = std::time::Instant::now();
    while !sent.iter().all(|id| held.contains_key(id)) {
        assert!(
            start.elapsed() < Duration::from_secs(120) && sessions < 500,
            "newcomer holds {} of {n} after {sessions} sessions\n{}",
            sent.iter().filter(|id| held.contains_key(*id)).count(),
            log_tail(&d, 40)
        );
        sessions += 1;
        let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true))
            .unwrap_or_else(|e| panic!("session {sessions}: {e}\n{}", log_tail(&d, 40)));
        let plan = SyncPlan {
            messages: held.values().cloned().collect(),
            ..SyncPlan::default()
        };
        let seen = sync(&mut conn, &c.id, &plan)
            .unwrap_or_else(|e| panic!("session {sessions}: {e}\n{}", log_tail(&d, 40)));
        assert!(
            conn.max_line_len <= limit,
            "session {sessions}: the daemon sent a {}-byte line (limit {limit})",
            conn.max_line_len
        );
        for m in seen.messages() {
            let w = check_sent_message(&m, &c.secret).unwrap_or_else(|e| panic!("{e}"));
            held.insert(w.msg_id.clone(), m);
        }
    }
    eprintln!("{n} messages took {sessions} sessions");
    assert!(sessions > 1, "{n} messages cannot fit one reference frame");
}

#[test]
fn encrypted_reference_like_newcomer_gets_600_messages_over_sessions_within_32kb_lines() {
    newcomer_converges(600);
}

#[test]
fn daemon_asks_a_reference_like_peer_for_at_most_50_ids_per_session_and_converges() {
    let d = daemon();
    let secret = random_secret();
    let author = random_node_id();
    let msgs: Vec<Value> = (0..200)
        .map(|i| {
            v1_message(
                &secret,
                &author,
                "refhost",
                "general",
                &format!("ref {i:03}"),
            )
        })
        .map(|m| m.to_value())
        .collect();
    let host = BackgroundPeer::serving(
        &secret,
        SyncPlan {
            messages: msgs,
            // The daemon dials with a nonce, so the encrypted limit applies.
            max_serve: Some(50),
            ..SyncPlan::default()
        },
    );
    let code = felund_wire::invite::encode_invite(&secret, &host.addr);
    d.ctl_one(&["join", &code]);
    let circle = secret.circle_id();
    assert!(
        eventually(Duration::from_secs(120), || {
            felund_tests::chat::message_count(&d, &circle) >= 200
        }),
        "daemon holds {} of 200; MSGS_REQ sizes {:?}; errors {:?}\n{}",
        felund_tests::chat::message_count(&d, &circle),
        host.stats().req_sizes,
        host.errors(),
        log_tail(&d, 40)
    );
    let stats = host.stats();
    eprintln!("MSGS_REQ sizes the daemon sent: {:?}", stats.req_sizes);
    assert!(
        stats.req_sizes.iter().all(|&n| n <= 50),
        "daemon asked a reference-like peer for more than 50 ids: {:?}",
        stats.req_sizes
    );
    assert!(
        stats
            .max_lines
            .iter()
            .all(|&(enc, len)| len <= if enc { 32_768 } else { 16_384 }),
        "daemon sent over-long lines: {:?}",
        stats.max_lines
    );
}
