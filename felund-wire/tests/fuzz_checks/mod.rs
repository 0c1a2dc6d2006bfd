//! The per-target checks of the `cargo fuzz` targets in `fuzz/`, shared with the corpus replay
//! test `tests/fuzz_corpus.rs`: a fuzz target is `checks::<target>(data)` and the replay test
//! runs every file of `tests/fuzz_corpus/<target>/` through the same function, so a crash found
//! by the fuzzer and saved to the corpus fails the normal test suite until it is fixed.
//!
//! Each check must never panic on any input; every `assert!` here states a property of the
//! code under test (a round trip, an authentication rule), not of the input.
//!
//! The fuzz crate includes this file with `#[path = ...]`, so it may only use crates that are
//! dependencies of both `felund-wire` and `fuzz/` (`felund_wire`, `serde_json`, `base64`,
//! `hex`). The `sync` target's check is in `sync.rs`.

// Each fuzz target uses one check; the others are dead code there.
#![allow(dead_code)]

pub mod sync;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use felund_wire::control::{effects, parse_control};
use felund_wire::envelope::{self, Envelope, EnvelopeError};
use felund_wire::ext::peer_ext_version;
use felund_wire::frame::{decode_frame, encode_frame, encode_frame_line, parse_host_port};
use felund_wire::handshake::{
    hello_auth_token, parse_nonce16, transcript_proof, verify_hello_auth, Established,
    HandshakeError, Initiator, LocalNode, Responder, Role, Transcript,
};
use felund_wire::invite::{encode_invite, parse_invite, INVITE_PREFIX};
use felund_wire::session::{session_key, SessionCipher};
use felund_wire::{CircleSecret, ControlEvent, Frame, WireMessage};
use serde_json::Value;

/// The fuzz targets, by name (also the corpus directory names).
pub const TARGETS: [&str; 6] = [
    "frame_decode",
    "session_line",
    "invite_parse",
    "message_decode",
    "handshake",
    "sync",
];

/// Runs the check of `target` on `data`; `false` for an unknown target name.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "frame_decode" => frame_decode(data),
        "session_line" => session_line(data),
        "invite_parse" => invite_parse(data),
        "message_decode" => message_decode(data),
        "handshake" => handshake(data),
        "sync" => sync::sync(data),
        _ => return false,
    }
    true
}

/// The circle secret every check uses: bytes 0..32.
pub fn secret() -> CircleSecret {
    CircleSecret::from_bytes((0u8..32).collect())
}

/// A different secret, which must never authenticate what [`secret`] made.
pub fn other_secret() -> CircleSecret {
    CircleSecret::from_bytes(vec![0xee; 32])
}

/// The session key of [`session_line`].
pub const SESSION_KEY: [u8; 32] = [7; 32];

/// The server nonce the simulated responder of [`handshake`] sends in its CHALLENGE.
pub const SERVER_NONCE_HEX: &str = "00112233445566778899aabbccddeeff";

/// The client nonce the simulated initiator of [`handshake`] sends in its HELLO.
pub const CLIENT_NONCE_HEX: &str = "ffeeddccbbaa99887766554433221100";

/// Our node id in [`handshake`].
pub const OUR_NODE_ID: &str = "0123456789abcdef01234567";

/// A HELLO_AUTH token of exactly this text is replaced by the correct token in [`handshake`],
/// standing in for an honest initiator so that the fuzzer reaches the established session.
pub const AUTO_TOKEN: &str = "AUTO";

/// 12 nonce bytes taken from the input (zero-padded).
fn nonce12(data: &[u8]) -> [u8; 12] {
    let mut n = [0u8; 12];
    for (d, s) in n.iter_mut().zip(data) {
        *d = *s;
    }
    n
}

// ---------------------------------------------------------------------------------------------
// frame_decode

/// Any line: `decode_frame` never panics; a decoded frame re-encodes to one ASCII line that
/// decodes to the same frame. The parts a node then reads out of frames (nonces, addresses,
/// embedded messages and envelopes) are checked as the node would.
pub fn frame_decode(data: &[u8]) {
    if let Ok(frame) = decode_frame(data) {
        check_frame(&frame);
    }
}

fn check_frame(frame: &Frame) {
    let encoded = encode_frame(frame);
    assert!(
        encoded.is_ascii(),
        "encoded frame is not ASCII: {encoded:?}"
    );
    assert!(!encoded.contains('\n'), "encoded frame spans lines");
    let again = decode_frame(encoded.as_bytes()).expect("an encoded frame decodes");
    assert_eq!(again.type_name(), frame.type_name());
    let (a, b) = (frame_value(&again), frame_value(frame));
    assert!(json_close(&a, &b), "frame changed through {encoded}: {a}");
    let line = encode_frame_line(frame);
    assert_eq!(line.strip_suffix('\n'), Some(encoded.as_str()));
    let value: Value = serde_json::from_str(&encoded).expect("encoded frame is JSON");
    assert_eq!(
        value.get("t").and_then(Value::as_str),
        Some(frame.type_name())
    );

    let s = secret();
    match frame {
        Frame::Hello(h) => {
            if let Some(n) = &h.nonce {
                check_nonce(n);
            }
            if let Some(a) = &h.listen_addr {
                check_host_port(a);
            }
            let _ = peer_ext_version(&h.extensions);
        }
        Frame::Challenge { nonce } => check_nonce(nonce),
        Frame::Welcome(w) => {
            let _ = peer_ext_version(&w.extensions);
        }
        Frame::Peers { peers, .. } => {
            for p in peers {
                assert!(!p.node_id.is_empty(), "PEERS kept an entry without node_id");
                assert!(
                    parse_host_port(&p.addr).is_some(),
                    "PEERS kept a bad addr {:?}",
                    p.addr
                );
            }
        }
        Frame::MsgsSend { messages, .. }
        | Frame::XSend { messages, .. }
        | Frame::XPush { messages } => {
            for m in messages.iter().take(8) {
                message_value(m, &s);
            }
        }
        Frame::AnchorPush { envelopes, .. } | Frame::AnchorMsgs { envelopes, .. } => {
            for e in envelopes.iter().take(8) {
                relay_value(e, &s);
            }
        }
        _ => {}
    }
}

/// A frame as JSON, for comparing frames with [`json_close`].
fn frame_value(frame: &Frame) -> Value {
    serde_json::to_value(frame).expect("frames serialise")
}

/// Largest distance, in units in the last place, between a float and the same float after
/// one trip through JSON text. The shortest decimal that `serde_json` writes for an `f64` can
/// parse back to a neighbouring `f64`: without its `float_roundtrip` feature (which this
/// workspace does not enable) `serde_json`'s float parser is not correctly rounded. Floats
/// never reach an authenticated or stored field (those are integers or strings), so frames are
/// compared with this tolerance on floats and exactly on everything else.
pub const FLOAT_ULPS: u64 = 4;

/// Structural equality of JSON values, with [`FLOAT_ULPS`] of tolerance between floats.
pub fn json_close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() && y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => ulps(x, y) <= FLOAT_ULPS,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

/// Distance between two finite floats in units in the last place (`u64::MAX` across signs).
fn ulps(x: f64, y: f64) -> u64 {
    if x == y {
        return 0;
    }
    if x.is_sign_negative() != y.is_sign_negative() {
        return u64::MAX;
    }
    x.to_bits().abs_diff(y.to_bits())
}

/// A HELLO/CHALLENGE nonce either is 32 hex digits, decoding to bytes that encode back to it
/// (lowercased), or is refused.
fn check_nonce(n: &str) {
    match parse_nonce16(n) {
        Some(bytes) => {
            assert_eq!(n.len(), 32);
            assert_eq!(hex::encode(bytes), n.to_ascii_lowercase());
        }
        None => assert!(n.len() != 32 || !n.bytes().all(|b| b.is_ascii_hexdigit())),
    }
}

/// An accepted `host:port` has a non-empty host and a port in 1..=65535, and re-joins to an
/// address that parses to the same pair.
fn check_host_port(a: &str) {
    if let Some((host, port)) = parse_host_port(a) {
        assert!(!host.is_empty() && port != 0, "{a:?} gave {host:?}:{port}");
        assert_eq!(
            parse_host_port(&format!("{host}:{port}")),
            Some((host, port))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// session_line

/// Any bytes as a received session line: `open_line` fails cleanly (a forged line cannot
/// authenticate). The same bytes as a plaintext: sealing gives one base64 line that opens to
/// them (also with `\r\n`), never under another key, and never after a bit flip.
pub fn session_line(data: &[u8]) {
    let cipher = SessionCipher::new(SESSION_KEY);
    if let Ok(plain) = cipher.open_line(data) {
        // Only the corpus's genuinely sealed lines get here: what comes out must be handled
        // like any frame.
        frame_decode(&plain);
    }

    let nonce = nonce12(data);
    let line = cipher.seal_line(data, nonce);
    assert!(line.is_ascii() && line.ends_with('\n'));
    assert_eq!(line.matches('\n').count(), 1, "sealed line spans lines");
    assert_eq!(cipher.open_line(line.as_bytes()).as_deref(), Ok(data));
    let crlf = format!("{}\r\n", line.trim_end());
    assert_eq!(cipher.open_line(crlf.as_bytes()).as_deref(), Ok(data));
    assert!(SessionCipher::new([8; 32])
        .open_line(line.as_bytes())
        .is_err());

    let mut raw = STANDARD
        .decode(line.trim_end())
        .expect("sealed line is base64");
    assert_eq!(raw.len(), 12 + data.len() + 16);
    let bit = data.first().copied().unwrap_or(0) as usize;
    let idx = (bit * 31 + data.len()) % raw.len();
    raw[idx] ^= 1 << (bit % 8);
    assert!(
        cipher.open_line(STANDARD.encode(&raw).as_bytes()).is_err(),
        "a line with byte {idx} flipped still opens"
    );
}

// ---------------------------------------------------------------------------------------------
// invite_parse

/// Any text as an invite code, and the raw bytes as an invite payload (`felund1.` + b64url of
/// them): parsing never panics, and an accepted invite re-encodes to a code that parses to the
/// same secret and peer.
pub fn invite_parse(data: &[u8]) {
    check_invite(&String::from_utf8_lossy(data));
    check_invite(&format!("{INVITE_PREFIX}{}", URL_SAFE_NO_PAD.encode(data)));
}

fn check_invite(code: &str) {
    let Ok(invite) = parse_invite(code) else {
        return;
    };
    let again = encode_invite(&invite.secret, &invite.peer.as_code_peer());
    assert!(again.is_ascii() && again.starts_with(INVITE_PREFIX));
    assert_eq!(again, invite.encode());
    let back = parse_invite(&again).expect("a re-encoded invite parses");
    assert_eq!(back.secret, invite.secret);
    assert_eq!(back.peer, invite.peer);
    assert_eq!(back.circle_id(), invite.circle_id());
}

// ---------------------------------------------------------------------------------------------
// message_decode

/// Any bytes: as control-event text (`parse_control` + `effects`); as JSON, a message read the
/// gossip way and the relay way, an envelope built from its fields, and (for arrays) each
/// element. Accepted messages round-trip through `to_value`; whatever authenticates under the
/// fixed secret carries a valid MAC afterwards and nothing authenticates under another secret.
/// Sealing the object's `display_name`/`text` always opens to the same strings.
pub fn message_decode(data: &[u8]) {
    let s = secret();
    check_control(&String::from_utf8_lossy(data));
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    message_value(&v, &s);
    relay_value(&v, &s);
    envelope_fields(&v, &s, data);
    if let Value::Array(items) = &v {
        for item in items.iter().take(8) {
            message_value(item, &s);
            relay_value(item, &s);
            envelope_fields(item, &s, data);
        }
    }
}

/// A gossip message object (MSGS_SEND, X_SEND, X_PUSH).
fn message_value(v: &Value, s: &CircleSecret) {
    if let Some(text) = v.get("text").and_then(Value::as_str) {
        check_control(text);
    }
    let Ok(msg) = WireMessage::from_value(v) else {
        return;
    };
    let back = WireMessage::from_value(&msg.to_value()).expect("an accepted message re-reads");
    assert_eq!(back, msg);
    let _ = msg.encoded_len_ascii();

    let mut authed = msg.clone();
    if authed.verify_gossip(s).is_ok() {
        assert!(authed.verify_mac(s), "verified message has a bad MAC");
        if let Some(relay) = authed.to_relay_envelope() {
            let pulled = WireMessage::verify_relay(&relay, s).expect("own relay envelope verifies");
            assert_eq!(pulled.text, authed.text);
            assert_eq!(pulled.display_name, authed.display_name);
        }
        let resealed = authed.seal_relay_envelope(s, [3; 12]).to_value();
        let pulled = WireMessage::verify_relay(&resealed, s).expect("resealed envelope verifies");
        assert_eq!(pulled.text, authed.text);
        assert!(msg.clone().verify_gossip(&other_secret()).is_err());
    }
    if let Some(relay) = msg.to_relay_envelope() {
        relay_value(&relay, s);
    }
}

/// A relay or anchor object (ANCHOR_MSGS, GET /v1/messages).
fn relay_value(v: &Value, s: &CircleSecret) {
    if let Ok(msg) = WireMessage::verify_relay(v, s) {
        assert!(msg.verify_mac(s), "relay-verified message has a bad MAC");
        assert_eq!(msg.schema_version, if msg.enc.is_some() { 2 } else { 1 });
        assert!(WireMessage::verify_relay(v, &other_secret()).is_err());
    }
}

/// `envelope::open` on whatever the object's fields say (non-strings as their JSON text),
/// `open` of its `enc` with its own associated data, and seal→open of its strings.
fn envelope_fields(v: &Value, s: &CircleSecret, data: &[u8]) {
    let Some(obj) = v.as_object() else {
        return;
    };
    let field = |k: &str| match obj.get(k) {
        None => String::new(),
        Some(Value::String(x)) => x.clone(),
        Some(other) => other.to_string(),
    };
    let env = Envelope {
        alg: field("alg"),
        key_id: field("key_id"),
        nonce: field("nonce"),
        ciphertext: field("ciphertext"),
    };
    let aad = field("aad");
    let _ = envelope::open(s, &aad, &env);
    if let Some(enc) = obj.get("enc") {
        if let Ok(env) = serde_json::from_value::<Envelope>(enc.clone()) {
            let _ = envelope::open(s, &aad, &env);
        }
    }

    let (name, text) = (field("display_name"), field("text"));
    let sealed = envelope::seal(s, &aad, &name, &text, nonce12(data));
    assert_eq!(envelope::open(s, &aad, &sealed), Ok((name, text)));
    assert_eq!(
        envelope::open(s, &format!("{aad}|"), &sealed),
        Err(EnvelopeError::Decrypt)
    );
    assert_eq!(
        envelope::open(&other_secret(), &aad, &sealed),
        Err(EnvelopeError::Decrypt)
    );
}

/// A `__control` text: a recognised event plans its effects, and writes a text that parses
/// back to the same event with the same effects.
fn check_control(text: &str) {
    let Some(evt) = parse_control(text) else {
        return;
    };
    let planned = effects(&evt);
    let written = evt.to_text();
    assert!(written.is_ascii());
    let back = parse_control(&written).expect("a written control event parses");
    match (&back, &evt) {
        // A call event keeps its whole object, floats included: see [`json_close`].
        (ControlEvent::Call(x), ControlEvent::Call(y)) => {
            assert_eq!((&x.op, &x.session_id), (&y.op, &y.session_id));
            let (x, y) = (Value::Object(x.raw.clone()), Value::Object(y.raw.clone()));
            assert!(json_close(&x, &y), "call event changed through {written}");
        }
        _ => assert_eq!(back, evt, "control event changed through {written}"),
    }
    assert_eq!(effects(&back), planned);
}

// ---------------------------------------------------------------------------------------------
// handshake

/// The gossip handshake machines of `felund_wire::handshake` (the code felundd runs), driven
/// by the lines a peer sends (split at `\n`). A first line `I` makes us the initiator (we sent
/// HELLO with [`CLIENT_NONCE_HEX`]; the peer's lines are CHALLENGE, WELCOME, ...), anything
/// else the responder (we know one circle, that of [`secret`]; the peer's lines are HELLO,
/// HELLO_AUTH, ...). Every refusal ends the run, as it ends the connection. When both sides
/// speak the felundd extensions the next line is the peer's `X_PROOF` (plain JSON here; a
/// proof of exactly [`AUTO_TOKEN`] stands for the correct one). The remaining lines are
/// session frames: opened as encrypted lines, and also sealed and opened under the
/// negotiated key, then decoded like [`frame_decode`].
///
/// Asserts, besides never panicking: the responder accepts exactly the correct token; the
/// initiator's token verifies on the responder's side; no session is ever established
/// without encryption; the session key is the one both sides derive and another secret
/// derives another; a proof is accepted exactly when it is the peer's correct one; every
/// responder refusal has an ERROR text.
pub fn handshake(data: &[u8]) {
    handshake_established(data);
}

/// [`handshake`], telling whether the session got established (for checking that the corpus
/// reaches the session frames).
pub fn handshake_established(data: &[u8]) -> bool {
    let mut lines = data.split(|&b| b == b'\n');
    let initiator = lines.next() == Some(b"I".as_slice());
    let steps = if initiator {
        initiator_steps(&mut lines)
    } else {
        responder_steps(&mut lines)
    };
    let Some((est, nonces)) = steps else {
        return false;
    };
    let cipher = keyed(&est, &nonces);
    if est.ext && !proof_step(&est, &nonces, lines.next()) {
        return false;
    }
    for line in lines.take(16) {
        if let Ok(plain) = cipher.open_line(line) {
            frame_decode(&plain);
        }
        let sealed = cipher.seal_line(line, nonce12(line));
        let plain = cipher
            .open_line(sealed.as_bytes())
            .expect("own sealed line opens");
        assert_eq!(plain, line);
        frame_decode(&plain);
    }
    true
}

/// Client and server nonce of an established handshake.
type Nonces = ([u8; 16], [u8; 16]);

fn local_node() -> LocalNode {
    LocalNode {
        node_id: OUR_NODE_ID.to_string(),
        listen_addr: "127.0.0.1:9999".to_string(),
        can_anchor: false,
        announce_ext: true,
    }
}

/// A refusal: the responder always has an ERROR text for it.
fn refused(e: HandshakeError, responder: bool) -> Option<(Established, Nonces)> {
    if responder && e != HandshakeError::SelfConnection {
        assert!(e.reply().is_some(), "no ERROR text for {e:?}");
    }
    None
}

fn responder_steps<'a>(
    lines: &mut impl Iterator<Item = &'a [u8]>,
) -> Option<(Established, Nonces)> {
    let s = secret();
    let server_nonce = parse_nonce16(SERVER_NONCE_HEX).expect("fixed nonce");
    let hello = match decode_frame(lines.next()?) {
        Ok(f) => f,
        Err(_) => return None, // "Expected HELLO"
    };
    check_frame(&hello);
    if let Frame::Hello(h) = &hello {
        if let Some(n) = &h.nonce {
            check_nonce(n);
        }
        if let Some(addr) = &h.listen_addr {
            check_host_port(addr);
        }
        let _ = peer_ext_version(&h.extensions);
    }
    let got = match Responder::new(local_node(), server_nonce).on_hello(hello) {
        Ok(g) => g,
        Err(e) => return refused(e, true),
    };
    let node_id = got.hello().node_id.clone();
    let client_nonce = parse_nonce16(got.hello().nonce.as_deref().expect("checked"))
        .expect("a HELLO is accepted only with a valid nonce");
    let known = (got.hello().circle_id == s.circle_id()).then(secret);
    let (awaiting, challenge) = match got.challenge(known) {
        Ok(x) => x,
        Err(e) => return refused(e, true),
    };
    assert_eq!(
        challenge,
        Frame::Challenge {
            nonce: SERVER_NONCE_HEX.to_string()
        }
    );
    let expected = hello_auth_token(&s, &node_id, &s.circle_id(), SERVER_NONCE_HEX);
    let auth = match decode_frame(lines.next()?) {
        Ok(Frame::HelloAuth { token }) if token == AUTO_TOKEN => Frame::HelloAuth {
            token: expected.clone(),
        },
        Ok(f) => f,
        Err(_) => return None, // "Expected HELLO_AUTH"
    };
    let honest = auth == Frame::HelloAuth { token: expected };
    match awaiting.on_hello_auth(auth) {
        Ok((welcome, est)) => {
            assert!(honest, "a wrong token was accepted");
            check_frame(&welcome);
            assert!(matches!(welcome, Frame::Welcome(ref w) if w.enc_ready));
            Some((est, (client_nonce, server_nonce)))
        }
        Err(e) => {
            assert!(
                !honest || (e == HandshakeError::SelfConnection && node_id == OUR_NODE_ID),
                "the correct token was refused: {e:?}"
            );
            refused(e, true)
        }
    }
}

fn initiator_steps<'a>(
    lines: &mut impl Iterator<Item = &'a [u8]>,
) -> Option<(Established, Nonces)> {
    let s = secret();
    let client_nonce = parse_nonce16(CLIENT_NONCE_HEX).expect("fixed nonce");
    let (init, hello) = Initiator::start(local_node(), secret(), client_nonce);
    check_frame(&hello);
    let challenge = decode_frame(lines.next()?).ok()?;
    let server_nonce_hex = match &challenge {
        Frame::Challenge { nonce } => {
            check_nonce(nonce);
            nonce.clone()
        }
        _ => String::new(),
    };
    let (init, auth) = init.on_challenge(challenge).ok()?;
    let Frame::HelloAuth { token } = &auth else {
        panic!("the initiator answers a CHALLENGE with HELLO_AUTH, not {auth:?}")
    };
    assert!(
        verify_hello_auth(&s, OUR_NODE_ID, &s.circle_id(), &server_nonce_hex, token),
        "our token does not verify on the responder's side"
    );
    check_frame(&auth);
    let welcome = decode_frame(lines.next()?).ok()?;
    check_frame(&welcome);
    let plain = matches!(&welcome, Frame::Welcome(w) if !w.enc_ready);
    let est = init.on_welcome(welcome).ok()?;
    assert!(!plain, "a session was established without encryption");
    let server_nonce = parse_nonce16(&server_nonce_hex).expect("accepted, so valid");
    Some((est, (client_nonce, server_nonce)))
}

/// The peer's `X_PROOF` line: accepted exactly when it is the correct proof.
fn proof_step(est: &Established, nonces: &Nonces, line: Option<&[u8]>) -> bool {
    let Some(line) = line else { return false };
    let Ok(frame) = decode_frame(line) else {
        return false;
    };
    let (initiator_id, responder_id, peer_role) = match est.role {
        Role::Initiator => (
            OUR_NODE_ID.to_string(),
            est.peer_node_id.clone(),
            Role::Responder,
        ),
        Role::Responder => (
            est.peer_node_id.clone(),
            OUR_NODE_ID.to_string(),
            Role::Initiator,
        ),
    };
    let transcript = Transcript {
        circle_id: secret().circle_id(),
        initiator_id,
        responder_id,
        client_nonce_hex: hex::encode(nonces.0),
        server_nonce_hex: hex::encode(nonces.1),
    };
    let correct = transcript_proof(&secret(), peer_role, &transcript);
    let frame = match frame {
        Frame::XProof { proof } if proof == AUTO_TOKEN => Frame::XProof {
            proof: correct.clone(),
        },
        f => f,
    };
    let honest = frame == Frame::XProof { proof: correct };
    let accepted = est.check_proof(frame).is_ok();
    assert_eq!(
        accepted, honest,
        "proof check disagrees with the correct proof"
    );
    accepted
}

/// The session cipher of `est`; checks that it is the key both sides derive from the
/// secret and both nonces, and that another secret or swapped nonces derive another.
fn keyed(est: &Established, (client, server): &Nonces) -> SessionCipher {
    let s = secret();
    let cipher = est.cipher();
    let probe = cipher.seal_line(b"{\"t\":\"X_PING\"}", [1; 12]);
    let opens = |key: [u8; 32]| SessionCipher::new(key).open_line(probe.as_bytes()).is_ok();
    assert!(opens(session_key(&s, client, server)));
    assert!(!opens(session_key(&other_secret(), client, server)));
    if client != server {
        assert!(!opens(session_key(&s, server, client)));
    }
    cipher
}
