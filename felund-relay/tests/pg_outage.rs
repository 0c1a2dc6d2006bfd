//! The database goes away in the middle of traffic (immediate shutdown, like a crash, then a
//! start): two instances answer 503 `{"ok":false,"detail":"database unavailable"}` with CORS
//! meanwhile — never 200 for something then lost — close WebSockets with a reason, and recover
//! by themselves (pool and LISTEN connection) once it is back.

#[macro_use]
mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{message, msg_ids, next_event, pg, start_instance, Backend, Member, Relay, WsEvent};
use felund_relay::store::PgOptions;
use felund_relay::ManualClock;
use serde_json::{json, Value};

const DEADLINE: Duration = Duration::from_secs(60);

/// What the writer saw.
#[derive(Default)]
struct Outcome {
    ok: Vec<String>,
    unavailable: Vec<String>,
}

/// Posts batches of 2 new messages, alternating instances, until `stop`; counts 200s in `oks`
/// and 503s in `fails`. Any other answer fails the test.
async fn writer(
    relays: [Arc<Relay>; 2],
    hint: String,
    stop: Arc<AtomicBool>,
    oks: Arc<AtomicUsize>,
    fails: Arc<AtomicUsize>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut i = 0_usize;
    while !stop.load(Ordering::SeqCst) {
        let ids: Vec<String> = (0..2).map(|j| format!("w-{i:05}-{j}")).collect();
        let msgs: Vec<Value> = ids.iter().map(|id| message(id, 1)).collect();
        let reply = relays[i % 2].push_unsigned(&hint, &msgs, None).await;
        reply.assert_cors();
        match reply.status {
            200 => {
                assert_eq!(reply.json["ok"], json!(true));
                out.ok.extend(ids);
                oks.fetch_add(1, Ordering::SeqCst);
            }
            503 => {
                reply.assert_detail(503, "database unavailable");
                out.unavailable.extend(ids);
                fails.fetch_add(1, Ordering::SeqCst);
            }
            other => panic!("unexpected {other}: {:?}", reply.json),
        }
        i += 1;
    }
    out
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every message of `hint` by after_seq paging.
async fn all_ids(relay: &Relay, hint: &str) -> Vec<String> {
    let (mut cursor, mut ids) = (0_i64, Vec::new());
    loop {
        let reply = relay
            .get(&format!(
                "/v1/messages?circle_hint={hint}&after_seq={cursor}&limit=500"
            ))
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        ids.extend(msg_ids(&reply.json));
        cursor = reply.json["cursor"].as_i64().expect("cursor");
        if reply.json["more"] != json!(true) {
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_mid_traffic_loses_nothing_that_got_200_and_recovers_by_itself() {
    let Some(cluster) = pg::private("a_database_restart_mid_traffic") else {
        return;
    };
    let cluster = Arc::new(cluster);
    let backend = Backend::Postgres(cluster.create_database());
    let options = PgOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_millis(400),
    };
    let clock = Arc::new(ManualClock::starting_now());
    let a = Arc::new(start_instance(&backend, clock.clone(), 0, options, |_| {}).await);
    let b = Arc::new(start_instance(&backend, clock, 0, options, |_| {}).await);
    let hint = Member::new(1, "x-node-00001").hint;

    // A subscriber on B, known to be subscribed once it saw a frame posted to A.
    let mut socket = b.ws(&hint, "reader-node-01").await;
    a.push_unsigned(&hint, &[message("warm-up-0001", 1)], None)
        .await;
    assert!(matches!(
        next_event(&mut socket, DEADLINE).await,
        WsEvent::Json(_)
    ));

    let (stop, oks, fails) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let writing = tokio::spawn(writer(
        [a.clone(), b.clone()],
        hint.clone(),
        stop.clone(),
        oks.clone(),
        fails.clone(),
    ));
    wait_for("traffic before the outage", || {
        oks.load(Ordering::SeqCst) >= 20
    })
    .await;

    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop())
        .await
        .expect("stop");
    // The subscriber is told, with a reason.
    loop {
        match next_event(&mut socket, DEADLINE).await {
            WsEvent::Json(_) => continue, // pushes committed just before the stop
            WsEvent::Closed(code, reason) => {
                assert_eq!((code, reason.as_str()), (1013, "database unavailable"));
                break;
            }
            WsEvent::Nothing => panic!("no close frame after the database went away"),
        }
    }
    wait_for("503s during the outage", || {
        fails.load(Ordering::SeqCst) >= 3
    })
    .await;
    // Meanwhile new subscriptions are refused, with the same body.
    let refused = b
        .get(&format!(
            "/v1/relay/ws?circle_hint={hint}&node_id=reader-node-01"
        ))
        .await;
    refused.assert_detail(503, "database unavailable");
    refused.assert_cors();

    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start_again())
        .await
        .expect("start");
    let before = oks.load(Ordering::SeqCst);
    wait_for("200s after the restart", || {
        oks.load(Ordering::SeqCst) >= before + 20
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let outcome = writing.await.expect("writer");
    assert!(!outcome.unavailable.is_empty());

    // Everything answered 200 is there exactly once; nothing else but 503'd attempts.
    let stored = all_ids(&a, &hint).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &stored {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert!(
        counts.values().all(|&n| n == 1),
        "a message is stored twice"
    );
    for id in &outcome.ok {
        assert!(counts.contains_key(id.as_str()), "{id} got 200 but is lost");
    }
    let attempted: HashSet<&str> = outcome
        .ok
        .iter()
        .chain(&outcome.unavailable)
        .map(String::as_str)
        .chain(["warm-up-0001"])
        .collect();
    assert!(stored.iter().all(|id| attempted.contains(id.as_str())));
    println!(
        "{} batches answered 200, {} answered 503 during the outage; {} messages stored",
        outcome.ok.len() / 2,
        outcome.unavailable.len() / 2,
        stored.len()
    );

    // The client reconnects (the push feed is back: LISTEN re-established) and gets pushes
    // posted to the other instance again.
    let started = Instant::now();
    let mut socket = loop {
        match b.try_ws(&hint, "reader-node-01").await {
            Ok(socket) => break socket,
            Err(503) if started.elapsed() < DEADLINE => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(status) => panic!("reconnect refused: {status}"),
        }
    };
    // The replay carries what was stored in the last 120 s; skip to the live push.
    a.push_unsigned(&hint, &[message("after-restart-1", 1)], None)
        .await;
    loop {
        match next_event(&mut socket, DEADLINE).await {
            WsEvent::Json(frame) if msg_ids(&frame).contains(&"after-restart-1".to_owned()) => {
                break
            }
            WsEvent::Json(_) => continue,
            other => panic!("no push after the restart: {other:?}"),
        }
    }
}
