//! Two relay instances on one PostgreSQL database behave as one relay: pull cursors (both
//! `after_seq` and `since`, with skewed clocks and concurrent writers on both), nonces, signal
//! rate limits, WebSocket push across instances, and pruning by both at once.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::since::{Rule, SinceReader};
use common::{message, msg_ids, next_event, start_instance, Backend, Member, Relay, WsEvent};
use felund_relay::store::postgres::migrate;
use felund_relay::store::{
    MessageBatch, MessageCursor, NewMessage, PageLimit, PgStore, PrunePolicy, RelayStore,
    StoreError,
};
use felund_relay::ManualClock;
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

/// Two instances on a fresh database; B's clock runs `skew_s` seconds off A's.
async fn pair(test: &str, skew_s: i64) -> Option<(Relay, Relay)> {
    let backend = Backend::postgres(test)?;
    let clock = Arc::new(ManualClock::starting_now());
    let a = start_instance(&backend, clock.clone(), 0, Backend::pg_options(), |_| {}).await;
    let b = start_instance(&backend, clock, skew_s, Backend::pg_options(), |_| {}).await;
    Some((a, b))
}

/// Posts `count` batches of 3 new messages to `relay`; returns the ids it answered 200 for.
async fn write(relay: Arc<Relay>, hint: String, tag: String, count: usize) -> Vec<String> {
    let mut ok = Vec::new();
    for i in 0..count {
        let ids: Vec<String> = (0..3).map(|j| format!("{tag}-{i:04}-{j}")).collect();
        let msgs: Vec<Value> = ids.iter().map(|id| message(id, 1)).collect();
        let reply = relay.push_unsigned(&hint, &msgs, None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        assert_eq!(reply.json["stored"], json!(3));
        ok.extend(ids);
    }
    ok
}

/// Keeps pulling, alternating between the instances, until the writers are done and a pull
/// (begun after they finished) finds nothing new; returns every id as received (duplicates
/// included). `None`: the `after_seq` cursor; `Some(rule)`: the reference `since` cursor,
/// following that client's rule.
async fn alternate(
    relays: [Arc<Relay>; 2],
    hint: String,
    rule: Option<Rule>,
    done: Arc<AtomicBool>,
) -> Vec<String> {
    // Small pages, so that many are cut inside one second.
    const PAGE: u32 = 7;
    let mut since_reader = rule.map(|rule| SinceReader::new(rule, &hint, PAGE));
    let (mut cursor, mut got) = (0_i64, Vec::new());
    let started = Instant::now();
    for turn in 0.. {
        let finished = done.load(Ordering::SeqCst);
        let relay = &relays[turn % 2];
        let fresh = match since_reader.as_mut() {
            Some(reader) => reader.pull(relay).await,
            None => {
                let query =
                    format!("/v1/messages?circle_hint={hint}&after_seq={cursor}&limit={PAGE}");
                let reply = relay.get(&query).await;
                assert_eq!(reply.status, 200, "{:?}", reply.json);
                cursor = reply.json["cursor"].as_i64().expect("cursor");
                let ids = msg_ids(&reply.json);
                let n = ids.len();
                got.extend(ids);
                n
            }
        };
        if finished && fresh == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "reader never caught up"
        );
    }
    since_reader.map_or(got, |reader| reader.got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alternating_pulls_get_every_message_once_while_both_instances_take_writes() {
    // B's clock is a second behind A's: the since cursor must still lose nothing.
    let Some((a, b)) = pair("alternating_pulls_get_every_message_once", -1).await else {
        return;
    };
    let (a, b) = (Arc::new(a), Arc::new(b));
    let hint = Member::new(1, "x-node-00001").hint;
    let done = Arc::new(AtomicBool::new(false));
    // Time moves a second every few milliseconds: many same-second races per run.
    let ticker = {
        let (clock, done) = (a.clock.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                clock.advance(1);
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };
    let readers = [None, Some(Rule::Python), Some(Rule::Web)].map(|rule| {
        tokio::spawn(alternate(
            [a.clone(), b.clone()],
            hint.clone(),
            rule,
            done.clone(),
        ))
    });
    let writers: Vec<_> = [(&a, "wa1"), (&a, "wa2"), (&b, "wb1"), (&b, "wb2")]
        .into_iter()
        .map(|(relay, tag)| tokio::spawn(write(Arc::clone(relay), hint.clone(), tag.into(), 60)))
        .collect();
    let mut written = HashSet::new();
    for w in writers {
        written.extend(w.await.expect("writer"));
    }
    done.store(true, Ordering::SeqCst);
    ticker.await.expect("ticker");
    assert_eq!(written.len(), 720);
    // Every cursor — after_seq, and since by either reference client's rule — gets each
    // message exactly once, nothing else.
    for (reader, name) in readers.into_iter().zip(["after_seq", "python", "web"]) {
        let got = reader.await.expect(name);
        let distinct: HashSet<String> = got.iter().cloned().collect();
        assert_eq!(got.len(), distinct.len(), "{name}: duplicates");
        assert_eq!(distinct, written, "{name}: lost messages");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2000_message_backlog_pages_whole_through_both_instances_for_both_reference_rules() {
    // B's clock is two seconds ahead of A's; the backlog is posted through both.
    let Some((a, b)) = pair(
        "a_2000_message_backlog_pages_whole_through_both_instances",
        2,
    )
    .await
    else {
        return;
    };
    let hint = Member::new(2, "x-node-00001").hint;
    let mut written = HashSet::new();
    for (n, relay) in [&a, &b].into_iter().cycle().take(40).enumerate() {
        let ids: Vec<String> = (0..50).map(|i| format!("backlog-{n:02}-{i:02}")).collect();
        let msgs: Vec<Value> = ids.iter().map(|id| message(id, 1)).collect();
        let reply = relay.push_unsigned(&hint, &msgs, None).await;
        assert_eq!(reply.json["stored"], json!(50), "{:?}", reply.json);
        written.extend(ids);
    }
    for rule in Rule::BOTH {
        let mut reader = SinceReader::new(rule, &hint, 200);
        reader.drain(&[&a, &b], 20).await;
        reader.assert_exactly(&written);
        assert_eq!(reader.pulls, 11, "{rule:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_two_stores_never_let_an_after_seq_reader_skip_a_seq_or_share_a_position(
) {
    let Some((a, b)) = pair("concurrent_writers_never_let_a_reader_skip", 0).await else {
        return;
    };
    let stores: [Arc<dyn RelayStore>; 2] = [a.store.clone(), b.store.clone()];
    let now = a.now();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stores, done) = (stores.clone(), done.clone());
        tokio::spawn(async move {
            let (mut cursor, mut pos, mut got) = (0_i64, 0_i64, Vec::new());
            for turn in 0.. {
                let finished = done.load(Ordering::SeqCst);
                let page = stores[turn % 2]
                    .pull_messages(
                        "circle-hint-1",
                        MessageCursor::AfterSeq(cursor),
                        now,
                        PageLimit::rows(50),
                    )
                    .await
                    .expect("pull");
                for m in &page.messages {
                    assert!(m.seq > cursor, "seq went backwards");
                    // Positions on the since cursor follow seq, two apart at least, whichever
                    // instance stored them.
                    assert!(m.pos >= pos + 2, "position {} after {pos}", m.pos);
                    (cursor, pos) = (m.seq, m.pos);
                    got.push(m.msg_id.clone());
                }
                if finished && page.messages.is_empty() {
                    return got;
                }
            }
            unreachable!()
        })
    };
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = stores[w % 2].clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    let messages = (0..5)
                        .map(|j| NewMessage {
                            msg_id: format!("w{w}-{i:03}-{j}"),
                            created_ts: 1,
                            payload: "{}".into(),
                        })
                        .collect();
                    let stored = store
                        .insert_messages(MessageBatch {
                            circle_hint: "circle-hint-1".into(),
                            messages,
                            now,
                            expires_at: now + 1000,
                            sender_node: None,
                        })
                        .await
                        .expect("insert");
                    assert_eq!(stored.len(), 5);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let got = reader.await.expect("reader");
    assert_eq!(got.len(), 8 * 40 * 5);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len());
}

#[tokio::test]
async fn a_nonce_used_on_one_instance_is_refused_on_the_other() {
    let Some((a, b)) = pair("a_nonce_used_on_one_instance_is_refused_on_the_other", 0).await else {
        return;
    };
    let alice = Member::new(1, "alice-node-0001");
    a.register(&alice).await;
    let body = serde_json::to_vec(&json!({"circle_hint": alice.hint,
                                          "messages": [message("nonce-msg-01", 1)]}))
    .expect("json");
    let headers = alice.headers("POST", "/messages", &body, a.now());
    let first = a
        .send(
            Method::POST,
            "/v1/messages",
            Some(body.clone()),
            headers.clone(),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.json);
    b.send(Method::POST, "/v1/messages", Some(body.clone()), headers)
        .await
        .assert_code(409, "NONCE_REPLAY");
    // The same signed request sent to both at once: exactly one wins.
    for _ in 0..20 {
        let headers = alice.headers("POST", "/messages", &body, a.now());
        let (ra, rb) = tokio::join!(
            a.send(
                Method::POST,
                "/v1/messages",
                Some(body.clone()),
                headers.clone()
            ),
            b.send(Method::POST, "/v1/messages", Some(body.clone()), headers),
        );
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{:?} {:?}", ra.json, rb.json);
    }
    // Presence registered on A signs requests on B.
    let q = format!("?circle_hint={}", alice.hint);
    let reply = b.signed(&alice, Method::GET, "/peers", &q, None).await;
    assert_eq!(reply.json, json!({"ok": true, "peers": []}));
}

#[tokio::test]
async fn signals_and_their_rate_limit_are_shared_by_the_instances() {
    let Some((a, b)) = pair("signals_and_their_rate_limit_are_shared", 0).await else {
        return;
    };
    let signal = |n: usize| {
        json!({"session_id": "session-0001", "from_node_id": "caller-node-1",
               "to_node_id": "callee-node-1", "circle_hint": "circle-hint-1",
               "type": "candidate", "payload": format!("c{n}")})
    };
    for n in 0..20 {
        let relay = if n % 2 == 0 { &a } else { &b };
        let body = serde_json::to_vec(&signal(n)).expect("json");
        let reply = relay
            .send(Method::POST, "/v1/signal", Some(body), Default::default())
            .await;
        assert_eq!(reply.status, 200, "{n}: {:?}", reply.json);
    }
    for relay in [&a, &b] {
        let body = serde_json::to_vec(&signal(99)).expect("json");
        let reply = relay
            .send(Method::POST, "/v1/signal", Some(body), Default::default())
            .await;
        assert_eq!(reply.status, 429, "{:?}", reply.json);
    }
    // Polled on either instance: all 20, in id order.
    for relay in [&a, &b] {
        let reply = relay.get("/v1/signal?to_node_id=callee-node-1").await;
        let payloads: Vec<&str> = reply.json["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .map(|s| s["payload"].as_str().expect("payload"))
            .collect();
        let expected: Vec<String> = (0..20).map(|n| format!("c{n}")).collect();
        assert_eq!(payloads, expected);
    }
}

#[tokio::test]
async fn a_websocket_subscriber_on_b_gets_messages_posted_to_a() {
    let Some((a, b)) = pair("a_websocket_subscriber_on_b_gets_messages_posted_to_a", 0).await
    else {
        return;
    };
    let hint = Member::new(1, "x-node-00001").hint;
    let mut reader = b.ws(&hint, "reader-node-01").await;
    let mut poster_socket = b.ws(&hint, "poster-node-01").await;
    // Warm-up: both sessions are subscribed once they saw a frame.
    a.push_unsigned(&hint, &[message("warm-up-0001", 1)], None)
        .await;
    for socket in [&mut reader, &mut poster_socket] {
        let WsEvent::Json(frame) = next_event(socket, WAIT).await else {
            panic!("no warm-up frame");
        };
        assert_eq!(msg_ids(&frame), vec!["warm-up-0001"]);
    }
    let mut latencies = Vec::new();
    for i in 0..50 {
        let id = format!("cross-{i:05}");
        let sent = Instant::now();
        let reply = a
            .push_unsigned(&hint, &[message(&id, 1)], Some("poster-node-01"))
            .await;
        assert_eq!(reply.json["stored"], json!(1));
        let WsEvent::Json(frame) = next_event(&mut reader, WAIT).await else {
            panic!("push {i} did not reach B");
        };
        latencies.push(sent.elapsed());
        assert_eq!(msg_ids(&frame), vec![id]);
        assert_eq!(frame["server_time"], json!(a.now()));
    }
    latencies.sort();
    println!(
        "cross-instance WS delivery (POST to A answered + frame on B): p50 {:?}, p99 {:?}, max {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies[latencies.len() - 1]
    );
    // The poster's own socket on B got none of its posts: its next frame is someone else's.
    a.push_unsigned(&hint, &[message("other-00001", 1)], None)
        .await;
    let WsEvent::Json(frame) = next_event(&mut poster_socket, WAIT).await else {
        panic!("no frame for the poster's socket");
    };
    assert_eq!(msg_ids(&frame), vec!["other-00001"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pruning_from_both_instances_at_once_removes_each_row_once() {
    let Some((a, b)) = pair("pruning_from_both_instances_at_once", 0).await else {
        return;
    };
    let policy = PrunePolicy {
        nonce_window_s: 300,
        rate_window_s: 10,
    };
    let mut expected = 0;
    let mut removed = 0;
    for round in 0..5 {
        for (n, relay) in [&a, &b].into_iter().enumerate() {
            let msgs: Vec<Value> = (0..40)
                .map(|i| message(&format!("r{round}-{n}-{i:04}"), 1))
                .collect();
            let hint = Member::new(round as u8 + 1, "x-node-00001").hint;
            assert_eq!(
                relay.push_unsigned(&hint, &msgs, None).await.json["stored"],
                json!(40)
            );
            relay
                .register(&Member::new(9, &format!("node-{round}-{n}-000")))
                .await;
            expected += 40;
        }
        // Everything above expires; both instances prune at the same moment.
        a.clock.advance(31 * 24 * 3600);
        let now = a.now();
        let (ra, rb) = tokio::join!(a.store.prune(now, policy), b.store.prune(now, policy));
        let (ra, rb) = (ra.expect("prune on A"), rb.expect("prune on B"));
        removed += ra.messages + rb.messages;
        // A pass that lost the race removed nothing; the next one finds nothing left.
        let again = b.store.prune(now, policy).await.expect("prune again");
        removed += again.messages;
        assert_eq!(again.presence, 0);
        assert_eq!(removed, expected, "round {round}");
    }
    let hint = Member::new(1, "x-node-00001").hint;
    let reply = b
        .get(&format!("/v1/messages?circle_hint={hint}&since=0"))
        .await;
    assert_eq!(reply.json["messages"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_at_once_apply_each_migration_once_and_refuse_a_newer_schema() {
    let Some(Backend::Postgres(url)) = Backend::postgres("instances_starting_at_once") else {
        return;
    };
    let (a, b) = tokio::join!(
        PgStore::connect(&url, Backend::pg_options()),
        PgStore::connect(&url, Backend::pg_options()),
    );
    let (a, _b) = (a.expect("first"), b.expect("second"));
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(a.pool())
            .await
            .expect("versions");
    let known: Vec<i64> = migrate::migrations().iter().map(|m| m.version).collect();
    assert_eq!(versions, known);
    // A database migrated by a newer felund-relay is refused, not half-used.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'future', TRUE, '\\x00', 0)",
    )
    .execute(a.pool())
    .await
    .expect("insert");
    let err = PgStore::connect(&url, Backend::pg_options())
        .await
        .expect_err("newer schema");
    assert!(matches!(err, StoreError::Config(_)), "{err}");
    assert!(err.to_string().contains("9999"), "{err}");
}
