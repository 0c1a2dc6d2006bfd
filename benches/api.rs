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

use std::time::{Duration, Instant};

use felund_client::api;
use felund_tests::Daemon;
use tokio_stream::StreamExt;

const THROUGHPUT_MESSAGES: usize = 20_000;
const IN_FLIGHT: usize = 64;
const LATENCY_SAMPLES: usize = 2_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let daemon = Daemon::start();
    let client = felund_client::connect(&daemon.socket).await?;
    let circle = client
        .clone()
        .create_circle(api::CreateCircleRequest {
            name: "bench".into(),
        })
        .await?
        .into_inner()
        .circle
        .ok_or("no circle")?
        .circle_id;

    // Throughput.
    let start = Instant::now();
    let mut next = 0usize;
    let mut tasks = tokio::task::JoinSet::new();
    while next < THROUGHPUT_MESSAGES || !tasks.is_empty() {
        while next < THROUGHPUT_MESSAGES && tasks.len() < IN_FLIGHT {
            let mut c = client.clone();
            let req = api::SendMessageRequest {
                circle: circle.clone(),
                channel: String::new(),
                text: format!("bench message {next} with some ordinary chat length text"),
            };
            tasks.spawn(async move { c.send_message(req).await.map(|_| ()) });
            next += 1;
        }
        if let Some(r) = tasks.join_next().await {
            r??;
        }
    }
    let elapsed = start.elapsed();
    println!(
        "durable send throughput: {THROUGHPUT_MESSAGES} messages in {:.2?} = {:.0} messages/s ({IN_FLIGHT} in flight, one client)",
        elapsed,
        THROUGHPUT_MESSAGES as f64 / elapsed.as_secs_f64()
    );

    // Latency.
    let mut stream = client
        .clone()
        .subscribe(api::SubscribeRequest {
            circle: circle.clone(),
        })
        .await?
        .into_inner();
    let mut sender = client.clone();
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let text = format!("latency {i}");
        let t0 = Instant::now();
        let send = sender.send_message(api::SendMessageRequest {
            circle: circle.clone(),
            channel: String::new(),
            text: text.clone(),
        });
        let recv = async {
            while let Some(ev) = stream.next().await {
                if let Some(api::event::Kind::Message(m)) = ev?.kind {
                    if m.text == text {
                        return Ok::<_, tonic::Status>(t0.elapsed());
                    }
                }
            }
            Err(tonic::Status::aborted("stream ended"))
        };
        let (sent, seen) = tokio::join!(send, recv);
        sent?;
        samples.push(seen?);
    }
    samples.sort();
    println!(
        "send->watch latency over {LATENCY_SAMPLES} messages: p50 {:.3?}, p99 {:.3?}, max {:.3?}",
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    drop(daemon);
    Ok(())
}
