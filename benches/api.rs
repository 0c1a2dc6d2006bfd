//! Benchmarks of one felundd over its gRPC API (real daemon process, real socket,
//! real SQLite file):
//!
//! - durable send throughput: one client, many requests in flight, each answered
//!   only after its message is committed;
//! - send→watch latency: time from issuing SendMessage to receiving the message on
//!   a `Subscribe` stream of the same daemon (one message at a time).
//!
//! Run: `cargo build --release --workspace && cargo bench --bench api`. Results go
//! in BENCHMARKS.md.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use felund_tests::Daemon;

const THROUGHPUT_MESSAGES: usize = 20_000;
const LATENCY_SAMPLES: usize = 2_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let daemon = Daemon::start();
    let client = felund_client::connect(&daemon.socket).await?;
    let circle = support::create_circle(&client, "bench").await?;

    // Throughput.
    let start = Instant::now();
    support::fill(&client, &circle, THROUGHPUT_MESSAGES).await?;
    let elapsed = start.elapsed();
    println!(
        "durable send throughput: {THROUGHPUT_MESSAGES} messages in {:.2?} = {:.0} messages/s (64 in flight, one client)",
        elapsed,
        THROUGHPUT_MESSAGES as f64 / elapsed.as_secs_f64()
    );

    // Latency.
    let samples =
        support::send_to_event_latency(&client, &client, &circle, LATENCY_SAMPLES).await?;
    println!(
        "send->watch latency over {LATENCY_SAMPLES} messages: p50 {:.3?}, p99 {:.3?}, max {:.3?}",
        support::percentile(&samples, 0.50),
        support::percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    drop(daemon);
    Ok(())
}
