//! JSON shape tests.

use super::*;
use serde_json::{json, Value};

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

fn sample_message() -> api::Message {
    api::Message {
        msg_id: "m1".into(),
        circle_id: "c1".into(),
        channel_id: "general".into(),
        author_node_id: "n1".into(),
        display_name: "alice".into(),
        created_ts: 1_700_000_000,
        text: "hi \"there\"\n".into(),
        own: true,
        seq: 7,
        order_ms: 1_700_000_000_000,
    }
}

#[test]
fn message_has_exactly_its_fields() {
    assert_eq!(
        to_value(&message(&sample_message())),
        json!({
            "msg_id": "m1", "circle_id": "c1", "channel_id": "general",
            "author_node_id": "n1", "display_name": "alice",
            "created_ts": 1_700_000_000, "text": "hi \"there\"\n", "own": true
        })
    );
}

#[test]
fn message_event_is_flat_with_event_key_first() {
    let ev = api::Event {
        kind: Some(event::Kind::Message(sample_message())),
    };
    let text = serde_json::to_string(&event(&ev).unwrap()).unwrap();
    assert!(
        text.starts_with(r#"{"event":"message","msg_id":"m1""#),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 9);
}

#[test]
fn channel_and_circle_events() {
    let ev = api::Event {
        kind: Some(event::Kind::Channel(api::ChannelEvent {
            kind: channel_event::Kind::MemberJoined as i32,
            circle_id: "c1".into(),
            channel_id: "ops".into(),
            node_id: "n2".into(),
        })),
    };
    assert_eq!(
        to_value(&event(&ev).unwrap()),
        json!({"event": "channel", "kind": "member_joined", "circle_id": "c1",
               "channel_id": "ops", "node_id": "n2"})
    );
    let ev = api::Event {
        kind: Some(event::Kind::Circle(api::CircleEvent {
            kind: circle_event::Kind::Renamed as i32,
            circle: Some(api::Circle {
                circle_id: "c1".into(),
                name: "friends".into(),
                ..Default::default()
            }),
        })),
    };
    assert_eq!(
        to_value(&event(&ev).unwrap()),
        json!({"event": "circle", "kind": "renamed", "circle_id": "c1", "name": "friends",
               "message_count": 0, "member_count": 0, "peer_count": 0, "last_message_ts": 0,
               "last_sync_ts": 0})
    );
}

#[test]
fn peer_event_takes_circle_from_event_when_missing() {
    let ev = api::Event {
        kind: Some(event::Kind::Peer(api::PeerEvent {
            circle_id: "c9".into(),
            peer: Some(api::Peer {
                node_id: "n3".into(),
                addr: "10.0.0.1:9999".into(),
                ..Default::default()
            }),
        })),
    };
    let v = to_value(&event(&ev).unwrap());
    assert_eq!(v["event"], "peer");
    assert_eq!(v["circle_id"], "c9");
    assert_eq!(v["addr"], "10.0.0.1:9999");
}

#[test]
fn lagged_and_display_name_and_unknown() {
    let lagged = api::Event {
        kind: Some(event::Kind::Lagged(api::Lagged { missed: 7 })),
    };
    assert_eq!(
        to_value(&event(&lagged).unwrap()),
        json!({"event": "lagged", "missed": 7})
    );
    let renamed = api::Event {
        kind: Some(event::Kind::DisplayName(api::DisplayNameEvent {
            node_id: "n1".into(),
            display_name: "bob".into(),
        })),
    };
    assert_eq!(
        to_value(&event(&renamed).unwrap()),
        json!({"event": "display_name", "node_id": "n1", "display_name": "bob"})
    );
    assert!(event(&api::Event { kind: None }).is_none());
}

#[test]
fn channel_access_mode_is_a_word() {
    let c = api::Channel {
        channel_id: "ops".into(),
        access_mode: api::AccessMode::Invite as i32,
        pending_requests: vec!["n5".into()],
        ..Default::default()
    };
    let v = to_value(&channel(&c));
    assert_eq!(v["access_mode"], "invite");
    assert_eq!(v["pending_requests"], json!(["n5"]));
}
