//! Memory and idle cost of one felundd (real process, real files):
//!
//! - import burst: `felundctl import-state` of a reference `state.json` of 10 circles
//!   × 10,000 messages (and of 10 × 1,000), generated here; peak RSS during the
//!   import (the kernel's high-water mark) against the file's size, and RSS 60 s later;
//! - steady idle: the same daemon restarted, no peers: RSS and CPU over 30 s.
//!
//! Run: `cargo build --profile profiling --workspace && cargo bench --profile profiling --bench memory`
//! (`FELUND_BENCH_SMOKE=1`: tiny sizes and short waits; `-- import_10x1000`: one case).

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use felund_tests::refstate::RefState;
use felund_tests::Daemon;
use support::{report, Figure};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// RSS targets after a burst and at rest, in MiB.
const AFTER_BURST_MIB: u64 = 30;
const IDLE_MIB: u64 = 20;
/// Idle CPU target, percent of one core.
const IDLE_CPU_PERCENT: f64 = 0.05;

/// Peak RSS of a process so far (VmHWM), KiB.
fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Imports a generated state of `circles` × `per_circle` messages into a fresh
/// daemon; reports peak RSS and RSS after the quiet period. Returns the daemon.
fn import_burst(circles: usize, per_circle: usize) -> Res<Daemon> {
    let id = format!("import_{circles}x{per_circle}");
    let dir = tempfile::tempdir()?;
    let path = RefState::busy(circles, per_circle).write(dir.path());
    let file_kib = std::fs::metadata(&path)?.len() / 1024;
    let d = Daemon::start();
    let pid = d.pid().ok_or("no pid")?;
    let out = d.ctl(&["import-state", path.to_str().ok_or("path")?]);
    if !out.status.success() {
        return Err(format!("import failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let peak = peak_kib(pid);
    report(Figure {
        table: "memory",
        id: &format!("{id}_peak"),
        what: &format!(
            "peak RSS while importing a reference state.json of {circles} circles × {per_circle} messages ({})",
            mib(file_kib)
        ),
        target: "≤ about 2× the file",
        measured: format!("{} ({:.1}× the file)", mib(peak), peak as f64 / file_kib as f64),
        met: Some(peak <= 2 * file_kib + 16 * 1024),
    });
    let wait = Duration::from_secs(support::size(60, 3) as u64);
    std::thread::sleep(wait);
    let rss = felund_tests::rss_kib(pid);
    report(Figure {
        table: "memory",
        id: &format!("{id}_after"),
        what: &format!("RSS {} s after that import", wait.as_secs()),
        target: &format!("≤ {AFTER_BURST_MIB} MB"),
        measured: mib(rss),
        met: Some(rss <= AFTER_BURST_MIB * 1024),
    });
    Ok(d)
}

/// Restarts `d` and measures its RSS and CPU at rest.
fn steady_idle(mut d: Daemon, what: &str) -> Res<()> {
    d.restart();
    let pid = d.pid().ok_or("no pid")?;
    std::thread::sleep(Duration::from_secs(support::size(5, 1) as u64));
    let window = Duration::from_secs(support::size(30, 2) as u64);
    let (cpu0, _) = support::proc_usage(pid);
    std::thread::sleep(window);
    let (cpu1, rss) = support::proc_usage(pid);
    let cpu = (cpu1 - cpu0).as_secs_f64() / window.as_secs_f64() * 100.0;
    report(Figure {
        table: "memory",
        id: "idle_no_peers",
        what: &format!(
            "steady idle, {what}, no peers (after a restart): RSS, and CPU over {} s",
            window.as_secs()
        ),
        target: &format!("≤ {IDLE_MIB} MB, ≤ {IDLE_CPU_PERCENT} %"),
        measured: format!("{}, CPU {cpu:.3} %", mib(rss)),
        met: Some(rss <= IDLE_MIB * 1024 && cpu <= IDLE_CPU_PERCENT),
    });
    Ok(())
}

fn main() -> Res<()> {
    let (circles, big, small) = if support::smoke() {
        (2, 200, 20)
    } else {
        (10, 10_000, 1_000)
    };
    if support::wanted(&format!("import_{circles}x{small}")) {
        drop(import_burst(circles, small)?);
    }
    if support::wanted(&format!("import_{circles}x{big}")) || support::wanted("idle_no_peers") {
        let d = import_burst(circles, big)?;
        steady_idle(d, &format!("{circles} circles × {big} messages"))?;
    }
    Ok(())
}
