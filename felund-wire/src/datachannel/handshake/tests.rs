use super::*;

const A_NONCE: &str = "00112233445566778899aabbccddeeff";
const B_NONCE: &str = "ffeeddccbbaa99887766554433221100";

fn secret(first: u8) -> CircleSecret {
    CircleSecret::from_bytes((first..first + 32).collect())
}

#[test]
fn auth_matches_the_protocol_vector() {
    let s = secret(0);
    assert_eq!(s.circle_id(), "630dcd2966c4336691125448");
    assert_eq!(circle_hint(&s.circle_id()), "e03c84dccc271635");
    assert_eq!(
        dc_auth(&s, A_NONCE, B_NONCE),
        "814ea7bb9122a3f176efc50d87e7d78d9cf8eaaddabd914748e82a48c0b435e3"
    );
    assert_eq!(
        dc_auth(&s, B_NONCE, A_NONCE),
        "03f56c9520603a35fdb2204ef9080f1d25c1fc8df3f9ca59602151074c02370e"
    );
}

fn hello(node: &str, key: &CircleKey, nonce: &str) -> DcFrame {
    DcFrame::Hello {
        node_id: node.into(),
        circle_hint: key.hint.clone(),
        nonce: nonce.into(),
    }
}

fn cont(step: DcStep) -> (DcHandshake, Vec<String>) {
    match step {
        DcStep::Continue(m, send) => (m, send),
        DcStep::Done(..) => panic!("finished too early"),
    }
}

#[test]
fn two_machines_verify_each_other_in_either_order() {
    let key = CircleKey::new(secret(0));
    let (a, hello_a) =
        DcHandshake::start("node-a", "node-b", vec![key.clone()], A_NONCE.into()).unwrap();
    let (b, hello_b) =
        DcHandshake::start("node-b", "node-a", vec![key.clone()], B_NONCE.into()).unwrap();
    let (a, auth_a) = cont(a.on_frame(DcFrame::parse(&hello_b).unwrap()).unwrap());
    let (b, auth_b) = cont(b.on_frame(DcFrame::parse(&hello_a).unwrap()).unwrap());
    // A gets B's AUTH after its HELLO; B gets A's AUTH (in order).
    let DcStep::Done(va, none) = a.on_frame(DcFrame::parse(&auth_b[0]).unwrap()).unwrap() else {
        panic!("A not done");
    };
    assert!(none.is_empty());
    assert_eq!(
        va,
        Verified {
            circle: 0,
            peer_node_id: "node-b".into()
        }
    );
    assert!(matches!(
        b.on_frame(DcFrame::parse(&auth_a[0]).unwrap()).unwrap(),
        DcStep::Done(..)
    ));

    // AUTH before HELLO (the browser may see that): held, then checked.
    let (c, _) = DcHandshake::start("node-c", "node-d", vec![key.clone()], A_NONCE.into()).unwrap();
    let auth_d = dc_auth(&key.secret, B_NONCE, A_NONCE);
    let (c, nothing) = cont(c.on_frame(DcFrame::Auth { auth: auth_d }).unwrap());
    assert!(nothing.is_empty(), "nothing is sent on an early AUTH");
    let DcStep::Done(_, send) = c.on_frame(hello("node-d", &key, B_NONCE)).unwrap() else {
        panic!("C not done");
    };
    assert_eq!(
        send,
        vec![DcFrame::Auth {
            auth: dc_auth(&key.secret, A_NONCE, B_NONCE)
        }
        .to_text()]
    );
}

#[test]
fn a_peer_without_the_secret_fails_and_its_messages_are_never_handed_out() {
    let ours = CircleKey::new(secret(0));
    let theirs = CircleKey::new(secret(1));
    let (m, _) = DcHandshake::start("me", "attacker", vec![ours.clone()], A_NONCE.into()).unwrap();
    let (m, _) = cont(m.on_frame(hello("attacker", &ours, B_NONCE)).unwrap());
    // Message frames before AUTH are dropped, not delivered.
    let (m, send) = cont(m.on_frame(DcFrame::MsgsSend { messages: vec![] }).unwrap());
    assert!(send.is_empty());
    assert_eq!(m.dropped(), 1);
    let forged = dc_auth(&theirs.secret, B_NONCE, A_NONCE);
    assert_eq!(
        m.on_frame(DcFrame::Auth { auth: forged }).unwrap_err(),
        DcError::AuthFailed
    );

    // Replaying our own AUTH back (reflection) does not verify either.
    let (m, _) = DcHandshake::start("me", "attacker", vec![ours.clone()], A_NONCE.into()).unwrap();
    let (m, sent) = cont(m.on_frame(hello("attacker", &ours, B_NONCE)).unwrap());
    let DcFrame::Auth { auth: mine } = DcFrame::parse(&sent[0]).unwrap() else {
        panic!()
    };
    assert_eq!(
        m.on_frame(DcFrame::Auth { auth: mine }).unwrap_err(),
        DcError::AuthFailed
    );

    // Upper-case hex of the right MAC is refused, as the web client's string compare does.
    let (m, _) = DcHandshake::start("me", "peer", vec![ours.clone()], A_NONCE.into()).unwrap();
    let (m, _) = cont(m.on_frame(hello("peer", &ours, B_NONCE)).unwrap());
    let upper = dc_auth(&ours.secret, B_NONCE, A_NONCE).to_uppercase();
    assert_eq!(
        m.on_frame(DcFrame::Auth { auth: upper }).unwrap_err(),
        DcError::AuthFailed
    );
}

#[test]
fn hello_from_another_node_or_with_a_changed_nonce_ends_the_handshake() {
    let key = CircleKey::new(secret(0));
    let (m, _) = DcHandshake::start("me", "peer", vec![key.clone()], A_NONCE.into()).unwrap();
    assert!(matches!(
        m.on_frame(hello("someone-else", &key, B_NONCE)),
        Err(DcError::WrongNode { .. })
    ));
    let (m, _) = DcHandshake::start("me", "peer", vec![key.clone()], A_NONCE.into()).unwrap();
    let (m, _) = cont(m.on_frame(hello("peer", &key, B_NONCE)).unwrap());
    let (m, again) = cont(m.on_frame(hello("peer", &key, B_NONCE)).unwrap());
    assert!(again.is_empty(), "a repeated HELLO is answered once only");
    assert_eq!(
        m.on_frame(hello("peer", &key, A_NONCE)).unwrap_err(),
        DcError::NonceChanged
    );
}

#[test]
fn the_circle_named_by_hello_is_used_when_we_hold_it() {
    let first = CircleKey::new(secret(0));
    let second = CircleKey::new(secret(1));
    let (m, my_hello) = DcHandshake::start(
        "me",
        "browser",
        vec![first.clone(), second.clone()],
        A_NONCE.into(),
    )
    .unwrap();
    assert!(
        my_hello.contains(&first.hint),
        "HELLO names the intended circle"
    );
    let (m, sent) = cont(m.on_frame(hello("browser", &second, B_NONCE)).unwrap());
    assert_eq!(
        sent,
        vec![DcFrame::Auth {
            auth: dc_auth(&second.secret, A_NONCE, B_NONCE)
        }
        .to_text()]
    );
    let DcStep::Done(v, _) = m
        .on_frame(DcFrame::Auth {
            auth: dc_auth(&second.secret, B_NONCE, A_NONCE),
        })
        .unwrap()
    else {
        panic!("not done")
    };
    assert_eq!(v.circle, 1);
}
