//! felundd as a WebRTC DataChannel peer of browsers: a real felundd, our felund-relay carrying
//! only the signalling, and an independent browser-side peer (aiortc, written from the
//! protocol's DataChannel section) in either role. Covers history and live messages both
//! ways, the AUTH rules (attackers with the wrong secret or message frames before AUTH),
//! batches larger than one frame, restarts on either side, a browser in several circles and
//! `--webrtc off`; with the reference, a circle shared with a reference TCP node and a relay
//! without `/v1/signal` (the PHP relay).

use std::time::Duration;

use felund_tests::browser_peer::{BrowserOptions, BrowserPeer, HIGH_ID, LOW_ID};
use felund_tests::chat::{create_circle, log_tail, node_id, send, send_many, texts, Circle};
use felund_tests::eventually;
use felund_tests::reference::{ref_has, ref_messages, RefRun, Reference};
use felund_tests::relays::{daemon_behind_relay, http_request, RelayKind, RelayProcess};
use felund_tests::{free_port, wait_until, Daemon, DEADLINE};
use serde_json::Value;

/// A felundd reachable only through `relay` (no direct TCP), with one circle.
fn daemon_with_circle(relay: &RelayProcess, extra: &[&str]) -> (Daemon, Circle) {
    let mut d = daemon_behind_relay(&relay.url(), "felundd");
    if !extra.is_empty() {
        let mut args: Vec<String> = vec![
            "--advertise".into(),
            "127.0.0.1:1".into(),
            "--relay".into(),
            relay.url(),
            "--name".into(),
            "felundd".into(),
            "--sync-interval".into(),
            "1".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        d.set_extra_args(&args);
        d.restart();
    }
    let c = create_circle(&d, "webrtc");
    (d, c)
}

fn browser(python: &std::path::Path, relay: &RelayProcess, c: &Circle, id: &str) -> BrowserPeer {
    BrowserPeer::start(
        python,
        &relay.url(),
        &[&c.secret],
        BrowserOptions {
            node_id: Some(id.into()),
            name: Some("web".into()),
            ..BrowserOptions::default()
        },
    )
}

/// The DataChannel peers `felundctl --json status --verbose` reports.
fn datachannel_peers(d: &Daemon) -> Vec<Value> {
    d.ctl_one(&["status"])["datachannel_peers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// History first, then live messages both ways, whoever offered.
fn history_and_live_messages_both_ways(browser_id: &str) {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, c) = daemon_with_circle(&relay, &[]);
    send(&d, &c.id, "general", "before the browser came");
    let mut b = browser(&py, &relay, &c, browser_id);
    b.wait_event("a verified channel", |e| e["event"] == "open");
    b.wait_text(0, "before the browser came");
    send(&d, &c.id, "general", "live from felundd");
    b.wait_text(0, "live from felundd");
    b.send(0, "hello from the browser");
    wait_until("the browser's message in felundd", || {
        texts(&d, &c.id, "general").contains(&"hello from the browser".to_string())
    });
    let msgs = d.ctl_json(&["inbox", "--circle-id", &c.id]);
    let m = msgs
        .iter()
        .find(|m| m["text"] == "hello from the browser")
        .expect("stored");
    assert_eq!(m["display_name"], "web", "taken from the envelope");
    // Not echoed back: the browser never receives its own message from felundd.
    assert_eq!(
        b.texts(0)
            .iter()
            .filter(|t| *t == "hello from the browser")
            .count(),
        0
    );
    // felundd sent nothing before the browser's AUTH verified.
    for f in b.named("frame") {
        if f["type"] == "MSGS_SEND" || f["type"] == "MSG_NEW" {
            assert_eq!(f["verified"], true, "circle data before AUTH: {f}");
        }
    }
    wait_until("status to name the DataChannel peer", || {
        datachannel_peers(&d)
            .iter()
            .any(|p| p["node_id"] == b.node_id.as_str() && p["messages_in"] == 1)
    });
    let peers = d.ctl_json(&["peers"]);
    assert!(
        peers
            .iter()
            .any(|p| p["node_id"] == b.node_id.as_str() && p["transport"] == "datachannel"),
        "felundctl peers lists the browser as a DataChannel peer: {peers:?}"
    );
}

#[test]
fn a_browser_that_offers_gets_history_and_live_messages_both_ways() {
    history_and_live_messages_both_ways(LOW_ID);
}

#[test]
fn felundd_offers_to_a_browser_with_a_larger_id_and_they_chat_both_ways() {
    history_and_live_messages_both_ways(HIGH_ID);
}

/// Frames of `kind` the browser received.
fn frames(b: &BrowserPeer, kind: &str) -> Vec<Value> {
    b.named("frame")
        .into_iter()
        .filter(|f| f["type"] == kind)
        .collect()
}

/// How many of the browser's sessions have ended.
fn closed(b: &BrowserPeer) -> usize {
    b.named("closed").len()
}

#[test]
fn a_browser_whose_auth_does_not_verify_gets_no_circle_data_and_its_messages_are_dropped() {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, c) = daemon_with_circle(&relay, &[]);
    send(&d, &c.id, "general", "for members only");
    let mut attacker = BrowserPeer::start(
        &py,
        &relay.url(),
        &[&c.secret],
        BrowserOptions {
            node_id: Some(LOW_ID.into()),
            attack: Some("wrong-secret".into()),
            ..BrowserOptions::default()
        },
    );
    // It holds a (genuine) message it will try to push once felundd's AUTH verified.
    attacker.seed(0, 1, 10);
    wait_until("felundd to drop the impostor's channel", || {
        closed(&attacker) >= 1
    });
    wait_until("status to count the failed session", || {
        d.ctl_one(&["status"])["datachannel_failed"].as_u64() >= Some(1)
    });
    // Positive control: an honest browser on the same felundd gets everything. The
    // attacker leaves first: browsers, like the web client, take message frames from each
    // other unauthenticated, so it could hand the honest one its message.
    attacker.kill();
    let honest = browser(&py, &relay, &c, HIGH_ID);
    honest.wait_text(0, "for members only");
    assert!(frames(&attacker, "MSGS_SEND").is_empty(), "history leaked");
    assert!(
        frames(&attacker, "MSG_NEW").is_empty(),
        "live message leaked"
    );
    assert!(attacker.texts(0).is_empty());
    let seeded = texts(&d, &c.id, "general");
    assert!(
        !seeded.iter().any(|t| t.starts_with("seed ")),
        "felundd stored a message from a peer that never proved the secret: {seeded:?}"
    );
    assert!(datachannel_peers(&d)
        .iter()
        .all(|p| p["node_id"] != attacker.node_id.as_str()));
}

#[test]
fn message_frames_sent_before_auth_are_not_stored_and_get_nothing_back() {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, c) = daemon_with_circle(&relay, &[]);
    send(&d, &c.id, "general", "for members only");
    let mut early = BrowserPeer::start(
        &py,
        &relay.url(),
        &[&c.secret],
        BrowserOptions {
            node_id: Some(LOW_ID.into()),
            attack: Some("early-msgs".into()),
            ..BrowserOptions::default()
        },
    );
    early.seed(0, 3, 10);
    wait_until("felundd's HELLO to reach the early sender", || {
        !frames(&early, "HELLO").is_empty()
    });
    // No AUTH ever comes: felundd ends the session at its handshake deadline.
    wait_until("felundd to drop the unauthenticated channel", || {
        d.ctl_one(&["status"])["datachannel_failed"].as_u64() >= Some(1)
    });
    // Positive control (the early sender gone first, as above).
    early.kill();
    let honest = browser(&py, &relay, &c, HIGH_ID);
    honest.wait_text(0, "for members only");
    assert!(frames(&early, "MSGS_SEND").is_empty(), "history leaked");
    let stored = texts(&d, &c.id, "general");
    assert!(
        !stored.iter().any(|t| t.starts_with("seed ")),
        "felundd stored messages sent before AUTH: {stored:?}\n{}",
        log_tail(&d, 80)
    );
}

#[test]
fn batches_larger_than_one_frame_travel_both_ways() {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, c) = daemon_with_circle(&relay, &[]);
    // 300 messages of ~700 bytes: more than the browser's 100 and more than 64 KiB.
    let many: Vec<String> = (0..300)
        .map(|i| format!("{i:03} {}", "h".repeat(700)))
        .collect();
    send_many(&d, &c.id, &many);
    let mut b = browser(&py, &relay, &c, LOW_ID);
    // The browser's own 100 messages of 1.5 KB: one MSGS_SEND frame over 64 KiB (it
    // advertised 262,144 and felundd advertises as much).
    b.seed(0, 100, 1_500);
    wait_until("the whole history to reach the browser", || {
        b.texts(0).len() >= 300
    });
    let batches = frames(&b, "MSGS_SEND");
    assert!(batches.len() >= 3, "history in several frames: {batches:?}");
    for f in &batches {
        assert!(
            f["bytes"].as_u64() <= Some(65_536),
            "a frame over 64 KiB: {f}"
        );
    }
    let sent = b.wait_event("the browser's batch", |e| e["event"] == "sent_batch");
    assert!(sent["bytes"].as_u64() > Some(65_536), "{sent}");
    wait_until("felundd to store the browser's big batch", || {
        texts(&d, &c.id, "general")
            .iter()
            .filter(|t| t.starts_with("seed "))
            .count()
            == 100
    });
}

/// felundd restarts, then the browser restarts (same node id, a fresh page); each time
/// they reconnect within 30 s and what was sent meanwhile arrives.
fn restarts_reconnect(browser_id: &str) {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (mut d, c) = daemon_with_circle(&relay, &[]);
    let mut b = browser(&py, &relay, &c, browser_id);
    b.wait_event("a verified channel", |e| e["event"] == "open");
    d.restart();
    // A clean stop closes the connection: the browser notices at once.
    wait_until("the browser to see felundd leave", || closed(&b) >= 1);
    send(&d, &c.id, "general", "after felundd restarted");
    let reconnected = b.wait_event_within(Duration::from_secs(30), |_| b.opened() >= 2);
    assert!(
        reconnected.is_some(),
        "no reconnect within 30 s of felundd's restart; felundd log:\n{}",
        log_tail(&d, 60)
    );
    b.wait_text(0, "after felundd restarted");

    b.kill();
    send(&d, &c.id, "general", "while the page was closed");
    let b2 = browser(&py, &relay, &c, browser_id);
    let reconnected = b2.wait_event_within(Duration::from_secs(30), |e| e["event"] == "open");
    assert!(
        reconnected.is_some(),
        "no reconnect within 30 s of the browser's restart; felundd log:\n{}",
        log_tail(&d, 60)
    );
    b2.wait_text(0, "while the page was closed");
}

#[test]
fn after_restarts_on_either_side_a_browser_that_offers_reconnects_within_30_s() {
    restarts_reconnect(LOW_ID);
}

#[test]
fn after_restarts_on_either_side_felundd_offers_again_and_reconnects_within_30_s() {
    restarts_reconnect(HIGH_ID);
}

#[test]
fn a_browser_in_two_circles_connects_in_the_circle_its_hello_names() {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, a) = daemon_with_circle(&relay, &[]);
    let b_circle = create_circle(&d, "second");
    send(&d, &a.id, "general", "in the first circle");
    send(&d, &b_circle.id, "general", "in the second circle");
    // felundd offers; the browser answers from its first circle's transport (as the web
    // client does): felundd holds that circle too and authenticates in it.
    let answering = BrowserPeer::start(
        &py,
        &relay.url(),
        &[&a.secret, &b_circle.secret],
        BrowserOptions {
            node_id: Some(HIGH_ID.into()),
            ..BrowserOptions::default()
        },
    );
    let open = answering.wait_event("a verified channel", |e| e["event"] == "open");
    assert_eq!(open["circle"], 0);
    answering.wait_text(0, "in the first circle");
    // The browser offers from the circle on screen (its second): felundd follows HELLO's
    // hint to that circle.
    let offering = BrowserPeer::start(
        &py,
        &relay.url(),
        &[&a.secret, &b_circle.secret],
        BrowserOptions {
            node_id: Some(LOW_ID.into()),
            on_screen: 1,
            ..BrowserOptions::default()
        },
    );
    let open = offering.wait_event("a verified channel", |e| e["event"] == "open");
    assert_eq!(open["circle"], 1);
    offering.wait_text(1, "in the second circle");
    assert!(!offering
        .texts(1)
        .contains(&"in the first circle".to_string()));
}

#[test]
fn with_webrtc_off_felundd_answers_no_browser() {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, c) = daemon_with_circle(&relay, &["--webrtc", "off"]);
    let b = browser(&py, &relay, &c, LOW_ID);
    // The browser offers, waits its 15 s and gives up; nothing ever opens.
    b.wait_event("the browser's attempt to time out", |e| {
        e["event"] == "closed" && e["reason"] == "ICE timeout"
    });
    assert_eq!(b.opened(), 0);
    assert!(b.named("frame").is_empty());
    let status = d.ctl_one(&["status"]);
    assert_eq!(status["datachannel_enabled"], false);
    let text = String::from_utf8_lossy(&d.ctl(&["status"]).stdout).into_owned();
    assert!(text.contains("off (felundd --webrtc off)"), "{text}");
}

#[test]
fn offers_from_nodes_registered_in_none_of_our_circles_are_ignored() {
    let Some(py) = BrowserPeer::python("webrtc") else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let (d, c) = daemon_with_circle(&relay, &[]);
    send(&d, &c.id, "general", "for members only");
    let own = node_id(&d);
    // Strangers who know felundd's node id (signals are public) post offers to it.
    for i in 0..20 {
        let stranger = format!("{i:02}00000000000000000000000000000a");
        let body = serde_json::json!({
            "session_id": format!("{stranger}:{own}"),
            "from_node_id": stranger,
            "to_node_id": own,
            "circle_hint": felund_wire::ids::circle_hint(&c.id),
            "type": "offer",
            "payload": serde_json::json!({"sdp": "v=0\r\n", "type": "offer"}).to_string(),
            "ttl_s": 120,
        })
        .to_string();
        let (status, resp) = http_request(relay.port, "POST", "/v1/signal", &[], Some(&body))
            .expect("relay reachable");
        assert_eq!(status, 200, "{resp}");
    }
    // Positive control: a registered browser connects meanwhile.
    let b = browser(&py, &relay, &c, LOW_ID);
    b.wait_text(0, "for members only");
    let status = d.ctl_one(&["status"]);
    assert_eq!(status["datachannel_failed"], 0, "no session for a stranger");
    assert_eq!(datachannel_peers(&d).len(), 1);
}

#[test]
fn browser_felundd_and_a_reference_tcp_node_all_see_every_message() {
    let name = "browser_felundd_and_a_reference_tcp_node_all_see_every_message";
    let (Some(py), Some(r)) = (BrowserPeer::python(name), Reference::from_env(name)) else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    // felundd listens for gossip (the reference reaches it over TCP) and uses the relay.
    let d = Daemon::start_with(&[
        "--relay",
        &relay.url(),
        "--sync-interval",
        "1",
        "--name",
        "rusty",
    ]);
    let c = create_circle(&d, "mixed");
    let ref_port = free_port();
    let node = r.node(ref_port, "refbob");
    node.run_ok(&["join", "--code", &c.code]);
    node.run_ok(&["send", "--circle-id", &c.id, "from the reference"]);
    let run = RefRun::start(&node, ref_port);
    wait_until("the reference's message in felundd", || {
        texts(&d, &c.id, "general").contains(&"from the reference".to_string())
    });
    let mut b = browser(&py, &relay, &c, LOW_ID);
    b.wait_text(0, "from the reference");
    // The browser's six-key message reaches the reference over TCP in the full form.
    b.send(0, "from the browser");
    let reached = eventually(DEADLINE, || {
        ref_has(&node, &c.id, &c.secret, "from the browser")
    });
    assert!(
        reached,
        "the browser's message never reached the reference node\n{}\n{}",
        log_tail(&d, 60),
        run.log()
    );
    // The reference requires every key of the full message object (it drops a message that
    // lacks one), so its arrival proves felundd added them.
    assert!(ref_messages(&node, &c.id)
        .iter()
        .any(|m| m["author_node_id"] == b.node_id.as_str()));
    send(&d, &c.id, "general", "from felundd");
    b.wait_text(0, "from felundd");
    assert!(eventually(DEADLINE, || ref_has(
        &node,
        &c.id,
        &c.secret,
        "from felundd"
    )));
}

#[test]
fn a_relay_without_signalling_is_skipped_quietly_and_still_carries_the_chat() {
    let name = "a_relay_without_signalling_is_skipped_quietly_and_still_carries_the_chat";
    let Some(r) = Reference::from_env(name) else {
        return;
    };
    let relay = RelayProcess::start(RelayKind::Php, Some(&r));
    let a = daemon_behind_relay(&relay.url(), "alice");
    let b = daemon_behind_relay(&relay.url(), "bob");
    let c = create_circle(&a, "php");
    b.ctl_one(&["join", &c.code]);
    send(&a, &c.id, "general", "through the php relay");
    wait_until("the message through the PHP relay", || {
        texts(&b, &c.id, "general").contains(&"through the php relay".to_string())
    });
    wait_until("felundd to notice the relay has no /v1/signal", || {
        a.log().contains("serves no /v1/signal")
    });
    assert_eq!(
        a.log().matches("serves no /v1/signal").count(),
        1,
        "one line, not one per poll"
    );
    assert_eq!(a.ctl_one(&["status"])["datachannel_failed"], 0);
}
