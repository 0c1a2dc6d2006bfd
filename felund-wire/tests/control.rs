//! Control events: what each op carries, how texts parse, and the planned effects.

use felund_wire::control::{
    channel_key_hash, circle_name_text, effects, parse_control, AccessMode, AnchorAnnounce,
    ChannelEvent, ChannelOp, ControlEvent, Effect,
};
use serde_json::{json, Value};

const C: &str = "630dcd2966c4336691125448";
const A: &str = "a3f8b2c4d5e6f708192a3b4c";
const B: &str = "b1b2b3b4b5b6b7b8b9b0c1c2";

fn keys(text: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(text).unwrap();
    v.as_object().unwrap().keys().cloned().collect()
}

fn chan(text: &str) -> ChannelEvent {
    match parse_control(text) {
        Some(ControlEvent::Channel(e)) => e,
        other => panic!("not a channel event: {other:?}"),
    }
}

#[test]
fn builders_carry_the_fields_the_reference_sends() {
    let create = ChannelEvent::create(C, "dev", A, 10, AccessMode::Key, Some("kh".into()));
    assert_eq!(
        keys(&create.to_text()),
        [
            "access_mode",
            "actor_node_id",
            "channel_id",
            "circle_id",
            "created_by",
            "created_ts",
            "key_hash",
            "op",
            "t"
        ]
    );
    let self_ops = [
        ChannelEvent::join(C, "dev", A, 10),
        ChannelEvent::leave(C, "dev", A, 10),
        ChannelEvent::request(C, "dev", A, 10),
    ];
    for e in self_ops {
        assert_eq!(
            keys(&e.to_text()),
            [
                "actor_node_id",
                "channel_id",
                "circle_id",
                "created_ts",
                "node_id",
                "op",
                "t"
            ]
        );
        assert_eq!(e.node_id.as_deref(), Some(A));
    }
    let approve = ChannelEvent::approve(C, "dev", A, B, 10);
    assert_eq!(
        keys(&approve.to_text()),
        [
            "actor_node_id",
            "channel_id",
            "circle_id",
            "created_ts",
            "op",
            "t",
            "target_node_id"
        ]
    );
    let rename = ChannelEvent::rename(C, A, "Zoë", 10);
    assert_eq!(
        rename.to_text(),
        format!(
            r#"{{"actor_node_id":"{A}","circle_id":"{C}","created_ts":10,"display_name":"Zo\u00eb","node_id":"{A}","op":"rename","t":"CHANNEL_EVT"}}"#
        )
    );
}

#[test]
fn texts_parse_back_to_the_same_event() {
    for e in [
        ChannelEvent::create(C, "dev", A, 10, AccessMode::Invite, None),
        ChannelEvent::join(C, "dev", A, 10),
        ChannelEvent::approve(C, "dev", A, B, 10),
        ChannelEvent::rename(C, A, "bob", 10),
    ] {
        assert_eq!(chan(&e.to_text()), e);
    }
    let name = circle_name_text(C, "Book club");
    assert_eq!(
        name,
        format!(r#"{{"circle_id":"{C}","name":"Book club","t":"CIRCLE_NAME_EVT"}}"#)
    );
    assert_eq!(parse_control(&name).unwrap().to_text(), name);
    let anchor = AnchorAnnounce {
        node_id: A.into(),
        can_anchor: true,
        public_reachable: false,
        is_mobile: true,
        announced_at: 99,
    };
    assert_eq!(
        anchor.to_text(),
        format!(
            r#"{{"announced_at":99,"capabilities":{{"can_anchor":true,"is_mobile":true,"public_reachable":false}},"node_id":"{A}","t":"ANCHOR_ANNOUNCE"}}"#
        )
    );
    assert_eq!(
        parse_control(&anchor.to_text()),
        Some(ControlEvent::AnchorAnnounce(anchor))
    );
}

#[test]
fn the_tuis_minimal_rename_is_understood() {
    // The reference TUI sends rename without circle_id, channel_id, actor or timestamp.
    let e = chan(&format!(
        r#"{{"display_name":" Bob ","node_id":"{B}","op":"rename","t":"CHANNEL_EVT"}}"#
    ));
    assert_eq!(e.created_ts, 0);
    assert_eq!(
        effects(&ControlEvent::Channel(e)),
        [Effect::SetDisplayName {
            node_id: B.into(),
            name: "Bob".into()
        }]
    );
}

#[test]
fn unrecognised_texts_are_ignored() {
    for text in [
        "hello",
        "[1,2]",
        r#""CHANNEL_EVT""#,
        r#"{"op":"join"}"#,
        r#"{"t":"SOMETHING_NEW","x":1}"#,
        r#"{"t":"CHANNEL_EVT","op":"destroy","channel_id":"x"}"#,
        r#"{"t":"CHANNEL_EVT","op":"join","channel_id":5}"#,
        r#"{"t":"CHANNEL_EVT","op":"join","created_ts":"soon"}"#,
        r#"{"t":"CIRCLE_NAME_EVT","circle_id":"c","name":""}"#,
        r#"{"t":"CIRCLE_NAME_EVT","name":"x"}"#,
        r#"{"t":"ANCHOR_ANNOUNCE","capabilities":{}}"#,
        r#"{"t":"CALL_EVT","op":"ring","session_id":"s"}"#,
        r#"{"t":"CALL_EVT","op":"join","session_id":""}"#,
    ] {
        assert_eq!(parse_control(text), None, "{text}");
    }
}

#[test]
fn call_events_are_kept_intact_and_change_nothing() {
    let text = r#"{"actor_node_id":"a","op":"signal.offer","payload":{"sdp":"v=0"},"session_id":"s1","t":"CALL_EVT","to":"b"}"#;
    let Some(ControlEvent::Call(call)) = parse_control(text) else {
        panic!("not a call event")
    };
    assert_eq!(
        (call.op.as_str(), call.session_id.as_str()),
        ("signal.offer", "s1")
    );
    assert_eq!(call.to_text(), text);
    assert!(effects(&ControlEvent::Call(call)).is_empty());
}

fn fx(e: ChannelEvent) -> Vec<Effect> {
    effects(&ControlEvent::Channel(e))
}

#[test]
fn create_effects() {
    let hash = channel_key_hash(C, "vault", "sesame");
    assert_eq!(hash.len(), 64);
    assert_eq!(
        fx(ChannelEvent::create(
            C,
            " Vault ",
            A,
            10,
            AccessMode::Key,
            Some(hash.clone())
        )),
        [
            Effect::CreateChannel {
                channel_id: "vault".into(),
                access_mode: AccessMode::Key,
                created_by: A.into(),
                created_ts: 10,
                key_hash: Some(hash),
            },
            Effect::AddMember {
                channel_id: "vault".into(),
                node_id: A.into()
            },
        ]
    );
    // key_hash only matters for key channels; an odd access mode reads as public.
    let odd = chan(&format!(
        r#"{{"t":"CHANNEL_EVT","op":"create","channel_id":"x","access_mode":"secret","key_hash":"kh","created_by":"{B}"}}"#
    ));
    assert_eq!(
        fx(odd),
        [
            Effect::CreateChannel {
                channel_id: "x".into(),
                access_mode: AccessMode::Public,
                created_by: B.into(),
                created_ts: 0,
                key_hash: None,
            },
            Effect::AddMember {
                channel_id: "x".into(),
                node_id: B.into()
            },
        ]
    );
}

#[test]
fn membership_effects() {
    let ensure = |c: &str| Effect::EnsureChannel {
        channel_id: c.into(),
    };
    let member = |add: bool, n: &str| {
        let (channel_id, node_id) = ("dev".to_string(), n.to_string());
        if add {
            Effect::AddMember {
                channel_id,
                node_id,
            }
        } else {
            Effect::RemoveMember {
                channel_id,
                node_id,
            }
        }
    };
    let request = |add: bool, n: &str| {
        let (channel_id, node_id) = ("dev".to_string(), n.to_string());
        if add {
            Effect::AddRequest {
                channel_id,
                node_id,
            }
        } else {
            Effect::RemoveRequest {
                channel_id,
                node_id,
            }
        }
    };
    assert_eq!(
        fx(ChannelEvent::join(C, "#Dev", B, 1)),
        // "#Dev" lower-cases to "#dev", which is not a valid id: no effects at all.
        []
    );
    assert_eq!(
        fx(ChannelEvent::join(C, "Dev", B, 1)),
        [ensure("dev"), member(true, B), request(false, B)]
    );
    assert_eq!(
        fx(ChannelEvent::leave(C, "dev", B, 1)),
        [ensure("dev"), member(false, B), request(false, B)]
    );
    assert_eq!(
        fx(ChannelEvent::leave(C, "general", B, 1)),
        [ensure("general")]
    );
    assert_eq!(
        fx(ChannelEvent::request(C, "dev", B, 1)),
        [ensure("dev"), request(true, B)]
    );
    assert_eq!(
        fx(ChannelEvent::approve(C, "dev", A, B, 1)),
        [ensure("dev"), request(false, B), member(true, B)]
    );
    for bad in ["", "__control", "a b", &"x".repeat(33)] {
        assert_eq!(fx(ChannelEvent::join(C, bad, B, 1)), [], "{bad:?}");
    }
}

#[test]
fn rename_ignores_the_channel_and_truncates() {
    let mut e = ChannelEvent::rename(C, A, "n".repeat(50), 1);
    e.channel_id = "__not valid__".into();
    assert_eq!(
        fx(e),
        [Effect::SetDisplayName {
            node_id: A.into(),
            name: "n".repeat(40)
        }]
    );
    assert_eq!(fx(ChannelEvent::rename(C, A, "   ", 1)), []);
    assert_eq!(fx(ChannelEvent::rename(C, "", "bob", 1)), []);
}

#[test]
fn circle_name_and_anchor_effects() {
    let named = parse_control(&circle_name_text(C, &format!("  {}  ", "c".repeat(45)))).unwrap();
    assert_eq!(
        effects(&named),
        [Effect::SetCircleName {
            name: "c".repeat(40)
        }]
    );
    let blank = parse_control(&circle_name_text(C, "   ")).unwrap();
    assert_eq!(effects(&blank), []);

    let text = json!({"t":"ANCHOR_ANNOUNCE","node_id":" n1 ","capabilities":{"can_anchor":1,"is_mobile":""},"announced_at":7}).to_string();
    assert_eq!(
        effects(&parse_control(&text).unwrap()),
        [Effect::RecordAnchor(AnchorAnnounce {
            node_id: "n1".into(),
            can_anchor: true,
            public_reachable: false,
            is_mobile: false,
            announced_at: 7,
        })]
    );
    let caps_not_object =
        json!({"t":"ANCHOR_ANNOUNCE","node_id":"n1","capabilities":true}).to_string();
    let Some(ControlEvent::AnchorAnnounce(a)) = parse_control(&caps_not_object) else {
        panic!("not an announcement")
    };
    assert!(!a.can_anchor && a.announced_at == 0);
}

#[test]
fn ops_and_modes_have_wire_names() {
    for op in [
        ChannelOp::Create,
        ChannelOp::Join,
        ChannelOp::Leave,
        ChannelOp::Request,
        ChannelOp::Approve,
        ChannelOp::Rename,
    ] {
        assert_eq!(ChannelOp::parse(op.as_str()), Some(op));
    }
    for mode in [AccessMode::Public, AccessMode::Key, AccessMode::Invite] {
        assert_eq!(AccessMode::parse_lenient(mode.as_str()), mode);
    }
    assert_eq!(AccessMode::parse_lenient("PUBLIC"), AccessMode::Public);
}
