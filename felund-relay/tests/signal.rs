//! WebRTC signalling: round trip, cursors, filters, TTLs, expiry and the rate limit. Time is
//! moved with the injected clock; nothing sleeps.

#[macro_use]
mod common;

use common::{start, start_with, Backend, Relay};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

const ALICE: &str = "alice-node-0001";
const BOB: &str = "bob-node-000002";
const HINT: &str = "circlehint000001";

fn signal(from: &str, to: &str, session: &str, kind: &str, payload: &str) -> Value {
    json!({"session_id": session, "from_node_id": from, "to_node_id": to,
           "circle_hint": HINT, "type": kind, "payload": payload})
}

async fn post(relay: &Relay, body: &Value) -> common::Reply {
    post_with(relay, body, HeaderMap::new()).await
}

async fn post_with(relay: &Relay, body: &Value, headers: HeaderMap) -> common::Reply {
    relay
        .send(
            Method::POST,
            "/v1/signal",
            Some(serde_json::to_vec(body).expect("json")),
            headers,
        )
        .await
}

async fn poll(relay: &Relay, query: &str) -> Vec<Value> {
    let reply = relay.get(&format!("/v1/signal?{query}")).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json["server_time"], json!(relay.now()));
    reply.json["signals"].as_array().expect("signals").clone()
}

async fn round_trip_between_two_nodes(backend: Backend) {
    let relay = start(&backend).await;
    let reply = post(
        &relay,
        &signal(ALICE, BOB, "session-0001", "offer", "sdp-offer"),
    )
    .await;
    assert_eq!(reply.json, json!({"ok": true, "server_time": relay.now()}));
    reply.assert_cors();
    let got = poll(&relay, &format!("to_node_id={BOB}")).await;
    assert_eq!(got.len(), 1);
    let id = got[0]["id"].as_i64().expect("id");
    assert_eq!(
        got[0],
        json!({"id": id, "session_id": "session-0001", "from_node": ALICE, "to_node": BOB,
               "type": "offer", "payload": "sdp-offer", "created_at": relay.now()})
    );
    assert!(poll(&relay, &format!("to_node_id={ALICE}"))
        .await
        .is_empty());

    post(
        &relay,
        &signal(BOB, ALICE, "session-0001", "answer", "sdp-answer"),
    )
    .await;
    for i in 0..3 {
        post(
            &relay,
            &signal(
                BOB,
                ALICE,
                "session-0001",
                "candidate",
                &format!("cand-{i}"),
            ),
        )
        .await;
    }
    let got = poll(&relay, &format!("to_node_id={ALICE}")).await;
    let kinds: Vec<&str> = got
        .iter()
        .map(|s| s["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, vec!["answer", "candidate", "candidate", "candidate"]);
    let ids: Vec<i64> = got.iter().map(|s| s["id"].as_i64().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]) && ids[0] > id);

    // since_id cursor.
    let after = poll(&relay, &format!("to_node_id={ALICE}&since_id={}", ids[1])).await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["payload"], json!("cand-1"));
    assert!(
        poll(&relay, &format!("to_node_id={ALICE}&since_id={}", ids[3]))
            .await
            .is_empty()
    );
    assert_eq!(
        poll(&relay, &format!("to_node_id={ALICE}&since_id=junk"))
            .await
            .len(),
        4
    );
    relay.stop().await;
}

async fn session_filter_and_media_types(backend: Backend) {
    let relay = start(&backend).await;
    post(
        &relay,
        &signal(ALICE, BOB, "session-aaaa", "media-offer", "a"),
    )
    .await;
    post(
        &relay,
        &signal(ALICE, BOB, "session-bbbb", "media-answer", "b"),
    )
    .await;
    post(
        &relay,
        &signal(ALICE, BOB, "session-aaaa", "media-candidate", "c"),
    )
    .await;
    let got = poll(&relay, &format!("to_node_id={BOB}&session_id=session-aaaa")).await;
    let payloads: Vec<&str> = got
        .iter()
        .map(|s| s["payload"].as_str().expect("p"))
        .collect();
    assert_eq!(payloads, vec!["a", "c"]);
    assert_eq!(
        poll(&relay, &format!("to_node_id={BOB}&session_id="))
            .await
            .len(),
        3
    );
    relay.stop().await;
}

async fn ttl_rules_and_expiry(backend: Backend) {
    let relay = start(&backend).await;
    let cases = [
        ("offer", None, 120),
        ("candidate", None, 60),
        ("answer", Some(json!(1000)), 120),
        ("media-candidate", Some(json!(1000)), 60),
        ("offer", Some(json!(1)), 10),
        ("answer", Some(json!(30)), 30),
        ("offer", Some(json!("30")), 120),
    ];
    let start_time = relay.now();
    for (i, (kind, ttl, _)) in cases.iter().enumerate() {
        let mut body = signal(
            ALICE,
            &format!("target-node-{i:02}"),
            "session-ttl1",
            kind,
            "p",
        );
        if let Some(ttl) = ttl {
            body["ttl_s"] = ttl.clone();
        }
        assert_eq!(post(&relay, &body).await.status, 200);
    }
    for (i, (kind, _, ttl)) in cases.iter().enumerate() {
        let query = format!("to_node_id=target-node-{i:02}");
        relay.clock.set(start_time + ttl - 1);
        assert_eq!(poll(&relay, &query).await.len(), 1, "{kind} alive at ttl-1");
        relay.clock.set(start_time + ttl);
        assert!(
            poll(&relay, &query).await.is_empty(),
            "{kind} expired at ttl"
        );
    }
    // The retention pass removes expired signals.
    use felund_relay::store::PrunePolicy;
    let report = relay
        .store
        .prune(
            start_time + 120,
            PrunePolicy {
                nonce_window_s: 300,
                rate_window_s: 10,
            },
        )
        .await
        .expect("prune");
    assert_eq!(report.signals, cases.len());
    relay.stop().await;
}

async fn rate_limit_is_20_per_10_seconds_per_sender(backend: Backend) {
    let relay = start(&backend).await;
    for i in 0..20 {
        let reply = post(
            &relay,
            &signal(ALICE, BOB, "session-rate", "candidate", &i.to_string()),
        )
        .await;
        assert_eq!(reply.status, 200, "request {i}");
    }
    let reply = post(
        &relay,
        &signal(ALICE, BOB, "session-rate", "candidate", "x"),
    )
    .await;
    reply.assert_detail(429, "Rate limit exceeded — retry after 10s");
    assert_eq!(reply.header("retry-after"), Some("10"));
    reply.assert_cors();
    // Another sender is not affected; refused requests stored nothing.
    assert_eq!(
        post(&relay, &signal(BOB, ALICE, "session-rate", "offer", "y"))
            .await
            .status,
        200
    );
    assert_eq!(poll(&relay, &format!("to_node_id={BOB}")).await.len(), 20);
    relay.clock.advance(9);
    assert_eq!(
        post(&relay, &signal(ALICE, BOB, "session-rate", "offer", "z"))
            .await
            .status,
        429
    );
    relay.clock.advance(1);
    assert_eq!(
        post(&relay, &signal(ALICE, BOB, "session-rate", "offer", "z"))
            .await
            .status,
        200
    );
    relay.stop().await;
}

async fn configurable_rate_limit(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.signal_rate_limit = 2;
        c.signal_rate_window_s = 5;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            post(&relay, &signal(ALICE, BOB, "session-rate", "offer", "p"))
                .await
                .status,
            200
        );
    }
    let reply = post(&relay, &signal(ALICE, BOB, "session-rate", "offer", "p")).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("5"));
    relay.stop().await;
}

async fn validation(backend: Backend) {
    let relay = start(&backend).await;
    let good = signal(ALICE, BOB, "session-0001", "offer", "p");
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let cases = vec![
        (
            with("session_id", json!("short")),
            "session_id must be a string (8–256 chars)",
        ),
        (
            with("session_id", json!("s".repeat(257))),
            "session_id must be a string (8–256 chars)",
        ),
        (
            with("from_node_id", json!("short")),
            "from_node_id required (8+ chars)",
        ),
        (
            with("to_node_id", json!(12345678)),
            "to_node_id required (8+ chars)",
        ),
        (
            with("circle_hint", json!("short")),
            "circle_hint required (8+ chars)",
        ),
        (
            with("type", json!("hangup")),
            "type must be offer, answer, candidate, media-offer, media-answer, or media-candidate",
        ),
        (
            with("payload", json!("p".repeat(65_537))),
            "payload must be a string (max 64 KB)",
        ),
        (
            with("payload", json!({"sdp": "x"})),
            "payload must be a string (max 64 KB)",
        ),
    ];
    for (body, detail) in cases {
        post(&relay, &body).await.assert_detail(400, detail);
    }
    assert_eq!(
        post(&relay, &with("payload", json!("p".repeat(65_536))))
            .await
            .status,
        200
    );
    relay
        .get("/v1/signal?to_node_id=short")
        .await
        .assert_detail(400, "to_node_id required (8+ chars)");
    relay.stop().await;
}

async fn poll_returns_at_most_200(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.signal_rate_limit = 1000;
        c.signal_posts_per_address = 0;
    })
    .await;
    for i in 0..205 {
        post(
            &relay,
            &signal(ALICE, BOB, "session-many", "candidate", &i.to_string()),
        )
        .await;
    }
    let first = poll(&relay, &format!("to_node_id={BOB}")).await;
    assert_eq!(first.len(), 200);
    let last_id = first[199]["id"].as_i64().expect("id");
    let rest = poll(&relay, &format!("to_node_id={BOB}&since_id={last_id}")).await;
    assert_eq!(rest.len(), 5);
    relay.stop().await;
}

/// The reference limits only per caller-chosen `from_node_id`: rotating it let one client post
/// without end. The client address is limited too.
async fn rotating_from_node_id_is_limited_per_address(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.signal_posts_per_address = 30;
    })
    .await;
    let outsider = common::header_map(&[("X-Forwarded-For", "203.0.113.66")]);
    let big = "p".repeat(60_000);
    for i in 0..30 {
        let body = signal(
            &format!("rotating-{i:06}"),
            BOB,
            "session-flood",
            "offer",
            &big,
        );
        let reply = post_with(&relay, &body, outsider.clone()).await;
        assert_eq!(reply.status, 200, "post {i}");
    }
    let body = signal("rotating-999999", BOB, "session-flood", "offer", &big);
    let reply = post_with(&relay, &body, outsider).await;
    assert_eq!(reply.status, 429);
    assert!(reply.json["detail"]
        .as_str()
        .expect("detail")
        .starts_with("Too many signals"));
    assert!(reply.header("retry-after").is_some());
    // Another address is not affected.
    let other = common::header_map(&[("X-Forwarded-For", "198.51.100.10")]);
    let reply = post_with(
        &relay,
        &signal(ALICE, BOB, "session-0001", "offer", "p"),
        other,
    )
    .await;
    assert_eq!(reply.status, 200);
    relay.stop().await;
}

/// Positive control for the defaults: five web clients behind one address (127.0.0.1 here)
/// each spend their whole budget (20 posts per 10 s), and no more fits.
async fn five_web_clients_behind_one_address_fit_the_signal_budget(backend: Backend) {
    let relay = start(&backend).await;
    for node in 0..5 {
        for i in 0..20 {
            let from = format!("web-client-{node:04}");
            let reply = post(
                &relay,
                &signal(&from, BOB, "session-nat1", "candidate", &i.to_string()),
            )
            .await;
            assert_eq!(reply.status, 200, "node {node} post {i}");
        }
    }
    let reply = post(
        &relay,
        &signal("web-client-0005", BOB, "session-nat1", "offer", "x"),
    )
    .await;
    assert_eq!(reply.status, 429);
    relay.clock.advance(10);
    let reply = post(
        &relay,
        &signal("web-client-0005", BOB, "session-nat1", "offer", "x"),
    )
    .await;
    assert_eq!(reply.status, 200);
    relay.stop().await;
}

async fn id_fields_are_bounded(backend: Backend) {
    let relay = start(&backend).await;
    let long = "n".repeat(129);
    for (key, detail) in [
        ("from_node_id", "from_node_id too long (max 128 chars)"),
        ("to_node_id", "to_node_id too long (max 128 chars)"),
        ("circle_hint", "circle_hint too long (max 128 chars)"),
    ] {
        let mut body = signal(ALICE, BOB, "session-0001", "offer", "p");
        body[key] = json!(long);
        post(&relay, &body).await.assert_detail(400, detail);
        body[key] = json!("n".repeat(128));
        assert_eq!(post(&relay, &body).await.status, 200, "{key} of 128");
    }
    relay
        .get(&format!("/v1/signal?to_node_id={long}"))
        .await
        .assert_detail(400, "to_node_id too long (max 128 chars)");
    relay
        .get(&format!(
            "/v1/signal?to_node_id={BOB}&session_id={}",
            "s".repeat(257)
        ))
        .await
        .assert_detail(400, "session_id too long (max 256 chars)");
    relay.stop().await;
}

/// Polls are bounded in bytes as well as count (200 signals of 64 KB were 12.8 MB per poll):
/// the `since_id` cursor pages through the rest, each signal exactly once.
async fn polls_are_bounded_in_bytes_and_page_on(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.signal_rate_limit = 1000;
        c.signal_posts_per_address = 0;
    })
    .await;
    let big = "p".repeat(60_000);
    for i in 0..40 {
        let body = signal(
            &format!("sender-{i:06}"),
            BOB,
            "session-big1",
            "offer",
            &big,
        );
        assert_eq!(post(&relay, &body).await.status, 200);
    }
    let (mut seen, mut since, mut polls) = (Vec::new(), 0, 0);
    loop {
        let got = poll(&relay, &format!("to_node_id={BOB}&since_id={since}")).await;
        if got.is_empty() {
            break;
        }
        let bytes: usize = got
            .iter()
            .map(|s| s["payload"].as_str().expect("p").len())
            .sum();
        assert!(
            bytes <= felund_relay::limits::SIGNAL_POLL_MAX_BYTES,
            "{bytes}"
        );
        seen.extend(
            got.iter()
                .map(|s| s["from_node"].as_str().expect("from").to_owned()),
        );
        since = got.last().expect("last")["id"].as_i64().expect("id");
        polls += 1;
        assert!(polls < 10, "runaway polling");
    }
    assert!(polls >= 3, "{polls}");
    let expected: Vec<String> = (0..40).map(|i| format!("sender-{i:06}")).collect();
    assert_eq!(seen, expected);
    relay.stop().await;
}

on_both_backends!(
    polls_are_bounded_in_bytes_and_page_on,
    rotating_from_node_id_is_limited_per_address,
    five_web_clients_behind_one_address_fit_the_signal_budget,
    id_fields_are_bounded,
    round_trip_between_two_nodes,
    session_filter_and_media_types,
    ttl_rules_and_expiry,
    rate_limit_is_20_per_10_seconds_per_sender,
    configurable_rate_limit,
    validation,
    poll_returns_at_most_200,
);
