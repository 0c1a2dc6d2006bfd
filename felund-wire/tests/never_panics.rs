//! Property tests: no input from the network can make a parser panic.

use felund_wire::control::{effects, parse_control};
use felund_wire::frame::{decode_frame, encode_frame, FRAME_TYPES};
use felund_wire::invite::parse_invite;
use felund_wire::session::SessionCipher;
use felund_wire::{CircleSecret, WireMessage};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys that steer generated objects into the interesting code paths.
const KEYS: [&str; 26] = [
    "t",
    "msg_id",
    "circle_id",
    "author_node_id",
    "created_ts",
    "text",
    "channel_id",
    "display_name",
    "mac",
    "schema_version",
    "enc",
    "nonce",
    "ciphertext",
    "alg",
    "key_id",
    "op",
    "node_id",
    "peers",
    "addr",
    "last_seen",
    "messages",
    "msg_ids",
    "name",
    "capabilities",
    "session_id",
    "listen_addr",
];

/// Strings that hit known values: frame types, ops, modes.
fn interesting_string() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = FRAME_TYPES.iter().map(|s| s.to_string()).collect();
    known.extend(
        [
            "CHANNEL_EVT",
            "CIRCLE_NAME_EVT",
            "ANCHOR_ANNOUNCE",
            "CALL_EVT",
            "create",
            "join",
            "leave",
            "request",
            "approve",
            "rename",
            "key",
            "invite",
            "general",
            "h:1",
            "AQEBAQEBAQEBAQEB",
            "",
        ]
        .map(String::from),
    );
    prop_oneof![prop::sample::select(known), ".{0,12}"]
}

fn arb_json() -> impl Strategy<Value = Value> {
    json_tree(true)
}

/// Arbitrary JSON; `floats` off gives values whose text round-trips exactly (serde_json's
/// default float parsing is not exact, which is no concern of ours).
fn json_tree(floats: bool) -> impl Strategy<Value = Value> {
    let float = any::<f64>().prop_map(move |f| if floats { Value::from(f) } else { Value::Null });
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float,
        interesting_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 10, |inner| {
        let key = prop_oneof![
            prop::sample::select(KEYS.to_vec()).prop_map(String::from),
            ".{0,6}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((key, inner), 0..12)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn secret() -> CircleSecret {
    CircleSecret::from_bytes(vec![1; 32])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_invite_never_panics(s in ".*", body in "[A-Za-z0-9_=+/-]{0,200}") {
        let _ = parse_invite(&s);
        let _ = parse_invite(&format!("felund1.{body}"));
    }

    #[test]
    fn parse_invite_never_panics_on_json_payloads(v in arb_json()) {
        use base64::Engine;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let _ = parse_invite(&format!("felund1.{body}"));
    }

    #[test]
    fn decode_frame_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_frame(&bytes);
    }

    #[test]
    fn decode_frame_never_panics_on_json(v in json_tree(false), t in interesting_string()) {
        let _ = decode_frame(v.to_string().as_bytes());
        let mut obj = match v {
            Value::Object(m) => m,
            other => Map::from_iter([("x".to_string(), other)]),
        };
        obj.insert("t".into(), Value::from(t));
        // Whatever decodes must re-encode and decode to the same frame.
        if let Ok(frame) = decode_frame(Value::Object(obj).to_string().as_bytes()) {
            prop_assert_eq!(decode_frame(encode_frame(&frame).as_bytes()).unwrap(), frame);
        }
    }

    #[test]
    fn open_line_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        b64 in "[A-Za-z0-9+/=\r\n]{0,200}",
    ) {
        let cipher = SessionCipher::new([2; 32]);
        let _ = cipher.open_line(&bytes);
        let _ = cipher.open_line(b64.as_bytes());
    }

    #[test]
    fn message_parsing_never_panics(v in arb_json()) {
        if let Ok(mut m) = WireMessage::from_value(&v) {
            let _ = m.verify_gossip(&secret());
            let _ = m.encoded_len_ascii();
            let _ = m.to_relay_envelope();
        }
        let _ = WireMessage::verify_relay(&v, &secret());
    }

    #[test]
    fn parse_control_never_panics(s in ".*", v in arb_json()) {
        for text in [s, v.to_string()] {
            if let Some(evt) = parse_control(&text) {
                let _ = effects(&evt);
                let _ = evt.to_text();
            }
        }
    }
}
