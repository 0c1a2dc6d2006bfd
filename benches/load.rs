//! Load figures for RELIABILITY.md / BENCHMARKS.md:
//!
//! - delivery latency across five daemons joined in a chain (send on the first,
//!   event on the last: every hop is a live-link push);
//! - fan-out: one send, 100 attached subscribers; time until the last one has it;
//! - idle cost: a daemon holding 10 circles × 10,000 messages, in sync with a peer —
//!   CPU time used over 30 idle seconds, and RSS.
//!
//! Run: `cargo build --profile profiling --workspace && cargo bench --profile profiling --bench load`
//! (`FELUND_BENCH_SMOKE=1`: tiny sizes; `benches/run_all.py` runs every bench).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use felund_client::api;
use felund_tests::Daemon;
use support::{report, Figure};
use tokio_stream::StreamExt;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

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
        support::wait_for("a live link", Duration::from_millis(20), || async {
            Ok(support::info(c).await?.live_links > 0)
        })
        .await?;
    }
    let n = support::size(300, 20);
    let s = support::send_to_event_latency(&clients[0], &clients[4], &circle, n).await?;
    report(Figure {
        table: "load",
        id: "chain",
        what: &format!(
            "five daemons joined in a chain, send on the first → event on the last (4 live-link hops), {n} sends"
        ),
        target: "p50 ≤ 5 ms, p99 ≤ 20 ms (two-daemon target)",
        measured: support::spread(&s),
        met: Some(
            support::percentile(&s, 0.5) <= Duration::from_millis(5)
                && support::percentile(&s, 0.99) <= Duration::from_millis(20),
        ),
    });
    Ok(())
}

async fn fan_out() -> Res<()> {
    let d = Daemon::start();
    let client = felund_client::connect(&d.socket).await?;
    let circle = support::create_circle(&client, "fan").await?;
    let (subscribers, sends) = (support::size(100, 10), support::size(200, 5));
    let mut streams = Vec::new();
    for _ in 0..subscribers {
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
    let (mut samples, mut commits) = (Vec::new(), Vec::new());
    for i in 0..sends {
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
        commits.push(t0.elapsed());
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
    commits.sort();
    report(Figure {
        table: "load",
        id: "fan_out",
        what: &format!(
            "fan-out: one send → all {subscribers} attached subscribers have it, {sends} sends (the send's commit included)"
        ),
        target: "p99 ≤ 5 ms",
        measured: support::spread(&samples),
        met: Some(support::percentile(&samples, 0.99) <= Duration::from_millis(5)),
    });
    // Every event is published after its commit (fsync): the floor of the above.
    report(Figure {
        table: "load",
        id: "fan_out_commit",
        what: "of which the send itself (until its commit is acknowledged), the same sends",
        target: "—",
        measured: support::spread(&commits),
        met: None,
    });
    Ok(())
}

async fn idle_cost() -> Res<()> {
    let (circles, per_circle) = (support::size(10, 2), support::size(10_000, 100));
    let a = Daemon::start_with(&["--sync-interval", "5"]);
    let b = Daemon::start_with(&["--sync-interval", "5"]);
    let ca = felund_client::connect(&a.socket).await?;
    let cb = felund_client::connect(&b.socket).await?;
    for i in 0..circles {
        let circle = support::create_circle(&ca, &format!("c{i}")).await?;
        support::fill(&ca, &circle, per_circle).await?;
        support::join_from(&ca, &cb, &circle).await?;
    }
    let expected = support::info(&ca).await?.message_count;
    support::wait_for("catch-up", Duration::from_millis(100), || async {
        Ok(support::info(&cb).await?.message_count >= expected)
    })
    .await?;
    // The bursts (filling A, B's catch-up) are over; give the daemons the minute the
    // targets allow to hand memory back, then measure a quiet window.
    tokio::time::sleep(Duration::from_secs(support::size(60, 3) as u64)).await;
    let pids = [a.pid().ok_or("no pid")?, b.pid().ok_or("no pid")?];
    let before = pids.map(support::proc_usage);
    let window = Duration::from_secs(support::size(30, 2) as u64);
    tokio::time::sleep(window).await;
    for (i, (name, pid)) in [
        ("A (filled by its API)", pids[0]),
        ("B (caught up from A)", pids[1]),
    ]
    .into_iter()
    .enumerate()
    {
        let (cpu1, rss) = support::proc_usage(pid);
        let cpu = (cpu1 - before[i].0).as_secs_f64() / window.as_secs_f64() * 100.0;
        report(Figure {
            table: "load",
            id: &format!("idle_in_sync_{}", ["a", "b"][i]),
            what: &format!(
                "idle, {circles} circles × {per_circle} messages, in sync with one peer (5 s rounds), {name}: CPU over {} s, RSS",
                window.as_secs()
            ),
            target: "CPU ≤ 0.2 %, RSS ≤ 25 MB",
            measured: format!("CPU {cpu:.3} %, RSS {:.1} MiB", rss as f64 / 1024.0),
            met: Some(cpu <= 0.2 && rss <= 25 * 1024),
        });
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    if support::wanted("chain") {
        five_daemon_chain().await?;
    }
    if support::wanted("fan_out") {
        fan_out().await?;
    }
    if support::wanted("idle_in_sync") {
        idle_cost().await?;
    }
    Ok(())
}
