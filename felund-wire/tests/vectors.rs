//! Every entry of the reference's vectors.json, reproduced.

mod common;

use common::{hex_array, int, message, s, secret, section};
use felund_wire::api_sign::{
    api_signing_key, canonical_string, sign_request, verify_request_signature,
};
use felund_wire::control::{parse_control, ChannelEvent, ChannelOp, ControlEvent};
use felund_wire::envelope::{message_key, open, seal, Envelope};
use felund_wire::handshake::{hello_auth_token, verify_hello_auth};
use felund_wire::ids::IdError;
use felund_wire::ids::{circle_hint, CONTROL_CHANNEL};
use felund_wire::invite::{encode_invite, parse_invite, InviteError};
use felund_wire::json::to_ascii_json_string;
use felund_wire::session::{session_key, SessionCipher};
use felund_wire::CircleSecret;
use serde_json::Value;

#[test]
fn circle_ids_hints_and_signing_keys() {
    let cases = section("circle_ids");
    assert_eq!(cases.len(), 3);
    for v in cases {
        let secret = secret(&v);
        assert_eq!(secret.circle_id(), s(&v, "circle_id"));
        assert_eq!(circle_hint(s(&v, "circle_id")), s(&v, "circle_hint"));
        assert_eq!(
            hex::encode(api_signing_key(&secret)),
            s(&v, "api_signing_key_hex")
        );
    }
}

#[test]
fn invite_encode_is_byte_identical() {
    let cases = section("invite_encode");
    assert_eq!(cases.len(), 5);
    for v in cases {
        assert_eq!(encode_invite(&secret(&v), s(&v, "peer")), s(&v, "code"));
        let parsed = parse_invite(s(&v, "code")).unwrap();
        assert_eq!(parsed.peer.as_code_peer(), s(&v, "peer"));
        assert_eq!(parsed.secret, secret(&v));
    }
}

#[test]
fn invite_parse_accepts_and_rejects_like_the_reference() {
    let cases = section("invite_parse");
    assert_eq!(cases.len(), 16);
    for v in cases {
        let name = s(&v, "name");
        let result = parse_invite(s(&v, "code"));
        if v["ok"].as_bool().unwrap() {
            let invite = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(invite.secret.to_hex(), s(&v, "secret_hex"), "{name}");
            assert_eq!(invite.peer.as_code_peer(), s(&v, "peer"), "{name}");
            assert_eq!(invite.circle_id(), invite.secret.circle_id(), "{name}");
        } else {
            let err = result.expect_err(name);
            let expected = match name {
                "wrong_prefix" | "no_prefix" | "empty" => InviteError::BadPrefix,
                "bad_base64" => InviteError::BadBase64,
                "not_json" => InviteError::NotJson,
                "wrong_version" => InviteError::UnsupportedVersion,
                "missing_secret" => InviteError::MissingSecret,
                "non_hex_secret" => InviteError::BadSecret(IdError::NonHexSecret),
                "peer_without_port" => InviteError::BadPeer("hostonly".into()),
                "peer_bad_port" => InviteError::BadPeer("host:notaport".into()),
                other => panic!("new rejected vector {other}: decide its error ({err})"),
            };
            assert_eq!(err, expected, "{name}");
        }
    }
}

#[test]
fn hello_auth_tokens() {
    let cases = section("hello_auth_tokens");
    assert_eq!(cases.len(), 4);
    for v in cases {
        let (node, circle, nonce) = (s(&v, "node_id"), s(&v, "circle_id"), s(&v, "server_nonce"));
        assert_eq!(s(&v, "payload"), format!("{node}|{circle}|{nonce}"));
        let token = hello_auth_token(&secret(&v), node, circle, nonce);
        assert_eq!(token, s(&v, "token"));
        assert!(verify_hello_auth(&secret(&v), node, circle, nonce, &token));
        assert!(!verify_hello_auth(&secret(&v), node, circle, "00", &token));
    }
}

#[test]
fn message_macs_verify_and_detect_tampering() {
    let cases = section("message_macs");
    assert_eq!(cases.len(), 4);
    for v in cases {
        let secret = secret(&v);
        let mut m = message(&v);
        assert_eq!(m.mac_payload(), s(&v, "mac_payload"));
        assert_eq!(m.compute_mac(&secret), s(&v, "mac"));
        m.mac = s(&v, "mac").to_string();
        assert!(m.verify_mac(&secret));

        let tampered = [
            {
                let mut t = m.clone();
                t.text.push('!');
                t
            },
            {
                let mut t = m.clone();
                t.display_name.push('x');
                t
            },
            {
                let mut t = m.clone();
                t.created_ts += 1;
                t
            },
            {
                let mut t = m.clone();
                t.channel_id = "other".into();
                t
            },
        ];
        for t in tampered {
            assert!(!t.verify_mac(&secret));
        }
        assert!(!m.verify_mac(&CircleSecret::from_bytes(vec![0; 32])));
    }
}

#[test]
fn control_event_text_in_message_macs_is_reproduced() {
    let v = &section("message_macs")[3];
    let m = message(v);
    assert_eq!(m.channel_id, CONTROL_CHANNEL);
    let Some(ControlEvent::Channel(evt)) = parse_control(&m.text) else {
        panic!("not a channel event: {}", m.text);
    };
    assert_eq!(evt.op, ChannelOp::Create);
    assert_eq!(evt.to_text(), m.text);
    // The same text, built from scratch (this vector carries no key_hash or created_by).
    let built = ChannelEvent {
        key_hash: None,
        created_by: None,
        ..ChannelEvent::create(
            "630dcd2966c4336691125448",
            "random",
            "a3f8b2c4d5e6f708192a3b4c",
            1_763_900_003,
            felund_wire::control::AccessMode::Public,
            None,
        )
    };
    assert_eq!(built.to_text(), m.text);
}

#[test]
fn message_keys() {
    let cases = section("message_key");
    assert_eq!(cases.len(), 3);
    for v in cases {
        assert_eq!(s(&v, "hkdf_info"), "felund-msg-v1");
        assert_eq!(hex::encode(message_key(&secret(&v))), s(&v, "key_hex"));
    }
}

fn envelope_of(v: &Value) -> Envelope {
    serde_json::from_value(v["enc"].clone()).unwrap()
}

#[test]
fn message_envelopes_are_reproduced_and_open() {
    let cases = section("message_envelopes");
    assert_eq!(cases.len(), 4);
    for v in cases {
        let secret = secret(&v);
        let m = message(&v);
        assert_eq!(m.aad(), s(&v, "aad"));
        let plaintext = serde_json::json!({"display_name": m.display_name, "text": m.text});
        #[derive(serde::Serialize)]
        struct Ordered<'a> {
            display_name: &'a str,
            text: &'a str,
        }
        let ours = to_ascii_json_string(&Ordered {
            display_name: &m.display_name,
            text: &m.text,
        })
        .unwrap();
        assert_eq!(ours, s(&v, "plaintext_json"));
        assert_eq!(
            serde_json::from_str::<Value>(s(&v, "plaintext_json")).unwrap(),
            plaintext
        );

        let nonce = hex_array::<12>(s(&v, "nonce_hex"));
        let sealed = seal(&secret, &m.aad(), &m.display_name, &m.text, nonce);
        let expected = envelope_of(&v);
        assert_eq!(sealed, expected);
        // The reference's key order: alg, key_id, nonce, ciphertext.
        assert_eq!(
            to_ascii_json_string(&sealed).unwrap(),
            format!(
                r#"{{"alg":"AES-256-GCM","key_id":"epoch-0","nonce":"{}","ciphertext":"{}"}}"#,
                expected.nonce, expected.ciphertext
            )
        );
        assert_eq!(
            open(&secret, &m.aad(), &expected).unwrap(),
            (m.display_name.clone(), m.text.clone())
        );

        let mut with_enc = m.clone();
        with_enc.enc = Some(expected);
        assert_eq!(
            with_enc.open_enc(&secret).unwrap(),
            (m.display_name.clone(), m.text.clone())
        );
    }
}

#[test]
fn tampered_envelope_fails() {
    let v = &section("message_envelope_tampered")[0];
    assert!(v["must_fail"].as_bool().unwrap());
    let m = message(v);
    assert!(open(&secret(v), &m.aad(), &envelope_of(v)).is_err());
}

#[test]
fn envelope_with_wrong_aad_fails() {
    let v = &section("message_envelope_wrong_aad")[0];
    assert!(v["must_fail"].as_bool().unwrap());
    let m = message(v);
    assert!(open(&secret(v), &m.aad(), &envelope_of(v)).is_err());
}

#[test]
fn session_keys() {
    let cases = section("session_keys");
    assert_eq!(cases.len(), 2);
    for v in cases {
        assert_eq!(s(&v, "hkdf_info"), "felund-session-v1");
        let client = hex_array::<16>(s(&v, "client_nonce"));
        let server = hex_array::<16>(s(&v, "server_nonce"));
        assert_eq!(
            format!("{}{}", s(&v, "client_nonce"), s(&v, "server_nonce")),
            s(&v, "hkdf_salt_hex")
        );
        assert_eq!(
            hex::encode(session_key(&secret(&v), &client, &server)),
            s(&v, "key_hex")
        );
    }
}

#[test]
fn session_frames_are_reproduced_and_open() {
    let cases = section("session_frames");
    assert_eq!(cases.len(), 3);
    for v in cases {
        let cipher = SessionCipher::new(hex_array::<32>(s(&v, "session_key_hex")));
        let nonce = hex_array::<12>(s(&v, "nonce_hex"));
        let plaintext = s(&v, "plaintext");
        let line = cipher.seal_line(plaintext.as_bytes(), nonce);
        assert_eq!(line, s(&v, "wire_line"));
        assert_eq!(
            cipher.open_line(s(&v, "wire_line").as_bytes()).unwrap(),
            plaintext.as_bytes()
        );
        // The plaintext is itself a frame we decode and re-encode identically.
        let frame = felund_wire::frame::decode_frame(plaintext.as_bytes()).unwrap();
        assert_eq!(felund_wire::frame::encode_frame(&frame), plaintext);
    }
}

#[test]
fn api_signatures() {
    let cases = section("api_signatures");
    assert_eq!(cases.len(), 4);
    for v in cases {
        let key = api_signing_key(&secret(&v));
        let (method, path, body) = (s(&v, "method"), s(&v, "path"), s(&v, "body").as_bytes());
        let (ts, nonce) = (int(&v, "ts"), s(&v, "nonce"));
        assert_eq!(
            canonical_string(method, path, body, ts, nonce),
            s(&v, "canonical")
        );
        let sig = sign_request(&key, method, path, body, ts, nonce);
        assert_eq!(sig, s(&v, "signature"));
        assert!(verify_request_signature(
            &key, method, path, body, ts, nonce, &sig
        ));
        assert!(!verify_request_signature(
            &key,
            method,
            path,
            body,
            ts + 1,
            nonce,
            &sig
        ));
        assert_eq!(
            canonical_string(&method.to_lowercase(), path, body, ts, nonce),
            s(&v, "canonical")
        );
    }
}
