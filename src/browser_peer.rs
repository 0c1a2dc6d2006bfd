//! A browser-side DataChannel peer for tests: `tests/webrtc/browser_peer.py` (aiortc),
//! written from the protocol's DataChannel section, plays the reference web client —
//! registers as a browser, offers to larger node ids, answers offers, HELLO/AUTH, six-key
//! envelope messages. Tests drive it over stdin and read its JSON-line events.
//!
//! Tests that need it call [`BrowserPeer::python`]: when `FELUND_WEBRTC_PYTHON` is set (as
//! `.ci/run` sets it) a missing interpreter fails the test; when it is not set the test is
//! skipped with a `SKIPPED` line saying how to enable it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use felund_wire::CircleSecret;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::{wait_until, DEADLINE};

/// A node id that sorts before any felundd id (the browser offers).
pub const LOW_ID: &str = "00000000000000000000000000000001";
/// A node id that sorts after any felundd id (felundd offers).
pub const HIGH_ID: &str = "ffffffffffffffffffffffffffffff01";

/// How to start a browser peer.
#[derive(Debug, Clone, Default)]
pub struct BrowserOptions {
    /// Its node id (default: random).
    pub node_id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// Index of the circle "on screen" (the one that discovers and offers).
    pub on_screen: usize,
    /// Attacker mode: `wrong-secret` or `early-msgs`.
    pub attack: Option<String>,
}

/// A running browser peer.
pub struct BrowserPeer {
    child: Child,
    stdin: ChildStdin,
    events: Arc<Mutex<Vec<Value>>>,
    dir: TempDir,
    /// Its node id.
    pub node_id: String,
}

impl BrowserPeer {
    /// The Python interpreter with aiortc, or `None` after printing why `test` is skipped.
    pub fn python(test: &str) -> Option<PathBuf> {
        match std::env::var_os("FELUND_WEBRTC_PYTHON") {
            Some(p) => {
                let p = PathBuf::from(p);
                assert!(
                    p.exists(),
                    "FELUND_WEBRTC_PYTHON={} does not exist",
                    p.display()
                );
                Some(p)
            }
            None => {
                eprintln!(
                    "SKIPPED {test}: the DataChannel browser peer needs FELUND_WEBRTC_PYTHON (a \
                     python with tests/webrtc/requirements.txt installed; see .ci/run)"
                );
                None
            }
        }
    }

    /// Starts a browser peer at relay `relay` holding `secrets` (its circles, in order).
    pub fn start(
        python: &Path,
        relay: &str,
        secrets: &[&CircleSecret],
        opts: BrowserOptions,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webrtc/browser_peer.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).args(["--relay", relay]);
        for s in secrets {
            cmd.args(["--secret", &s.to_hex()]);
        }
        if let Some(id) = &opts.node_id {
            cmd.args(["--node-id", id]);
        }
        if let Some(n) = &opts.name {
            cmd.args(["--name", n]);
        }
        cmd.args(["--on-screen", &opts.on_screen.to_string()]);
        if let Some(a) = &opts.attack {
            cmd.args(["--attack", a]);
        }
        let log = std::fs::File::create(dir.path().join("browser.log")).expect("log file");
        let mut child = cmd
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn the browser peer");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().expect("events").push(v);
                }
            }
        });
        let mut peer = Self {
            child,
            stdin,
            events,
            dir,
            node_id: String::new(),
        };
        let ready = peer.wait_event("the browser peer to start", |e| e["event"] == "ready");
        peer.node_id = ready["node_id"].as_str().expect("node_id").to_string();
        peer
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().expect("events").clone()
    }

    /// Events named `name` so far.
    pub fn named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == name)
            .collect()
    }

    /// The first event matching `pred`, waiting up to [`DEADLINE`]; panics with the log.
    pub fn wait_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_event_within(DEADLINE, &pred)
            .unwrap_or_else(|| panic!("timed out waiting for {what}; browser log:\n{}", self.log()))
    }

    /// The first event matching `pred` within `within`.
    pub fn wait_event_within(
        &self,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let start = Instant::now();
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return Some(e);
            }
            if start.elapsed() >= within {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Texts of the messages the browser holds in circle `circle` (index), received so far.
    pub fn texts(&self, circle: usize) -> Vec<String> {
        self.named("message")
            .iter()
            .filter(|e| e["circle"] == circle)
            .filter_map(|e| e["text"].as_str().map(str::to_string))
            .collect()
    }

    /// Waits until the browser holds a message with `text` in circle `circle`.
    pub fn wait_text(&self, circle: usize, text: &str) {
        self.wait_event(&format!("'{text}' to reach the browser"), |e| {
            e["event"] == "message" && e["circle"] == circle && e["text"] == text
        });
    }

    /// How many verified sessions the browser has opened so far.
    pub fn opened(&self) -> usize {
        self.named("open").len()
    }

    fn command(&mut self, cmd: Value) {
        writeln!(self.stdin, "{cmd}").expect("write to the browser peer");
        self.stdin.flush().expect("flush");
    }

    /// Authors `text` in circle `circle` and sends it as MSG_NEW on its open sessions.
    pub fn send(&mut self, circle: usize, text: &str) {
        let before = self.named("authored").len();
        self.command(json!({"cmd": "send", "circle": circle, "text": text}));
        wait_until("the browser to author", || {
            self.named("authored").len() > before
        });
    }

    /// Gives the browser `count` messages of `size`-byte texts in circle `circle`.
    pub fn seed(&mut self, circle: usize, count: usize, size: usize) {
        let before = self.named("seeded").len();
        self.command(json!({"cmd": "seed", "circle": circle, "count": count, "size": size}));
        wait_until("the browser to seed", || {
            self.named("seeded").len() > before
        });
    }

    /// Closes every session (as a page unload does).
    pub fn close_all(&mut self) {
        self.command(json!({"cmd": "close"}));
    }

    /// The peer's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("browser.log")).unwrap_or_default()
    }

    /// Kills it (no goodbye: its PeerConnections vanish).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BrowserPeer {
    fn drop(&mut self) {
        self.kill();
    }
}
