//! Crash safety: felundd is killed with SIGKILL at random moments while clients
//! send; every message whose send was acknowledged is there after restart, nothing
//! is duplicated, and the database passes SQLite's integrity check every time.
//!
//! One command: `cargo test -p felund-tests --test reliability_crash` (see
//! RELIABILITY.md).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use felund_client::api;
use felund_tests::Daemon;
use rand::Rng;

/// Acknowledged sends to reach, and kills to survive, before checking.
const TARGET_ACKED: usize = 10_000;
const TARGET_KILLS: usize = 50;
/// Concurrent senders (each with requests in flight on one connection).
const SENDERS: usize = 8;

fn all_texts(rt: &tokio::runtime::Runtime, d: &Daemon, circle: &str) -> Vec<String> {
    rt.block_on(async {
        let mut client = felund_client::connect(&d.socket).await.expect("connect");
        let mut out = Vec::new();
        let mut before = String::new();
        loop {
            let page = client
                .list_messages(api::ListMessagesRequest {
                    circle: circle.to_string(),
                    channel: String::new(),
                    limit: 1000,
                    before: before.clone(),
                    ..Default::default()
                })
                .await
                .expect("list")
                .into_inner();
            out.extend(page.messages.into_iter().map(|m| m.text));
            if page.next_before.is_empty() {
                return out;
            }
            before = page.next_before;
        }
    })
}

fn integrity_check(d: &Daemon) {
    let conn =
        rusqlite::Connection::open(d.state_dir.join("felund.sqlite")).expect("open the database");
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check runs");
    assert_eq!(result, "ok");
}

#[test]
fn every_acknowledged_message_survives_50_sigkills_without_duplicates() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut d = Daemon::start();
    let circle = d.ctl_one(&["invite", "--name", "crash"])["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut next = 0u64;
    let mut kills = 0;
    let mut rng = rand::thread_rng();
    while acked.lock().map(|a| a.len()).unwrap_or(0) < TARGET_ACKED || kills < TARGET_KILLS {
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let (socket, circle, acked) =
                    (d.socket.clone(), circle.clone(), Arc::clone(&acked));
                let start = next + s as u64 * 1_000_000;
                rt.spawn(async move {
                    let Ok(mut client) = felund_client::connect(&socket).await else {
                        return;
                    };
                    for i in start.. {
                        let text = format!("m{i}");
                        let req = api::SendMessageRequest {
                            circle: circle.clone(),
                            channel: String::new(),
                            text: text.clone(),
                        };
                        match client.send_message(req).await {
                            Ok(_) => acked.lock().expect("acked").push(text),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        next += SENDERS as u64 * 1_000_000;
        // Chaos: kill at a random moment while sends are in flight.
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..150)));
        d.kill();
        kills += 1;
        for s in senders {
            let _ = rt.block_on(s);
        }
        integrity_check(&d);
        d.start_again();
    }
    let texts = all_texts(&rt, &d, &circle);
    let unique: HashSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "duplicates after {kills} kills");
    let acked = acked.lock().expect("acked");
    let missing: Vec<&String> = acked
        .iter()
        .filter(|t| !unique.contains(t))
        .take(10)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages lost after {kills} kills, e.g. {missing:?}",
        acked.iter().filter(|t| !unique.contains(t)).count(),
        acked.len()
    );
    eprintln!(
        "crash test: {kills} SIGKILLs, {} acknowledged sends, {} stored (unacknowledged in-flight sends may land too)",
        acked.len(),
        texts.len()
    );
}
