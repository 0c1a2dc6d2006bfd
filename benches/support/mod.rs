//! Shared by the benchmarks: API helpers, percentile maths, smoke-mode sizes and the
//! machine-readable result lines. Each bench uses a different subset, hence the
//! `dead_code` allowance.
//!
//! Every figure a bench measures is printed as one line `BENCH {json}` (see
//! [`report`]); `benches/run_all.py` runs every bench, collects those lines and
//! rewrites the tables of BENCHMARKS.md from them, so the document cannot drift from
//! what the benches measure. With `FELUND_BENCH_SMOKE=1` every bench runs with tiny
//! sizes in a few seconds (CI runs them that way, so a broken bench fails CI).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use felund_client::{api, ApiClient};

/// Messages in flight when filling a circle.
const IN_FLIGHT: usize = 64;

/// The `p` quantile (0..=1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Creates a circle; returns its id.
pub async fn create_circle(
    client: &ApiClient,
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    Ok(client
        .clone()
        .create_circle(api::CreateCircleRequest { name: name.into() })
        .await?
        .into_inner()
        .circle
        .ok_or("no circle")?
        .circle_id)
}

/// Sends `n` messages into `circle` with many requests in flight.
pub async fn fill(
    client: &ApiClient,
    circle: &str,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut next = 0usize;
    let mut tasks = tokio::task::JoinSet::new();
    while next < n || !tasks.is_empty() {
        while next < n && tasks.len() < IN_FLIGHT {
            let mut c = client.clone();
            let req = api::SendMessageRequest {
                circle: circle.to_string(),
                channel: String::new(),
                text: format!("message {next} with some ordinary chat length text"),
            };
            tasks.spawn(async move { c.send_message(req).await.map(|_| ()) });
            next += 1;
        }
        if let Some(r) = tasks.join_next().await {
            r??;
        }
    }
    Ok(())
}

/// Node info of a daemon.
pub async fn info(client: &ApiClient) -> Result<api::NodeInfo, Box<dyn std::error::Error>> {
    Ok(client
        .clone()
        .get_node_info(api::GetNodeInfoRequest {})
        .await?
        .into_inner())
}

/// Sends `samples` messages one at a time through `sender` and measures, for each,
/// the time from issuing SendMessage to seeing it on a `Subscribe` stream of
/// `watcher` (the same daemon or another). Returns the sorted samples.
pub async fn send_to_event_latency(
    sender: &ApiClient,
    watcher: &ApiClient,
    circle: &str,
    samples: usize,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    use tokio_stream::StreamExt;
    let mut stream = watcher
        .clone()
        .subscribe(api::SubscribeRequest {
            circle: circle.to_string(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut sender = sender.clone();
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let text = format!("latency {i}");
        let t0 = std::time::Instant::now();
        let send = sender.send_message(api::SendMessageRequest {
            circle: circle.to_string(),
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
        out.push(seen?);
    }
    out.sort();
    Ok(out)
}

/// The invite code of `circle` on `from`, joined by `to`.
pub async fn join_from(
    from: &ApiClient,
    to: &ApiClient,
    circle: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let code = from
        .clone()
        .get_invite_code(api::GetInviteCodeRequest {
            circle: circle.to_string(),
        })
        .await?
        .into_inner()
        .code;
    to.clone()
        .join_circle(api::JoinCircleRequest { code })
        .await?;
    Ok(())
}

/// Whether the bench runs in smoke mode (`FELUND_BENCH_SMOKE=1`): tiny sizes, figures
/// meaningless, only checking that every step still works.
pub fn smoke() -> bool {
    std::env::var("FELUND_BENCH_SMOKE").is_ok_and(|v| v == "1")
}

/// Whether the figure (or group of figures) `id` should run: every one, unless the
/// bench was given filters (`cargo bench --bench gossip -- catch_up_100000`), then
/// those whose id contains one of them.
pub fn wanted(id: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()))
}

/// `full` normally, `tiny` in smoke mode.
pub fn size(full: usize, tiny: usize) -> usize {
    if smoke() {
        tiny
    } else {
        full
    }
}

/// One measured figure, printed as a `BENCH` line for `benches/run_all.py`.
pub struct Figure<'a> {
    /// Which table of BENCHMARKS.md it belongs to (the bench's name).
    pub table: &'a str,
    /// Stable id of the figure (one row per id).
    pub id: &'a str,
    /// What was measured, for the table's first column.
    pub what: &'a str,
    /// The target, for the table's second column ("—" if none).
    pub target: &'a str,
    /// The figure as shown, e.g. "0.42 s" or "p50 1.2 ms, p99 7.4 ms".
    pub measured: String,
    /// Whether the figure meets its target (`None` when there is none). Reported,
    /// never asserted: timings depend on the machine.
    pub met: Option<bool>,
}

/// Prints `figure` as `BENCH {json}` on stdout, after a human-readable line.
pub fn report(figure: Figure<'_>) {
    println!("{}: {}", figure.what, figure.measured);
    let line = serde_json::json!({
        "table": figure.table,
        "id": figure.id,
        "what": figure.what,
        "target": figure.target,
        "measured": figure.measured,
        "met": figure.met,
        "smoke": smoke(),
    });
    println!("BENCH {line}");
}

/// Milliseconds with three significant decimals, for tables.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `p50 …, p99 …, max …` of sorted samples.
pub fn spread(sorted: &[Duration]) -> String {
    format!(
        "p50 {}, p99 {}, max {}",
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    )
}

/// Polls `cond` every `every` until it holds; fails after five minutes.
pub async fn wait_for<F, Fut>(
    what: &str,
    every: Duration,
    mut cond: F,
) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, Box<dyn std::error::Error>>>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        if cond().await? {
            return Ok(());
        }
        tokio::time::sleep(every).await;
    }
    Err(format!("timed out waiting for {what}").into())
}

/// CPU time (user + system) of a process so far, and its resident set size.
pub fn proc_usage(pid: u32) -> (Duration, u64) {
    // Fields after the command name in /proc/PID/stat: utime is the 12th, stime
    // the 13th, in clock ticks (USER_HZ = 100 on Linux).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let cpu = Duration::from_millis((tick(11) + tick(12)) * 10);
    (cpu, felund_tests::rss_kib(pid))
}
