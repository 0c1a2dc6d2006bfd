//! Direct TCP gossip between felundd and the real reference node (docs/protocol.md §6–§6.8):
//! felundd joining a reference circle, a reference node joining a felundd circle, and a
//! reference newcomer converging into a circle too large for one reference session.
//! Skipped (with a message) unless FELUND_REFERENCE_PYTHON and FELUND_REFERENCE_DIR are set.

use std::process::Stdio;
use std::time::Duration;

use felund_tests::chat::{create_circle, find_message, log_tail, send, send_many};
use felund_tests::eventually;
use felund_tests::reference::{
    clear_text, ref_has, ref_messages, RefRun, Reference, ReferenceNode,
};
use felund_tests::{free_port, Daemon, DEADLINE};
use serde_json::Value;

fn ref_channels(node: &ReferenceNode, circle: &str) -> Vec<String> {
    node.state()["channels"][circle]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn logs(d: &Daemon, run: &RefRun) -> String {
    format!(
        "--- felundd ---\n{}\n--- reference run ---\n{}",
        log_tail(d, 60),
        run.log()
    )
}

#[test]
fn felundd_joining_a_running_reference_circle_exchanges_messages_both_ways() {
    let name = "felundd_joining_a_running_reference_circle_exchanges_messages_both_ways";
    let Some(r) = Reference::from_env(name) else {
        return;
    };
    let ref_port = free_port();
    let node = r.node(ref_port, "refalice");
    let (circle, code) = node.invite();
    let secret = felund_wire::invite::parse_invite(&code)
        .expect("reference code parses")
        .secret;
    node.run_ok(&["send", "--circle-id", &circle, "hello from the reference"]);
    let run = RefRun::start(&node, ref_port);

    let d = Daemon::start_with(&["--sync-interval", "1", "--name", "rusty"]);
    let v = d.ctl_one(&["join", &code]);
    assert_eq!(v["circle"]["circle_id"], circle.as_str());
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &circle,
            "general",
            "hello from the reference"
        )
        .is_some_and(|m| m["display_name"] == "refalice")),
        "reference message did not reach felundd\n{}",
        logs(&d, &run)
    );

    let sent = send(&d, &circle, "general", "hello from felundd");
    assert!(
        eventually(DEADLINE, || ref_has(
            &node,
            &circle,
            &secret,
            "hello from felundd"
        )),
        "felundd's message {} did not reach the reference\n{}",
        sent["msg_id"],
        logs(&d, &run)
    );

    d.ctl_one(&["channel", "create", "rustaceans", "--circle-id", &circle]);
    assert!(
        eventually(DEADLINE, || ref_channels(&node, &circle)
            .contains(&"rustaceans".to_string())),
        "felundd's channel is not in the reference's channels: {:?}\n{}",
        ref_channels(&node, &circle),
        logs(&d, &run)
    );
}

#[test]
fn reference_joining_a_felundd_circle_exchanges_messages_both_ways() {
    let name = "reference_joining_a_felundd_circle_exchanges_messages_both_ways";
    let Some(r) = Reference::from_env(name) else {
        return;
    };
    let d = Daemon::start_with(&["--sync-interval", "1", "--name", "rusty"]);
    let c = create_circle(&d, "ours");
    send(&d, &c.id, "general", "before the reference joined");
    let ref_port = free_port();
    let node = r.node(ref_port, "refbob");
    // `join --code` syncs once with felundd, at once.
    node.run_ok(&["join", "--code", &c.code]);
    assert!(
        ref_has(&node, &c.id, &c.secret, "before the reference joined"),
        "the reference's join-time sync did not bring felundd's message: {:?}\n{}",
        ref_messages(&node, &c.id),
        log_tail(&d, 60)
    );

    let mut run = RefRun::start(&node, ref_port);
    send(&d, &c.id, "general", "while the reference runs");
    assert!(
        eventually(DEADLINE, || ref_has(
            &node,
            &c.id,
            &c.secret,
            "while the reference runs"
        )),
        "felundd's new message did not reach the running reference\n{}",
        logs(&d, &run)
    );
    d.ctl_one(&["channel", "create", "ops", "--circle-id", &c.id]);
    assert!(
        eventually(DEADLINE, || ref_channels(&node, &c.id)
            .contains(&"ops".to_string())),
        "felundd's channel is not in the reference's channels: {:?}\n{}",
        ref_channels(&node, &c.id),
        logs(&d, &run)
    );

    // A reference `send` must not race its own `run`.
    run.stop();
    node.run_ok(&["send", "--circle-id", &c.id, "hello from the reference"]);
    run.restart(&node);
    assert!(
        eventually(DEADLINE, || find_message(
            &d,
            &c.id,
            "general",
            "hello from the reference"
        )
        .is_some_and(|m| m["display_name"] == "refbob")),
        "the reference's message did not reach felundd\n{}",
        logs(&d, &run)
    );
}

#[test]
fn reference_newcomer_converges_to_all_300_messages_of_a_felundd_circle() {
    let name = "reference_newcomer_converges_to_all_300_messages_of_a_felundd_circle";
    let Some(r) = Reference::from_env(name) else {
        return;
    };
    let d = Daemon::start_with(&["--sync-interval", "1", "--name", "rusty"]);
    let c = create_circle(&d, "big");
    let lines: Vec<String> = (0..300)
        .map(|i| format!("history line {i:03} with some padding to look like chat"))
        .collect();
    send_many(&d, &c.id, &lines);
    let ref_port = free_port();
    let node = r.node(ref_port, "refcarol");
    // Whatever the first session brings, later ones must bring the rest.
    let _ = node.run(&["join", "--code", &c.code]);
    let first = ref_messages(&node, &c.id).len();
    eprintln!("the reference's join-time session brought {first} of 300 messages");
    let run = RefRun::start(&node, ref_port);
    let within = Duration::from_secs(120);
    assert!(
        eventually(within, || ref_messages(&node, &c.id).len() >= 300),
        "reference has {} of 300 messages after {within:?} (first session brought {first})\n{}",
        ref_messages(&node, &c.id).len(),
        logs(&d, &run)
    );
    let mut got: Vec<String> = ref_messages(&node, &c.id)
        .iter()
        .map(|m| clear_text(m, &c.secret))
        .collect();
    got.sort();
    assert_eq!(
        got, lines,
        "the reference holds exactly felundd's 300 texts"
    );
}

/// Calibration of `gossip_wire`: the transcript replay that felundd must pass is passed by
/// the reference node itself, as responder (plain and encrypted) and as initiator.
#[test]
fn transcript_replay_used_against_felundd_passes_against_the_reference_itself() {
    use felund_tests::fake_peer::{check_sent_message, FakeListener};
    use felund_tests::fake_peer::{random_node_id, random_secret, v1_message, FakeConn};
    use felund_tests::transcript::{replay, DaemonRole, Side};
    let name = "transcript_replay_used_against_felundd_passes_against_the_reference_itself";
    let Some(r) = Reference::from_env(name) else {
        return;
    };
    let ref_port = free_port();
    let node = r.node(ref_port, "refdave");
    let (circle, code) = node.invite();
    let secret = felund_wire::invite::parse_invite(&code)
        .expect("code")
        .secret;
    node.run_ok(&["send", "--circle-id", &circle, "from the reference"]);
    let ref_id = node.state()["node"]["node_id"]
        .as_str()
        .expect("node_id")
        .to_string();
    let run = RefRun::start(&node, ref_port);
    for encrypted in [false, true] {
        let me_id = random_node_id();
        let me = Side {
            secret: secret.clone(),
            node_id: me_id.clone(),
            listen_addr: format!("127.0.0.1:{}", free_port()),
            encrypted,
            daemon_node_id: ref_id.clone(),
            daemon_addr: format!("127.0.0.1:{ref_port}"),
            messages: vec![v1_message(&secret, &me_id, "fake", "general", "hi")],
        };
        let mut conn = FakeConn::connect(ref_port).expect("connect");
        let seen = replay(&mut conn, DaemonRole::Responder, &me);
        for m in seen.get("MSGS_SEND")["messages"].as_array().expect("msgs") {
            check_sent_message(m, &secret).unwrap_or_else(|e| panic!("{e}\n{}", run.log()));
        }
    }
    // The reference as initiator: its `join --code` dials the fake.
    let secret2 = random_secret();
    let listener = FakeListener::bind();
    let ref2_port = free_port();
    let node2 = r.node(ref2_port, "refeve");
    let code2 = felund_wire::invite::encode_invite(&secret2, &listener.addr());
    let join = node2
        .command(&["join", "--code", &code2])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn reference join");
    let mut conn = listener.accept(DEADLINE).expect("reference dials the fake");
    let me_id = random_node_id();
    let me = Side {
        secret: secret2.clone(),
        node_id: me_id.clone(),
        listen_addr: listener.addr(),
        encrypted: true,
        daemon_node_id: node2.state()["node"]["node_id"]
            .as_str()
            .expect("node_id")
            .to_string(),
        daemon_addr: format!("127.0.0.1:{ref2_port}"),
        messages: vec![v1_message(&secret2, &me_id, "fake", "general", "to ref2")],
    };
    replay(&mut conn, DaemonRole::Initiator, &me);
    let out = join.wait_with_output().expect("join");
    assert!(out.status.success());
    assert!(ref_has(&node2, &secret2.circle_id(), &secret2, "to ref2"));
}

#[test]
fn felundd_newcomer_converges_to_all_150_messages_of_a_reference_circle() {
    // A reference responder answers a MSGS_REQ for ~100 ids with `Internal error`
    // (docs/protocol.md §6.8): felundd must ask for little enough per session.
    let name = "felundd_newcomer_converges_to_all_150_messages_of_a_reference_circle";
    let Some(r) = Reference::from_env(name) else {
        return;
    };
    let ref_port = free_port();
    let node = r.node(ref_port, "reffrank");
    let (circle, code) = node.invite();
    let secret = felund_wire::invite::parse_invite(&code)
        .expect("code")
        .secret;
    // Write 150 v1 messages straight into the stopped reference's state file, as its
    // `send` would (one process instead of 150).
    let path = node.dir.path().join("state.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("json");
    let author = state["node"]["node_id"]
        .as_str()
        .expect("node_id")
        .to_string();
    for i in 0..150 {
        let m = felund_tests::fake_peer::v1_message(
            &secret,
            &author,
            "reffrank",
            "general",
            &format!("reference history {i:03}"),
        );
        state["messages"][m.msg_id.as_str()] = m.to_value();
    }
    std::fs::write(&path, serde_json::to_string(&state).expect("json")).expect("write state");
    assert_eq!(ref_messages(&node, &circle).len(), 150);
    let run = RefRun::start(&node, ref_port);

    let d = Daemon::start_with(&["--sync-interval", "1", "--name", "rusty"]);
    d.ctl_one(&["join", &code]);
    let within = Duration::from_secs(120);
    assert!(
        eventually(within, || felund_tests::chat::message_count(&d, &circle)
            >= 150),
        "felundd has {} of 150 reference messages after {within:?}\n{}",
        felund_tests::chat::message_count(&d, &circle),
        logs(&d, &run)
    );
}
