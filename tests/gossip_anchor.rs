//! The anchor role (docs/protocol.md §6, "Anchor exchange"): felundd `--anchor` serving
//! ANCHOR_PUSH/ANCHOR_PULL to a reference-like initiator frame by frame, and both
//! roles against real reference nodes (`run --anchor`).

use felund_tests::fake_peer::{initiate, random_node_id, sync, v1_message, Initiator, SyncPlan};
use felund_tests::reference::{RefRun, Reference};
use felund_tests::{free_port, wait_for, wait_until, Daemon};
use felund_wire::invite::parse_invite;
use felund_wire::WireMessage;
use serde_json::json;

fn anchor_daemon() -> (Daemon, String, felund_wire::CircleSecret) {
    let d = Daemon::start_with(&["--anchor", "--sync-interval", "1"]);
    let created = d.ctl_one(&["invite", "--name", "anchored"]);
    let circle = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let secret = parse_invite(created["invite_code"].as_str().expect("code"))
        .expect("code")
        .secret;
    (d, circle, secret)
}

#[test]
fn felundd_anchor_stores_pushed_envelopes_and_serves_pulls() {
    let (d, circle, secret) = anchor_daemon();
    d.ctl_one(&["send", "--circle-id", &circle, "held by the anchor"]);
    let (mut conn, hs) = initiate(d.port, &secret, &Initiator::new(true)).expect("handshake");
    assert_eq!(
        hs.welcome["can_anchor"], true,
        "an --anchor node says so in WELCOME"
    );
    // A reference-like initiator that asks for nothing in the sync itself…
    let plan = SyncPlan {
        request_nothing: true,
        ..Default::default()
    };
    sync(&mut conn, &circle, &plan).expect("sync");
    // …then pushes one envelope the daemon does not have.
    let author = random_node_id();
    let wire = v1_message(
        &secret,
        &author,
        "pusher",
        "general",
        "pushed to the anchor",
    );
    let envelope = wire.seal_relay_envelope(&secret, [9; 12]).to_value();
    conn.send(&json!({"t": "ANCHOR_PUSH", "circle_id": circle, "envelopes": [envelope, {"msg_id": "forged-envelope-0001", "enc": {"nonce": "AAAA", "ciphertext": "AAAA"}}]}))
        .expect("ANCHOR_PUSH");
    let ack = conn.recv_type("ANCHOR_PUSH_ACK").expect("ack");
    assert_eq!(
        ack["stored"], 1,
        "only the verifiable envelope is stored: {ack}"
    );
    conn.send(&json!({"t": "ANCHOR_PULL", "circle_id": circle, "since": 0}))
        .expect("ANCHOR_PULL");
    let msgs = conn.recv_type("ANCHOR_MSGS").expect("ANCHOR_MSGS");
    assert!(msgs["server_time"].as_i64().unwrap_or(0) > 1_700_000_000);
    let texts: Vec<String> = msgs["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .map(|e| {
            WireMessage::verify_relay(e, &secret)
                .expect("served envelopes verify")
                .text
        })
        .collect();
    assert!(
        texts.contains(&"held by the anchor".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"pushed to the anchor".to_string()),
        "{texts:?}"
    );
    let inbox = d.ctl_json(&["inbox", "--circle-id", &circle]);
    assert!(inbox.iter().any(|m| m["text"] == "pushed to the anchor"));
}

#[test]
fn reference_initiators_use_a_felundd_anchor_without_errors() {
    let Some(r) = Reference::from_env("reference_initiators_use_a_felundd_anchor_without_errors")
    else {
        return;
    };
    let (d, circle, _) = anchor_daemon();
    d.ctl_one(&["send", "--circle-id", &circle, "from the felundd anchor"]);
    let code = d.ctl_one(&["code", "--circle-id", &circle])["code"]
        .as_str()
        .expect("code")
        .to_string();
    let port = free_port();
    let node = r.node(port, "ref-client");
    let joined = node.run_ok(&["join", "--code", &code]);
    node.run_ok(&["send", "--circle-id", &circle, "from the reference"]);
    let run = RefRun::start(&node, port);
    wait_for("the reference's message to reach the anchor", || {
        let inbox = d.ctl_json(&["inbox", "--circle-id", &circle]);
        if inbox.iter().any(|m| m["text"] == "from the reference") {
            return Ok(());
        }
        Err(format!(
            "join said:\n{joined}\nreference run:\n{}\nfelundd:\n{}",
            run.log(),
            d.log()
        ))
    });
    let before = d.ctl_one(&["status"]);
    wait_until("three more sessions initiated by the reference", || {
        d.ctl_one(&["status"])["gossip_sessions_ok"].as_u64()
            >= before["gossip_sessions_ok"].as_u64().map(|n| n + 3)
    });
    // Counted before the reference stops: a session cut by its stop is not a failure.
    let after = d.ctl_one(&["status"]);
    drop(run);
    assert_eq!(
        after["gossip_sessions_failed"],
        before["gossip_sessions_failed"],
        "anchor exchanges with the reference failed:\n{}",
        d.log()
    );
}

#[test]
fn felundd_pushes_to_and_pulls_from_a_reference_anchor() {
    let Some(r) = Reference::from_env("felundd_pushes_to_and_pulls_from_a_reference_anchor") else {
        return;
    };
    let port = free_port();
    let node = r.node(port, "ref-anchor");
    let (circle, code) = node.invite();
    node.run_ok(&["send", "--circle-id", &circle, "from the reference anchor"]);
    let run = RefRun::start_with(&node, port, &["--anchor"]);
    let d = Daemon::start_with(&["--sync-interval", "1"]);
    d.ctl_one(&["join", &code]);
    d.ctl_one(&["send", "--circle-id", &circle, "from felundd"]);
    wait_until("felundd to get the anchor's message", || {
        d.ctl_json(&["inbox", "--circle-id", &circle])
            .iter()
            .any(|m| m["text"] == "from the reference anchor")
    });
    // felundd stores its anchor cursor only after a complete ANCHOR_PUSH/PULL exchange.
    let db = d.state_dir.join("felund.sqlite");
    wait_until("a completed anchor exchange (cursor stored)", || {
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM relay_cursors WHERE relay_url LIKE 'anchor:%'",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
            .unwrap_or(0)
            > 0
    });
    // From here on every session with the anchor succeeds (the first dial may have
    // raced the reference's listener).
    let before = d.ctl_one(&["status"]);
    wait_until("three more sessions with the anchor", || {
        d.ctl_one(&["status"])["gossip_sessions_ok"].as_u64()
            >= before["gossip_sessions_ok"].as_u64().map(|n| n + 3)
    });
    // Counted before the reference stops: a session cut by its stop is not a failure.
    let after = d.ctl_one(&["status"]);
    drop(run);
    assert_eq!(
        after["gossip_sessions_failed"],
        before["gossip_sessions_failed"],
        "anchor exchanges with the reference anchor failed:\n{}",
        d.log()
    );
}
