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

use felund_client::api;
use felund_tests::Daemon;
use tokio_stream::StreamExt;

const LATENCY_SAMPLES: usize = 1_000;

async fn join(
    client: &felund_client::ApiClient,
    code: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    client
        .clone()
        .join_circle(api::JoinCircleRequest { code: code.into() })
        .await?;
    Ok(())
}

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
    let code = ca
        .clone()
        .get_invite_code(api::GetInviteCodeRequest {
            circle: circle.clone(),
        })
        .await?
        .into_inner()
        .code;
    join(&cb, &code).await?;
    wait_for("a live link", || async {
        Ok(support::info(&cb).await?.live_links >= 1)
    })
    .await?;
    let mut stream = cb
        .clone()
        .subscribe(api::SubscribeRequest {
            circle: circle.clone(),
        })
        .await?
        .into_inner();
    let mut sender = ca.clone();
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
    let code = ca
        .clone()
        .get_invite_code(api::GetInviteCodeRequest {
            circle: circle.clone(),
        })
        .await?
        .into_inner()
        .code;
    let b = Daemon::start_with(&["--sync-interval", "1"]);
    let cb = felund_client::connect(&b.socket).await?;
    let expected = support::info(&ca).await?.message_count;
    let t0 = Instant::now();
    join(&cb, &code).await?;
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
