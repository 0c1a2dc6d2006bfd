//! The [`RelayStore`] contract, checked on both implementations: dedup and paging, the time
//! floor behind the lossless `since` cursor, nonces, rate limits, signal ids and pruning.

#[macro_use]
mod common;

use std::sync::Arc;

use common::{deps_for, Backend};
use felund_relay::store::{
    MessageBatch, MessageCursor, NewMessage, NewSignal, PageLimit, PresenceLimits, PresenceOutcome,
    PresenceRecord, PrunePolicy, RateLimit, RelayStore,
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

on_both_backends!(
    presence_is_partitioned_by_key,
    messages_dedupe_page_and_expire,
    stored_at_never_goes_below_an_earlier_since_pull,
    nonces_and_rate_limits,
    signal_ids_increase_and_expire,
);
