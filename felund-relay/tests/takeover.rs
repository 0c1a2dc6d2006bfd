//! Presence takeover attempts. An outsider knows a circle's hint and its members' node ids but
//! not the circle secret, so it can only sign with keys of its own. Presence is partitioned by
//! signing key: whatever it registers lands in its own partition and never replaces, erases,
//! redirects or lists among the members' records. Each attack sits beside a positive control
//! showing the members still register, look each other up and unregister.

#[macro_use]
mod common;

use common::{start_with, Backend, Member, Relay};
use reqwest::Method;
use serde_json::json;

const MEMBERS_ADDR: &str = "198.51.100.10";
const OUTSIDER_ADDR: &str = "203.0.113.66";

/// A relay that takes the client address from `X-Forwarded-For`, so one test can play several
/// addresses from 127.0.0.1.
async fn relay(backend: &Backend) -> Relay {
    start_with(backend, |c| c.trust_forwarded_for = true).await
}

/// The outsider's view of `member`: same node id and hint, its own key.
fn squatter(member: &Member) -> Member {
    Member {
        key: [0x66; 32],
        ..member.clone()
    }
}

async fn an_outsiders_key_cannot_replace_a_members_registration(backend: Backend) {
    let relay = relay(&backend).await;
    let alice = Member::new(1, "alice-node-0001");
    let bob = Member::new(1, "bob-node-000002");
    assert_eq!(
        relay.register_from(Some(MEMBERS_ADDR), &alice).await.status,
        200
    );
    assert_eq!(
        relay.register_from(Some(MEMBERS_ADDR), &bob).await.status,
        200
    );

    // The outsider re-registers Alice's node id with its own key and another endpoint.
    let mallory = squatter(&alice);
    let mut body = mallory.register_body();
    body["endpoints"] = json!([{"transport": "tcp", "host": "6.6.6.6", "port": 666}]);
    let reply = relay
        .signed_from(
            Some(OUTSIDER_ADDR),
            &mallory,
            Method::POST,
            "/register",
            "",
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);

    // Alice is not locked out, and Bob still finds her at her own endpoint.
    assert_eq!(relay.peer_ids(&alice).await, vec![bob.node_id.clone()]);
    let q = format!("?circle_hint={}", bob.hint);
    let reply = relay.signed(&bob, Method::GET, "/peers", &q, None).await;
    assert_eq!(reply.json["peers"][0]["node_id"], json!(alice.node_id));
    assert_eq!(
        reply.json["peers"][0]["endpoints"][0]["host"],
        json!("10.1.2.3")
    );
    // Alice's own refresh and signed message requests keep working.
    assert_eq!(
        relay.register_from(Some(MEMBERS_ADDR), &alice).await.status,
        200
    );
    assert_eq!(relay.pull(&alice, "&after_seq=0").await.status, 200);
    // The outsider's partition holds only what it registered: it sees no member.
    assert!(relay.peer_ids(&mallory).await.is_empty());
    relay.stop().await;
}

async fn fake_peers_are_listed_only_to_the_outsider(backend: Backend) {
    let relay = relay(&backend).await;
    let alice = Member::new(2, "alice-node-0001");
    let bob = Member::new(2, "bob-node-000002");
    relay.register_from(Some(MEMBERS_ADDR), &alice).await;
    relay.register_from(Some(MEMBERS_ADDR), &bob).await;
    let fakes: Vec<Member> = (0..5)
        .map(|i| Member {
            node_id: format!("fake-node-{i:05}"),
            ..squatter(&alice)
        })
        .collect();
    for fake in &fakes {
        assert_eq!(
            relay.register_from(Some(OUTSIDER_ADDR), fake).await.status,
            200
        );
    }
    // Unsigned fakes are stored but never listed to anyone who signs.
    let unsigned = json!({"node_id": "unsigned-fake-01", "circle_hint": alice.hint,
                          "endpoints": [{"transport": "tcp", "host": "6.6.6.6", "port": 1}]});
    let reply = relay
        .send(
            Method::POST,
            "/v1/register",
            Some(serde_json::to_vec(&unsigned).expect("json")),
            common::header_map(&[("X-Forwarded-For", OUTSIDER_ADDR)]),
        )
        .await;
    assert_eq!(reply.status, 200);

    assert_eq!(relay.peer_ids(&alice).await, vec![bob.node_id.clone()]);
    assert_eq!(relay.peer_ids(&bob).await, vec![alice.node_id.clone()]);
    let mut seen = relay.peer_ids(&fakes[0]).await;
    seen.sort();
    let expected: Vec<String> = fakes[1..].iter().map(|f| f.node_id.clone()).collect();
    assert_eq!(seen, expected);
    relay.stop().await;
}

async fn an_outsider_cannot_unregister_a_member(backend: Backend) {
    let relay = relay(&backend).await;
    let alice = Member::new(3, "alice-node-0001");
    let bob = Member::new(3, "bob-node-000002");
    relay.register_from(Some(MEMBERS_ADDR), &alice).await;
    relay.register_from(Some(MEMBERS_ADDR), &bob).await;
    let mallory = squatter(&alice);
    relay.register_from(Some(OUTSIDER_ADDR), &mallory).await;
    let body = json!({"node_id": alice.node_id, "circle_hint": alice.hint});
    // Signed with its own key, the outsider removes only its own record of that node id.
    let reply = relay
        .signed_from(
            Some(OUTSIDER_ADDR),
            &mallory,
            Method::DELETE,
            "/register",
            "",
            Some(&body),
        )
        .await;
    assert_eq!(reply.json, json!({"ok": true, "removed": true}));
    assert_eq!(relay.peer_ids(&bob).await, vec![alice.node_id.clone()]);
    // Positive control: Alice unregisters herself.
    let reply = relay
        .signed_from(
            Some(MEMBERS_ADDR),
            &alice,
            Method::DELETE,
            "/register",
            "",
            Some(&body),
        )
        .await;
    assert_eq!(reply.json, json!({"ok": true, "removed": true}));
    assert!(relay.peer_ids(&bob).await.is_empty());
    relay.stop().await;
}

async fn one_address_registers_one_key_per_circle(backend: Backend) {
    // Default configuration: the TCP peer (127.0.0.1) is the client address.
    let relay = start_with(&backend, |_| {}).await;
    let alice = Member::new(4, "alice-node-0001");
    let bob = Member::new(4, "bob-node-000002");
    relay.register(&alice).await;
    // An outsider behind the same address cannot bring a second key into the circle...
    let reply = relay.register_from(None, &squatter(&alice)).await;
    reply.assert_detail(
        409,
        "Your address already registered another signing key in this circle",
    );
    // ...while the members behind it (a NAT, or every test here) share theirs, and the same
    // address may be in other circles.
    relay.register(&bob).await;
    relay.register(&Member::new(5, "alice-node-0001")).await;
    assert_eq!(relay.peer_ids(&alice).await, vec![bob.node_id.clone()]);
    relay.stop().await;
}

async fn a_circle_full_of_keys_refuses_new_ones_but_keeps_its_members(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.presence.max_keys_per_hint = 3;
    })
    .await;
    let alice = Member::new(6, "alice-node-0001");
    relay.register_from(Some(MEMBERS_ADDR), &alice).await;
    for i in 0..2 {
        let outsider = Member {
            key: [0x70 + i; 32],
            node_id: format!("outsider-{i:05}"),
            ..alice.clone()
        };
        let reply = relay
            .register_from(Some(&format!("203.0.113.{i}")), &outsider)
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
    }
    let third = Member {
        key: [0x7f; 32],
        node_id: "outsider-00003".into(),
        ..alice.clone()
    };
    relay
        .register_from(Some("203.0.113.3"), &third)
        .await
        .assert_detail(
            409,
            "Too many signing keys registered in this circle (max 3)",
        );
    // The members' key is already there: refreshes and new members still register.
    assert_eq!(
        relay.register_from(Some(MEMBERS_ADDR), &alice).await.status,
        200
    );
    let bob = Member::new(6, "bob-node-000002");
    assert_eq!(
        relay.register_from(Some("192.0.2.44"), &bob).await.status,
        200
    );
    assert_eq!(relay.peer_ids(&alice).await, vec![bob.node_id.clone()]);
    relay.stop().await;
}

async fn a_full_key_group_evicts_only_its_own_oldest_record(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.trust_forwarded_for = true;
        c.presence.max_nodes_per_key = 2;
    })
    .await;
    let alice = Member::new(7, "alice-node-0001");
    let bob = Member::new(7, "bob-node-000002");
    relay.register_from(Some(MEMBERS_ADDR), &alice).await;
    relay.clock.advance(1);
    relay.register_from(Some(MEMBERS_ADDR), &bob).await;
    // The outsider floods its own partition: it only ever displaces its own records.
    for i in 0..6 {
        let fake = Member {
            node_id: format!("fake-node-{i:05}"),
            ..squatter(&alice)
        };
        assert_eq!(
            relay.register_from(Some(OUTSIDER_ADDR), &fake).await.status,
            200
        );
    }
    assert_eq!(relay.peer_ids(&alice).await, vec![bob.node_id.clone()]);
    // A third member displaces the members' least recently refreshed record (Alice's), as
    // only a key holder can.
    relay.clock.advance(1);
    let carol = Member::new(7, "carol-node-003");
    relay.register_from(Some(MEMBERS_ADDR), &carol).await;
    assert_eq!(relay.peer_ids(&carol).await, vec![bob.node_id.clone()]);
    relay.stop().await;
}

on_both_backends!(
    an_outsiders_key_cannot_replace_a_members_registration,
    fake_peers_are_listed_only_to_the_outsider,
    an_outsider_cannot_unregister_a_member,
    one_address_registers_one_key_per_circle,
    a_circle_full_of_keys_refuses_new_ones_but_keeps_its_members,
    a_full_key_group_evicts_only_its_own_oldest_record,
);
