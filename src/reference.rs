//! Driving the reference felund (Python node/CLI from `../shared/reference`) as a
//! test peer. Tests that need it call [`Reference::from_env`]: when
//! `FELUND_REFERENCE_PYTHON` and `FELUND_REFERENCE_DIR` are set (as `.ci/run` sets
//! them) the reference is mandatory and a missing one fails the test; when they are
//! not set (a user's fresh clone) the test is skipped with a message saying how to
//! enable it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use felund_wire::{CircleSecret, WireMessage};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::eventually;
use crate::DEADLINE;

/// Where the reference is.
#[derive(Debug, Clone)]
pub struct Reference {
    python: PathBuf,
    dir: PathBuf,
}

impl Reference {
    /// The reference named by the environment, or `None` (after printing why the
    /// caller's test is skipped).
    pub fn from_env(test: &str) -> Option<Self> {
        match (
            std::env::var_os("FELUND_REFERENCE_PYTHON"),
            std::env::var_os("FELUND_REFERENCE_DIR"),
        ) {
            (Some(python), Some(dir)) => {
                let r = Self {
                    python: python.into(),
                    dir: dir.into(),
                };
                assert!(
                    r.python.exists(),
                    "FELUND_REFERENCE_PYTHON={} does not exist",
                    r.python.display()
                );
                assert!(
                    r.script().exists(),
                    "FELUND_REFERENCE_DIR={} has no chat/felundchat.py",
                    r.dir.display()
                );
                Some(r)
            }
            _ => {
                eprintln!(
                    "SKIPPED {test}: reference interop test needs FELUND_REFERENCE_PYTHON and \
                     FELUND_REFERENCE_DIR (run `bash ../shared/reference/setup.sh .reference-venv` \
                     and see .ci/run)"
                );
                None
            }
        }
    }

    /// The reference checkout (`../shared/reference`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The venv's python.
    pub fn python(&self) -> &Path {
        &self.python
    }

    fn script(&self) -> PathBuf {
        self.dir.join("chat").join("felundchat.py")
    }

    /// A fresh reference node state in its own temp dir, initialised to listen on
    /// 127.0.0.1:`port` with `name`.
    pub fn node(&self, port: u16, name: &str) -> ReferenceNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let node = ReferenceNode {
            reference: self.clone(),
            dir,
        };
        node.run_ok(&[
            "init",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--name",
            name,
        ]);
        node
    }
}

/// One reference node's state directory.
pub struct ReferenceNode {
    reference: Reference,
    /// Its state directory (holds `state.json`).
    pub dir: TempDir,
}

impl ReferenceNode {
    /// A reference CLI command (not yet run) on this node's state.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.reference.python);
        cmd.arg(self.reference.script())
            .arg("--state-dir")
            .arg(self.dir.path())
            .args(args)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("FELUND_STATE_DIR", self.dir.path())
            .env_remove("FELUND_API_BASE");
        cmd
    }

    /// Runs a reference CLI command and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run the reference CLI")
    }

    /// Runs a reference CLI command, asserting success; returns stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "reference {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The reference's whole state file.
    pub fn state(&self) -> Value {
        let path: &Path = self.dir.path();
        let text = std::fs::read_to_string(path.join("state.json")).expect("reference state.json");
        serde_json::from_str(&text).expect("reference state.json is JSON")
    }

    /// Creates a circle; returns (circle_id, invite code) parsed from its output.
    pub fn invite(&self) -> (String, String) {
        let out = self.run_ok(&["invite"]);
        let field = |name: &str| {
            out.lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix(name)
                        .map(|r| r.trim_start_matches([' ', ':']).trim().to_string())
                })
                .unwrap_or_else(|| panic!("no {name} in reference output: {out}"))
        };
        (field("circle_id"), field("felund_code"))
    }
}

/// A reference `run --interval 1 --debug`, killed when dropped; its output goes to a file.
pub struct RefRun {
    child: Option<Child>,
    logdir: TempDir,
    port: u16,
    extra: Vec<String>,
}

impl RefRun {
    /// Starts `node` running on 127.0.0.1:`port` and waits until it listens.
    pub fn start(node: &ReferenceNode, port: u16) -> Self {
        Self::start_with(node, port, &[])
    }

    /// [`start`](Self::start) with extra `run` flags (such as `--anchor`).
    pub fn start_with(node: &ReferenceNode, port: u16, extra: &[&str]) -> Self {
        let mut run = Self {
            child: None,
            logdir: tempfile::tempdir().expect("temp dir"),
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        run.spawn(node);
        run
    }

    fn spawn(&mut self, node: &ReferenceNode) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("run log");
        let child = node
            .command(&["run", "--interval", "1", "--debug"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log clone"))
            .stderr(log)
            .spawn()
            .expect("spawn reference run");
        self.child = Some(child);
        let port = self.port;
        let up = eventually(DEADLINE, || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("reference run exited ({status}):\n{}", self.log());
            }
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "reference run is not listening:\n{}", self.log());
    }

    fn log_path(&self) -> PathBuf {
        self.logdir.path().join("run.log")
    }

    /// The last lines of the reference's output.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Stops it (before a `send` on the same state, which a running node would overwrite).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops and starts it again on the same state.
    pub fn restart(&mut self, node: &ReferenceNode) {
        self.stop();
        self.spawn(node);
    }
}

impl Drop for RefRun {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The reference's messages of a circle (from state.json), chat channels only.
pub fn ref_messages(node: &ReferenceNode, circle: &str) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(node.dir.path().join("state.json")) else {
        return Vec::new();
    };
    let Ok(state) = serde_json::from_str::<Value>(&text) else {
        return Vec::new(); // caught mid-rewrite
    };
    state["messages"]
        .as_object()
        .map(|m| {
            m.values()
                .filter(|v| v["circle_id"] == circle && v["channel_id"] != "__control")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The clear text of a message as the reference stored it (blanked at rest when it has an
/// envelope: decrypt then).
pub fn clear_text(v: &Value, secret: &CircleSecret) -> String {
    let text = v["text"].as_str().unwrap_or_default();
    if !text.is_empty() || v["enc"].is_null() {
        return text.to_string();
    }
    let mut filled = v.clone();
    filled["text"] = json!("-");
    WireMessage::from_value(&filled)
        .and_then(|m| m.open_enc(secret))
        .map(|(_, t)| t)
        .unwrap_or_default()
}

/// Whether the reference holds a message of `circle` with `text`.
pub fn ref_has(node: &ReferenceNode, circle: &str, secret: &CircleSecret, text: &str) -> bool {
    ref_messages(node, circle)
        .iter()
        .any(|m| clear_text(m, secret) == text)
}
