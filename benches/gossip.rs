//! Benchmarks of direct gossip between real felundd processes on loopback:
//!
//! - delivery latency: send on A → message event on B (live link), p50/p99;
//! - catch-up: a newcomer joins a circle of 10,000 and 100,000 messages; time until
//!   it holds them all;
//! - bytes per in-sync session: wire bytes of one sync session (handshake included)
//!   between two nodes that already agree, at both circle sizes.
//!
//! Run: `cargo build --release --workspace && cargo bench --bench gossip`.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use felund_tests::Daemon;

const LATENCY_SAMPLES: usize = 1_000;

async fn wait_for<F, Fut>(what: &str, mut cond: F) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, Box<dyn std::error::Error>>>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        if cond().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("timed out waiting for {what}").into())
}

async fn latency() -> Result<(), Box<dyn std::error::Error>> {
    let a = Daemon::start_with(&["--sync-interval", "1"]);
    let b = Daemon::start_with(&["--sync-interval", "1"]);
    let ca = felund_client::connect(&a.socket).await?;
    let cb = felund_client::connect(&b.socket).await?;
    let circle = support::create_circle(&ca, "lat").await?;
    support::join_from(&ca, &cb, &circle).await?;
    wait_for("a live link", || async {
        Ok(support::info(&cb).await?.live_links >= 1)
    })
    .await?;
    let samples = support::send_to_event_latency(&ca, &cb, &circle, LATENCY_SAMPLES).await?;
    println!(
        "A→B delivery latency over {LATENCY_SAMPLES} messages (live link): p50 {:.3?}, p99 {:.3?}, max {:.3?}",
        support::percentile(&samples, 0.5),
        support::percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    Ok(())
}

async fn catch_up(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let a = Daemon::start_with(&["--sync-interval", "1"]);
    let ca = felund_client::connect(&a.socket).await?;
    let circle = support::create_circle(&ca, "big").await?;
    support::fill(&ca, &circle, n).await?;
    let b = Daemon::start_with(&["--sync-interval", "1"]);
    let cb = felund_client::connect(&b.socket).await?;
    let expected = support::info(&ca).await?.message_count;
    let t0 = Instant::now();
    support::join_from(&ca, &cb, &circle).await?;
    wait_for("catch-up", || async {
        Ok(support::info(&cb).await?.message_count >= expected)
    })
    .await?;
    let took = t0.elapsed();
    println!("catch-up of a newcomer into a circle of {n} messages: {took:.2?}");

    // Bytes per session once in sync (both nodes sync each other every second).
    let before = support::info(&cb).await?;
    wait_for("ten more sessions", || {
        let before = before.clone();
        let cb = cb.clone();
        async move { Ok(support::info(&cb).await?.gossip_sessions_ok >= before.gossip_sessions_ok + 10) }
    })
    .await?;
    let after = support::info(&cb).await?;
    let sessions = after.gossip_sessions_ok - before.gossip_sessions_ok;
    let bytes = (after.gossip_bytes_in + after.gossip_bytes_out)
        - (before.gossip_bytes_in + before.gossip_bytes_out);
    println!(
        "in-sync sessions at {n} messages: {sessions} sessions, {} bytes per session (both directions, handshake included)",
        bytes / sessions.max(1)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    latency().await?;
    catch_up(10_000).await?;
    catch_up(100_000).await?;
    Ok(())
}
