use serde_json::value::RawValue;

use super::*;

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string()).expect("raw")
}

#[test]
fn a_raw_list_keeps_items_verbatim_up_to_its_bound_and_refuses_more() {
    #[derive(serde::Deserialize)]
    struct Holder<'a> {
        #[serde(borrow)]
        list: RawList<'a, 3>,
    }
    let h: Holder = serde_json::from_str(r#"{"list":[1, {"a" : [2]}, "x"]}"#).unwrap();
    let items: Vec<&str> = h.list.0.iter().map(|r| r.get()).collect();
    assert_eq!(items, ["1", r#"{"a" : [2]}"#, r#""x""#]);
    let err = serde_json::from_str::<Holder>(r#"{"list":[1,2,3,4]}"#)
        .err()
        .unwrap();
    assert!(err.to_string().contains("more than 3 items"), "{err}");
    assert!(serde_json::from_str::<Holder>(r#"{"list":{}}"#).is_err());
}

#[test]
fn informative_scalars_of_the_wrong_type_read_as_absent_not_as_an_error() {
    for (text, cursor, more) in [
        (
            r#"{"ok":true,"messages":[],"cursor":42,"more":true}"#,
            Some(42),
            Some(true),
        ),
        (
            r#"{"ok":true,"messages":[],"cursor":4.2,"more":1}"#,
            None,
            None,
        ),
        (
            r#"{"ok":true,"messages":[],"cursor":"42","more":"true"}"#,
            None,
            None,
        ),
        (
            r#"{"ok":true,"messages":[],"cursor":[1,{"a":2}],"more":{"x":[]}}"#,
            None,
            None,
        ),
        (
            r#"{"ok":true,"messages":[],"cursor":99999999999999999999,"more":null}"#,
            None,
            None,
        ),
        (r#"{"ok":true,"messages":[]}"#, None, None),
    ] {
        let page: PullPage = serde_json::from_str(text).expect(text);
        assert_eq!((page.cursor, page.more), (cursor, more), "{text}");
    }
    // `ok` and the list are not optional in their type: a wrong one fails the answer.
    assert!(serde_json::from_str::<PullPage>(r#"{"ok":"yes","messages":[]}"#).is_err());
    assert!(serde_json::from_str::<PullPage>(r#"{"ok":true,"messages":"x"}"#).is_err());
    let missing_ok: Ack = serde_json::from_str("{}").expect("ack");
    assert!(!missing_ok.ok);
}

#[test]
fn what_a_relay_writes_a_client_reads_back() {
    let objects = [
        raw(r#"{"msg_id":"m1"}"#),
        raw(r#"{"msg_id" : "m2", "n": 1.50}"#),
    ];
    let refs: Vec<&RawValue> = objects.iter().map(|o| &**o).collect();
    let written = serde_json::to_string(&PullAnswer {
        ok: true,
        messages: &refs,
        server_time: Some(7),
        cursor: Some(9),
        more: Some(false),
    })
    .expect("write");
    assert_eq!(
        written,
        r#"{"ok":true,"messages":[{"msg_id":"m1"},{"msg_id" : "m2", "n": 1.50}],"server_time":7,"cursor":9,"more":false}"#
    );
    let page: PullPage = serde_json::from_str(&written).expect("read");
    let read: Vec<&str> = page.messages.0.iter().map(|r| r.get()).collect();
    assert_eq!(read, [objects[0].get(), objects[1].get()]);
    assert_eq!(
        (page.server_time, page.cursor, page.more),
        (Some(7), Some(9), Some(false))
    );

    let frame = serde_json::to_string(&MessagesFrame {
        t: MessagesTag,
        messages: &refs[..1],
        server_time: Some(7),
        cursor: Some(9),
    })
    .expect("frame");
    assert_eq!(
        frame,
        r#"{"t":"MESSAGES","messages":[{"msg_id":"m1"}],"server_time":7,"cursor":9}"#
    );
    let pushed: PushedFrame = serde_json::from_str(&frame).expect("read frame");
    assert_eq!(pushed.messages.0.len(), 1);
}

#[test]
fn only_messages_frames_read_as_push_frames() {
    assert!(serde_json::from_str::<PushedFrame>(r#"{"t":"MESSAGES","messages":[]}"#).is_ok());
    for other in [
        r#"{"t":"PING"}"#,
        r#"{"t":"PING","messages":[]}"#,
        r#"{"messages":[]}"#,
        r#"{"t":"MESSAGES"}"#,
        r#"{"t":"MESSAGES","messages":"x"}"#,
        "not json",
    ] {
        assert!(
            serde_json::from_str::<PushedFrame>(other).is_err(),
            "{other}"
        );
    }
    let too_many = vec!["{}"; PULL_LIMIT as usize + 1].join(",");
    let frame = format!(r#"{{"t":"MESSAGES","messages":[{too_many}]}}"#);
    assert!(serde_json::from_str::<PushedFrame>(&frame).is_err());
}

const PULL_LIMIT: i64 = limits::PULL_LIMIT_MAX;

#[test]
fn a_register_body_has_the_reference_clients_shape() {
    let body = RegisterRequest {
        node_id: "node-0001".into(),
        circle_hint: "hint-0001".into(),
        endpoints: vec![
            Endpoint::tcp("[::1]:9999").expect("v6"),
            Endpoint::tcp("10.0.0.1:7").expect("v4"),
        ],
        capabilities: Capabilities {
            can_anchor: Some(true),
            ..Capabilities::default()
        },
        ttl_s: 120,
        signing_key: Some("ab".repeat(32)),
    };
    let text = serde_json::to_string(&body).expect("body");
    assert_eq!(
        text,
        format!(
            r#"{{"node_id":"node-0001","circle_hint":"hint-0001","endpoints":[{{"transport":"tcp","host":"::1","port":9999,"family":"ipv6","nat":"unknown"}},{{"transport":"tcp","host":"10.0.0.1","port":7,"family":"ipv4","nat":"unknown"}}],"capabilities":{{"relay":false,"transport":["tcp"],"can_anchor":true}},"ttl_s":120,"signing_key":"{}"}}"#,
            "ab".repeat(32)
        )
    );
    assert_eq!(
        serde_json::from_str::<RegisterRequest>(&text).expect("read"),
        body
    );
    assert!(Endpoint::tcp("no-port").is_none());
}

#[test]
fn a_peer_record_yields_its_usable_tcp_endpoints_only() {
    let record = r#"{"node_id":"n1","endpoints":[
        {"transport":"ws","host":"h","port":1},
        {"transport":"tcp","host":"","port":1},
        {"transport":"tcp","host":"h","port":0},
        {"transport":"tcp","host":"h","port":70000},
        {"transport":"tcp","host":"::1","port":9}],"capabilities":{"relay":false},"observed_at":"x"}"#;
    let r: PeerRecord = serde_json::from_str(record).expect("record");
    let addrs: Vec<String> = r.endpoints().filter_map(|e| e.tcp_addr()).collect();
    assert_eq!(addrs, ["[::1]:9"]);
    assert_eq!(r.observed_at, None);
    assert_eq!(r.transports(), [], "capabilities without a transport list");
}

#[test]
fn a_peer_record_names_its_known_transports_and_a_hostile_list_names_none() {
    let transports = |caps: &str| {
        let text = format!(r#"{{"node_id":"n1","capabilities":{caps}}}"#);
        serde_json::from_str::<PeerRecord>(&text)
            .expect("record")
            .transports()
    };
    assert_eq!(
        transports(r#"{"relay":false,"transport":["tcp","webrtc","ws",1]}"#),
        [Transport::Tcp, Transport::Ws]
    );
    // The PHP relay writes an empty capabilities object as `[]`.
    assert_eq!(transports("[]"), []);
    assert_eq!(transports(r#"{"transport":"ws"}"#), []);
    let many = vec![r#""ws""#; limits::MAX_CAPABILITY_TRANSPORTS + 1].join(",");
    assert_eq!(transports(&format!(r#"{{"transport":[{many}]}}"#)), []);
}

#[test]
fn a_signal_poll_page_is_bounded_and_its_records_need_only_an_id() {
    let page: SignalPollPage = serde_json::from_str(
        r#"{"ok":true,"signals":[{"id":3,"type":"media-offer"},{"id":"x"},{"id":4,"session_id":"s-000001","from_node":"aaaaaaaa","to_node":"bbbbbbbb","type":"offer","payload":"{}","created_at":9}],"server_time":"late"}"#,
    )
    .expect("page");
    assert_eq!(page.server_time, None);
    let records: Vec<Option<SignalRecord>> = page
        .signals
        .0
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).ok())
        .collect();
    assert_eq!(records[0].as_ref().map(|r| r.id), Some(3));
    assert!(
        records[1].is_none(),
        "a record without an integer id is unreadable"
    );
    let offer = records[2].as_ref().expect("offer");
    assert_eq!(SignalKind::parse(&offer.kind), Some(SignalKind::Offer));
    assert_eq!((offer.payload.as_str(), offer.created_at), ("{}", 9));

    let too_many = vec![r#"{"id":1}"#; limits::SIGNAL_POLL_LIMIT as usize + 1].join(",");
    let text = format!(r#"{{"ok":true,"signals":[{too_many}]}}"#);
    assert!(serde_json::from_str::<SignalPollPage>(&text).is_err());
}

#[test]
fn a_signal_post_and_poll_query_have_the_web_clients_shape() {
    let post = SignalPost {
        session_id: "aaaaaaaa:bbbbbbbb".into(),
        from_node_id: "aaaaaaaa".into(),
        to_node_id: "bbbbbbbb".into(),
        circle_hint: "cccccccc".into(),
        kind: SignalKind::MediaCandidate,
        payload: "{}".into(),
        ttl_s: Some(60),
    };
    assert_eq!(
        serde_json::to_string(&post).expect("post"),
        r#"{"session_id":"aaaaaaaa:bbbbbbbb","from_node_id":"aaaaaaaa","to_node_id":"bbbbbbbb","circle_hint":"cccccccc","type":"media-candidate","payload":"{}","ttl_s":60}"#
    );
    let query = SignalPollQuery {
        to_node_id: "bbbbbbbb".into(),
        since_id: 7,
        session_id: None,
    };
    assert_eq!(
        serde_json::to_string(&query).expect("query"),
        r#"{"to_node_id":"bbbbbbbb","since_id":7}"#
    );
}

#[test]
fn error_answers_read_escaped_text() {
    let e: ErrorAnswer = serde_json::from_str(
        r#"{"ok": false, "detail": "Rate limit exceeded \u2014 retry after 10s"}"#,
    )
    .expect("error");
    assert_eq!(
        e.detail.as_deref(),
        Some("Rate limit exceeded — retry after 10s")
    );
    assert_eq!(e.code, None);
}

#[test]
fn signal_kinds_have_their_wire_names() {
    for kind in SignalKind::ALL {
        let text = serde_json::to_string(&kind).expect("kind");
        assert_eq!(text, format!("\"{}\"", kind.as_str()));
        assert_eq!(SignalKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(SignalKind::parse("Offer"), None);
}
