//! Relay delivery latency between two felundd daemons that have no direct path
//! (each advertises a dead address): send on A → message event on B, through
//! felund-relay with WebSocket push, and through the reference PHP relay (polling
//! only; needs FELUND_REFERENCE_PYTHON and FELUND_REFERENCE_DIR).
//!
//! Run: `cargo build --profile profiling --workspace && cargo bench --profile profiling --bench relay_delivery`
//! (`FELUND_BENCH_SMOKE=1`: tiny sizes; `benches/run_all.py` runs every bench).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use felund_tests::reference::Reference;
use felund_tests::relays::{RelayKind, RelayProcess};
use felund_tests::{rss_kib, Daemon};
use support::{report, Figure};

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
    // Wait until B is registered and syncing (it has a message), and — at a relay with
    // push — its push connection is up, so the figure is push delivery, not a poll's.
    let push = kind == RelayKind::Felund;
    support::wait_for(
        "B to sync through the relay",
        Duration::from_millis(200),
        || async {
            let _ = support::fill(&ca, &circle, 1).await;
            let info = support::info(&cb).await?;
            Ok(info.message_count > 0 && (!push || info.relay_push_connected))
        },
    )
    .await?;
    let s = support::send_to_event_latency(&ca, &cb, &circle, samples).await?;
    let (id, what) = match kind {
        RelayKind::Felund => (
            "felund_relay",
            format!("two daemons with no direct path, through felund-relay with WebSocket push, {samples} sends"),
        ),
        _ => (
            "php_relay",
            format!("the same through the reference PHP relay (polling only, felundd polls every 5 s), {samples} sends"),
        ),
    };
    report(Figure {
        table: "relay_delivery",
        id,
        what: &what,
        target: "—",
        measured: support::spread(&s),
        met: None,
    });
    if kind == RelayKind::Felund {
        // Ingest through the relay and its memory: many more messages from A.
        let n = support::size(20_000, 500);
        let t0 = Instant::now();
        support::fill(&ca, &circle, n).await?;
        let expected = support::info(&ca).await?.message_count;
        while support::info(&cb).await?.message_count < expected
            && t0.elapsed() < Duration::from_secs(300)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = t0.elapsed();
        let rss = relay.pid().map(rss_kib).unwrap_or(0);
        report(Figure {
            table: "relay_delivery",
            id: "end_to_end",
            what: &format!(
                "end to end through felund-relay: {n} messages sent on A (64 in flight) until all are stored on B"
            ),
            target: "—",
            measured: format!(
                "{:.2} s ({:.0} msg/s)",
                took.as_secs_f64(),
                n as f64 / took.as_secs_f64()
            ),
            met: None,
        });
        report(Figure {
            table: "relay_delivery",
            id: "relay_rss",
            what: &format!(
                "felund-relay RSS after that (SQLite backend, {expected} messages stored)"
            ),
            target: "—",
            measured: format!("{:.1} MiB", rss as f64 / 1024.0),
            met: None,
        });
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    measure(RelayKind::Felund, None, support::size(300, 20)).await?;
    match Reference::from_env("relay_delivery bench (PHP relay, polling)") {
        Some(r) => measure(RelayKind::Php, Some(&r), support::size(20, 3)).await?,
        None => println!("PHP relay (polling): skipped, reference not configured"),
    }
    Ok(())
}
