//! Benchmarks of direct gossip between real felundd processes on loopback:
//!
//! - delivery latency: send on A → message event on B (live link), p50/p99;
//! - catch-up: a newcomer joins a circle of 10,000 and 100,000 messages; time until
//!   it holds them all;
//! - bytes per in-sync session: wire bytes of the sessions a node runs after a
//!   restart with a peer it already agrees with (handshake included), at both sizes.
//!
//! Run: `cargo build --profile profiling --workspace && cargo bench --profile profiling --bench gossip`
//! (`FELUND_BENCH_SMOKE=1`: tiny sizes; `-- catch_up_100000`: only that figure;
//! `benches/run_all.py` runs every bench).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use felund_tests::Daemon;
use support::{report, Figure};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

async fn latency() -> Res<()> {
    let samples_n = support::size(1_000, 20);
    let a = Daemon::start_with(&["--sync-interval", "1"]);
    let b = Daemon::start_with(&["--sync-interval", "1"]);
    let ca = felund_client::connect(&a.socket).await?;
    let cb = felund_client::connect(&b.socket).await?;
    let circle = support::create_circle(&ca, "lat").await?;
    support::join_from(&ca, &cb, &circle).await?;
    support::wait_for("a live link", Duration::from_millis(5), || async {
        Ok(support::info(&cb).await?.live_links >= 1)
    })
    .await?;
    let samples = support::send_to_event_latency(&ca, &cb, &circle, samples_n).await?;
    let p50 = support::percentile(&samples, 0.5);
    let p99 = support::percentile(&samples, 0.99);
    report(Figure {
        table: "gossip",
        id: "latency",
        what: &format!("send on A → message event on B, live link ({samples_n} sequential sends)"),
        target: "p50 ≤ 5 ms, p99 ≤ 20 ms",
        measured: support::spread(&samples),
        met: Some(p50 <= Duration::from_millis(5) && p99 <= Duration::from_millis(20)),
    });
    Ok(())
}

async fn catch_up(n: usize, target: Duration) -> Res<()> {
    let a = Daemon::start_with(&["--sync-interval", "1"]);
    let ca = felund_client::connect(&a.socket).await?;
    let circle = support::create_circle(&ca, "big").await?;
    support::fill(&ca, &circle, n).await?;
    let mut b = Daemon::start_with(&["--sync-interval", "1"]);
    let cb = felund_client::connect(&b.socket).await?;
    let expected = support::info(&ca).await?.message_count;
    let pids = [a.pid().ok_or("no pid")?, b.pid().ok_or("no pid")?];
    println!("catch-up: source pid {}, newcomer pid {}", pids[0], pids[1]);
    // Counting the newcomer's messages scans its table: poll gently so the bench does
    // not compete with the catch-up it measures for the machine's two cores.
    let every = Duration::from_millis(if n > 20_000 { 100 } else { 10 });
    let cpu0 = pids.map(|p| support::proc_usage(p).0);
    let t0 = Instant::now();
    support::join_from(&ca, &cb, &circle).await?;
    support::wait_for("catch-up", every, || async {
        Ok(support::info(&cb).await?.message_count >= expected)
    })
    .await?;
    let took = t0.elapsed();
    let cpu = [0, 1].map(|i| support::proc_usage(pids[i]).0.saturating_sub(cpu0[i]));
    report(Figure {
        table: "gossip",
        id: &format!("catch_up_{n}"),
        what: &format!("newcomer catch-up, circle of {n} messages (join → all stored)"),
        target: &format!("≤ {:.1} s", target.as_secs_f64()),
        measured: format!("{:.2} s", took.as_secs_f64()),
        met: Some(took <= target),
    });
    report(Figure {
        table: "gossip",
        id: &format!("catch_up_{n}_cpu"),
        what: &format!("CPU time of that catch-up, {n} messages (source + newcomer)"),
        target: "—",
        measured: format!(
            "{:.2} s + {:.2} s",
            cpu[0].as_secs_f64(),
            cpu[1].as_secs_f64()
        ),
        met: None,
    });

    // Bytes of an in-sync session: B restarts and syncs with A, with which it already
    // agrees, until their live link is up again (while linked, nodes do not re-sync).
    support::wait_for("a live link", Duration::from_millis(20), || async {
        Ok(support::info(&cb).await?.live_links >= 1)
    })
    .await?;
    b.restart();
    let cb = felund_client::connect(&b.socket).await?;
    support::wait_for("a live link after the restart", every, || async {
        Ok(support::info(&cb).await?.live_links >= 1)
    })
    .await?;
    let after = support::info(&cb).await?;
    // A session is counted when it ends, and the one that set the link up lasts.
    let sessions = after.gossip_sessions_ok + after.gossip_sessions_failed + after.live_links;
    let bytes = after.gossip_bytes_in + after.gossip_bytes_out;
    report(Figure {
        table: "gossip",
        id: &format!("in_sync_bytes_{n}"),
        what: &format!(
            "wire bytes of one in-sync session at {n} messages (both directions, handshake and link set-up included)"
        ),
        target: "O(1)",
        measured: format!("{} B", bytes / sessions.max(1)),
        met: None,
    });
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    if support::wanted("latency") {
        latency().await?;
    }
    let sizes: &[(usize, Duration)] = if support::smoke() {
        &[(200, Duration::from_secs(1))]
    } else {
        &[
            (10_000, Duration::from_millis(500)),
            (100_000, Duration::from_secs(3)),
        ]
    };
    for &(n, target) in sizes {
        if support::wanted(&format!("catch_up_{n}")) {
            catch_up(n, target).await?;
        }
    }
    Ok(())
}
