//! felund-relay throughput and latency, SQLite vs PostgreSQL, one vs two instances:
//!
//! - ingest: concurrent clients each `POST /v1/messages` batches of 50 new messages;
//! - pull: concurrent clients each page the whole circle with `after_seq` (limit 500);
//! - WebSocket delivery latency: post one message, time until a subscriber's frame arrives
//!   (same instance, and — on PostgreSQL — from instance A to a subscriber on instance B).
//!
//! `cargo bench -p felund-relay --bench relay` (needs PostgreSQL binaries, see the
//! `felund-testkit` crate; without them only SQLite is measured). Relays run in this process on
//! loopback; PostgreSQL is a throw-away cluster with `fsync=off` (commits are still
//! acknowledged only after the WAL write), so numbers compare the relay's own cost. With
//! `FELUND_BENCH_SMOKE=1` (CI) every step runs with tiny sizes ([`SMOKE`]): the figures mean
//! nothing, the run only shows that the bench still works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use felund_relay::store::{PgHub, PgOptions, PgStore};
use felund_relay::{spawn, RelayConfig, RelayDeps, RelayHandle, SqliteStore};
use felund_testkit::pg;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// How much work one run does.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Concurrent clients.
    clients: usize,
    /// Batches each client posts.
    batches_per_client: usize,
    /// Messages per batch.
    batch: usize,
    /// Posts timed for the WebSocket delivery latency.
    latency_samples: usize,
}

/// The measured run.
const FULL: Sizes = Sizes {
    clients: 8,
    batches_per_client: 40,
    batch: 50,
    latency_samples: 300,
};

/// `FELUND_BENCH_SMOKE=1` (CI): every step with tiny sizes, only to show it still works.
const SMOKE: Sizes = Sizes {
    clients: 2,
    batches_per_client: 2,
    batch: 10,
    latency_samples: 10,
};

impl Sizes {
    fn from_env() -> Self {
        if std::env::var("FELUND_BENCH_SMOKE").is_ok_and(|v| v == "1") {
            SMOKE
        } else {
            FULL
        }
    }

    fn messages(self) -> usize {
        self.clients * self.batches_per_client * self.batch
    }
}
const HINT: &str = "bench-circle-0001";

async fn relay_on(deps: RelayDeps) -> RelayHandle {
    // Every client of the bench is 127.0.0.1: measure the relay's own cost, not its per-address
    // write limits.
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        write_requests_per_minute: 0,
        write_bytes_per_minute: 0,
        ..RelayConfig::default()
    };
    spawn(config, deps).await.expect("spawn relay")
}

async fn pg_relay(url: &str) -> RelayHandle {
    let options = PgOptions {
        max_connections: 16,
        acquire_timeout: Duration::from_secs(10),
    };
    let store = PgStore::connect(url, options).await.expect("pg store");
    let hub = PgHub::start(&store).await.expect("pg hub");
    relay_on(RelayDeps::new(Arc::new(store)).with_hub(Arc::new(hub))).await
}

fn message(id: &str) -> Value {
    json!({
        "msg_id": id,
        "circle_id": "66687aadf862bd776c8fc18b",
        "channel_id": "general",
        "author_node_id": "a3f8b2c4d5e6f708192a3b4c",
        "created_ts": 1_700_000_000,
        "enc": {"alg": "AES-256-GCM", "key_id": "epoch-0", "nonce": "AAAAAAAAAAAAAAAA",
                "ciphertext": "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"},
    })
}

/// `clients` clients post `batches_per_client` batches of `batch`, client `c` to
/// `bases[c % len]`; returns messages per second.
async fn ingest(z: Sizes, bases: &[String], tag: &str) -> f64 {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..z.clients)
        .map(|c| {
            let (http, base, tag) = (http.clone(), bases[c % bases.len()].clone(), tag.to_owned());
            tokio::spawn(async move {
                for b in 0..z.batches_per_client {
                    let msgs: Vec<Value> = (0..z.batch)
                        .map(|i| message(&format!("{tag}-{c}-{b}-{i}")))
                        .collect();
                    let reply: Value = http
                        .post(format!("{base}/v1/messages"))
                        .json(&json!({"circle_hint": HINT, "messages": msgs}))
                        .send()
                        .await
                        .expect("post")
                        .json()
                        .await
                        .expect("json");
                    assert_eq!(reply["stored"], json!(z.batch), "{reply}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client");
    }
    z.messages() as f64 / started.elapsed().as_secs_f64()
}

/// `clients` clients each page the whole circle; returns messages read per second.
async fn pull(z: Sizes, bases: &[String]) -> f64 {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..z.clients)
        .map(|c| {
            let (http, base) = (http.clone(), bases[c % bases.len()].clone());
            tokio::spawn(async move {
                let (mut cursor, mut read) = (0_i64, 0_usize);
                loop {
                    let reply: Value = http
                        .get(format!(
                            "{base}/v1/messages?circle_hint={HINT}&after_seq={cursor}&limit=500"
                        ))
                        .send()
                        .await
                        .expect("get")
                        .json()
                        .await
                        .expect("json");
                    read += reply["messages"].as_array().map_or(0, Vec::len);
                    cursor = reply["cursor"].as_i64().expect("cursor");
                    if reply["more"] != json!(true) {
                        return read;
                    }
                }
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Posts one message to `post_base`, `latency_samples` times, and times its arrival on a
/// subscriber of `ws_base`; returns (p50, p99) in milliseconds.
async fn ws_latency(z: Sizes, post_base: &str, ws_base: &str, tag: &str) -> (f64, f64) {
    let hint = format!("{tag}-latency-hint");
    let url = format!("{ws_base}/v1/relay/ws?circle_hint={hint}&node_id=bench-reader");
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    let http = reqwest::Client::new();
    let mut samples = Vec::with_capacity(z.latency_samples);
    for i in 0..z.latency_samples + 5 {
        let sent = Instant::now();
        let body = json!({"circle_hint": hint, "messages": [message(&format!("{tag}-lat-{i}"))]});
        let post = http
            .post(format!("{post_base}/v1/messages"))
            .json(&body)
            .send();
        let frame = async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(_))) => return sent.elapsed(),
                    Some(Ok(_)) => continue,
                    other => panic!("socket ended: {other:?}"),
                }
            }
        };
        let (resp, took) = tokio::join!(post, frame);
        resp.expect("post");
        if i >= 5 {
            samples.push(took.as_secs_f64() * 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

fn row(name: &str, ingest: f64, pull: f64, lat: Option<(f64, f64)>) {
    let lat = lat.map_or("–".to_owned(), |(p50, p99)| {
        format!("{p50:.2} / {p99:.2}")
    });
    println!("| {name} | {ingest:>8.0} | {pull:>8.0} | {lat} |");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let z = Sizes::from_env();
    runtime.block_on(async {
        println!(
            "{} clients, batches of {}, {} messages per ingest run; WS latency over {} posts\n",
            z.clients,
            z.batch,
            z.messages(),
            z.latency_samples
        );
        println!("| setup | ingest msg/s | pull msg/s | WS delivery p50 / p99 ms |");
        println!("|---|---:|---:|---|");

        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("bench.sqlite")).expect("sqlite");
        let sqlite = relay_on(RelayDeps::new(Arc::new(store))).await;
        let base = format!("http://{}", sqlite.local_addr());
        let ws = format!("ws://{}", sqlite.local_addr());
        let i = ingest(z, std::slice::from_ref(&base), "sq").await;
        let p = pull(z, std::slice::from_ref(&base)).await;
        let l = ws_latency(z, &base, &ws, "sq").await;
        row("SQLite, 1 instance", i, p, Some(l));
        sqlite.shutdown().await.expect("shutdown");

        let Some(cluster) = pg::shared("bench relay (PostgreSQL)") else {
            return;
        };
        let one = pg_relay(&cluster.create_database()).await;
        let base = format!("http://{}", one.local_addr());
        let ws = format!("ws://{}", one.local_addr());
        let i = ingest(z, std::slice::from_ref(&base), "pg1").await;
        let p = pull(z, std::slice::from_ref(&base)).await;
        let l = ws_latency(z, &base, &ws, "pg1").await;
        row("PostgreSQL, 1 instance", i, p, Some(l));
        one.shutdown().await.expect("shutdown");

        let url = cluster.create_database();
        let (a, b) = (pg_relay(&url).await, pg_relay(&url).await);
        let bases = [
            format!("http://{}", a.local_addr()),
            format!("http://{}", b.local_addr()),
        ];
        let i = ingest(z, &bases, "pg2").await;
        let p = pull(z, &bases).await;
        let l = ws_latency(z, &bases[0], &format!("ws://{}", b.local_addr()), "pg2").await;
        row(
            "PostgreSQL, 2 instances (WS: post to A, subscriber on B)",
            i,
            p,
            Some(l),
        );
        a.shutdown().await.expect("shutdown");
        b.shutdown().await.expect("shutdown");
    });
}
