//! Test harness for the workspace-level integration tests in `tests/`: starts real
//! `felundd` processes in their own temp dirs (free loopback ports, own sockets) and
//! drives them with the real `felundctl`.
//!
//! The binaries (`felundd`, `felundctl`, `felund-relay`, `felund-tui`) are the ones
//! `cargo test --workspace` builds next to the test executables (`target/<profile>/`).
//! A binary older than any source file of the crates it is built from is refused with a message
//! that says how to build it, so a test never silently runs a stale program — not even
//! under `cargo test -p felund-tests`, which does not build them. `FELUND_BIN_DIR`
//! points at prebuilt binaries instead (not checked).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// Generous deadline for anything a test waits for (a loaded 2-core CI machine).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The workspace crates (directories) each binary is built from.
fn crates_of(binary: &str) -> &'static [&'static str] {
    match binary {
        "felundd" => &["felundd", "felund-wire", "felund-client", "proto"],
        "felundctl" => &["felundctl", "felund-clidoc", "felund-client", "proto"],
        "felund-tui" => &["felund-tui", "felund-client", "proto"],
        "felund-relay" => &["felund-relay", "felund-wire"],
        _ => &[],
    }
}

/// Path of a workspace binary (`felundd`, `felundctl`, ...): the one next to the test
/// executable (`target/<profile>/`), refused when it is older than the product's
/// sources (see the crate docs); `FELUND_BIN_DIR` overrides that.
pub fn bin(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("FELUND_BIN_DIR") {
        return Path::new(&dir).join(name);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} not found; build the workspace first (`cargo build --workspace`) or set FELUND_BIN_DIR",
                path.display()
            )
        });
    if let Some((source, changed)) = newest_source(name) {
        assert!(
            built >= changed,
            "{} is older than {} (changed since it was built): this test would run a stale \
             program. Build first — `cargo build --workspace`, or run the tests with \
             `cargo test --workspace`, which builds everything.",
            path.display(),
            source.display()
        );
    }
    path
}

/// The most recently modified source file `binary` is built from.
fn newest_source(binary: &str) -> Option<(PathBuf, std::time::SystemTime)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = None;
    for krate in crates_of(binary) {
        newest_under(&root.join(krate), &mut newest);
    }
    newest
}

/// Updates `newest` with the sources under `dir` (`src/`, build scripts, manifests,
/// `.proto` and migration files; not tests, `tests.rs` test modules or benches, which do not
/// go into a binary).
fn newest_under(dir: &Path, newest: &mut Option<(PathBuf, std::time::SystemTime)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "tests" | "benches" | "target" | "fuzz") {
                newest_under(&path, newest);
            }
            continue;
        }
        // `tests.rs` files are `#[cfg(test)]` modules: cargo does not relink a binary for them.
        let source = name != "tests.rs"
            && [".rs", ".proto", ".sql", "Cargo.toml"]
                .iter()
                .any(|ext| name.ends_with(ext));
        let modified = entry.metadata().and_then(|m| m.modified());
        if let (true, Ok(m)) = (source, modified) {
            if newest.as_ref().is_none_or(|(_, n)| m > *n) {
                *newest = Some((path, m));
            }
        }
    }
}

/// A free TCP port on 127.0.0.1 for a server the test starts next (outside the kernel's
/// ephemeral range, so no outgoing connection takes it first).
pub use felund_testkit::ports::free_port;

/// Longest pause between two polls of a condition: short enough that waiting adds
/// little to a test, long enough not to busy a loaded machine.
const POLL_MAX_PAUSE: Duration = Duration::from_millis(200);

/// Polls `probe` until it returns `Ok` or `within` passes; returns that value, or
/// the last `Err` (what was seen instead, for the failure message). Every wait in
/// the tests goes through here: the pause starts at 5 ms and doubles.
pub fn poll<T, E>(within: Duration, mut probe: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        let last = probe();
        if last.is_ok() || start.elapsed() >= within {
            return last;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL_MAX_PAUSE);
    }
}

/// Polls `cond` until it holds or `within` passes; returns whether it held.
pub fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    poll(within, || if cond() { Ok(()) } else { Err(()) }).is_ok()
}

/// Polls `probe` until it returns `Ok` (whose value it returns); panics after
/// [`DEADLINE`] with `what` and the last `Err`.
pub fn wait_for<T, E: std::fmt::Display>(what: &str, probe: impl FnMut() -> Result<T, E>) -> T {
    poll(DEADLINE, probe)
        .unwrap_or_else(|last| panic!("timed out after {DEADLINE:?} waiting for {what}; {last}"))
}

/// Polls `cond` until it holds or [`DEADLINE`] passes; panics with `what` then.
pub fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    assert!(
        eventually(DEADLINE, cond),
        "timed out after {DEADLINE:?} waiting for {what}"
    );
}

/// [`wait_until`] for async tests: `cond` is a quick blocking check, and the waits
/// between checks yield to the runtime.
pub async fn wait_until_async(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    while !cond() {
        assert!(
            start.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_MAX_PAUSE);
    }
}

/// Resident memory of process `pid` in KiB (`VmRSS` in `/proc/PID/status`), 0 if unknown.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// A running felundd in its own temp dir.
pub struct Daemon {
    child: Option<Child>,
    /// The temp dir holding state, socket and log (removed on drop).
    pub dir: TempDir,
    /// State directory.
    pub state_dir: PathBuf,
    /// API socket.
    pub socket: PathBuf,
    /// Gossip port on 127.0.0.1.
    pub port: u16,
    extra_args: Vec<String>,
    umask: Option<u32>,
}

/// How to start a [`Daemon`], beyond extra flags.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// Extra flags.
    pub extra: Vec<String>,
    /// The API socket, instead of `<temp dir>/run/felundd.sock`. One outside the temp dir is
    /// removed when the daemon is dropped.
    pub socket: Option<PathBuf>,
    /// The umask felundd starts with, instead of the test's.
    pub umask: Option<u32>,
}

impl Daemon {
    /// Starts a daemon bound to 127.0.0.1 on a free port.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a daemon with extra flags.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_opts(DaemonOptions {
            extra: extra.iter().map(|s| s.to_string()).collect(),
            ..DaemonOptions::default()
        })
    }

    /// Starts a daemon as `opts` say.
    pub fn start_opts(opts: DaemonOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let state_dir = dir.path().join("state");
        let socket = opts
            .socket
            .unwrap_or_else(|| dir.path().join("run").join("felundd.sock"));
        let mut d = Self {
            child: None,
            state_dir,
            socket,
            port: free_port(),
            dir,
            extra_args: opts.extra,
            umask: opts.umask,
        };
        d.spawn();
        d
    }

    /// Path of the daemon's log file (stderr of every run, appended).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("felundd.log")
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let mut cmd = match self.umask {
            // The shell sets the umask and execs felundd in its place.
            Some(mask) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("umask {mask:03o} && exec \"$0\" \"$@\""))
                    .arg(bin("felundd"));
                sh
            }
            None => Command::new(bin("felundd")),
        };
        let child = cmd
            .arg("--state-dir")
            .arg(&self.state_dir)
            .arg("--socket")
            .arg(&self.socket)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(&self.extra_args)
            .env("RUST_LOG", "felundd=debug,info")
            .env_remove("FELUND_API_BASE")
            .env_remove("FELUND_CONFIG")
            // No config file from the developer's home leaks into a test.
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn felundd");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        wait_for("felundd to answer", || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("felundd exited early ({status}); log:\n{}", self.log());
            }
            if self.socket.exists() && self.ctl(&["status"]).status.success() {
                return Ok(());
            }
            Err(format!("log:\n{}", self.log()))
        });
    }

    /// Runs felundctl against this daemon.
    pub fn ctl(&self, args: &[&str]) -> Output {
        self.ctl_cmd(args).output().expect("run felundctl")
    }

    /// Runs felundctl against this daemon with `input` on its standard input.
    pub fn ctl_input(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .ctl_cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn felundctl");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_string();
        // felundctl may stop reading early; a closed pipe is not the test's concern.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().expect("run felundctl");
        let _ = writer.join();
        out
    }

    /// A felundctl command (not yet run) against this daemon.
    pub fn ctl_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("felundctl"));
        cmd.arg("--socket").arg(&self.socket).args(args);
        // Nothing from the developer's environment changes what felundctl is given.
        for var in ["FELUND_SOCKET", "FELUND_INVITE_CODE", "FELUND_CHANNEL_KEY"] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs `felundctl --json ARGS`, asserts success and parses each output line.
    pub fn ctl_json(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = self.ctl(&full);
        assert!(
            out.status.success(),
            "felundctl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    }

    /// Like [`ctl_json`](Self::ctl_json) for commands printing one object.
    pub fn ctl_one(&self, args: &[&str]) -> Value {
        let mut v = self.ctl_json(args);
        assert_eq!(
            v.len(),
            1,
            "expected one JSON object from {args:?}, got {v:?}"
        );
        v.remove(0)
    }

    /// Stops the daemon with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            if eventually(DEADLINE, || matches!(child.try_wait(), Ok(Some(_)))) {
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!("felundd did not stop on SIGTERM");
        }
    }

    /// Kills the daemon with SIGKILL (no clean shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the daemon again on the same state, socket and port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Replaces the extra flags used from the next (re)start on.
    pub fn set_extra_args(&mut self, extra: &[&str]) {
        self.extra_args = extra.iter().map(|s| s.to_string()).collect();
    }

    /// The process id of the running daemon.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts a stopped daemon again.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "daemon still running");
        self.spawn();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        // SIGKILL leaves the socket file; one outside the temp dir would outlive the test.
        if !self.socket.starts_with(self.dir.path()) {
            let _ = std::fs::remove_file(&self.socket);
        }
    }
}

pub mod browser_peer;
pub mod chat;
pub mod ctl;
pub mod fake_peer;
pub mod hostile_relay;
pub mod other_user;

pub mod reference;
pub mod refstate;
pub mod relays;
pub mod signal_only;
pub mod signal_proxy;
pub mod transcript;
