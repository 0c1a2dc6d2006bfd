//! Every header the relay reads is bounded: oversized nonces (once stored for 300 s), node ids,
//! timestamps, signatures, forwarded-for values and whole request heads are refused before the
//! store sees them; honest signed requests beside them still pass.

#[macro_use]
mod common;

use common::{random_hex, start, Backend, Member};
use reqwest::Method;
use serde_json::json;

async fn an_oversized_nonce_is_refused_and_never_stored(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(1, "alice-node-0001");
    relay.register(&alice).await;
    let q = format!("/v1/peers?circle_hint={}", alice.hint);
    for (len, status) in [(60_000, 401), (65, 401), (64, 200), (32, 200)] {
        let nonce = "n".repeat(len - 8) + &random_hex(4);
        let headers = alice.headers_with("GET", "/peers", b"", relay.now(), &nonce);
        let reply = relay.send(Method::GET, &q, None, headers).await;
        assert_eq!(reply.status, status, "nonce of {len}: {:?}", reply.json);
        let stored = relay.store.nonce_seen(&nonce, 0).await.expect("store");
        assert_eq!(stored, status == 200, "nonce of {len} stored: {stored}");
    }
    relay.stop().await;
}

async fn oversized_signature_headers_are_refused(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(2, "alice-node-0001");
    relay.register(&alice).await;
    let q = format!("/v1/peers?circle_hint={}", alice.hint);
    let cases: [(&str, String); 4] = [
        ("x-felund-node", "n".repeat(129)),
        ("x-felund-ts", "1".repeat(40)),
        ("x-felund-signature", "a".repeat(65)),
        ("x-felund-signature", "z".repeat(64)),
    ];
    for (name, value) in cases {
        let mut headers = alice.headers("GET", "/peers", b"", relay.now());
        headers.insert(name, value.parse().expect("hv"));
        relay
            .send(Method::GET, &q, None, headers)
            .await
            .assert_code(401, "INVALID_SIGNATURE");
    }
    // Positive control: the same request, honest, passes.
    let headers = alice.headers("GET", "/peers", b"", relay.now());
    assert_eq!(relay.send(Method::GET, &q, None, headers).await.status, 200);
    relay.stop().await;
}

async fn a_huge_request_head_is_refused_by_the_server(backend: Backend) {
    let relay = start(&backend).await;
    let headers = common::header_map(&[("x-filler", &"f".repeat(100_000))]);
    let reply = relay.send(Method::GET, "/v1/health", None, headers).await;
    assert_eq!(reply.status, 431, "{:?}", reply.json);
    assert_eq!(relay.get("/v1/health").await.status, 200);
    relay.stop().await;
}

async fn an_oversized_forwarded_for_is_not_echoed(backend: Backend) {
    let relay = start(&backend).await;
    let alice = Member::new(3, "alice-node-0001");
    let body = serde_json::to_vec(&alice.register_body()).expect("json");
    let mut headers = alice.headers("POST", "/register", &body, relay.now());
    headers.insert("x-forwarded-for", "h".repeat(300).parse().expect("hv"));
    let reply = relay
        .send(Method::POST, "/v1/register", Some(body), headers)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["observed_host"], json!(null));
    relay.stop().await;
}

on_both_backends!(
    an_oversized_nonce_is_refused_and_never_stored,
    oversized_signature_headers_are_refused,
    a_huge_request_head_is_refused_by_the_server,
    an_oversized_forwarded_for_is_not_echoed,
);
