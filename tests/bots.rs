//! The example bots (`examples/echo_bot.rs`, `examples/python_bot/bot.py`) against
//! real daemons: a bot attached to node A answers `!echo` sent from node B, and the
//! answer reaches B's inbox authored by A.
//!
//! Bots skip their own node's messages (`own`), so the command comes from a second
//! node that has joined the circle. The Python bot needs a Python with grpcio and
//! grpcio-tools in `FELUND_BOT_PYTHON` (`.ci/run` makes one); without it, its test
//! prints `SKIPPED …` and passes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use felund_tests::chat::{circle_info, create_circle, find_message, node_id, send};
use felund_tests::{wait_until, Daemon};
use serde_json::Value;

/// Two joined nodes: `bot_node` (where the bot attaches) and `human` (who talks to it).
struct Pair {
    bot_node: Daemon,
    human: Daemon,
    circle: String,
}

impl Pair {
    fn start() -> Self {
        let bot_node = Daemon::start_with(&["--sync-interval", "1", "--name", "botnode"]);
        let human = Daemon::start_with(&["--sync-interval", "1", "--name", "human"]);
        let circle = create_circle(&bot_node, "bots");
        let joined = human.ctl(&["join", &circle.code]);
        assert!(
            joined.status.success(),
            "join failed: {}",
            String::from_utf8_lossy(&joined.stderr)
        );
        wait_until("the human node to know the circle", || {
            circle_info(&human, &circle.id).is_some()
        });
        Pair {
            bot_node,
            human,
            circle: circle.id,
        }
    }

    /// Waits until some client is subscribed to the bot node's events.
    fn wait_subscribed(&self, bot: &mut BotProcess) {
        wait_until("the bot to subscribe", || {
            bot.assert_running();
            self.bot_node.ctl_one(&["status"])["subscriber_count"]
                .as_u64()
                .unwrap_or(0)
                >= 1
        });
    }

    /// Sends `command` from the human node and waits for the bot's `reply` there.
    fn ask_and_wait(&self, bot: &mut BotProcess, command: &str, reply: &str) -> Value {
        send(&self.human, &self.circle, "general", command);
        let bot_id = node_id(&self.bot_node);
        let mut found = None;
        wait_until(
            &format!("the bot's reply {reply:?} on the human node"),
            || {
                bot.assert_running_or_done();
                found = find_message(&self.human, &self.circle, "general", reply)
                    .filter(|m| m["author_node_id"] == bot_id.as_str());
                found.is_some()
            },
        );
        found.unwrap_or_default()
    }
}

/// A bot child process with its output in a log file; killed when dropped.
struct BotProcess {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl BotProcess {
    fn spawn(mut cmd: Command) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("bot.log");
        let file = std::fs::File::create(&log).expect("bot log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log clone"))
            .stderr(file)
            .spawn()
            .expect("spawn the bot");
        BotProcess {
            child,
            log,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the bot's output if it has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the bot exited ({status}):\n{}", self.log());
        }
    }

    /// Panics with the bot's output if it has exited unsuccessfully.
    fn assert_running_or_done(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            assert!(
                status.success(),
                "the bot failed ({status}):\n{}",
                self.log()
            );
        }
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `echo_bot` example binary, built (or found up to date) by cargo in this test
/// run's profile. `cargo test` builds examples only when no target is selected, so
/// ask cargo for it rather than guessing whether the file is current.
fn echo_bot_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_echo_bot).clone()
}

fn build_echo_bot() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .expect("test executable lives in target/<profile>/deps");
    let profile = if profile == "debug" { "dev" } else { profile };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--workspace", "--example", "echo_bot", "--profile"])
        .arg(profile)
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build --example echo_bot");
    assert!(out.status.success(), "building the echo_bot example failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "echo_bot")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the echo_bot executable")
}

#[test]
fn rust_echo_bot_answers_echo_ping_and_help_from_another_node() {
    let pair = Pair::start();
    let mut cmd = Command::new(echo_bot_binary());
    cmd.arg("--socket")
        .arg(&pair.bot_node.socket)
        .arg("bots") // the circle by name
        .env_remove("FELUND_SOCKET");
    let mut bot = BotProcess::spawn(cmd);
    pair.wait_subscribed(&mut bot);

    let reply = pair.ask_and_wait(&mut bot, "!echo hi", "hi");
    assert_eq!(reply["display_name"], "botnode");
    assert_eq!(reply["own"], false);
    pair.ask_and_wait(&mut bot, "!ping", "pong");
    let help = pair.ask_and_wait(
        &mut bot,
        "!help",
        "commands: !echo TEXT (repeat TEXT), !ping (answer pong), !help (this list)",
    );
    assert_eq!(help["channel_id"], "general");
    // Its own replies are not commands to it: "hi" was answered exactly once, and
    // ordinary chat gets no answer.
    send(&pair.human, &pair.circle, "general", "just chatting");
    pair.ask_and_wait(&mut bot, "!echo last", "last");
    // Compared as sorted lists: messages of the same second may list in either order.
    let mut texts = felund_tests::chat::texts(&pair.human, &pair.circle, "general");
    texts.sort();
    let mut expected = vec![
        "!echo hi",
        "hi",
        "!ping",
        "pong",
        "!help",
        help["text"].as_str().unwrap_or_default(),
        "just chatting",
        "!echo last",
        "last",
    ];
    expected.sort();
    assert_eq!(
        texts, expected,
        "the bot answered exactly the commands, once each"
    );
}

#[test]
fn rust_echo_bot_without_a_circle_exits_2_with_usage() {
    let out = Command::new(echo_bot_binary())
        .env_remove("FELUND_BOT_CIRCLE")
        .output()
        .expect("run echo_bot");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("which circle?"), "{err}");
}

/// The Python named by FELUND_BOT_PYTHON, or `None` (after saying the test is skipped).
fn bot_python(test: &str) -> Option<PathBuf> {
    match std::env::var_os("FELUND_BOT_PYTHON") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "FELUND_BOT_PYTHON={} does not exist",
                p.display()
            );
            Some(p)
        }
        None => {
            eprintln!(
                "SKIPPED {test}: the Python bot test needs FELUND_BOT_PYTHON, a python with \
                 grpcio and grpcio-tools (`python3 -m venv .bot-venv && .bot-venv/bin/pip \
                 install grpcio grpcio-tools`; see .ci/run)"
            );
            None
        }
    }
}

fn python_bot_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python_bot/bot.py")
}

#[test]
fn python_bot_answers_echo_from_another_node_then_exits_with_once() {
    let Some(python) = bot_python("python_bot_answers_echo_from_another_node_then_exits_with_once")
    else {
        return;
    };
    let pair = Pair::start();
    let mut cmd = Command::new(python);
    cmd.arg(python_bot_script())
        .arg("--socket")
        .arg(&pair.bot_node.socket)
        .arg("--once")
        .arg(&pair.circle)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("FELUND_SOCKET");
    let mut bot = BotProcess::spawn(cmd);
    pair.wait_subscribed(&mut bot);

    let reply = pair.ask_and_wait(&mut bot, "!echo hi from python", "hi from python");
    assert_eq!(reply["display_name"], "botnode");
    wait_until("the --once bot to exit", || {
        matches!(bot.child.try_wait(), Ok(Some(_)))
    });
    let status = bot.child.wait().expect("bot status");
    assert!(status.success(), "bot failed ({status}):\n{}", bot.log());
    assert!(
        bot.log().contains("python_bot: answered"),
        "bot log:\n{}",
        bot.log()
    );
}

#[test]
fn python_bot_against_a_missing_socket_exits_2() {
    let Some(python) = bot_python("python_bot_against_a_missing_socket_exits_2") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(python)
        .arg(python_bot_script())
        .arg("--socket")
        .arg(dir.path().join("felundd.sock"))
        .arg("somecircle")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run bot.py");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("felundd is not running at"), "{err}");
}
