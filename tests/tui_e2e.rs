//! End-to-end tests of the real `felund-tui` binary in a pseudo-terminal (tmux)
//! against a real felundd: two TUIs on one daemon see the same conversation,
//! messages from felundctl show up live, and a TUI waits for a daemon that is
//! not running and reconnects after a restart.
//!
//! Needs `tmux`; without it each test prints `SKIPPED` and passes (CI installs it).

use std::path::PathBuf;
use std::process::{Command, Output};

use felund_tests::{bin, wait_for, Daemon};
use tempfile::TempDir;

/// Whether tmux can be run; prints why the test is skipped if not.
fn tmux_available(test: &str) -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED {test}: tmux is not installed (apt-get install -y tmux)");
    }
    ok
}

/// One felund-tui running in its own tmux server, killed on drop.
struct Tui {
    /// The tmux server's socket (`tmux -S`).
    server: PathBuf,
    /// Holds the socket; removed after the server is killed.
    _dir: TempDir,
}

impl Tui {
    /// Starts `felund-tui --socket SOCKET` in a 120×40 pane. When the TUI
    /// exits, the pane shows `EXITED <status>` and stays.
    fn start(socket: &std::path::Path) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("felund-e2e-tmux")
            .tempdir()
            .expect("temp dir");
        let server = dir.path().join("tmux.sock");
        let cmd = format!(
            "'{}' --socket '{}'; echo EXITED $?; sleep 600",
            bin("felund-tui").display(),
            socket.display()
        );
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&server)
            .args(["-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "120", "-y", "40"])
            .arg(&cmd)
            .env_remove("TMUX")
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            text(&out)
        );
        Self { server, _dir: dir }
    }

    /// Runs a tmux command against this server.
    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.server)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// Sends key names (`Enter`, `F1`, `C-q`, ...).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(out.status.success(), "send-keys: {}", text(&out));
    }

    /// Types literal text.
    fn type_text(&self, s: &str) {
        let out = self.tmux(&["send-keys", "-t", "0", "-l", s]);
        assert!(out.status.success(), "send-keys -l: {}", text(&out));
    }

    /// The visible screen.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// Waits until the screen contains every needle; returns the screen.
    fn wait_for(&self, what: &str, needles: &[&str]) -> String {
        wait_for(&format!("{what} ({needles:?})"), || {
            let screen = self.screen();
            match needles.iter().all(|n| screen.contains(n)) {
                true => Ok(screen),
                false => Err(format!("screen:\n{screen}")),
            }
        })
    }
}

impl Tui {
    /// Waits until the screen no longer contains `needle`. Needed between an Esc
    /// and the next escape sequence: a terminal parser may read two ESCs that
    /// arrive together as one Esc key.
    fn wait_gone(&self, what: &str, needle: &str) {
        wait_for(&format!("{what} to go ({needle:?})"), || {
            let screen = self.screen();
            match screen.contains(needle) {
                false => Ok(()),
                true => Err(format!("screen:\n{screen}")),
            }
        });
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// Both output streams of a command, for messages.
fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits until the channel's inbox (felundctl inbox --json) has a message with
/// this text.
fn wait_inbox(d: &Daemon, circle: &str, want: &str) {
    wait_for(&format!("{want:?} in the inbox"), || {
        let msgs = d.ctl_json(&["inbox", "--circle-id", circle, "--channel", "general"]);
        match msgs.iter().any(|m| m["text"] == want) {
            true => Ok(()),
            false => Err(format!("inbox: {msgs:?}")),
        }
    });
}

#[test]
fn two_tuis_on_one_daemon_share_the_conversation() {
    if !tmux_available("two_tuis_on_one_daemon_share_the_conversation") {
        return;
    }
    let d = Daemon::start_with(&["--name", "alice"]);
    let created = d.ctl_one(&["invite", "--name", "room"]);
    let circle = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let a = Tui::start(&d.socket);
    let b = Tui::start(&d.socket);
    for tui in [&a, &b] {
        tui.wait_for(
            "the main screen",
            &["room │ #general", "● connected", "ctrl+q=quit"],
        );
    }

    a.type_text("hello from tui");
    a.keys(&["Enter"]);
    b.wait_for("the message in the second TUI", &["alice: hello from tui"]);
    a.wait_for("the message in the first TUI", &["alice: hello from tui"]);
    wait_inbox(&d, &circle, "hello from tui");

    d.ctl_one(&[
        "send",
        "--circle-id",
        &circle,
        "--channel",
        "general",
        "hi from felundctl ✨",
    ]);
    a.wait_for("felundctl's message", &["alice: hi from felundctl ✨"]);
    let screen = b.wait_for("felundctl's message", &["alice: hi from felundctl ✨"]);
    println!("main screen:\n{screen}");

    // A second channel made in one TUI shows up in the other's sidebar.
    b.type_text("/channel create random");
    b.keys(&["Enter"]);
    b.wait_for("the new channel", &["#random ←", "Created #random"]);
    a.wait_for("the channel in the other sidebar", &["#random"]);

    a.keys(&["F1"]);
    let help = a.wait_for("the help modal", &["felund-tui help", "/channel create"]);
    println!("help modal:\n{help}");
    a.keys(&["Escape"]);
    a.wait_gone("the help modal", "felund-tui help");
    a.keys(&["F2"]);
    a.wait_for("the invite modal", &["Invite code — room", "felund1."]);
    a.keys(&["Escape"]);
    a.wait_gone("the invite modal", "Invite code — room");
    a.type_text("/search hello");
    a.keys(&["Enter"]);
    a.wait_for(
        "the search results",
        &[
            "1 message matches “hello”",
            "#general alice: hello from tui",
        ],
    );

    a.keys(&["C-q"]);
    a.wait_for("a clean exit", &["EXITED 0"]);
}

#[test]
fn tui_waits_for_the_daemon_and_reconnects_after_a_restart() {
    if !tmux_available("tui_waits_for_the_daemon_and_reconnects_after_a_restart") {
        return;
    }
    let mut d = Daemon::start_with(&["--name", "bob"]);
    let created = d.ctl_one(&["invite", "--name", "den"]);
    let circle = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    d.stop();

    let tui = Tui::start(&d.socket);
    tui.wait_for(
        "the not-running explanation",
        &[
            "felundd is not running at",
            "start it with `felundd --socket",
            "connecting to felundd",
        ],
    );
    d.start_again();
    tui.wait_for("the connection", &["den │ #general", "● connected"]);

    d.restart();
    tui.wait_for(
        "the reconnection",
        &["Lost the connection", "Reconnected to felundd."],
    );
    tui.type_text("after restart");
    tui.keys(&["Enter"]);
    tui.wait_for(
        "the message sent after reconnecting",
        &["bob: after restart"],
    );
    wait_inbox(&d, &circle, "after restart");
    d.ctl_one(&[
        "send",
        "--circle-id",
        &circle,
        "--channel",
        "general",
        "live again",
    ]);
    tui.wait_for("a live message after reconnecting", &["bob: live again"]);
}
