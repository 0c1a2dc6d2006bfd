//! Benchmarks of one felundd over its gRPC API (real daemon process, real socket,
//! real SQLite file):
//!
//! - durable send throughput: one client, many requests in flight, each answered
//!   only after its message is committed;
//! - send→watch latency: time from issuing SendMessage to receiving the message on
//!   a `Subscribe` stream of the same daemon (one message at a time).
//!
//! - `felundctl send -`: 10,000 lines piped into the real CLI (one stream, many in
//!   flight, each line stored and printed in order).
//!
//! Run: `cargo build --profile profiling --workspace && cargo bench --profile profiling --bench api`
//! (`FELUND_BENCH_SMOKE=1`: tiny sizes; `benches/run_all.py` runs every bench).

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use felund_tests::Daemon;
use support::{report, Figure};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let daemon = Daemon::start();
    let client = felund_client::connect(&daemon.socket).await?;
    let circle = support::create_circle(&client, "bench").await?;

    let throughput_n = support::size(20_000, 500);
    let latency_n = support::size(2_000, 50);
    let lines_n = support::size(10_000, 200);

    let start = Instant::now();
    support::fill(&client, &circle, throughput_n).await?;
    let rate = throughput_n as f64 / start.elapsed().as_secs_f64();
    report(Figure {
        table: "api",
        id: "throughput",
        what: &format!(
            "durable send throughput ({throughput_n} sends, 64 in flight, one client; each answered after its commit)"
        ),
        target: "≥ 10,000 msg/s",
        measured: format!("{rate:.0} msg/s"),
        met: Some(rate >= 10_000.0),
    });

    let samples = support::send_to_event_latency(&client, &client, &circle, latency_n).await?;
    let p50 = support::percentile(&samples, 0.50);
    report(Figure {
        table: "api",
        id: "latency",
        what: &format!("send→watch latency, same daemon ({latency_n} sequential sends)"),
        target: "p50 ≤ 1 ms",
        measured: support::spread(&samples),
        met: Some(p50 <= Duration::from_millis(1)),
    });

    let input: String = (0..lines_n)
        .map(|i| format!("line {i} with some ordinary chat length text\n"))
        .collect();
    let mut cmd = daemon.ctl_cmd(&["send", "-c", &circle, "-"]);
    let start = Instant::now();
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(input.as_bytes())?;
    if !child.wait()?.success() {
        return Err("felundctl send - failed".into());
    }
    let rate = lines_n as f64 / start.elapsed().as_secs_f64();
    report(Figure {
        table: "api",
        id: "send_dash",
        what: &format!("`felundctl send -`, {lines_n} lines (the whole command, start to exit)"),
        target: "≥ 5,000 msg/s",
        measured: format!("{rate:.0} msg/s"),
        met: Some(rate >= 5_000.0),
    });
    drop(daemon);
    Ok(())
}
