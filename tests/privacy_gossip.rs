//! Private against outsiders, on the gossip path: each test plays an attacker who holds no
//! circle secret against real felundd processes, with the honest path beside it.
//!
//! The attacker ("mallory") knows what an outsider can learn: circle ids, node ids and
//! addresses. She can get a member to dial her by having her address named as a peer —
//! through a reference relay, which lists unsigned registrations, or through a PEERS frame;
//! the tests use whichever is simplest to set up, since what matters is what happens once a
//! connection exists.

use std::time::Duration;

use felund_tests::chat::{create_circle, log_tail, node_id, peers, send, who, Circle};
use felund_tests::eventually;
use felund_tests::fake_peer::{
    initiate, now_ts, random_node_id, sync, BackgroundPeer, FakeConn, FakeListener, Initiator,
    SyncPlan,
};
use felund_tests::reference::Reference;
use felund_tests::relays::{http_request, RelayKind, RelayProcess};
use felund_tests::{free_port, Daemon, DEADLINE};
use felund_wire::ids::circle_hint;
use serde_json::{json, Value};

fn daemon(name: &str) -> Daemon {
    Daemon::start_with(&["--sync-interval", "1", "--name", name])
}

/// Two felundd members, bob joined to alice's circle, with a message each way.
fn two_members() -> (Daemon, Daemon, Circle) {
    let alice = daemon("alice");
    let bob = daemon("bob");
    let c = create_circle(&alice, "private");
    bob.ctl_one(&["join", &c.code]);
    send(&alice, &c.id, "general", "secret plans from alice");
    send(&bob, &c.id, "general", "secret plans from bob");
    for d in [&alice, &bob] {
        assert!(
            eventually(DEADLINE, || who(d, &c.id, None).len() == 2),
            "alice and bob never became members of each other\n{}",
            log_tail(d, 40)
        );
    }
    (alice, bob, c)
}

/// Has a member (a scripted node holding the secret) tell `d` that `node` lives at
/// `addr`, the way a PEERS frame or a relay's peer list names a peer. Returns once that
/// member is listed, so later listings change only through what follows.
fn name_as_peer(d: &Daemon, c: &Circle, node: &str, addr: &str) {
    let member = Initiator::new(true);
    let (mut conn, _) = initiate(d.port, &c.secret, &member).expect("handshake");
    let plan = SyncPlan {
        peers: vec![json!({"node_id": node, "addr": addr, "last_seen": now_ts() + 3600})],
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync");
    assert!(
        eventually(DEADLINE, || node_names(d, &c.id).contains(&member.node_id)),
        "the scripted member was never listed\n{}",
        log_tail(d, 40)
    );
}

/// Asserts that nothing mallory read is circle data: no line is a plain JSON frame other
/// than the handshake's own, and no message text or node name appears anywhere.
fn assert_only_handshake_or_ciphertext(lines: &[Vec<u8>], secrets: &[&str]) {
    for line in lines {
        let text = String::from_utf8_lossy(line);
        for s in secrets {
            assert!(!text.contains(s), "mallory read {s:?} in {text}");
        }
        if let Ok(v) = serde_json::from_slice::<Value>(line) {
            let t = v["t"].as_str().unwrap_or_default();
            assert!(
                ["HELLO", "CHALLENGE", "HELLO_AUTH", "WELCOME", "ERROR"].contains(&t),
                "mallory got a plain {t} frame: {v}"
            );
        }
    }
}

fn node_names(d: &Daemon, circle: &str) -> Vec<String> {
    let mut ids: Vec<String> = who(d, circle, None).into_iter().map(|(id, _)| id).collect();
    ids.extend(
        peers(d, circle)
            .iter()
            .filter_map(|p| p["node_id"].as_str().map(str::to_string)),
    );
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn a_hello_without_a_nonce_gets_an_error_and_nothing_else_while_encrypted_peers_sync() {
    let d = daemon("dmn");
    let c = create_circle(&d, "refuse plain");
    send(&d, &c.id, "general", "for members only");
    let mallory = Initiator::new(false);
    let mut conn = FakeConn::connect(d.port).expect("connect");
    conn.send(&json!({"t": "HELLO", "node_id": mallory.node_id, "circle_id": c.id}))
        .expect("send HELLO");
    let drained = conn.drain(DEADLINE);
    assert!(drained.closed(), "the daemon kept a plain session open");
    assert_eq!(drained.plain_errors(), ["Encryption required"]);
    assert_eq!(drained.lines.len(), 1, "no CHALLENGE or anything else");
    assert!(!node_names(&d, &c.id).contains(&mallory.node_id));

    // Positive control: a peer that offers encryption syncs.
    let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true)).expect("handshake");
    let seen = sync(&mut conn, &c.id, &SyncPlan::default()).expect("sync");
    assert!(conn.encrypted(), "the honest session is encrypted");
    assert!(
        seen.messages()
            .iter()
            .any(|m| m["text"] == "for members only"),
        "the member did not get the message: {:?}",
        seen.messages()
    );
}

/// Mallory is dialled by alice and answers as if she were a member (she relays bob's
/// CHALLENGE so alice's token is valid) but declines encryption. Alice must end the
/// session at WELCOME; bob, waiting for a proof mallory cannot make, gives up too.
#[test]
fn a_responder_that_declines_encryption_gets_no_frame_and_no_membership() {
    let (alice, bob, c) = two_members();
    let listener = FakeListener::bind();
    let bob_id = node_id(&bob);
    name_as_peer(&alice, &c, &bob_id, &listener.addr());
    let (alice_knew, bob_knew) = (node_names(&alice, &c.id), node_names(&bob, &c.id));
    let mut from_alice = listener
        .accept(DEADLINE)
        .unwrap_or_else(|| panic!("alice never dialled mallory\n{}", log_tail(&alice, 40)));
    let hello = from_alice.recv_type("HELLO").expect("alice's HELLO");
    let mut to_bob = FakeConn::connect(bob.port).expect("connect to bob");
    to_bob.send(&hello).expect("forward HELLO");
    let challenge = to_bob.recv_type("CHALLENGE").expect("bob's CHALLENGE");
    from_alice.send(&challenge).expect("forward CHALLENGE");
    let auth = from_alice.recv_type("HELLO_AUTH").expect("alice's token");
    to_bob.send(&auth).expect("forward HELLO_AUTH");
    let welcome = to_bob
        .recv_type("WELCOME")
        .expect("bob accepts the relayed token");
    assert_eq!(welcome["enc_ready"], true);
    let mut plain = welcome.clone();
    plain["enc_ready"] = json!(false);
    from_alice.send(&plain).expect("plain WELCOME to alice");

    let alice_sent = from_alice.drain(DEADLINE);
    assert!(alice_sent.closed(), "alice kept the plaintext session open");
    assert!(
        alice_sent.lines.is_empty(),
        "alice wrote after a plain WELCOME: {:?}",
        alice_sent.lines
    );
    let bob_sent = to_bob.drain(Duration::from_secs(20));
    assert!(bob_sent.closed(), "bob kept waiting for a proof forever");
    let secrets = ["secret plans", "alice", "bob"];
    assert_only_handshake_or_ciphertext(&bob_sent.lines, &secrets);
    assert_eq!(
        node_names(&alice, &c.id),
        alice_knew,
        "alice gained a member"
    );
    assert_eq!(node_names(&bob, &c.id), bob_knew, "bob gained a member");

    // Positive control: alice and bob still chat.
    send(&alice, &c.id, "general", "still private");
    assert!(eventually(DEADLINE, || felund_tests::chat::find_message(
        &bob,
        &c.id,
        "general",
        "still private"
    )
    .is_some()));
}

/// Mallory relays the handshake between two members but swaps alice's HELLO nonce (the
/// reference token does not cover it). Bob's HELLO_AUTH check passes; the two sides then
/// hold different session keys, neither transcript proof verifies, and all mallory ever
/// sees after WELCOME is ciphertext.
#[test]
fn a_relayed_token_with_a_swapped_nonce_gives_mallory_only_ciphertext() {
    let (alice, bob, c) = two_members();
    let listener = FakeListener::bind();
    name_as_peer(&alice, &c, &random_node_id(), &listener.addr());
    let (alice_knew, bob_knew) = (node_names(&alice, &c.id), node_names(&bob, &c.id));
    let mut from_alice = listener
        .accept(DEADLINE)
        .unwrap_or_else(|| panic!("alice never dialled mallory\n{}", log_tail(&alice, 40)));
    let mut hello = from_alice.recv_type("HELLO").expect("alice's HELLO");
    hello["nonce"] = json!("00112233445566778899aabbccddeeff");
    let mut to_bob = FakeConn::connect(bob.port).expect("connect to bob");
    to_bob.send(&hello).expect("forward HELLO");
    let challenge = to_bob.recv_type("CHALLENGE").expect("bob's CHALLENGE");
    from_alice.send(&challenge).expect("forward CHALLENGE");
    let auth = from_alice.recv_type("HELLO_AUTH").expect("alice's token");
    to_bob.send(&auth).expect("forward HELLO_AUTH");
    let welcome = to_bob.recv_type("WELCOME").expect("bob's WELCOME");
    from_alice.send(&welcome).expect("forward WELCOME");
    // Both now send their proof, encrypted under keys that differ: pass them across.
    let alice_proof = from_alice
        .read_line()
        .expect("read")
        .expect("alice's proof");
    let bob_proof = to_bob.read_line().expect("read").expect("bob's proof");
    to_bob
        .write_raw(&[alice_proof.as_slice(), b"\n"].concat())
        .expect("to bob");
    from_alice
        .write_raw(&[bob_proof.as_slice(), b"\n"].concat())
        .expect("to alice");

    let alice_rest = from_alice.drain(DEADLINE);
    let bob_rest = to_bob.drain(DEADLINE);
    assert!(
        alice_rest.closed() && bob_rest.closed(),
        "a session survived"
    );
    let secrets = ["secret plans", "alice", "bob"];
    let seen: Vec<Vec<u8>> = [
        vec![alice_proof, bob_proof],
        alice_rest.lines,
        bob_rest.lines,
    ]
    .concat();
    assert_only_handshake_or_ciphertext(&seen, &secrets);
    assert_eq!(
        node_names(&alice, &c.id),
        alice_knew,
        "alice gained a member"
    );
    assert_eq!(node_names(&bob, &c.id), bob_knew, "bob gained a member");
}

/// A PEERS frame only names candidates: a node it names is dialled, and listed as a
/// member or peer only once it has completed an encrypted session itself. A name with no
/// real member behind it never is, and is dropped after repeated failures.
#[test]
fn named_peers_are_dial_candidates_until_they_complete_a_session_of_their_own() {
    let d = daemon("dmn");
    let c = create_circle(&d, "candidates");
    let real = BackgroundPeer::spawn(&c.secret);
    let ghost = random_node_id();
    let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true)).expect("handshake");
    let plan = SyncPlan {
        peers: vec![
            real.peer_entry(),
            json!({"node_id": ghost, "addr": format!("127.0.0.1:{}", free_port()), "last_seen": now_ts()}),
        ],
        ..SyncPlan::default()
    };
    sync(&mut conn, &c.id, &plan).expect("sync");
    drop(conn);
    assert!(
        eventually(DEADLINE, || node_names(&d, &c.id).contains(&real.node_id)),
        "the real peer never became a member after its session\n{}",
        log_tail(&d, 40)
    );
    let status = d.ctl_one(&["status"]);
    assert!(
        !node_names(&d, &c.id).contains(&ghost),
        "the ghost is listed"
    );
    assert!(
        eventually(Duration::from_secs(120), || d.ctl_one(&["status"])
            ["dial_candidate_count"]
            == 0),
        "the ghost was never given up ({status})\n{}",
        log_tail(&d, 40)
    );
    assert!(
        !node_names(&d, &c.id).contains(&ghost),
        "the ghost is listed"
    );
}

#[test]
fn a_flood_of_named_peers_is_capped_and_none_of_them_is_listed() {
    let d = daemon("dmn");
    let c = create_circle(&d, "flood");
    let mut named = Vec::new();
    for _ in 0..10 {
        let entries: Vec<Value> = (0..20)
            .map(|_| {
                let id = random_node_id();
                named.push(id.clone());
                json!({"node_id": id, "addr": format!("127.0.0.1:{}", free_port()), "last_seen": now_ts()})
            })
            .collect();
        let (mut conn, _) = initiate(d.port, &c.secret, &Initiator::new(true)).expect("handshake");
        let plan = SyncPlan {
            peers: entries,
            ..SyncPlan::default()
        };
        sync(&mut conn, &c.id, &plan).expect("sync");
    }
    let candidates = d.ctl_one(&["status"])["dial_candidate_count"]
        .as_u64()
        .expect("count");
    assert!(
        (1..=32).contains(&candidates),
        "{candidates} candidates held for 200 named peers"
    );
    let listed = node_names(&d, &c.id);
    assert!(
        !named.iter().any(|n| listed.contains(n)),
        "a named peer is listed: {listed:?}"
    );
}

/// The attack as it was reproduced against reference relays, which list unsigned
/// registrations: mallory registers under the circle's hint without the secret and waits
/// to be dialled. felundd dials her (a candidate), sends her nothing readable and never
/// lists her; through the same relay the members still chat.
#[test]
fn an_outsider_registered_at_a_reference_relay_is_dialled_but_learns_nothing() {
    let Some(r) = Reference::from_env("an_outsider_registered_at_a_reference_relay") else {
        return;
    };
    let relay = RelayProcess::start(RelayKind::AioHttp, Some(&r));
    let alice = Daemon::start_with(&[
        "--sync-interval",
        "1",
        "--name",
        "alice",
        "--relay",
        &relay.url(),
    ]);
    let c = create_circle(&alice, "relayed");
    send(&alice, &c.id, "general", "secret plans from alice");
    let listener = FakeListener::bind();
    let mallory = random_node_id();
    let port = listener
        .addr()
        .rsplit_once(':')
        .expect("port")
        .1
        .to_string();
    let body = json!({
        "node_id": mallory,
        "circle_hint": circle_hint(&c.id),
        "endpoints": [{"transport": "tcp", "host": "127.0.0.1", "port": port.parse::<u16>().expect("port"), "family": "ipv4", "nat": "unknown"}],
        "capabilities": {"relay": false, "transport": ["tcp"]},
        "ttl_s": 600
    })
    .to_string();
    let (status, answer) =
        http_request(relay.port, "POST", "/v1/register", &[], Some(&body)).expect("register");
    assert_eq!(status, 200, "{answer}");

    let mut conn = listener
        .accept(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("alice never dialled mallory\n{}", log_tail(&alice, 60)));
    let hello = conn.recv_type("HELLO").expect("HELLO");
    assert!(hello["nonce"].is_string(), "alice always offers encryption");
    conn.send(&json!({"t": "CHALLENGE", "nonce": "00112233445566778899aabbccddeeff"}))
        .expect("CHALLENGE");
    conn.recv_type("HELLO_AUTH").expect("token");
    conn.send(
        &json!({"t": "WELCOME", "node_id": mallory, "enc_ready": false, "can_anchor": false}),
    )
    .expect("WELCOME");
    let rest = conn.drain(DEADLINE);
    assert!(
        rest.closed() && rest.lines.is_empty(),
        "alice wrote: {:?}",
        rest.lines
    );
    assert!(
        !node_names(&alice, &c.id).contains(&mallory),
        "mallory is listed"
    );
}
