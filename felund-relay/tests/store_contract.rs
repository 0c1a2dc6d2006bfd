//! The [`RelayStore`] contract, checked on both implementations: dedup and paging, the time
//! floor behind the lossless `since` cursor, nonces, rate limits, signal ids and pruning.

#[macro_use]
mod common;

use std::sync::Arc;

use common::{deps_for, Backend};
use felund_relay::store::{
    MessageBatch, MessageCursor, MessagePage, NewMessage, NewSignal, PageLimit, PresenceLimits,
    PresenceOutcome, PresenceRecord, PrunePolicy, RateLimit, RelayStore,
};

struct Opened {
    store: Arc<dyn RelayStore>,
    _dir: tempfile::TempDir,
}

async fn open(backend: &Backend) -> Opened {
    let dir = tempfile::tempdir().expect("tempdir");
    let deps = deps_for(backend, dir.path(), Backend::pg_options()).await;
    Opened {
        store: deps.store,
        _dir: dir,
    }
}

fn msg(id: &str) -> NewMessage {
    NewMessage {
        msg_id: id.into(),
        created_ts: 1,
        payload: format!("{{\"msg_id\":\"{id}\"}}"),
    }
}

fn batch(messages: Vec<NewMessage>, now: i64, expires_at: i64) -> MessageBatch {
    MessageBatch {
        circle_hint: "hinthint".into(),
        messages,
        now,
        expires_at,
        sender_node: Some("poster-node".into()),
    }
}

async fn messages_dedupe_page_and_expire(backend: Backend) {
    let s = open(&backend).await.store;
    let first = s
        .insert_messages(batch(vec![msg("aaaaaaaa"), msg("bbbbbbbb")], 10, 100))
        .await
        .expect("insert");
    assert_eq!(first.len(), 2);
    assert!(first[0].seq < first[1].seq);
    assert_eq!(first[0].stored_at, 10);
    // Duplicates (stored, or repeated in the batch) are skipped; the first copy wins.
    let mut repeated = msg("cccccccc");
    repeated.payload = "{\"second\":true}".into();
    let again = s
        .insert_messages(batch(
            vec![msg("bbbbbbbb"), msg("cccccccc"), repeated],
            11,
            100,
        ))
        .await
        .expect("insert");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, "{\"msg_id\":\"cccccccc\"}");
    let page = s
        .pull_messages(
            "hinthint",
            MessageCursor::AfterSeq(0),
            50,
            PageLimit::rows(2),
        )
        .await
        .expect("pull");
    assert_eq!(page.messages.len(), 2);
    assert!(page.more);
    assert_eq!(page.max_seq, again[0].seq);
    let rest = s
        .pull_messages(
            "hinthint",
            MessageCursor::AfterSeq(first[1].seq),
            50,
            PageLimit::rows(2),
        )
        .await
        .expect("pull");
    assert_eq!(rest.messages.len(), 1);
    assert!(!rest.more);
    let other = s
        .pull_messages(
            "otherhint",
            MessageCursor::Since(0),
            50,
            PageLimit::rows(10),
        )
        .await
        .expect("pull");
    assert!(other.messages.is_empty());
    assert_eq!(other.max_seq, 0);
    let expired = s
        .pull_messages(
            "hinthint",
            MessageCursor::Since(0),
            100,
            PageLimit::rows(10),
        )
        .await
        .expect("pull");
    assert!(expired.messages.is_empty());
    assert_eq!(expired.max_seq, again[0].seq);
    let policy = PrunePolicy {
        nonce_window_s: 300,
        rate_window_s: 10,
    };
    assert_eq!(s.prune(100, policy).await.expect("prune").messages, 3);
}

async fn stored_at_never_goes_below_an_earlier_since_pull(backend: Backend) {
    let s = open(&backend).await.store;
    s.pull_messages("hinthint", MessageCursor::Since(0), 50, PageLimit::rows(10))
        .await
        .expect("pull");
    // A batch whose request time (40) is older than that pull's (50), e.g. from an instance
    // whose clock is behind, is stored at 50: a client that pulled at 50 and resumes with
    // since=49 still gets it.
    let late = s
        .insert_messages(batch(vec![msg("aaaaaaaa")], 40, 1000))
        .await
        .expect("insert");
    assert_eq!(late[0].stored_at, 50);
    let page = s
        .pull_messages(
            "hinthint",
            MessageCursor::Since(49),
            51,
            PageLimit::rows(10),
        )
        .await
        .expect("pull");
    assert_eq!(page.messages.len(), 1);
    // stored_at never decreases along seq; after_seq pulls leave the floor alone.
    s.pull_messages(
        "hinthint",
        MessageCursor::AfterSeq(0),
        90,
        PageLimit::rows(10),
    )
    .await
    .expect("pull");
    let next = s
        .insert_messages(batch(vec![msg("bbbbbbbb")], 60, 1000))
        .await
        .expect("insert");
    assert_eq!(next[0].stored_at, 60);
    let older = s
        .insert_messages(batch(vec![msg("cccccccc")], 55, 1000))
        .await
        .expect("insert");
    assert_eq!(older[0].stored_at, 60);
}

async fn nonces_and_rate_limits(backend: Backend) {
    let s = open(&backend).await.store;
    assert!(!s.nonce_seen("n1", 0).await.expect("seen"));
    assert!(s.claim_nonce("n1", 1000, 700).await.expect("claim"));
    assert!(s.nonce_seen("n1", 700).await.expect("seen"));
    assert!(!s.claim_nonce("n1", 1000, 700).await.expect("claim"));
    // Outside the window the nonce is forgotten and may be claimed again.
    assert!(!s.nonce_seen("n1", 1001).await.expect("seen"));
    assert!(s.claim_nonce("n1", 1400, 1100).await.expect("claim"));

    let limit = RateLimit {
        limit: 2,
        window_s: 10,
    };
    assert!(s.hit_signal_rate("node", 100, limit).await.expect("hit"));
    assert!(s.hit_signal_rate("node", 105, limit).await.expect("hit"));
    assert!(!s.hit_signal_rate("node", 109, limit).await.expect("hit"));
    assert!(!s.hit_signal_rate("node", 109, limit).await.expect("hit"));
    assert!(s.hit_signal_rate("node", 110, limit).await.expect("hit"));
    assert!(s.hit_signal_rate("other", 109, limit).await.expect("hit"));
    // The clock steps back a day: a new window, not a lock-out until the clock catches up;
    // and the limit still holds in it.
    assert!(s.hit_signal_rate("node", 110, limit).await.expect("hit"));
    assert!(!s.hit_signal_rate("node", 111, limit).await.expect("hit"));
    let back = 110 - 86_400;
    assert!(s.hit_signal_rate("node", back, limit).await.expect("hit"));
    assert!(s
        .hit_signal_rate("node", back + 1, limit)
        .await
        .expect("hit"));
    assert!(!s
        .hit_signal_rate("node", back + 2, limit)
        .await
        .expect("hit"));
}

async fn signal_ids_increase_and_expire(backend: Backend) {
    let s = open(&backend).await.store;
    let signal = |to: &str, session: &str, expires_at: i64| NewSignal {
        session_id: session.into(),
        from_node: "from-node".into(),
        to_node: to.into(),
        circle_hint: "hinthint".into(),
        kind: "offer".into(),
        payload: "p".into(),
        created_at: 10,
        expires_at,
    };
    let a = s
        .insert_signal(signal("to-node", "s1", 100))
        .await
        .expect("a");
    let b = s
        .insert_signal(signal("to-node", "s2", 50))
        .await
        .expect("b");
    let c = s
        .insert_signal(signal("elsewhere", "s1", 100))
        .await
        .expect("c");
    assert!(a < b && b < c);
    let all = s
        .pending_signals("to-node", 0, None, 20, PageLimit::rows(10))
        .await
        .expect("poll");
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, b]);
    let s2 = s
        .pending_signals("to-node", 0, Some("s2"), 20, PageLimit::rows(10))
        .await
        .expect("poll");
    assert_eq!(s2.len(), 1);
    assert_eq!(s2[0].kind, "offer");
    let later = s
        .pending_signals("to-node", a, None, 60, PageLimit::rows(10))
        .await
        .expect("poll");
    assert!(later.is_empty(), "b expired at 50");
    let policy = PrunePolicy {
        nonce_window_s: 300,
        rate_window_s: 10,
    };
    assert_eq!(s.prune(60, policy).await.expect("prune").signals, 1);
}

fn record(node: &str, key: &str, addr: &str, now: i64) -> PresenceRecord {
    PresenceRecord {
        circle_hint: "hinthint".into(),
        node_id: node.into(),
        endpoints: "[]".into(),
        capabilities: "{}".into(),
        observed_at: now,
        expires_at: now + 100,
        signing_key: key.into(),
        client_addr: addr.into(),
    }
}

async fn presence_is_partitioned_by_key(backend: Backend) {
    let s = open(&backend).await.store;
    let limits = PresenceLimits {
        max_keys_per_hint: 2,
        max_nodes_per_key: 2,
        max_keys_per_address: 1,
    };
    let put = |r: PresenceRecord| {
        let s = s.clone();
        async move { s.put_presence(r, limits).await.expect("put") }
    };
    assert_eq!(
        put(record("node-a", "k1", "10.0.0.1", 10)).await,
        PresenceOutcome::Stored
    );
    // The same node under another key is another record; the first one is untouched.
    assert_eq!(
        put(record("node-a", "k2", "10.0.0.2", 11)).await,
        PresenceOutcome::Stored
    );
    let keys = s
        .signing_keys("hinthint", "node-a", 12, 10)
        .await
        .expect("keys");
    assert_eq!(keys, vec!["k2".to_owned(), "k1".to_owned()]);
    // A third key is refused; so is a second key from one address.
    assert_eq!(
        put(record("node-b", "k3", "10.0.0.3", 12)).await,
        PresenceOutcome::TooManyKeys
    );
    assert_eq!(
        put(record("node-b", "k2", "10.0.0.1", 12)).await,
        PresenceOutcome::AddressUsesOtherKeys
    );
    // Unsigned records are a group of their own and never a key.
    assert_eq!(
        put(record("node-a", "", "10.0.0.9", 12)).await,
        PresenceOutcome::Stored
    );
    assert_eq!(
        s.signing_keys("hinthint", "node-a", 13, 10)
            .await
            .expect("keys")
            .len(),
        2
    );
    // A full group displaces its own least recently refreshed record only.
    put(record("node-b", "k1", "10.0.0.1", 13)).await;
    put(record("node-c", "k1", "10.0.0.1", 14)).await;
    let k1: Vec<String> = s
        .live_peers("hinthint", "k1", None, 15, 10)
        .await
        .expect("peers")
        .into_iter()
        .map(|r| r.node_id)
        .collect();
    assert_eq!(k1, vec!["node-c".to_owned(), "node-b".to_owned()]);
    assert_eq!(
        s.live_peers("hinthint", "k2", None, 15, 10)
            .await
            .expect("peers")
            .len(),
        1
    );
    // Removal is per key; expiry frees a key's place.
    assert!(s
        .remove_presence("hinthint", "node-a", "k2")
        .await
        .expect("rm"));
    assert!(!s
        .remove_presence("hinthint", "node-a", "k2")
        .await
        .expect("rm"));
    assert_eq!(
        put(record("node-d", "k3", "10.0.0.3", 200)).await,
        PresenceOutcome::Stored
    );
}

fn in_circle(hint: &str, messages: Vec<NewMessage>, now: i64) -> MessageBatch {
    MessageBatch {
        circle_hint: hint.into(),
        ..batch(messages, now, 1_000_000)
    }
}

fn positions(stored: &[felund_relay::store::StoredMessage]) -> Vec<i64> {
    stored.iter().map(|m| m.pos).collect()
}

async fn since_pull(s: &dyn RelayStore, hint: &str, since: i64, now: i64) -> MessagePage {
    s.pull_messages(hint, MessageCursor::Since(since), now, PageLimit::rows(100))
        .await
        .expect("pull")
}

async fn positions_are_two_apart_per_circle_and_only_new_messages_take_one(backend: Backend) {
    let s = open(&backend).await.store;
    let three = vec![msg("aaaaaaaa"), msg("bbbbbbbb"), msg("cccccccc")];
    let first = s
        .insert_messages(in_circle("circle-a", three.clone(), 10))
        .await
        .expect("insert");
    assert_eq!(positions(&first), vec![10, 12, 14]);
    assert!(first.iter().all(|m| m.stored_at == 10));
    // Re-posted duplicates (the reference client re-sends its newest every round) take none.
    for _ in 0..3 {
        let again = s
            .insert_messages(in_circle("circle-a", three.clone(), 10))
            .await
            .expect("insert");
        assert!(again.is_empty());
    }
    // The same second, more messages: they continue two apart, ahead of the clock.
    let more = s
        .insert_messages(in_circle(
            "circle-a",
            vec![msg("aaaaaaaa"), msg("dddddddd"), msg("eeeeeeee")],
            11,
        ))
        .await
        .expect("insert");
    assert_eq!(positions(&more), vec![16, 18]);
    // Another circle is not pushed ahead by this one.
    let other = s
        .insert_messages(in_circle("circle-b", vec![msg("ffffffff")], 11))
        .await
        .expect("insert");
    assert_eq!(positions(&other), vec![11]);
    // Once the clock has caught up, positions are the storage time again.
    let later = s
        .insert_messages(in_circle("circle-a", vec![msg("gggggggg")], 100))
        .await
        .expect("insert");
    assert_eq!(positions(&later), vec![100]);
    // Pull order is position order.
    let page = since_pull(s.as_ref(), "circle-a", 12, 100).await;
    assert_eq!(positions(&page.messages), vec![14, 16, 18, 100]);
    assert_eq!(page.next_pos, 102);
}

async fn a_since_pull_raises_the_floor_and_reports_the_next_free_position(backend: Backend) {
    let s = open(&backend).await.store;
    // An empty circle: the next free position is the pull's time, and a batch from a clock
    // behind it is placed there.
    assert_eq!(since_pull(s.as_ref(), "circle-a", 0, 50).await.next_pos, 50);
    let late = s
        .insert_messages(in_circle("circle-a", vec![msg("aaaaaaaa")], 40))
        .await
        .expect("insert");
    assert_eq!(positions(&late), vec![50]);
    let page = since_pull(s.as_ref(), "circle-a", 49, 50).await;
    assert_eq!(positions(&page.messages), vec![50]);
    assert_eq!(page.next_pos, 52);
    assert_eq!(page.since_server_time(), 51);
    // after_seq pulls and the WebSocket replay window leave the floor alone.
    for cursor in [MessageCursor::AfterSeq(0), MessageCursor::StoredAfter(0)] {
        let page = s
            .pull_messages("circle-b", cursor, 90, PageLimit::rows(10))
            .await
            .expect("pull");
        assert_eq!(page.next_pos, 50);
    }
    // The replay window compares storage time, not position.
    let ahead = s
        .insert_messages(in_circle(
            "circle-a",
            vec![msg("bbbbbbbb"), msg("cccccccc")],
            60,
        ))
        .await
        .expect("insert");
    assert_eq!(positions(&ahead), vec![60, 62]);
    let recent = s
        .pull_messages(
            "circle-a",
            MessageCursor::StoredAfter(55),
            60,
            PageLimit::rows(10),
        )
        .await
        .expect("pull");
    assert_eq!(positions(&recent.messages), vec![60, 62]);
}

async fn pruning_drops_only_circle_positions_the_floor_caught_up_with(backend: Backend) {
    let s = open(&backend).await.store;
    let burst: Vec<NewMessage> = (0..10).map(|i| msg(&format!("burst-{i:03}"))).collect();
    s.insert_messages(in_circle("circle-a", burst, 10))
        .await
        .expect("insert");
    s.insert_messages(in_circle("circle-b", vec![msg("quiet-001")], 10))
        .await
        .expect("insert");
    // A pull at 20 raises the floor past circle-b's next position (12) but not circle-a's (30).
    since_pull(s.as_ref(), "circle-c", 0, 20).await;
    let policy = PrunePolicy {
        nonce_window_s: 300,
        rate_window_s: 10,
    };
    let report = s.prune(20, policy).await.expect("prune");
    assert_eq!(report.circle_clocks, 1);
    assert_eq!(report.messages, 0);
    // Neither circle's positions go back.
    assert_eq!(since_pull(s.as_ref(), "circle-a", 0, 20).await.next_pos, 30);
    assert_eq!(since_pull(s.as_ref(), "circle-b", 0, 20).await.next_pos, 20);
    let a = s
        .insert_messages(in_circle("circle-a", vec![msg("after-a01")], 20))
        .await
        .expect("insert");
    let b = s
        .insert_messages(in_circle("circle-b", vec![msg("after-b01")], 20))
        .await
        .expect("insert");
    assert_eq!((a[0].pos, b[0].pos), (30, 20));
}

on_both_backends!(
    positions_are_two_apart_per_circle_and_only_new_messages_take_one,
    a_since_pull_raises_the_floor_and_reports_the_next_free_position,
    pruning_drops_only_circle_positions_the_floor_caught_up_with,
    presence_is_partitioned_by_key,
    messages_dedupe_page_and_expire,
    stored_at_never_goes_below_an_earlier_since_pull,
    nonces_and_rate_limits,
    signal_ids_increase_and_expire,
);
