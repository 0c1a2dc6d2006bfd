//! Register, peers and unregister, with signatures and the reference's validation rules.

#[macro_use]
mod common;

use common::{header_map, random_hex, start, Backend, Member};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

async fn register_lookup_unregister(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(1, "alice-node-0001");
    let bob = Member::new(1, "bob-node-0002");

    let reply = relay.register(&alice).await;
    let now = relay.now();
    assert_eq!(
        reply.json,
        json!({"ok": true, "server_time": now, "expires_at": now + 120,
               "observed_host": {"host": "127.0.0.1", "family": "ipv4"}})
    );
    reply.assert_cors();
    relay.clock.advance(2);
    relay.register(&bob).await;

    // Alice sees Bob (not herself), with capabilities reduced to relay + transport.
    let q = format!("?circle_hint={}", alice.hint);
    let reply = relay.signed(&alice, Method::GET, "/peers", &q, None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(
        reply.json,
        json!({"ok": true, "peers": [{
            "node_id": bob.node_id, "circle_hint": bob.hint,
            "endpoints": [{"transport": "tcp", "host": "10.1.2.3", "port": 9999,
                           "family": "ipv4", "nat": "unknown"}],
            "capabilities": {"relay": false, "transport": ["tcp"]},
            "observed_at": now + 2, "expires_at": now + 122,
        }]})
    );

    // A third node sees both, newest first; limit is clamped to 1..200.
    let carol = Member::new(1, "carol-node-003");
    relay.register(&carol).await;
    let reply = relay.signed(&carol, Method::GET, "/peers", &q, None).await;
    let ids: Vec<&str> = peer_ids(&reply.json);
    assert_eq!(ids, vec![bob.node_id.as_str(), alice.node_id.as_str()]);
    let reply = relay
        .signed(&carol, Method::GET, "/peers", &format!("{q}&limit=0"), None)
        .await;
    assert_eq!(peer_ids(&reply.json), vec![bob.node_id.as_str()]);

    // Unregister (signed, key of the body's node).
    let body = json!({"node_id": bob.node_id, "circle_hint": bob.hint});
    let reply = relay
        .signed(&bob, Method::DELETE, "/register", "", Some(&body))
        .await;
    assert_eq!(reply.json, json!({"ok": true, "removed": true}));
    let reply = relay.signed(&carol, Method::GET, "/peers", &q, None).await;
    assert_eq!(peer_ids(&reply.json), vec![alice.node_id.as_str()]);

    // Expired registrations are not listed, and their keys no longer sign.
    relay.clock.advance(121);
    relay.register(&carol).await;
    let reply = relay.signed(&carol, Method::GET, "/peers", &q, None).await;
    assert_eq!(reply.json, json!({"ok": true, "peers": []}));
    let reply = relay.signed(&alice, Method::GET, "/peers", &q, None).await;
    reply.assert_code(401, "INVALID_SIGNATURE");
    relay.stop().await;
}

fn peer_ids(json: &Value) -> Vec<&str> {
    json["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .map(|p| p["node_id"].as_str().expect("id"))
        .collect()
}

async fn path_prefix_and_signature_use_the_routed_path(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(2, "alice-node-0001");
    let body = serde_json::to_vec(&alice.register_body()).expect("json");
    let headers = alice.headers("POST", "/register", &body, relay.now());
    let reply = relay
        .send(Method::POST, "/api/v1/register/", Some(body), headers)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let q = format!("/felund/api/v1/peers?circle_hint={}", alice.hint);
    let headers = alice.headers("GET", "/peers", b"", relay.now());
    let reply = relay.send(Method::GET, &q, None, headers).await;
    assert_eq!(reply.json, json!({"ok": true, "peers": []}));
    relay.stop().await;
}

/// The reference relays let an unsigned register erase the stored key (locking the node out);
/// here it only lands in the unsigned partition (answered 200 as before) and the key stays.
async fn unsigned_register_cannot_erase_the_key(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(3, "alice-node-0001");
    let bob = Member::new(3, "bob-node-000002");
    relay.register(&alice).await;
    relay.register(&bob).await;
    let mut body = alice.register_body();
    body.as_object_mut().expect("obj").remove("signing_key");
    body["endpoints"] = json!([{"transport": "tcp", "host": "6.6.6.6", "port": 666}]);
    let reply = relay
        .send(
            Method::POST,
            "/v1/register",
            Some(serde_json::to_vec(&body).expect("json")),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(reply.status, 200);
    let q = format!("?circle_hint={}", alice.hint);
    let reply = relay.signed(&alice, Method::GET, "/peers", &q, None).await;
    assert_eq!(peer_ids(&reply.json), vec![bob.node_id.as_str()]);
    // Bob still sees Alice at her own endpoint, not the unsigned one.
    let reply = relay.signed(&bob, Method::GET, "/peers", &q, None).await;
    assert_eq!(peer_ids(&reply.json), vec![alice.node_id.as_str()]);
    assert_eq!(
        reply.json["peers"][0]["endpoints"][0]["host"],
        json!("10.1.2.3")
    );
    relay.stop().await;
}

async fn signature_failures_in_reference_order(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(4, "alice-node-0001");
    let mallory = Member::new(5, "alice-node-0001"); // same node id, other circle key
    relay.register(&alice).await;
    let q = format!("/v1/peers?circle_hint={}", alice.hint);

    // Missing headers (all, or any one of ts/nonce/signature).
    let reply = relay.get(&q).await;
    reply.assert_code(401, "INVALID_SIGNATURE");
    reply.assert_cors();
    let mut partial = alice.headers("GET", "/peers", b"", relay.now());
    partial.remove("x-felund-signature");
    relay
        .send(Method::GET, &q, None, partial)
        .await
        .assert_code(401, "INVALID_SIGNATURE");

    // Wrong key.
    let headers = mallory.headers("GET", "/peers", b"", relay.now());
    relay
        .send(Method::GET, &q, None, headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");

    // Signature over another path or body.
    let headers = alice.headers("GET", "/messages", b"", relay.now());
    relay
        .send(Method::GET, &q, None, headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");

    // Stale and future timestamps (checked before the key: unknown node gets 400 too).
    for ts in [relay.now() - 301, relay.now() + 301] {
        let headers = alice.headers("GET", "/peers", b"", ts);
        relay
            .send(Method::GET, &q, None, headers)
            .await
            .assert_code(400, "EXPIRED_TIMESTAMP");
    }
    let stranger = Member::new(4, "stranger-node-09");
    let headers = stranger.headers("GET", "/peers", b"", relay.now() - 1000);
    relay
        .send(Method::GET, &q, None, headers)
        .await
        .assert_code(400, "EXPIRED_TIMESTAMP");
    // 300 s away is still fine.
    let headers = alice.headers("GET", "/peers", b"", relay.now() - 300);
    assert_eq!(relay.send(Method::GET, &q, None, headers).await.status, 200);

    // Unknown node (no registration in this circle).
    let headers = stranger.headers("GET", "/peers", b"", relay.now());
    relay
        .send(Method::GET, &q, None, headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    // No X-Felund-Node at all.
    let mut headers = alice.headers("GET", "/peers", b"", relay.now());
    headers.remove("x-felund-node");
    relay
        .send(Method::GET, &q, None, headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");

    // Replayed nonce: 409, even with an otherwise bad request; a failed request does not
    // burn its nonce.
    let nonce = random_hex(16);
    let ts = relay.now();
    let bad = mallory.headers_with("GET", "/peers", b"", ts, &nonce);
    relay
        .send(Method::GET, &q, None, bad)
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    let good = alice.headers_with("GET", "/peers", b"", ts, &nonce);
    assert_eq!(
        relay.send(Method::GET, &q, None, good.clone()).await.status,
        200
    );
    relay
        .send(Method::GET, &q, None, good)
        .await
        .assert_code(409, "NONCE_REPLAY");
    let other = stranger.headers_with("GET", "/peers", b"", ts, &nonce);
    relay
        .send(Method::GET, &q, None, other)
        .await
        .assert_code(409, "NONCE_REPLAY");

    // Uppercase hex signatures are accepted.
    let mut headers = alice.headers("GET", "/peers", b"", relay.now());
    let upper = headers["x-felund-signature"]
        .to_str()
        .expect("sig")
        .to_uppercase();
    headers.insert("x-felund-signature", upper.parse().expect("hv"));
    assert_eq!(relay.send(Method::GET, &q, None, headers).await.status, 200);
    relay.stop().await;
}

async fn register_must_be_signed_with_the_given_key(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(6, "alice-node-0001");
    let other = Member::new(7, "alice-node-0001");
    let body = serde_json::to_vec(&alice.register_body()).expect("json");
    // No headers at all.
    relay
        .send(
            Method::POST,
            "/v1/register",
            Some(body.clone()),
            HeaderMap::new(),
        )
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    // Signed with another key.
    let headers = other.headers("POST", "/register", &body, relay.now());
    relay
        .send(Method::POST, "/v1/register", Some(body), headers)
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    // Unregister needs the stored key of the body's node.
    let body = json!({"node_id": alice.node_id, "circle_hint": alice.hint});
    relay
        .signed(&alice, Method::DELETE, "/register", "", Some(&body))
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    relay.register(&alice).await;
    relay
        .signed(&other, Method::DELETE, "/register", "", Some(&body))
        .await
        .assert_code(401, "INVALID_SIGNATURE");
    let reply = relay
        .signed(&alice, Method::DELETE, "/register", "", Some(&body))
        .await;
    assert_eq!(reply.json, json!({"ok": true, "removed": true}));
    relay.stop().await;
}

async fn register_validation(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(8, "alice-node-0001");
    let ep = json!({"transport": "tcp", "host": "h", "port": 1});
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"circle_hint": alice.hint}),
            "Field 'node_id' must be a string (8–128 chars)",
        ),
        (
            json!({"node_id": "short", "circle_hint": alice.hint}),
            "Field 'node_id' must be a string (8–128 chars)",
        ),
        (
            json!({"node_id": "n".repeat(129), "circle_hint": alice.hint}),
            "Field 'node_id' must be a string (8–128 chars)",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": 12345678}),
            "Field 'circle_hint' must be a string (8–128 chars)",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "ttl_s": 29}),
            "Field 'ttl_s' must be an integer between 30 and 600",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "ttl_s": 601}),
            "Field 'ttl_s' must be an integer between 30 and 600",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "ttl_s": "60"}),
            "Field 'ttl_s' must be an integer between 30 and 600",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "endpoints": vec![ep.clone(); 17]}),
            "Too many endpoints (max 16)",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "endpoints": [{"transport": "tcp", "host": "h", "port": 70000}]}),
            "endpoints[0].port must be 1–65535",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "endpoints": [ep, {"transport": "tcp", "host": "h", "port": 0}]}),
            "endpoints[1].port must be 1–65535",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "endpoints": [{"transport": "tcp", "host": "h".repeat(256), "port": 1}]}),
            "endpoints[0].host is invalid",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "capabilities": 5}),
            "'capabilities' must be an object",
        ),
        (
            json!({"node_id": alice.node_id, "circle_hint": alice.hint, "signing_key": "abc"}),
            "Field 'signing_key' must be a 64-char hex string",
        ),
    ];
    for (body, detail) in cases {
        let reply = relay
            .send(
                Method::POST,
                "/v1/register",
                Some(serde_json::to_vec(&body).expect("json")),
                HeaderMap::new(),
            )
            .await;
        reply.assert_detail(400, detail);
        reply.assert_cors();
    }
    // 16 endpoints and the TTL bounds are fine.
    let ep = json!({"transport": "ws", "host": "h", "port": 65535, "family": "ipv6", "nat": "symmetric"});
    for ttl in [30, 600] {
        let body = json!({"node_id": alice.node_id, "circle_hint": alice.hint,
                          "endpoints": vec![ep.clone(); 16], "ttl_s": ttl});
        let reply = relay
            .send(
                Method::POST,
                "/v1/register",
                Some(serde_json::to_vec(&body).expect("json")),
                header_map(&[("X-Forwarded-For", "203.0.113.9, 10.0.0.1")]),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        assert_eq!(reply.json["expires_at"], json!(relay.now() + ttl));
        assert_eq!(
            reply.json["observed_host"],
            json!({"host": "203.0.113.9", "family": "ipv4"})
        );
    }
    // Query validation on peers comes before the signature check.
    relay
        .get("/v1/peers?circle_hint=short")
        .await
        .assert_detail(400, "Query param 'circle_hint' is required (8–128 chars)");
    relay.stop().await;
}

on_both_backends!(
    register_lookup_unregister,
    path_prefix_and_signature_use_the_routed_path,
    unsigned_register_cannot_erase_the_key,
    signature_failures_in_reference_order,
    register_must_be_signed_with_the_given_key,
    register_validation,
);
