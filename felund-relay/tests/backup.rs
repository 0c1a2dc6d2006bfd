//! The README's SQLite backup and restore: `VACUUM INTO` from another connection while the
//! relay takes writes gives a consistent copy, and a relay restored from it (with the seq moved
//! on, as the README says) never lets an `after_seq` client skip a new message.

#[macro_use]
mod common;

use std::sync::Arc;

use common::{message, msg_ids, start_instance, Backend, Member};
use felund_relay::ManualClock;
use serde_json::{json, Value};

/// The README's statement that moves the seq of a restored database past what clients saw.
const RESTORE_SQL: &str = "INSERT INTO sqlite_sequence (name, seq) SELECT 'relay_messages', 0 \
     WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'relay_messages'); \
     UPDATE sqlite_sequence SET seq = seq + 10000000 WHERE name = 'relay_messages';";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_the_relay_writes_restores_without_cursors_skipping() {
    let clock = Arc::new(ManualClock::starting_now());
    let options = Backend::pg_options();
    let relay = start_instance(&Backend::Sqlite, clock.clone(), 0, options, |_| {}).await;
    let alice = Member::new(1, "alice-node-0001");
    relay.register(&alice).await;
    let db = relay.dir.path().join("relay.sqlite");
    let copy = relay.dir.path().join("backup.sqlite");
    // Writes keep going while the backup is taken from another connection.
    let writer = {
        let (base, hint) = (relay.base.clone(), alice.hint.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..40 {
                let msgs: Vec<Value> = (0..10)
                    .map(|j| message(&format!("during-{i:03}-{j}"), 1))
                    .collect();
                let reply = http
                    .post(format!("{base}/v1/messages"))
                    .json(&json!({"circle_hint": hint, "messages": msgs}))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(reply.status().as_u16(), 200);
            }
        })
    };
    // The backup starts once a quarter of the writes are in.
    let started = std::time::Instant::now();
    loop {
        let page = relay.pull(&alice, "&after_seq=0&limit=500").await;
        if msg_ids(&page.json).len() >= 100 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "writes stalled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let backup = {
        let (db, copy) = (db.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open(&db).expect("open live database");
            conn.execute("VACUUM INTO ?1", [copy.to_str().expect("path")])
                .expect("VACUUM INTO");
        })
    };
    backup.await.expect("backup");
    writer.await.expect("writer");
    let check = rusqlite::Connection::open(&copy).expect("open copy");
    let integrity: String = check
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
    let saved: i64 = check
        .query_row("SELECT COUNT(*) FROM relay_messages", [], |r| r.get(0))
        .expect("count");
    assert!(
        saved % 10 == 0 && (100..=400).contains(&saved),
        "a torn batch: {saved}"
    );

    // A client read everything from the live relay before it was lost.
    let live = relay.pull(&alice, "&after_seq=0&limit=500").await;
    assert_eq!(msg_ids(&live.json).len(), 400);
    let cursor = live.json["cursor"].as_i64().expect("cursor");
    // Restore as the README says: the copy in place, the seq moved on.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&copy, dir.path().join("relay.sqlite")).expect("restore");
    drop(check);
    relay.stop().await;
    rusqlite::Connection::open(dir.path().join("relay.sqlite"))
        .expect("open restored")
        .execute_batch(RESTORE_SQL)
        .expect("move the seq on");
    let store = felund_relay::SqliteStore::open(&dir.path().join("relay.sqlite")).expect("store");
    let deps = felund_relay::RelayDeps::new(Arc::new(store)).with_clock(clock);
    let config = felund_relay::RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Default::default()
    };
    let handle = felund_relay::spawn(config, deps)
        .await
        .expect("restored relay");
    let base = format!("http://{}", handle.local_addr());
    let http = reqwest::Client::new();
    let posted = http
        .post(format!("{base}/v1/messages"))
        .json(&json!({"circle_hint": alice.hint, "messages": [message("after-restore", 1)]}))
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status().as_u16(), 200);
    // The client resumes from its cursor (from before the restore) and gets the new message.
    let resumed: Value = http
        .get(format!(
            "{base}/v1/messages?circle_hint={}&after_seq={cursor}",
            alice.hint
        ))
        .send()
        .await
        .expect("pull")
        .json()
        .await
        .expect("json");
    assert_eq!(msg_ids(&resumed), vec!["after-restore"]);
    handle.shutdown().await.expect("shutdown");
}
