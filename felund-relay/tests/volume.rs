//! Size and volume attacks: oversized objects, huge pull answers and replays, write floods
//! from one address and WebSocket subscriber floods, each beside a positive control (the
//! largest legitimate message, honest nodes sharing one address, members' messages getting
//! through after a flood).

#[macro_use]
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{
    header_map, message, msg_ids, next_event, sized, start_with, Backend, Member, WsEvent,
};
use felund_relay::limits::MAX_OBJECT_BYTES;
use felund_wire::{CircleSecret, WireMessage};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);
const MEMBERS_ADDR: &str = "198.51.100.10";
const OUTSIDER_ADDR: &str = "203.0.113.66";

fn from(addr: &str) -> HeaderMap {
    header_map(&[("X-Forwarded-For", addr)])
}

/// The largest message a client can legitimately make: a relay envelope sealing a
/// 4,096-byte text and a 1,024-byte name of control characters (escaped six-fold).
fn largest_legitimate(msg_id: &str) -> Value {
    let secret = CircleSecret::from_bytes(vec![1; 32]);
    let msg = WireMessage::new_authored(
        &secret,
        msg_id.into(),
        secret.circle_id(),
        "general".into(),
        "a3f8b2c4d5e6f708192a3b4c".into(),
        "\u{1}".repeat(1024),
        1_795_477_031,
        "\u{1}".repeat(4096),
        [5; 12],
    );
    msg.seal_relay_envelope(&secret, [6; 12]).to_value()
}

async fn an_object_over_the_bound_is_refused_whole(backend: Backend) {
    let relay = start_with(&backend, |_| {}).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let big = sized("too-big-0001", MAX_OBJECT_BYTES);
    let reply = relay
        .push_unsigned(&hint, &[message("fine-msg-001", 1), big], None)
        .await;
    reply.assert_detail(
        413,
        &format!("messages[1] is larger than {MAX_OBJECT_BYTES} bytes"),
    );
    reply.assert_cors();
    // Extra fields count too: the whole object is measured, not only its text.
    let mut padded = message("padded-00001", 1);
    padded["x"] = json!("p".repeat(MAX_OBJECT_BYTES));
    assert_eq!(
        relay.push_unsigned(&hint, &[padded], None).await.status,
        413
    );
    // Nothing of a refused batch was stored.
    let reply = relay.get(&format!("/v1/messages?circle_hint={hint}")).await;
    assert!(msg_ids(&reply.json).is_empty());

    // Positive control: the largest legitimate message is stored and comes back whole.
    let largest = largest_legitimate("largest-0001");
    assert!(serde_json::to_string(&largest).expect("json").len() > 40_000);
    let reply = relay
        .push_unsigned(&hint, std::slice::from_ref(&largest), None)
        .await;
    assert_eq!(reply.json["stored"], json!(1), "{:?}", reply.json);
    let reply = relay.get(&format!("/v1/messages?circle_hint={hint}")).await;
    assert_eq!(reply.json["messages"], json!([largest]));
    relay.stop().await;
}

async fn pull_answers_are_bounded_in_bytes_and_page_losslessly(backend: Backend) {
    let budget = 256 * 1024;
    let relay = start_with(&backend, |c| c.pull_max_bytes = budget).await;
    let hint = Member::new(2, "x-node-00001").hint;
    let mut all = Vec::new();
    for batch in 0..3 {
        let msgs: Vec<Value> = (0..10)
            .map(|i| sized(&format!("big-{batch}-{i:05}"), 40_000))
            .collect();
        all.extend(
            msgs.iter()
                .map(|m| m["msg_id"].as_str().expect("id").to_owned()),
        );
        assert_eq!(
            relay.push_unsigned(&hint, &msgs, None).await.json["stored"],
            json!(10)
        );
    }
    let base = format!("/v1/messages?circle_hint={hint}&limit=500");
    let (mut seen, mut cursor, mut pages) = (Vec::new(), 0, 0);
    loop {
        let reply = relay.get(&format!("{base}&after_seq={cursor}")).await;
        let bytes = serde_json::to_string(&reply.json["messages"])
            .expect("json")
            .len();
        assert!(bytes <= budget, "a page of {bytes} bytes");
        seen.extend(msg_ids(&reply.json));
        cursor = reply.json["cursor"].as_i64().expect("cursor");
        pages += 1;
        if !reply.json["more"].as_bool().expect("more") {
            break;
        }
        assert!(pages < 20, "runaway paging");
    }
    assert!(pages >= 5, "{pages} pages");
    assert_eq!(seen, all, "every message exactly once, in order");
    // A reference-style since pull is bounded the same way and says there is more.
    let reply = relay.get(&format!("{base}&since=0")).await;
    assert_eq!(reply.json["more"], json!(true));
    assert!(msg_ids(&reply.json).len() < 30);
    relay.stop().await;
}

async fn websocket_replay_is_bounded_in_bytes(backend: Backend) {
    let budget = 128 * 1024;
    let relay = start_with(&backend, |c| c.ws_replay_max_bytes = budget).await;
    let hint = Member::new(3, "x-node-00001").hint;
    let msgs: Vec<Value> = (0..10)
        .map(|i| sized(&format!("replay-{i:05}"), 40_000))
        .collect();
    relay.push_unsigned(&hint, &msgs, None).await;
    let mut socket = relay.ws(&hint, "reader-node-01").await;
    let WsEvent::Json(frame) = next_event(&mut socket, WAIT).await else {
        panic!("no replay");
    };
    let replayed = msg_ids(&frame);
    assert!((1..10).contains(&replayed.len()), "{replayed:?}");
    assert!(
        serde_json::to_string(&frame["messages"])
            .expect("json")
            .len()
            <= budget
    );
    // The frame's cursor leads to the rest.
    let reply = relay
        .get(&format!(
            "/v1/messages?circle_hint={hint}&after_seq={}",
            frame["cursor"]
        ))
        .await;
    assert_eq!(replayed.len() + msg_ids(&reply.json).len(), 10);
    relay.stop().await;
}

async fn writes_per_address_are_rate_limited_with_retry_after(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.write_requests_per_minute = 5;
    })
    .await;
    let hint = Member::new(4, "x-node-00001").hint;
    for i in 0..5 {
        let reply = relay
            .push_unsigned_with(
                &hint,
                &[message(&format!("flood-{i:06}"), 1)],
                from(OUTSIDER_ADDR),
            )
            .await;
        assert_eq!(reply.status, 200, "{i}: {:?}", reply.json);
    }
    let reply = relay
        .push_unsigned_with(&hint, &[message("flood-999999", 1)], from(OUTSIDER_ADDR))
        .await;
    assert_eq!(reply.status, 429, "{:?}", reply.json);
    assert!(reply.json["detail"]
        .as_str()
        .expect("detail")
        .starts_with("Too many write requests"));
    let retry: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=60).contains(&retry), "{retry}");
    reply.assert_cors();
    // Every write endpoint counts: a register from that address is refused too.
    let mallory = Member::new(9, "mallory-node-1");
    assert_eq!(
        relay
            .register_from(Some(OUTSIDER_ADDR), &mallory)
            .await
            .status,
        429
    );
    // Another address is not affected; the flooder is served again once the bucket refills.
    let alice = Member::new(4, "alice-node-0001");
    assert_eq!(
        relay.register_from(Some(MEMBERS_ADDR), &alice).await.status,
        200
    );
    relay.clock.advance(i64::try_from(retry).expect("secs"));
    let reply = relay
        .push_unsigned_with(&hint, &[message("flood-later-1", 1)], from(OUTSIDER_ADDR))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    relay.stop().await;
}

async fn write_bytes_per_address_are_limited(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.write_bytes_per_minute = 170_000;
    })
    .await;
    let hint = Member::new(5, "x-node-00001").hint;
    for i in 0..4 {
        let reply = relay
            .push_unsigned_with(
                &hint,
                &[sized(&format!("bytes-{i:05}"), 40_000)],
                from(OUTSIDER_ADDR),
            )
            .await;
        assert_eq!(reply.status, 200, "{i}");
    }
    let reply = relay
        .push_unsigned_with(&hint, &[sized("bytes-99999", 40_000)], from(OUTSIDER_ADDR))
        .await;
    assert_eq!(reply.status, 429);
    assert!(reply.header("retry-after").is_some());
    let reply = relay
        .push_unsigned_with(&hint, &[sized("bytes-other", 40_000)], from(MEMBERS_ADDR))
        .await;
    assert_eq!(reply.status, 200);
    relay.stop().await;
}

async fn many_honest_nodes_behind_one_address_fit_the_defaults(backend: Backend) {
    // Default limits; every request comes from 127.0.0.1, like a NAT (or this test suite).
    let relay = start_with(&backend, |_| {}).await;
    let nodes: Vec<Member> = (0..32)
        .map(|i| Member::new(10 + (i % 4) as u8, &format!("honest-node-{i:04}")))
        .collect();
    let mut sockets = Vec::new();
    for node in &nodes {
        sockets.push(relay.ws(&node.hint, &node.node_id).await);
    }
    for round in 0..3 {
        for node in &nodes {
            relay.register(node).await;
            let msgs: Vec<Value> = (0..50)
                .map(|i| message(&format!("{}-{round}-{i:03}", node.node_id), 1))
                .collect();
            let reply = relay.push(node, &msgs).await;
            assert_eq!(reply.json["stored"], json!(50), "{:?}", reply.json);
            assert_eq!(relay.pull(node, "&after_seq=0&limit=10").await.status, 200);
        }
    }
    assert_eq!(relay.peer_ids(&nodes[0]).await.len(), 7);
    relay.stop().await;
}

async fn members_messages_get_through_after_an_outsiders_flood(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.write_bytes_per_minute = 4 * 1024 * 1024;
    })
    .await;
    let alice = Member::new(20, "alice-node-0001");
    let bob = Member::new(20, "bob-node-000002");
    relay.register_from(Some(MEMBERS_ADDR), &alice).await;
    relay.register_from(Some(MEMBERS_ADDR), &bob).await;
    let mut bob_socket = relay
        .try_ws_with(&bob.hint, &bob.node_id, from(MEMBERS_ADDR))
        .await
        .expect("bob subscribes");
    // The outsider floods the circle, unsigned, until its address is cut off.
    let mut flood = 0;
    loop {
        let msgs: Vec<Value> = (0..20)
            .map(|i| sized(&format!("flood-{flood:04}-{i:02}"), 40_000))
            .collect();
        let reply = relay
            .push_unsigned_with(&alice.hint, &msgs, from(OUTSIDER_ADDR))
            .await;
        if reply.status == 429 {
            break;
        }
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        flood += 1;
        assert!(flood < 50, "the flood was never limited");
    }
    // A member's new message is accepted, pushed to Bob at once and found by paging.
    let reply = relay
        .signed_from(
            Some(MEMBERS_ADDR),
            &alice,
            Method::POST,
            "/messages",
            "",
            Some(&json!({"circle_hint": alice.hint, "messages": [message("members-0001", 1)]})),
        )
        .await;
    assert_eq!(reply.json["stored"], json!(1), "{:?}", reply.json);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match next_event(&mut bob_socket, WAIT).await {
            WsEvent::Json(frame) if msg_ids(&frame).contains(&"members-0001".to_owned()) => break,
            WsEvent::Json(_) => {}
            other => panic!("bob's socket: {other:?}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "never pushed");
    }
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        let reply = relay
            .pull(&bob, &format!("&after_seq={cursor}&limit=500"))
            .await;
        seen.extend(msg_ids(&reply.json));
        cursor = reply.json["cursor"].as_i64().expect("cursor");
        if !reply.json["more"].as_bool().expect("more") {
            break;
        }
    }
    assert!(seen.contains("members-0001"));
    // A web client (unsigned, third address) still gets its message through too.
    let reply = relay
        .push_unsigned_with(
            &alice.hint,
            &[message("web-msg-0001", 1)],
            from("192.0.2.80"),
        )
        .await;
    assert_eq!(reply.json["stored"], json!(1));
    relay.stop().await;
}

async fn websocket_subscribers_are_capped_per_circle_key_and_address(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.ws_max_per_hint = 2;
        c.ws_max_per_address = 3;
    })
    .await;
    let alice = Member::new(30, "alice-node-0001");
    relay.register_from(Some(MEMBERS_ADDR), &alice).await;
    let hint = alice.hint.clone();
    // An outsider fills the circle's unsigned share from two addresses...
    let _o1 = relay
        .try_ws_with(&hint, "outsider-0001", from("203.0.113.1"))
        .await
        .expect("1");
    let _o2 = relay
        .try_ws_with(&hint, "outsider-0002", from("203.0.113.2"))
        .await
        .expect("2");
    assert_eq!(
        relay
            .try_ws_with(&hint, "outsider-0003", from("203.0.113.3"))
            .await
            .err(),
        Some(429)
    );
    // ...which is not the members' share: a signed member still subscribes and gets pushes.
    let mut headers = alice.headers("GET", "/relay/ws", b"", relay.now());
    headers.insert("x-forwarded-for", MEMBERS_ADDR.parse().expect("hv"));
    let mut member = relay
        .try_ws_with(&hint, &alice.node_id, headers)
        .await
        .expect("the member subscribes");
    relay
        .push_unsigned(&hint, &[message("after-cap-001", 1)], None)
        .await;
    match next_event(&mut member, WAIT).await {
        WsEvent::Json(frame) => assert_eq!(msg_ids(&frame), vec!["after-cap-001"]),
        other => panic!("{other:?}"),
    }
    // One address holds at most three sockets, whatever the circles; closing one frees it.
    let addr = "203.0.113.9";
    let mut held = Vec::new();
    for i in 0..3 {
        let hint = Member::new(40 + i, "x-node-00001").hint;
        held.push(
            relay
                .try_ws_with(&hint, "many-node-01", from(addr))
                .await
                .expect("held"),
        );
    }
    let other_hint = Member::new(50, "x-node-00001").hint;
    assert_eq!(
        relay
            .try_ws_with(&other_hint, "many-node-01", from(addr))
            .await
            .err(),
        Some(429)
    );
    drop(held.pop());
    let deadline = tokio::time::Instant::now() + WAIT;
    while relay
        .try_ws_with(&other_hint, "many-node-01", from(addr))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed socket's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.stop().await;
}

on_both_backends!(
    an_object_over_the_bound_is_refused_whole,
    pull_answers_are_bounded_in_bytes_and_page_losslessly,
    websocket_replay_is_bounded_in_bytes,
    writes_per_address_are_rate_limited_with_retry_after,
    write_bytes_per_address_are_limited,
    many_honest_nodes_behind_one_address_fit_the_defaults,
    members_messages_get_through_after_an_outsiders_flood,
    websocket_subscribers_are_capped_per_circle_key_and_address,
);
