//! Malformed and hostile inputs are refused with the right error, never with a panic.

mod common;

use felund_wire::envelope::EnvelopeError;
use felund_wire::frame::{decode_frame, FrameError};
use felund_wire::ids::{normalize_channel_id, IdError};
use felund_wire::message::MessageError;
use felund_wire::session::{SessionCipher, SessionError};
use felund_wire::{CircleSecret, WireMessage};
use serde_json::{json, Value};

fn secret() -> CircleSecret {
    CircleSecret::from_hex(common::s(&common::transcript(), "circle_secret_hex")).unwrap()
}

/// Alice's v1 message from the transcript.
fn v1() -> Value {
    common::transcript()["frames"][10]["frame"]["messages"][0].clone()
}

/// A v2 message (MAC + envelope + clear fields), as this crate authors them.
fn v2() -> WireMessage {
    WireMessage::new_authored(
        &secret(),
        "0123456789abcdef0123456789abcdef".into(),
        secret().circle_id(),
        "general".into(),
        "d78fb7879c0ef11c8ab5f575".into(),
        "alice".into(),
        1_795_477_031,
        "sealed hello".into(),
        [7; 12],
    )
}

fn with(mut v: Value, key: &str, new: Value) -> Value {
    v[key] = new;
    v
}

fn gossip(v: &Value) -> Result<WireMessage, MessageError> {
    let mut m = WireMessage::from_value(v)?;
    m.verify_gossip(&secret())?;
    Ok(m)
}

#[test]
fn forged_mac_is_refused() {
    let forged = with(v1(), "mac", json!("00".repeat(32)));
    assert_eq!(gossip(&forged), Err(MessageError::BadMac));
    let edited = with(v1(), "text", json!("hello from mallory"));
    assert_eq!(gossip(&edited), Err(MessageError::BadMac));
    let empty = with(v1(), "mac", json!(""));
    assert_eq!(gossip(&empty), Err(MessageError::BadMac));
    let upper = with(
        v1(),
        "mac",
        json!(v1()["mac"].as_str().unwrap().to_uppercase()),
    );
    assert_eq!(gossip(&upper), Err(MessageError::BadMac));
}

#[test]
fn wrong_secret_is_refused_on_both_versions() {
    let other = CircleSecret::from_bytes(vec![42; 32]);
    let mut m = WireMessage::from_value(&v1()).unwrap();
    assert_eq!(m.verify_gossip(&other), Err(MessageError::BadMac));
    let mut m = v2();
    assert_eq!(
        m.verify_gossip(&other),
        Err(MessageError::Envelope(EnvelopeError::Decrypt))
    );
    assert!(WireMessage::verify_relay(&v2().to_value(), &other).is_err());
}

#[test]
fn unknown_key_is_refused() {
    let extra = with(v1(), "extension", json!(true));
    assert_eq!(
        WireMessage::from_value(&extra),
        Err(MessageError::UnknownField("extension".into()))
    );
    assert!(serde_json::from_value::<WireMessage>(extra).is_err());
}

#[test]
fn created_ts_must_be_an_integer() {
    for bad in [
        json!("1795477030"),
        json!(1795477030.0),
        json!(true),
        json!(null),
    ] {
        assert_eq!(
            WireMessage::from_value(&with(v1(), "created_ts", bad.clone())),
            Err(MessageError::WrongType {
                field: "created_ts",
                expected: "an integer"
            }),
            "{bad}"
        );
    }
    assert_eq!(
        WireMessage::from_value(&with(v1(), "created_ts", json!(u64::MAX))),
        Err(MessageError::OutOfRange("created_ts"))
    );
}

#[test]
fn required_fields_types_and_caps() {
    let mut missing = v1();
    missing.as_object_mut().unwrap().remove("text");
    assert_eq!(
        WireMessage::from_value(&missing),
        Err(MessageError::MissingField("text"))
    );
    assert_eq!(
        WireMessage::from_value(&with(v1(), "msg_id", json!(""))),
        Err(MessageError::EmptyField("msg_id"))
    );
    assert_eq!(
        WireMessage::from_value(&with(v1(), "channel_id", json!(null))),
        Err(MessageError::WrongType {
            field: "channel_id",
            expected: "a string"
        })
    );
    assert_eq!(
        WireMessage::from_value(&with(v1(), "msg_id", json!("x".repeat(129)))),
        Err(MessageError::TooLong {
            field: "msg_id",
            max: 128
        })
    );
    assert!(matches!(
        WireMessage::from_value(&with(v1(), "text", json!("x".repeat(70_000)))),
        Err(MessageError::TooLong { field: "text", .. })
    ));
    assert_eq!(
        WireMessage::from_value(&json!([1, 2])),
        Err(MessageError::NotAnObject)
    );
}

#[test]
fn optional_fields_take_their_defaults() {
    let mut minimal = v1();
    let obj = minimal.as_object_mut().unwrap();
    for k in ["channel_id", "display_name", "mac", "schema_version", "enc"] {
        obj.remove(k);
    }
    let m = WireMessage::from_value(&minimal).unwrap();
    assert_eq!(m.channel_id, "general");
    assert_eq!(m.display_name, "");
    assert_eq!(m.mac, "");
    assert_eq!(m.schema_version, 1);
    assert_eq!(m.enc, None);
    assert_eq!(m.to_value().as_object().unwrap().len(), 10);
}

#[test]
fn enc_with_bad_base64_is_refused() {
    let mut v = v2().to_value();
    v["enc"]["ciphertext"] = json!("@@not base64@@");
    assert_eq!(
        gossip(&v),
        Err(MessageError::Envelope(EnvelopeError::BadCiphertextBase64))
    );
    let mut v = v2().to_value();
    v["enc"]["nonce"] = json!("%%%");
    assert_eq!(
        gossip(&v),
        Err(MessageError::Envelope(EnvelopeError::BadNonceBase64))
    );
    let mut v = v2().to_value();
    v["enc"] = json!("AES");
    assert!(matches!(
        WireMessage::from_value(&v),
        Err(MessageError::WrongType { field: "enc", .. })
    ));
    let mut v = v2().to_value();
    v["enc"].as_object_mut().unwrap().remove("nonce");
    assert_eq!(
        WireMessage::from_value(&v),
        Err(MessageError::MissingField("nonce"))
    );
}

#[test]
fn truncated_ciphertext_is_refused() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let full = b64.decode(v2().enc.unwrap().ciphertext).unwrap();

    let mut v = v2().to_value();
    v["enc"]["ciphertext"] = json!(b64.encode(&full[..full.len() - 1]));
    assert_eq!(
        gossip(&v),
        Err(MessageError::Envelope(EnvelopeError::Decrypt))
    );
    v["enc"]["ciphertext"] = json!(b64.encode(&full[..5]));
    assert_eq!(
        gossip(&v),
        Err(MessageError::Envelope(EnvelopeError::Truncated(5)))
    );
}

#[test]
fn envelope_fields_replace_the_clear_ones_on_gossip() {
    let mut v = v2().to_value();
    v["text"] = json!("clear text that lies");
    v["mac"] = json!("");
    let m = gossip(&v).unwrap();
    assert_eq!(m.text, "sealed hello");
    assert!(m.verify_mac(&secret()), "MAC is recomputed for forwarding");
}

#[test]
fn authored_messages_pass_every_path() {
    let m = v2();
    assert_eq!(m.schema_version, 2);
    assert!(m.verify_mac(&secret()));
    assert_eq!(gossip(&m.to_value()).unwrap(), m);
    assert_eq!(
        WireMessage::verify_relay(&m.to_value(), &secret()).unwrap(),
        m
    );

    // The relay/anchor envelope shape: no text, display_name or mac, order as the reference.
    let env = m.to_relay_envelope().unwrap();
    assert_eq!(env.as_object().unwrap().len(), 6);
    let text = felund_wire::json::to_ascii_json_string(&m.relay_envelope().unwrap()).unwrap();
    assert!(text.starts_with(r#"{"msg_id":"0123456789abcdef0123456789abcdef","circle_id":"#));
    assert_eq!(WireMessage::verify_relay(&env, &secret()).unwrap(), m);

    // Resealed with a fresh nonce (what the reference does on every push) also verifies.
    let fresh = m.seal_relay_envelope(&secret(), [9; 12]).to_value();
    assert_ne!(fresh, env);
    let got = WireMessage::verify_relay(&fresh, &secret()).unwrap();
    assert_eq!(
        (&got.text, &got.display_name, &got.mac),
        (&m.text, &m.display_name, &m.mac)
    );
    assert_eq!(got.relay_envelope().unwrap().to_value(), fresh);
}

#[test]
fn relay_objects_follow_the_relay_rule() {
    // v1 object through the relay (without an `enc` key, as the relay rule keys on its
    // presence): MAC must verify; extra keys are ignored there.
    let mut relayed = with(v1(), "stored_at", json!(5));
    relayed.as_object_mut().unwrap().remove("enc");
    let m = WireMessage::verify_relay(&relayed, &secret()).unwrap();
    assert_eq!(m.text, "hello from alice");
    assert_eq!(
        WireMessage::verify_relay(&with(relayed.clone(), "mac", json!("")), &secret()),
        Err(MessageError::BadMac)
    );
    // An `enc` key that is null cannot be decrypted: even a full gossip-shaped v1 message is
    // refused by the relay rule (the reference drops it too).
    assert_eq!(
        WireMessage::verify_relay(&with(v1(), "enc", Value::Null), &secret()),
        Err(MessageError::NullEnvelope)
    );
    // A v1 message has no envelope to push.
    assert_eq!(
        WireMessage::from_value(&v1()).unwrap().to_relay_envelope(),
        None
    );
    assert_eq!(
        WireMessage::from_value(&v1()).unwrap().open_enc(&secret()),
        Err(MessageError::NoEnvelope)
    );
}

#[test]
fn frame_with_unknown_type_is_refused() {
    assert_eq!(
        decode_frame(br#"{"t":"MSGS_PUSH","circle_id":"c"}"#),
        Err(FrameError::UnknownType("MSGS_PUSH".into()))
    );
    assert_eq!(decode_frame(br#"{"t":7}"#), Err(FrameError::MissingType));
    assert_eq!(
        decode_frame(br#"{"type":"HELLO"}"#),
        Err(FrameError::MissingType)
    );
}

#[test]
fn non_json_lines_are_refused() {
    for line in [
        &b""[..],
        b"\n",
        b"hello",
        b"{\"t\":\"HELLO\"",
        b"\xff\xfe{}",
        b"{\"t\":\"ERROR\"} trailing",
    ] {
        assert!(
            matches!(decode_frame(line), Err(FrameError::NotJson(_))),
            "{line:?}"
        );
    }
    assert_eq!(decode_frame(b"\"HELLO\""), Err(FrameError::NotAnObject));
    assert!(matches!(
        decode_frame(br#"{"t":"HELLO","circle_id":"c"}"#),
        Err(FrameError::Malformed { .. })
    ));
    assert!(matches!(
        decode_frame(br#"{"t":"MSGS_HAVE","msg_ids":[1]}"#),
        Err(FrameError::Malformed { .. })
    ));
}

#[test]
fn encrypted_line_garbage_is_refused() {
    let c = SessionCipher::new([0; 32]);
    assert_eq!(c.open_line(b""), Err(SessionError::TooShort(0)));
    assert_eq!(c.open_line(b"!!!\n"), Err(SessionError::BadBase64));
    let line = c.seal_line(b"{}", [1; 12]);
    let mut bytes = line.into_bytes();
    bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
    assert_eq!(c.open_line(&bytes), Err(SessionError::Decrypt));
}

#[test]
fn channel_id_normalization_table() {
    let table: [(&str, Result<&str, IdError>); 12] = [
        ("general", Ok("general")),
        ("#General", Ok("general")),
        ("  #dev-ops  ", Ok("dev-ops")),
        ("team_2", Ok("team_2")),
        ("#", Err(IdError::EmptyChannel)),
        ("", Err(IdError::EmptyChannel)),
        ("__control", Err(IdError::ReservedChannel)),
        ("#__secret", Err(IdError::ReservedChannel)),
        ("with space", Err(IdError::BadChannelChar)),
        ("naïve", Err(IdError::BadChannelChar)),
        ("emoji🎉", Err(IdError::BadChannelChar)),
        (&"a".repeat(33), Err(IdError::ChannelTooLong)),
    ];
    for (input, want) in table {
        assert_eq!(
            normalize_channel_id(input),
            want.map(str::to_string),
            "{input:?}"
        );
    }
}
