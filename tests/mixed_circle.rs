//! One circle, three kinds of client, one felund-relay: a felundd node, the
//! reference Python node (its own relay client code, signed requests) and a web
//! client (requests shaped exactly like the reference web client's: unsigned
//! message push/pull with relay-style envelopes). Everyone sees everyone's messages,
//! and every envelope stays verifiable end to end.

use std::process::Command;

use felund_tests::reference::Reference;
use felund_tests::relays::{http_request, RelayKind, RelayProcess};
use felund_tests::{wait_until, Daemon};
use felund_wire::ids::circle_hint;
use felund_wire::invite::parse_invite;
use felund_wire::{CircleSecret, WireMessage};
use serde_json::{json, Value};

const WEB_NODE: &str = "web5e1f0a2b3c4d5e6f7a8b9c";

/// What the web client's unsigned pull returns, opened with the circle secret.
fn web_pull(relay: &RelayProcess, secret: &CircleSecret, hint: &str) -> Vec<String> {
    let (status, body) = http_request(
        relay.port,
        "GET",
        &format!("/v1/messages?circle_hint={hint}&since=0&limit=500"),
        &[("Origin", "http://localhost:5173")],
        None,
    )
    .expect("relay reachable");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let opened =
                WireMessage::verify_relay(m, secret).expect("every envelope on the relay verifies");
            opened.text
        })
        .collect()
}

fn inbox_texts(d: &Daemon, circle: &str) -> Vec<String> {
    d.ctl_json(&["inbox", "--circle-id", circle, "--limit", "100"])
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn web_client_felundd_and_reference_python_node_share_a_circle_through_felund_relay() {
    let Some(r) = Reference::from_env(
        "web_client_felundd_and_reference_python_node_share_a_circle_through_felund_relay",
    ) else {
        return;
    };
    let relay = RelayProcess::start(RelayKind::Felund, None);
    let a = Daemon::start_with(&[
        "--advertise",
        "127.0.0.1:1",
        "--relay",
        &relay.url(),
        "--name",
        "rusty",
        "--sync-interval",
        "1",
    ]);
    let created = a.ctl_one(&["invite", "--name", "mixed"]);
    let circle = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let invite =
        parse_invite(created["invite_code"].as_str().expect("code")).expect("our code parses");
    let secret = invite.secret;
    let hint = circle_hint(&circle);
    a.ctl_one(&["send", "--circle-id", &circle, "from felundd"]);

    // The web client posts an envelope, unsigned, with only its node id header.
    let wire = WireMessage::new_authored(
        &secret,
        "0123456789abcdef0123456789abcdef".into(),
        circle.clone(),
        "general".into(),
        WEB_NODE.into(),
        "webby".into(),
        1_800_000_001,
        "from the web".into(),
        [3; 12],
    );
    let envelope = wire.seal_relay_envelope(&secret, [4; 12]).to_value();
    let body = json!({"circle_hint": hint, "messages": [envelope]}).to_string();
    let (status, resp) = http_request(
        relay.port,
        "POST",
        "/v1/messages",
        &[("X-Felund-Node", WEB_NODE)],
        Some(&body),
    )
    .expect("relay reachable");
    assert_eq!(status, 200, "{resp}");

    wait_until("felundd to get the web client's message", || {
        inbox_texts(&a, &circle).iter().any(|t| t == "from the web")
    });
    wait_until("felundd's message to reach the relay", || {
        web_pull(&relay, &secret, &hint)
            .iter()
            .any(|t| t == "from felundd")
    });

    // The reference Python node pushes and pulls with its own client code.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ref_relay_peer.py");
    let out = Command::new(r.python())
        .arg(script)
        .arg(relay.url())
        .arg(secret.to_hex())
        .arg("from python")
        .env("FELUND_REFERENCE_DIR", r.dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run the reference relay peer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("JSON from the python peer");
    let python_texts: Vec<&str> = seen["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in ["from felundd", "from the web", "from python"] {
        assert!(
            python_texts.contains(&t),
            "the python node lacks {t:?}: {python_texts:?}"
        );
    }

    wait_until("felundd to get the python node's message", || {
        inbox_texts(&a, &circle).iter().any(|t| t == "from python")
    });
    let web = web_pull(&relay, &secret, &hint);
    for t in ["from felundd", "from the web", "from python"] {
        assert!(
            web.iter().any(|w| w == t),
            "the web client lacks {t:?}: {web:?}"
        );
    }
    let msgs = a.ctl_json(&["inbox", "--circle-id", &circle, "--limit", "100"]);
    let from_web = msgs
        .iter()
        .find(|m| m["text"] == "from the web")
        .expect("web message");
    assert_eq!(from_web["display_name"], "webby");
    assert_eq!(from_web["author_node_id"], WEB_NODE);
}

#[test]
fn a_web_client_code_naming_a_relay_is_joined_through_that_relay() {
    let relay = RelayProcess::start(RelayKind::Felund, None);
    // A web client made this circle: its code names the relay, not a TCP peer.
    let secret = CircleSecret::from_bytes(vec![0x5a; 32]);
    let circle = secret.circle_id();
    let code = felund_wire::invite::encode_invite(&secret, &relay.url());
    let wire = WireMessage::new_authored(
        &secret,
        "fedcba9876543210fedcba9876543210".into(),
        circle.clone(),
        "general".into(),
        WEB_NODE.into(),
        "webby".into(),
        1_800_000_002,
        "posted before felundd joined".into(),
        [5; 12],
    );
    let body = json!({"circle_hint": circle_hint(&circle), "messages": [wire.seal_relay_envelope(&secret, [6; 12]).to_value()]})
        .to_string();
    let (status, resp) = http_request(
        relay.port,
        "POST",
        "/v1/messages",
        &[("X-Felund-Node", WEB_NODE)],
        Some(&body),
    )
    .expect("relay reachable");
    assert_eq!(status, 200, "{resp}");

    // No --relay: the code alone tells felundd where to sync.
    let d = Daemon::start_with(&["--sync-interval", "1"]);
    let joined = d.ctl_one(&["join", &code]);
    assert_eq!(joined["peer"], relay.url());
    wait_until(
        "the web client's message to arrive through the code's relay",
        || {
            inbox_texts(&d, &circle)
                .iter()
                .any(|t| t == "posted before felundd joined")
        },
    );
    d.ctl_one(&["send", "--circle-id", &circle, "felundd replies"]);
    wait_until("felundd's reply to reach the relay", || {
        web_pull(&relay, &secret, &circle_hint(&circle))
            .iter()
            .any(|t| t == "felundd replies")
    });
}
