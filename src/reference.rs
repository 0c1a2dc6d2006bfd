//! Driving the reference felund (Python node/CLI from `../shared/reference`) as a
//! test peer. Tests that need it call [`Reference::from_env`]: when
//! `FELUND_REFERENCE_PYTHON` and `FELUND_REFERENCE_DIR` are set (as `.ci/run` sets
//! them) the reference is mandatory and a missing one fails the test; when they are
//! not set (a user's fresh clone) the test is skipped with a message saying how to
//! enable it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

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
