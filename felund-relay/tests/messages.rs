//! Message push and pull: signed and unsigned, limits, the reference `since` cursor and the
//! lossless `after_seq` extension.

#[macro_use]
mod common;

use std::collections::HashSet;

use common::{header_map, message, start, start_with, Backend, Member};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

fn ids(reply: &Value) -> Vec<String> {
    reply["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["msg_id"].as_str().expect("msg_id").to_owned())
        .collect()
}

async fn signed_push_and_pull(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(1, "alice-node-0001");
    relay.register(&alice).await;
    let msgs = vec![message("msg-0000001", 10), message("msg-0000002", 11)];
    let reply = relay.push(&alice, &msgs).await;
    assert_eq!(
        reply.json,
        json!({"ok": true, "stored": 2, "server_time": relay.now()})
    );
    reply.assert_cors();
    // Pushing again stores nothing (first copy wins).
    let mut changed = message("msg-0000002", 99);
    changed["channel_id"] = json!("other");
    let reply = relay
        .push(&alice, &[changed, message("msg-0000003", 12)])
        .await;
    assert_eq!(reply.json["stored"], json!(1));

    let reply = relay.pull(&alice, "&since=0").await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    // Objects are returned whole and unchanged, without stored_at or seq.
    assert_eq!(
        reply.json["messages"],
        json!([msgs[0], msgs[1], message("msg-0000003", 12)])
    );
    // A since pull's server_time is the cursor its clients resume from: just below the
    // circle's next position (three messages stored in this second took now, now + 2, now + 4).
    assert_eq!(reply.json["server_time"], json!(relay.now() + 5));
    assert_eq!(reply.json["more"], json!(false));
    let cursor = reply.json["cursor"].as_i64().expect("cursor");
    assert!(cursor >= 3);
    relay.stop().await;
}

async fn payload_is_stored_exactly_as_received(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let body = format!(
        r#"{{"circle_hint":"{hint}","messages":[ {{"msg_id" : "exact-0001", "created_ts":1, "n":1.50, "u":"\u00e9", "deep":{{"b":[1, 2]}}}} ]}}"#
    );
    let reply = relay
        .send(
            Method::POST,
            "/v1/messages",
            Some(body.into_bytes()),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(reply.json["stored"], json!(1));
    let resp = relay
        .http
        .get(relay.url(&format!("/v1/messages?circle_hint={hint}")))
        .send()
        .await
        .expect("pull");
    let text = resp.text().await.expect("text");
    assert!(
        text.contains(r#"[{"msg_id" : "exact-0001", "created_ts":1, "n":1.50, "u":"\u00e9", "deep":{"b":[1, 2]}}]"#),
        "{text}"
    );
    relay.stop().await;
}

async fn unsigned_requests_are_served_by_default(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "web-node-0001").hint;
    let reply = relay
        .push_unsigned(&hint, &[message("web-msg-001", 5)], Some("web-node-0001"))
        .await;
    assert_eq!(reply.json["stored"], json!(1));
    let reply = relay
        .get(&format!("/v1/messages?circle_hint={hint}&since=0"))
        .await;
    assert_eq!(ids(&reply.json), vec!["web-msg-001"]);
    relay.stop().await;
}

async fn require_signatures_refuses_unsigned(backend: Backend) {
    let relay = start_with(&backend, |c| c.require_signatures = true).await;
    let alice = Member::new(1, "alice-node-0001");
    relay.register(&alice).await;
    relay
        .push_unsigned(
            &alice.hint,
            &[message("web-msg-001", 5)],
            Some(&alice.node_id),
        )
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    relay
        .get(&format!("/v1/messages?circle_hint={}", alice.hint))
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    let reply = relay.push(&alice, &[message("signed-0001", 5)]).await;
    assert_eq!(reply.json["stored"], json!(1));
    let reply = relay.pull(&alice, "").await;
    assert_eq!(ids(&reply.json), vec!["signed-0001"]);
    relay.stop().await;
}

async fn bad_signatures_are_refused_not_treated_as_unsigned(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(1, "alice-node-0001");
    let mallory = Member::new(2, "alice-node-0001");
    relay.register(&alice).await;
    let body = serde_json::to_vec(&json!({"circle_hint": alice.hint,
                                          "messages": [message("forged-001", 1)]}))
    .expect("json");
    // Wrong key.
    let headers = mallory.headers("POST", "/messages", &body, relay.now());
    relay
        .send(Method::POST, "/v1/messages", Some(body.clone()), headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    // Only some signature headers.
    relay
        .send(
            Method::POST,
            "/v1/messages",
            Some(body.clone()),
            header_map(&[("X-Felund-Node", &alice.node_id), ("X-Felund-Ts", "1")]),
        )
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    // Signed by a node that is not registered.
    let stranger = Member::new(1, "stranger-node-1");
    let headers = stranger.headers("POST", "/messages", &body, relay.now());
    relay
        .send(Method::POST, "/v1/messages", Some(body.clone()), headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    // Stale and replayed.
    let headers = alice.headers("POST", "/messages", &body, relay.now() - 400);
    relay
        .send(Method::POST, "/v1/messages", Some(body.clone()), headers)
        .await
        .assert_code(400, "EXPIRED_TIMESTAMP");
    let headers = alice.headers("POST", "/messages", &body, relay.now());
    let ok = relay
        .send(
            Method::POST,
            "/v1/messages",
            Some(body.clone()),
            headers.clone(),
        )
        .await;
    assert_eq!(ok.json["stored"], json!(1));
    relay
        .send(Method::POST, "/v1/messages", Some(body), headers)
        .await
        .assert_code(409, "NONCE_REPLAY");
    // Pull with a wrong signature.
    let q = format!("/v1/messages?circle_hint={}", alice.hint);
    let headers = mallory.headers("GET", "/messages", b"", relay.now());
    relay
        .send(Method::GET, &q, None, headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    relay.stop().await;
}

async fn push_limits(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let many: Vec<Value> = (0..51)
        .map(|i| message(&format!("msg-{i:08}"), 1))
        .collect();
    relay
        .push_unsigned(&hint, &many, None)
        .await
        .assert_detail(400, "Too many messages (max 50 per batch)");
    let reply = relay.push_unsigned(&hint, &many[..50], None).await;
    assert_eq!(reply.json["stored"], json!(50));

    let mut text_ok = message("text-ok-001", 1);
    text_ok["text"] = json!("é".repeat(2048)); // 4,096 bytes
    let mut text_big = message("text-big-01", 1);
    text_big["text"] = json!("a".repeat(4097));
    let mut negative = message("negative-01", 1);
    negative["created_ts"] = json!(-1);
    let mut float_ts = message("float-ts-01", 1);
    float_ts["created_ts"] = json!(1.5);
    let cases: Vec<(Value, &str)> = vec![
        (message("short", 1), "messages[1].msg_id is invalid"),
        (message(&"m".repeat(65), 1), "messages[1].msg_id is invalid"),
        (text_big, "messages[1].text exceeds 4 096 chars"),
        (
            negative,
            "messages[1].created_ts must be a non-negative integer",
        ),
        (
            float_ts,
            "messages[1].created_ts must be a non-negative integer",
        ),
        (json!("not an object"), "messages[1] must be an object"),
    ];
    for (bad, detail) in cases {
        let reply = relay
            .push_unsigned(&hint, &[message("fine-msg-01", 1), bad], None)
            .await;
        reply.assert_detail(400, detail);
        reply.assert_cors();
    }
    // A refused batch stores nothing.
    let reply = relay
        .get(&format!("/v1/messages?circle_hint={hint}&limit=500"))
        .await;
    assert!(!ids(&reply.json).contains(&"fine-msg-01".to_owned()));
    let reply = relay
        .push_unsigned(
            &hint,
            &[
                text_ok,
                message(&"m".repeat(64), 1),
                message("m".repeat(8).as_str(), 1),
            ],
            None,
        )
        .await;
    assert_eq!(reply.json["stored"], json!(3));

    let body = serde_json::to_vec(&json!({"circle_hint": hint, "messages": "x"})).expect("json");
    relay
        .send(Method::POST, "/v1/messages", Some(body), HeaderMap::new())
        .await
        .assert_detail(400, "'messages' must be an array");
    let body = serde_json::to_vec(&json!({"circle_hint": "short", "messages": []})).expect("json");
    relay
        .send(Method::POST, "/v1/messages", Some(body), HeaderMap::new())
        .await
        .assert_detail(400, "Field 'circle_hint' must be a string (8–128 chars)");
    relay
        .get("/v1/messages?since=0")
        .await
        .assert_detail(400, "Query param 'circle_hint' is required (8–128 chars)");
    relay
        .get(&format!("/v1/messages?circle_hint={hint}&after_seq=-1"))
        .await
        .assert_detail(
            400,
            "Query param 'after_seq' must be a non-negative integer",
        );
    relay.stop().await;
}

async fn pull_limit_is_clamped_like_the_reference(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    for batch in 0..12 {
        let msgs: Vec<Value> = (0..50)
            .map(|i| message(&format!("msg-{batch:03}-{i:04}"), 1))
            .collect();
        relay.push_unsigned(&hint, &msgs, None).await;
    }
    let base = format!("/v1/messages?circle_hint={hint}");
    for (query, expected) in [
        ("", 200),
        ("&limit=0", 1),
        ("&limit=-5", 1),
        ("&limit=abc", 1),
        ("&limit=7", 7),
        ("&limit=500", 500),
        ("&limit=100000", 500),
    ] {
        let reply = relay.get(&format!("{base}{query}")).await;
        assert_eq!(ids(&reply.json).len(), expected, "{query}");
        assert_eq!(reply.json["more"], json!(true), "{query}");
    }
    relay.stop().await;
}

async fn since_cursor_behaves_like_the_reference(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let t1 = relay.now();
    relay
        .push_unsigned(&hint, &[message("early-0001", 500)], None)
        .await;
    relay.clock.advance(3);
    let t2 = relay.now();
    relay
        .push_unsigned(&hint, &[message("early-0002", 1)], None)
        .await;
    relay.clock.advance(5);
    let t3 = relay.now();
    relay
        .push_unsigned(&hint, &[message("late-00001", 0)], None)
        .await;
    let base = format!("/v1/messages?circle_hint={hint}");

    // In a quiet circle a message's position is its storage time: messages stored after
    // `since`, oldest first, created_ts irrelevant.
    let all = relay.get(&format!("{base}&since={}", t1 - 1)).await;
    assert_eq!(
        ids(&all.json),
        vec!["early-0001", "early-0002", "late-00001"]
    );
    let late = relay.get(&format!("{base}&since={t2}")).await;
    assert_eq!(ids(&late.json), vec!["late-00001"]);
    let none = relay.get(&format!("{base}&since={t3}")).await;
    assert_eq!(ids(&none.json), Vec::<String>::new());
    // Just below the next free position: a message stored now, in this second, gets t3 + 2
    // (two past the last one), so `since = server_time` does not miss it.
    assert_eq!(none.json["server_time"], json!(t3 + 1));
    // An empty since-pull's cursor is the circle's highest seq; a page's is its last seq.
    assert_eq!(none.json["cursor"], all.json["cursor"]);
    assert_eq!(late.json["cursor"], all.json["cursor"]);
    assert_eq!(none.json["more"], json!(false));

    // The reference way (`since = server_time`) pages through a backlog larger than one page
    // instead of skipping it: a cut page's server_time is its last message's position + 1.
    let (mut since, mut got, mut pages) = (t1 - 1, Vec::new(), 0);
    loop {
        let page = relay.get(&format!("{base}&since={since}&limit=1")).await;
        got.extend(ids(&page.json));
        pages += 1;
        since = page.json["server_time"].as_i64().expect("server_time");
        if page.json["more"] == json!(false) {
            break;
        }
    }
    assert_eq!(got, vec!["early-0001", "early-0002", "late-00001"]);
    assert_eq!(pages, 3);
    // The extension cursor pages the same way.
    let page = relay.get(&format!("{base}&since={}&limit=1", t1 - 1)).await;
    let next = relay
        .get(&format!("{base}&after_seq={}&limit=5", page.json["cursor"]))
        .await;
    assert_eq!(ids(&next.json), vec!["early-0002", "late-00001"]);
    assert_eq!(next.json["more"], json!(false));
    relay.stop().await;
}

async fn after_seq_pages_1200_messages_exactly_once(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(9, "alice-node-0001");
    relay.register(&alice).await;
    let other_hint = Member::new(10, "x-node-00001").hint;
    for batch in 0..24 {
        let msgs: Vec<Value> = (0..50)
            .map(|i| message(&format!("m-{batch:03}-{i:05}"), 1))
            .collect();
        let reply = relay.push(&alice, &msgs).await;
        assert_eq!(reply.json["stored"], json!(50));
        // Another circle's traffic interleaves with ours.
        relay
            .push_unsigned(
                &other_hint,
                &[message(&format!("other-{batch:05}"), 1)],
                None,
            )
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor = 0_i64;
    let mut pages = 0;
    loop {
        let reply = relay
            .pull(&alice, &format!("&after_seq={cursor}&limit=500"))
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        let page = ids(&reply.json);
        assert!(page.len() <= 500);
        seen.extend(page);
        pages += 1;
        let next = reply.json["cursor"].as_i64().expect("cursor");
        assert!(next >= cursor);
        cursor = next;
        if !reply.json["more"].as_bool().expect("more") {
            break;
        }
        assert!(pages < 10, "runaway paging");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 1200);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 1200);
    assert!(seen.iter().all(|id| id.starts_with("m-")));
    // In storage order.
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    // Nothing new: the cursor stays put.
    let reply = relay.pull(&alice, &format!("&after_seq={cursor}")).await;
    assert!(ids(&reply.json).is_empty());
    assert_eq!(reply.json["cursor"], json!(cursor));
    assert_eq!(reply.json["more"], json!(false));
    // New messages continue from there.
    relay.push(&alice, &[message("m-late-00001", 1)]).await;
    let reply = relay.pull(&alice, &format!("&after_seq={cursor}")).await;
    assert_eq!(ids(&reply.json), vec!["m-late-00001"]);
    relay.stop().await;
}

async fn retention_after_30_days(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    relay
        .push_unsigned(&hint, &[message("old-msg-001", 1)], None)
        .await;
    relay.clock.advance(30 * 24 * 3600 - 1);
    relay
        .push_unsigned(&hint, &[message("new-msg-001", 1)], None)
        .await;
    let base = format!("/v1/messages?circle_hint={hint}");
    assert_eq!(ids(&relay.get(&base).await.json).len(), 2);
    relay.clock.advance(1);
    assert_eq!(ids(&relay.get(&base).await.json), vec!["new-msg-001"]);
    use felund_relay::store::PrunePolicy;
    let report = relay
        .store
        .prune(
            relay.now(),
            PrunePolicy {
                nonce_window_s: 300,
                rate_window_s: 10,
            },
        )
        .await
        .expect("prune");
    assert_eq!(report.messages, 1, "{report:?}");
    relay.stop().await;
}

on_both_backends!(
    signed_push_and_pull,
    payload_is_stored_exactly_as_received,
    unsigned_requests_are_served_by_default,
    require_signatures_refuses_unsigned,
    bad_signatures_are_refused_not_treated_as_unsigned,
    push_limits,
    pull_limit_is_clamped_like_the_reference,
    since_cursor_behaves_like_the_reference,
    after_seq_pages_1200_messages_exactly_once,
    retention_after_30_days,
);
