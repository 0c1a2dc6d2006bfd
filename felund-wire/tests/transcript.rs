//! The recorded session between two reference nodes decodes, re-encodes and verifies.

mod common;

use common::{s, transcript};
use felund_wire::frame::{decode_frame, encode_frame, Frame};
use felund_wire::handshake::{parse_nonce16, verify_hello_auth};
use felund_wire::json::to_ascii_json;
use felund_wire::{CircleSecret, WireMessage};
use serde_json::Value;

/// Every frame of the transcript, decoded from compact JSON text.
fn frames() -> Vec<Frame> {
    transcript()["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| decode_frame(to_ascii_json(&f["frame"]).as_bytes()).unwrap())
        .collect()
}

fn secret() -> CircleSecret {
    CircleSecret::from_hex(s(&transcript(), "circle_secret_hex")).unwrap()
}

#[test]
fn every_frame_round_trips() {
    let t = transcript();
    let raw = t["frames"].as_array().unwrap();
    assert_eq!(raw.len(), 12);
    for (entry, frame) in raw.iter().zip(frames()) {
        assert_eq!(frame.type_name(), s(&entry["frame"], "t"));
        let text = encode_frame(&frame);
        assert!(text.starts_with(&format!("{{\"t\":\"{}\"", frame.type_name())));
        assert!(!text.ends_with('\n'));
        assert_eq!(decode_frame(text.as_bytes()).unwrap(), frame);
        // Nothing is lost: re-encoding gives the same JSON object the reference wrote.
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            entry["frame"]
        );
    }
}

#[test]
fn hello_auth_token_verifies_against_the_challenge() {
    let t = transcript();
    let frames = frames();
    let Frame::Hello(hello) = &frames[0] else {
        panic!("first frame is not HELLO")
    };
    let Frame::Challenge { nonce } = &frames[1] else {
        panic!("second frame is not CHALLENGE")
    };
    let Frame::HelloAuth { token } = &frames[2] else {
        panic!("third frame is not HELLO_AUTH")
    };
    let Frame::Welcome(welcome) = &frames[3] else {
        panic!("fourth frame is not WELCOME")
    };
    assert_eq!(hello.node_id, s(&t, "bob_node_id"));
    assert_eq!(hello.circle_id, s(&t, "circle_id"));
    assert_eq!(secret().circle_id(), s(&t, "circle_id"));
    assert!(verify_hello_auth(
        &secret(),
        s(&t, "bob_node_id"),
        s(&t, "circle_id"),
        nonce,
        token
    ));
    assert!(!verify_hello_auth(
        &secret(),
        s(&t, "alice_node_id"),
        s(&t, "circle_id"),
        nonce,
        token
    ));
    assert!(parse_nonce16(nonce).is_some());
    assert!(parse_nonce16(hello.nonce.as_deref().unwrap()).is_some());
    assert!(welcome.enc_ready);
    assert_eq!(welcome.node_id, s(&t, "alice_node_id"));
}

#[test]
fn both_msgs_send_messages_pass_gossip_verification() {
    let sends: Vec<Vec<Value>> = frames()
        .into_iter()
        .filter_map(|f| match f {
            Frame::MsgsSend { messages, .. } => Some(messages),
            _ => None,
        })
        .collect();
    assert_eq!(sends.len(), 2);
    let mut texts = Vec::new();
    for raw in sends.iter().flatten() {
        let mut m = WireMessage::from_value(raw).unwrap();
        m.verify_gossip(&secret()).unwrap();
        assert_eq!(&m.to_value(), raw);
        texts.push(m.text);
        assert!(WireMessage::from_value(raw)
            .unwrap()
            .verify_gossip(&CircleSecret::from_bytes(vec![1; 32]))
            .is_err());
    }
    texts.sort();
    assert_eq!(texts, ["hello from alice", "hi from bob"]);
}

#[test]
fn wire_message_serialises_in_the_reference_key_order() {
    // The order in which the reference wrote the message keys (read from the raw file text,
    // since a parsed JSON map is sorted).
    let raw_file = std::fs::read_to_string(common::TRANSCRIPT_PATH).unwrap();
    let start = raw_file.find("\"msg_id\"").unwrap();
    let end = start + raw_file[start..].find('}').unwrap();
    let reference_keys: Vec<&str> = raw_file[start..end]
        .split('\n')
        .filter_map(|line| line.trim().strip_prefix('"'))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(reference_keys.len(), 10, "{reference_keys:?}");

    let Some(Frame::MsgsSend { messages, .. }) = frames().into_iter().nth(10) else {
        panic!("frame 10 is not MSGS_SEND")
    };
    let m = WireMessage::from_value(&messages[0]).unwrap();
    let ours = felund_wire::json::to_ascii_json_string(&m).unwrap();
    let mut pos = 0;
    for key in reference_keys {
        let at = ours[pos..]
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} out of order in {ours}"));
        pos += at + 1;
    }
    assert_eq!(ours.len(), m.encoded_len_ascii());
}

/// Played with the nonces the reference drew, our handshake machines write exactly the four
/// handshake frames the reference wrote (when they do not announce the felundd extensions).
#[test]
fn handshake_machines_reproduce_the_recorded_reference_handshake() {
    use felund_wire::handshake::{Initiator, LocalNode, Responder};
    let t = transcript();
    let f = frames();
    let nonce16 = |frame: &Frame| -> [u8; 16] {
        let n = match frame {
            Frame::Hello(h) => h.nonce.clone().unwrap(),
            Frame::Challenge { nonce } => nonce.clone(),
            other => panic!("no nonce in {other:?}"),
        };
        parse_nonce16(&n).unwrap()
    };
    let bob = LocalNode {
        node_id: s(&t, "bob_node_id").into(),
        listen_addr: "127.0.0.1:19102".into(),
        can_anchor: false,
        announce_ext: false,
    };
    let alice = LocalNode {
        node_id: s(&t, "alice_node_id").into(),
        listen_addr: String::new(),
        can_anchor: false,
        announce_ext: false,
    };
    let (init, hello) = Initiator::start(bob, secret(), nonce16(&f[0]));
    assert_eq!(hello, f[0]);
    let got = Responder::new(alice, nonce16(&f[1]))
        .on_hello(hello)
        .unwrap();
    let (awaiting, challenge) = got.challenge(Some(secret())).unwrap();
    assert_eq!(challenge, f[1]);
    let (init, auth) = init.on_challenge(challenge).unwrap();
    assert_eq!(auth, f[2]);
    let (welcome, at_alice) = awaiting.on_hello_auth(auth).unwrap();
    assert_eq!(welcome, f[3]);
    let at_bob = init.on_welcome(welcome).unwrap();
    // Both sides derived the same session key.
    assert!(!at_bob.ext && !at_alice.ext);
    let line = at_alice.cipher().seal_line(b"{}", [0; 12]);
    assert!(at_bob.cipher().open_line(line.as_bytes()).is_ok());
}
