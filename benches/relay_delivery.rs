//! Relay delivery latency between two felundd daemons that have no direct path
//! (each advertises a dead address): send on A → message event on B, through
//! felund-relay with WebSocket push, and through the reference PHP relay (polling
//! only; needs FELUND_REFERENCE_PYTHON and FELUND_REFERENCE_DIR).
//!
//! Run: `cargo build --release --workspace && cargo bench --bench relay_delivery`.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use felund_tests::reference::Reference;
use felund_tests::relays::{RelayKind, RelayProcess};
use felund_tests::{rss_kib, Daemon};

async fn measure(
    kind: RelayKind,
    reference: Option<&Reference>,
    samples: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let relay = RelayProcess::start(kind, reference);
    let flags = [
        "--advertise",
        "127.0.0.1:1",
        "--relay",
        &relay.url(),
        "--sync-interval",
        "1",
    ];
    let a = Daemon::start_with(&flags);
    let b = Daemon::start_with(&flags);
    let ca = felund_client::connect(&a.socket).await?;
    let cb = felund_client::connect(&b.socket).await?;
    let circle = support::create_circle(&ca, "relay-bench").await?;
    support::join_from(&ca, &cb, &circle).await?;
    // Wait until B is registered and syncing (it has the circle's name event).
    let start = Instant::now();
    while support::info(&cb).await?.message_count == 0 && start.elapsed() < Duration::from_secs(60)
    {
        let _ = support::fill(&ca, &circle, 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let s = support::send_to_event_latency(&ca, &cb, &circle, samples).await?;
    println!(
        "{kind:?} relay, A→B over {samples} messages: p50 {:.3?}, p99 {:.3?}, max {:.3?}",
        support::percentile(&s, 0.5),
        support::percentile(&s, 0.99),
        s[s.len() - 1]
    );
    if kind == RelayKind::Felund {
        // Ingest through the relay and its memory: 20,000 more messages from A.
        let t0 = Instant::now();
        support::fill(&ca, &circle, 20_000).await?;
        let expected = support::info(&ca).await?.message_count;
        while support::info(&cb).await?.message_count < expected
            && t0.elapsed() < Duration::from_secs(300)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rss = relay.pid().map(rss_kib).unwrap_or(0);
        println!(
            "felund-relay end to end: 20,000 messages A → relay → B in {:.2?}; relay RSS {} MiB holding {} messages",
            t0.elapsed(),
            rss / 1024,
            expected
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    measure(RelayKind::Felund, None, 300).await?;
    match Reference::from_env("relay_delivery bench (PHP relay, polling)") {
        Some(r) => measure(RelayKind::Php, Some(&r), 20).await?,
        None => println!("PHP relay (polling): skipped, reference not configured"),
    }
    Ok(())
}
