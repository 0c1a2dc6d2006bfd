//! Load figures for RELIABILITY.md / BENCHMARKS.md:
//!
//! - delivery latency across five daemons joined in a chain (send on the first,
//!   event on the last: every hop is a live-link push);
//! - fan-out: one send, 100 attached subscribers; time until the last one has it;
//! - idle cost: a daemon holding 10 circles × 10,000 messages, in sync with a peer —
//!   CPU time used over 30 idle seconds, and RSS.
//!
//! Run: `cargo build --release --workspace && cargo bench --bench load`.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use felund_client::api;
use felund_tests::Daemon;
use tokio_stream::StreamExt;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn proc_stat(pid: u32) -> (u64, u64) {
    // (utime + stime in clock ticks, RSS in KiB)
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    (ticks, felund_tests::rss_kib(pid))
}

async fn five_daemon_chain() -> Res<()> {
    let nodes: Vec<Daemon> = (0..5)
        .map(|_| Daemon::start_with(&["--sync-interval", "1"]))
        .collect();
    let mut clients = Vec::new();
    for d in &nodes {
        clients.push(felund_client::connect(&d.socket).await?);
    }
    let circle = support::create_circle(&clients[0], "chain").await?;
    for i in 1..5 {
        support::join_from(&clients[i - 1], &clients[i], &circle).await?;
    }
    for c in &clients[1..] {
        let c = c.clone();
        let start = Instant::now();
        while support::info(&c).await?.live_links == 0 && start.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let s = support::send_to_event_latency(&clients[0], &clients[4], &circle, 300).await?;
    println!(
        "five daemons in a chain, first → last over 300 messages: p50 {:.3?}, p99 {:.3?}, max {:.3?}",
        support::percentile(&s, 0.5),
        support::percentile(&s, 0.99),
        s[s.len() - 1]
    );
    Ok(())
}

async fn fan_out() -> Res<()> {
    let d = Daemon::start();
    let client = felund_client::connect(&d.socket).await?;
    let circle = support::create_circle(&client, "fan").await?;
    let mut streams = Vec::new();
    for _ in 0..100 {
        let mut c = felund_client::connect(&d.socket).await?;
        streams.push(
            c.subscribe(api::SubscribeRequest {
                circle: circle.clone(),
                ..Default::default()
            })
            .await?
            .into_inner(),
        );
    }
    let mut samples = Vec::new();
    for i in 0..50 {
        let text = format!("fan {i}");
        let t0 = Instant::now();
        client
            .clone()
            .send_message(api::SendMessageRequest {
                circle: circle.clone(),
                channel: String::new(),
                text: text.clone(),
            })
            .await?;
        for s in streams.iter_mut() {
            while let Some(ev) = s.next().await {
                if let Some(api::event::Kind::Message(m)) = ev?.kind {
                    if m.text == text {
                        break;
                    }
                }
            }
        }
        samples.push(t0.elapsed());
    }
    samples.sort();
    println!(
        "fan-out to 100 subscribers (send → last subscriber has it), 50 sends: p50 {:.3?}, p99 {:.3?}",
        support::percentile(&samples, 0.5),
        support::percentile(&samples, 0.99)
    );
    Ok(())
}

async fn idle_cost() -> Res<()> {
    let a = Daemon::start_with(&["--sync-interval", "5"]);
    let b = Daemon::start_with(&["--sync-interval", "5"]);
    let ca = felund_client::connect(&a.socket).await?;
    let cb = felund_client::connect(&b.socket).await?;
    for i in 0..10 {
        let circle = support::create_circle(&ca, &format!("c{i}")).await?;
        support::fill(&ca, &circle, 10_000).await?;
        support::join_from(&ca, &cb, &circle).await?;
    }
    let expected = support::info(&ca).await?.message_count;
    let cb2 = cb.clone();
    let start = Instant::now();
    loop {
        if support::info(&cb2).await?.message_count >= expected {
            break;
        }
        if start.elapsed() > Duration::from_secs(300) {
            return Err("catch-up timed out".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let catch-up work finish before measuring idle cost.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = a.pid().ok_or("no pid")?;
    let (t0, _) = proc_stat(pid);
    let window = Duration::from_secs(30);
    tokio::time::sleep(window).await;
    let (t1, rss) = proc_stat(pid);
    let ticks_per_s = 100.0; // Linux USER_HZ
    let cpu = (t1 - t0) as f64 / ticks_per_s / window.as_secs_f64() * 100.0;
    println!(
        "idle, 10 circles × 10,000 messages, in sync with one peer (5 s rounds): CPU {cpu:.2} % of one core, RSS {} MiB",
        rss / 1024
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    five_daemon_chain().await?;
    fan_out().await?;
    idle_cost().await?;
    Ok(())
}
