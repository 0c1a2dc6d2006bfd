//! WebSocket fan-out at scale: felund-relay beside the reference aiohttp relay on the same work.
//!
//! For each scenario (HINTS circle hints × PER_HINT subscribers) a fresh relay process is
//! started (the `felund-relay` binary on SQLite; the reference `api/relay_ws.py`), and one
//! Python asyncio client (`ws_scale_client.py`, aiohttp) holds every subscriber socket and
//! posts one-message batches one at a time, round robin over the hints. Figures per relay and
//! scenario:
//!
//! - delivery latency p50 / p99: POST written → frame parsed by one subscriber of the hint
//!   (every subscriber of the hint is a sample; the client's own share is included);
//! - relay RSS per attached subscriber: (RSS with the sockets attached − RSS before) / count;
//! - relay CPU per post: user + system time of the relay process over the posting phase,
//!   divided by the posts — the cost that must not grow with subscribers of *other* hints.
//!
//! Every (relay, scenario) is printed as one line `BENCH {json}` (table `ws_scale`; the fields
//! of the root package's benches, which `benches/run_all.py` turns into a BENCHMARKS.md table),
//! with issue #14's targets where they apply; then all of them as a Markdown table.
//!
//! Both relays keep their database on tmpfs (`/dev/shm`, when there is one): the reference
//! commits every post with an fsync, felund-relay (WAL) does not, and the disk is not what is
//! measured here.
//!
//! Run: `cargo bench -p felund-relay --bench ws_scale` (a few minutes). With
//! `FELUND_BENCH_SMOKE=1`: two small scenarios, a few seconds, no targets checked. Needs a
//! Python with aiohttp (`FELUND_REFERENCE_PYTHON`, else `python3`) and, for the reference
//! column, `FELUND_REFERENCE_DIR` (with aiosqlite in that Python); without them it prints
//! `SKIPPED …` and exits 0. The open-file soft limit is raised to the hard limit (and the hard
//! limit to 65,536 where that is allowed); felund-relay runs with `--ws-share-percent 60`, so
//! 10,000 subscribers fit under a limit of 20,000 files; a scenario that does not fit is skipped
//! with a line saying so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use felund_testkit::ports::free_port;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use serde_json::Value;

/// Below this many subscribers, RSS per subscriber is mostly page and allocator granularity:
/// it is not reported.
const RSS_MIN_SUBSCRIBERS: usize = 1000;

/// Issue #14's targets for felund-relay, reported (never asserted): an idle subscriber costs
/// at most this much RSS...
const TARGET_RSS_PER_SUB_KIB: f64 = 16.0;
/// ...and with this many subscribers a post reaches them within these latencies.
const TARGET_LATENCY_SUBSCRIBERS: usize = 1000;
/// Median delivery latency target, ms.
const TARGET_P50_MS: f64 = 2.0;
/// 99th percentile delivery latency target, ms.
const TARGET_P99_MS: f64 = 8.0;

/// One workload: `hints` × `per_hint` subscribers, `posts` one-message posts; with a
/// `backlog`, each hint first holds that many messages of about 5 KB, which every socket gets
/// as its replay before it counts as attached.
#[derive(Clone, Copy)]
struct Scenario {
    hints: usize,
    per_hint: usize,
    posts: usize,
    backlog: usize,
}

impl Scenario {
    const fn new(hints: usize, per_hint: usize, posts: usize) -> Self {
        Self {
            hints,
            per_hint,
            posts,
            backlog: 0,
        }
    }

    const fn with_backlog(self, backlog: usize) -> Self {
        Self { backlog, ..self }
    }

    fn subscribers(self) -> usize {
        self.hints * self.per_hint
    }

    fn name(self) -> String {
        match self.backlog {
            0 => format!("{}x{}", self.hints, self.per_hint),
            n => format!("{}x{}_replay{n}", self.hints, self.per_hint),
        }
    }

    /// The scenario in words, for BENCHMARKS.md: `1,000 × 1`.
    fn title(self) -> String {
        let base = format!("{} × {}", thousands(self.hints), thousands(self.per_hint));
        match self.backlog {
            0 => base,
            n => format!("{base} after a replay of {n} messages of 5 KB to each socket"),
        }
    }
}

/// `n` with a comma between thousands.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const FULL: &[Scenario] = &[
    Scenario::new(1, 1, 1000),
    Scenario::new(100, 1, 1000),
    Scenario::new(1000, 1, 1000),
    Scenario::new(100, 10, 1000),
    Scenario::new(10_000, 1, 1000),
    // 100 messages of 5 KB: a 500 KB replay to each of 1,000 sockets.
    Scenario::new(1, 1000, 100).with_backlog(100),
];

const SMOKE: &[Scenario] = &[
    Scenario::new(1, 1, 20),
    Scenario::new(20, 2, 20).with_backlog(5),
];

/// Open files wanted for the largest scenario (relay and client each hold every socket).
const WANTED_FILES: u64 = 65_536;
/// Sockets and files a process needs besides its subscribers.
const FILE_MARGIN: usize = 256;
/// felund-relay's share of its connection budget for WebSockets in this bench, percent.
const WS_SHARE_PERCENT: u64 = 60;
/// Descriptors felund-relay keeps back from its connection budget (`limits::RESERVED_FDS`).
const RELAY_RESERVED_FDS: u64 = felund_relay::limits::RESERVED_FDS;
/// How long a relay may take to come up.
const START_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Felund,
    AioHttp,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Felund => "felund",
            Kind::AioHttp => "aiohttp",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Felund => "felund-relay",
            Kind::AioHttp => "reference aiohttp relay",
        }
    }
}

/// What the bench runs with.
struct Env {
    python: PathBuf,
    reference: Option<PathBuf>,
    relay_bin: PathBuf,
    client: PathBuf,
}

/// A relay process, killed on drop.
struct RelayProcess {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl RelayProcess {
    /// The last lines of the relay's log.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("relay.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_has(python: &Path, modules: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The environment, or `None` after printing why the bench is skipped.
fn environment() -> Option<Env> {
    let python = std::env::var_os("FELUND_REFERENCE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    if !python_has(&python, "aiohttp") {
        println!(
            "SKIPPED ws_scale: needs a Python with aiohttp for the client (set \
             FELUND_REFERENCE_PYTHON, e.g. after `bash ../shared/reference/setup.sh \
             .reference-venv`); {} has none",
            python.display()
        );
        return None;
    }
    let reference = std::env::var_os("FELUND_REFERENCE_DIR").map(PathBuf::from);
    let reference = match reference {
        Some(dir) if dir.join("api/relay_ws.py").exists() && python_has(&python, "aiosqlite") => {
            Some(dir)
        }
        _ => {
            println!(
                "SKIPPED ws_scale reference column: set FELUND_REFERENCE_DIR (the reference \
                 checkout) and FELUND_REFERENCE_PYTHON (with aiohttp and aiosqlite)"
            );
            None
        }
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    Some(Env {
        python,
        reference,
        relay_bin: PathBuf::from(env!("CARGO_BIN_EXE_felund-relay")),
        client: manifest.join("benches/ws_scale_client.py"),
    })
}

/// Raises this process's open-file limit (inherited by the relays and the client) towards
/// [`WANTED_FILES`]; returns the limit in force.
fn raise_file_limit() -> u64 {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    if hard < WANTED_FILES && setrlimit(Resource::RLIMIT_NOFILE, WANTED_FILES, WANTED_FILES).is_ok()
    {
        return WANTED_FILES;
    }
    let target = hard.min(WANTED_FILES.max(soft));
    if setrlimit(Resource::RLIMIT_NOFILE, target, hard).is_ok() {
        target
    } else {
        soft
    }
}

fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /v1/health HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut answer = String::new();
    s.write_all(request.as_bytes()).is_ok()
        && s.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.")
        && answer.split_whitespace().nth(1) == Some("200")
}

/// A temp dir for a relay's database, on tmpfs when the machine has one.
fn relay_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new().prefix("ws-scale").tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("tempdir")
}

fn log_file(dir: &Path) -> std::fs::File {
    std::fs::File::create(dir.join("relay.log")).expect("relay log")
}

fn start_felund(env: &Env) -> RelayProcess {
    let dir = relay_dir();
    let mut child = Command::new(&env.relay_bin)
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("relay.sqlite"))
        // Every subscriber and the poster are 127.0.0.1: measure fan-out, not per-address caps.
        .args([
            "--ws-max-per-address",
            "1000000",
            "--ws-max-per-circle",
            "1000000",
        ])
        .args([
            "--write-requests-per-minute",
            "0",
            "--write-bytes-per-minute",
            "0",
        ])
        .args(["--ws-share-percent", &WS_SHARE_PERCENT.to_string()])
        .stdout(Stdio::piped())
        .stderr(log_file(dir.path()))
        .spawn()
        .expect("spawn felund-relay");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .trim()
        .strip_prefix("felund-relay listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    RelayProcess {
        child,
        base: format!("http://{addr}"),
        dir,
    }
}

fn start_aiohttp(env: &Env, reference: &Path) -> RelayProcess {
    let dir = relay_dir();
    let port = free_port();
    let child = Command::new(&env.python)
        .arg(reference.join("api/relay_ws.py"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--db"])
        .arg(dir.path().join("relay.sqlite"))
        .current_dir(dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(log_file(dir.path()))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the aiohttp relay");
    let relay = RelayProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
        dir,
    };
    let started = Instant::now();
    while !health_ok(port) {
        assert!(
            started.elapsed() < START_DEADLINE,
            "the aiohttp relay did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    relay
}

/// Runs the client against `relay`; its JSON report.
fn run_client(env: &Env, relay: &RelayProcess, s: Scenario) -> Value {
    let output = Command::new(&env.python)
        .arg(&env.client)
        .arg(&relay.base)
        .arg(relay.child.id().to_string())
        .args([s.hints, s.per_hint, s.posts, s.backlog].map(|n| n.to_string()))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stderr(Stdio::inherit())
        .output()
        .expect("run the client");
    assert!(
        output.status.success(),
        "client failed on {}; relay log:\n{}",
        s.name(),
        relay.log_tail()
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "bad client output ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn load_1m() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The figures of one (relay, scenario) run.
struct Figures {
    p50: f64,
    p99: f64,
    rss_per_sub_kib: Option<f64>,
    cpu_us_per_post: f64,
}

impl Figures {
    fn from_report(r: &Value, s: Scenario) -> Self {
        let num = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
        Self {
            p50: num("p50_ms"),
            p99: num("p99_ms"),
            rss_per_sub_kib: (s.subscribers() >= RSS_MIN_SUBSCRIBERS)
                .then(|| (num("rss_attached_kb") - num("rss_before_kb")) / s.subscribers() as f64),
            cpu_us_per_post: num("relay_cpu_s") * 1e6 / s.posts as f64,
        }
    }

    /// The figure as shown in BENCHMARKS.md.
    fn measured(&self) -> String {
        let rss = self
            .rss_per_sub_kib
            .map(|kib| format!(", {kib:.1} KiB per subscriber"))
            .unwrap_or_default();
        format!(
            "p50 {:.2} ms, p99 {:.2} ms{rss}, {:.0} µs CPU per post",
            self.p50, self.p99, self.cpu_us_per_post
        )
    }

    /// Issue #14's targets where they apply (felund-relay; RSS from [`RSS_MIN_SUBSCRIBERS`]
    /// idle subscribers, latency at [`TARGET_LATENCY_SUBSCRIBERS`]) and whether they are met.
    fn target(&self, kind: Kind, s: Scenario) -> (String, Option<bool>) {
        if kind != Kind::Felund || s.backlog > 0 {
            return ("—".into(), None);
        }
        let mut targets = Vec::new();
        let mut met = true;
        if s.subscribers() == TARGET_LATENCY_SUBSCRIBERS {
            targets.push(format!(
                "p50 ≤ {TARGET_P50_MS} ms, p99 ≤ {TARGET_P99_MS} ms"
            ));
            met &= self.p50 <= TARGET_P50_MS && self.p99 <= TARGET_P99_MS;
        }
        if let Some(kib) = self.rss_per_sub_kib {
            targets.push(format!("≤ {TARGET_RSS_PER_SUB_KIB} KiB per subscriber"));
            met &= kib <= TARGET_RSS_PER_SUB_KIB;
        }
        if targets.is_empty() {
            ("—".into(), None)
        } else {
            (targets.join(", "), Some(met))
        }
    }

    /// Prints the figure as one `BENCH {json}` line, the format `benches/run_all.py` reads
    /// (the same fields as the root package's benches).
    fn print(&self, kind: Kind, s: Scenario, smoke: bool) {
        let (target, met) = self.target(kind, s);
        let line = serde_json::json!({
            "table": "ws_scale",
            "id": format!("{}_{}", kind.label(), s.name()),
            "what": format!("{}, {}", kind.title(), s.title()),
            "target": target,
            "measured": self.measured(),
            "met": met,
            "smoke": smoke,
        });
        println!("BENCH {line}");
    }
}

fn measure(env: &Env, kind: Kind, s: Scenario, smoke: bool) -> Figures {
    let relay = match kind {
        Kind::Felund => start_felund(env),
        Kind::AioHttp => start_aiohttp(env, env.reference.as_deref().expect("reference")),
    };
    let load = load_1m();
    let report = run_client(env, &relay, s);
    eprintln!(
        "# {} {}: load {load} → {}; {report}",
        kind.label(),
        s.name(),
        load_1m()
    );
    let figures = Figures::from_report(&report, s);
    figures.print(kind, s, smoke);
    figures
}

fn main() {
    let smoke = std::env::var("FELUND_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let Some(env) = environment() else {
        return;
    };
    let files = raise_file_limit();
    let scenarios = if smoke { SMOKE } else { FULL };
    let mut kinds = vec![Kind::Felund];
    if env.reference.is_some() {
        kinds.push(Kind::AioHttp);
    }
    println!("# load average (1 min) at start: {}", load_1m());
    let mut rows = Vec::new();
    for &s in scenarios {
        // felund-relay gives WebSockets its share of the file budget (`connection_budget`).
        let ws_budget = files.saturating_sub(RELAY_RESERVED_FDS) * WS_SHARE_PERCENT / 100;
        if (s.subscribers() + FILE_MARGIN) as u64 > ws_budget {
            println!(
                "SKIPPED ws_scale {}: open-file limit {files} is too low for {} subscribers",
                s.name(),
                s.subscribers()
            );
            continue;
        }
        for &kind in &kinds {
            rows.push((kind, s, measure(&env, kind, s, smoke)));
        }
    }
    println!("# load average (1 min) at end: {}", load_1m());
    println!(
        "\n| relay | hints × subscribers | p50 / p99 ms | RSS per subscriber | CPU per post |"
    );
    println!("|---|---|---|---|---|");
    for (kind, s, f) in rows {
        println!(
            "| {} | {} | {:.2} / {:.2} | {} | {:.0} µs |",
            kind.label(),
            s.name(),
            f.p50,
            f.p99,
            f.rss_per_sub_kib
                .map_or("–".to_owned(), |kib| format!("{kib:.1} KiB")),
            f.cpu_us_per_post
        );
    }
}
