//! Both machines against each other, and each against what an attacker can send it.

use super::*;
use crate::frame::Hello;

const CLIENT_NONCE: [u8; 16] = [0xaa; 16];
const SERVER_NONCE: [u8; 16] = [0xbb; 16];

fn secret() -> CircleSecret {
    CircleSecret::from_bytes((0u8..32).collect())
}

fn node(id: &str, ext: bool) -> LocalNode {
    LocalNode {
        node_id: id.into(),
        listen_addr: "127.0.0.1:9101".into(),
        can_anchor: false,
        announce_ext: ext,
    }
}

/// Runs a whole handshake between two fresh machines.
fn run(a_ext: bool, b_ext: bool) -> (Established, Established) {
    let (init, hello) = Initiator::start(node("alice", a_ext), secret(), CLIENT_NONCE);
    let got = Responder::new(node("bob", b_ext), SERVER_NONCE)
        .on_hello(hello)
        .expect("hello");
    let (awaiting, challenge) = got.challenge(Some(secret())).expect("challenge");
    let (init, auth) = init.on_challenge(challenge).expect("challenge accepted");
    let (welcome, bob) = awaiting.on_hello_auth(auth).expect("auth");
    let alice = init.on_welcome(welcome).expect("welcome");
    (alice, bob)
}

fn sealed_round_trip(a: &Established, b: &Established) {
    let line = a.cipher().seal_line(b"{\"t\":\"X_PING\"}", [7; 12]);
    let plain = b.cipher().open_line(line.trim_end().as_bytes());
    assert_eq!(plain.as_deref(), Ok(&b"{\"t\":\"X_PING\"}"[..]));
}

#[test]
fn two_felundd_nodes_agree_on_key_peer_ids_and_prove_the_transcript() {
    let (alice, bob) = run(true, true);
    assert_eq!(alice.peer_node_id, "bob");
    assert_eq!(bob.peer_node_id, "alice");
    assert_eq!(bob.peer_listen_port, Some(9101));
    assert!(alice.ext && bob.ext);
    sealed_round_trip(&alice, &bob);
    let (pa, pb) = (
        alice.proof_frame().expect("p"),
        bob.proof_frame().expect("p"),
    );
    assert_ne!(pa, pb, "each role proves differently");
    bob.check_proof(pa.clone()).expect("alice's proof");
    alice.check_proof(pb).expect("bob's proof");
    assert_eq!(
        alice.check_proof(pa),
        Err(HandshakeError::BadProof),
        "reflected"
    );
}

#[test]
fn a_reference_peer_gets_the_plain_reference_handshake_without_proofs() {
    for (a, b) in [(true, false), (false, true)] {
        let (alice, bob) = run(a, b);
        assert!(!alice.ext && !bob.ext);
        assert!(alice.proof_frame().is_none());
        sealed_round_trip(&alice, &bob);
    }
}

#[test]
fn initiator_refuses_a_responder_that_declines_encryption() {
    let (init, _) = Initiator::start(node("alice", true), secret(), CLIENT_NONCE);
    let (init, _) = init
        .on_challenge(Frame::Challenge {
            nonce: hex::encode(SERVER_NONCE),
        })
        .expect("challenge");
    let plain = Frame::Welcome(crate::frame::Welcome {
        node_id: "mallory".into(),
        enc_ready: false,
        can_anchor: false,
        extensions: Default::default(),
    });
    assert_eq!(
        init.on_welcome(plain).err(),
        Some(HandshakeError::PlaintextDeclined)
    );
}

fn hello_without_nonce() -> Frame {
    Frame::Hello(Hello {
        node_id: "mallory".into(),
        circle_id: secret().circle_id(),
        listen_addr: None,
        nonce: None,
        can_anchor: None,
        extensions: Default::default(),
    })
}

#[test]
fn responder_refuses_a_hello_without_a_nonce_before_any_challenge() {
    let err = Responder::new(node("bob", true), SERVER_NONCE)
        .on_hello(hello_without_nonce())
        .expect_err("refused");
    assert_eq!(err, HandshakeError::EncryptionRequired);
    assert_eq!(err.reply(), Some("Encryption required"));
}

#[test]
fn responder_refuses_bad_nonces_node_ids_and_unknown_circles() {
    let with = |f: fn(&mut Hello)| {
        let Frame::Hello(mut h) = hello_without_nonce() else {
            unreachable!()
        };
        h.nonce = Some(hex::encode(CLIENT_NONCE));
        f(&mut h);
        Responder::new(node("bob", true), SERVER_NONCE).on_hello(Frame::Hello(h))
    };
    assert_eq!(
        with(|h| h.nonce = Some("0011".into())).err(),
        Some(HandshakeError::BadNonce)
    );
    assert_eq!(
        with(|h| h.node_id.clear()).err(),
        Some(HandshakeError::BadNodeId)
    );
    assert_eq!(
        with(|h| h.node_id = "n".repeat(crate::limits::MAX_ID_BYTES + 1)).err(),
        Some(HandshakeError::BadNodeId)
    );
    let got = with(|_| {}).expect("valid");
    assert_eq!(
        got.challenge(None).err(),
        Some(HandshakeError::UnknownCircle)
    );
    let other = CircleSecret::from_bytes(vec![9; 32]);
    let got = with(|_| {}).expect("valid");
    assert_eq!(
        got.challenge(Some(other)).err(),
        Some(HandshakeError::UnknownCircle),
        "a secret for another circle is not this circle's"
    );
}

#[test]
fn responder_refuses_a_wrong_token_and_frames_out_of_order() {
    let (_, hello) = Initiator::start(node("alice", true), secret(), CLIENT_NONCE);
    let got = Responder::new(node("bob", true), SERVER_NONCE)
        .on_hello(hello.clone())
        .expect("hello");
    let (awaiting, _) = got.challenge(Some(secret())).expect("challenge");
    let forged = Frame::HelloAuth {
        token: "00".repeat(32),
    };
    assert_eq!(
        awaiting.on_hello_auth(forged).err(),
        Some(HandshakeError::AuthFailed)
    );
    let err = Responder::new(node("bob", true), SERVER_NONCE)
        .on_hello(Frame::XPing {})
        .expect_err("not HELLO");
    assert_eq!(err.reply(), Some("Expected HELLO"));
    let got = Responder::new(node("bob", true), SERVER_NONCE)
        .on_hello(hello)
        .expect("hello");
    let (awaiting, _) = got.challenge(Some(secret())).expect("challenge");
    let err = awaiting
        .on_hello_auth(Frame::XPing {})
        .expect_err("not auth");
    assert_eq!(err.reply(), Some("Expected HELLO_AUTH"));
}

#[test]
fn both_sides_refuse_to_talk_to_themselves() {
    let (init, hello) = Initiator::start(node("same", true), secret(), CLIENT_NONCE);
    let got = Responder::new(node("same", true), SERVER_NONCE)
        .on_hello(hello)
        .expect("hello");
    let (awaiting, challenge) = got.challenge(Some(secret())).expect("challenge");
    let (init, auth) = init.on_challenge(challenge).expect("challenge");
    assert_eq!(
        awaiting.on_hello_auth(auth).err(),
        Some(HandshakeError::SelfConnection)
    );
    let welcome = Frame::Welcome(crate::frame::Welcome {
        node_id: "same".into(),
        enc_ready: true,
        can_anchor: false,
        extensions: Default::default(),
    });
    assert_eq!(
        init.on_welcome(welcome).err(),
        Some(HandshakeError::SelfConnection)
    );
}

#[test]
fn an_error_frame_ends_the_initiator_with_the_peer_s_words() {
    let (init, _) = Initiator::start(node("alice", true), secret(), CLIENT_NONCE);
    assert_eq!(
        init.on_challenge(Frame::Error {
            err: "Unknown circle_id".into()
        })
        .err(),
        Some(HandshakeError::Refused("Unknown circle_id".into()))
    );
}

/// Mallory sits between alice (who dialled her) and bob, forwarding alice's HELLO to bob
/// with the nonce changed, bob's CHALLENGE to alice and alice's token back to bob. Bob's
/// HELLO_AUTH check passes (the token covers neither the client nonce nor the responder),
/// but the two sides derive different session keys and neither transcript proof verifies,
/// so nothing alice or bob sends can be read by mallory or accepted by the other.
#[test]
fn a_relayed_hello_auth_with_an_altered_nonce_gets_nothing() {
    let (init, hello) = Initiator::start(node("alice", true), secret(), CLIENT_NONCE);
    let Frame::Hello(mut relayed) = hello else {
        unreachable!()
    };
    relayed.nonce = Some(hex::encode([0x11; 16]));
    let got = Responder::new(node("bob", true), SERVER_NONCE)
        .on_hello(Frame::Hello(relayed))
        .expect("hello");
    let (awaiting, challenge) = got.challenge(Some(secret())).expect("challenge");
    let (init, auth) = init.on_challenge(challenge).expect("challenge");
    let (welcome, bob) = awaiting.on_hello_auth(auth).expect("token alone verifies");
    let alice = init.on_welcome(welcome).expect("welcome");
    let line = alice.cipher().seal_line(b"{}", [1; 12]);
    assert!(bob.cipher().open_line(line.trim_end().as_bytes()).is_err());
    let alice_proof = alice.proof_frame().expect("ext");
    assert_eq!(bob.check_proof(alice_proof), Err(HandshakeError::BadProof));
    let bob_proof = bob.proof_frame().expect("ext");
    assert_eq!(alice.check_proof(bob_proof), Err(HandshakeError::BadProof));
}

#[test]
fn established_debug_hides_the_key() {
    let (alice, _) = run(true, true);
    let shown = format!("{alice:?}");
    assert!(!shown.contains(&hex::encode(alice.key)), "{shown}");
    assert!(!shown.contains(&secret().to_hex()), "{shown}");
}
