//! The example bots (`examples/echo_bot.rs` on felund-client's `bot` helper,
//! `examples/echo_bot.py` on the `felund` Python package) against real daemons: a
//! bot attached to node A answers commands sent from node B, the answers reach B
//! authored by A, and the bot keeps answering after A's felundd is stopped and
//! started again or killed outright; a member flooding it gets a burst of answers
//! while another member is still answered. Under the Rust bot, felund-client's
//! `EventStream` delivers a message stored while felundd restarted, once.
//!
//! Bots skip their own node's messages (`own`), so commands come from a second node
//! that has joined the circle. The Python bot needs a Python with the package
//! installed (`pip install ./python`) in `FELUND_BOT_PYTHON` (`.ci/run` makes one);
//! without it, its tests print `SKIPPED …` and pass.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use felund_client::limits::BOT_BURST_PER_AUTHOR;
use felund_tests::chat::{
    circle_info, create_circle, find_message, node_id, send, send_many, texts,
};
use felund_tests::{wait_until, Daemon};
use serde_json::Value;

/// What `!help` answers, for both examples.
const HELP: &str = "commands: !echo (repeat TEXT), !ping (answer pong), !help (this list)";

/// Two joined nodes: `bot_node` (where the bot attaches) and `human` (who talks to it).
struct Pair {
    bot_node: Daemon,
    human: Daemon,
    circle: String,
    code: String,
}

impl Pair {
    fn start() -> Self {
        let bot_node = Daemon::start_with(&["--sync-interval", "1", "--name", "botnode"]);
        let human = Daemon::start_with(&["--sync-interval", "1", "--name", "human"]);
        let circle = create_circle(&bot_node, "bots");
        join(&human, &circle.code, &circle.id);
        Pair {
            bot_node,
            human,
            circle: circle.id,
            code: circle.code,
        }
    }

    /// Starts `bot` on the bot node, listening to the circle by name, and waits
    /// until it is subscribed.
    fn spawn(&self, bot: &Bot) -> BotProcess {
        let mut process = BotProcess::spawn(bot.command(&self.bot_node.socket, "bots"));
        self.wait_subscribed(&mut process);
        process
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
                bot.assert_running();
                found = find_message(&self.human, &self.circle, "general", reply)
                    .filter(|m| m["author_node_id"] == bot_id.as_str());
                found.is_some()
            },
        );
        found.unwrap_or_default()
    }

    /// The texts of the circle's general channel on the human node, sorted
    /// (messages of the same second may list in either order).
    fn sorted_texts(&self) -> Vec<String> {
        let mut texts = texts(&self.human, &self.circle, "general");
        texts.sort();
        texts
    }
}

/// Has `node` join the circle of `code` (whose id is `circle`) and waits until it knows it.
fn join(node: &Daemon, code: &str, circle: &str) {
    let joined = node.ctl(&["join", code]);
    assert!(
        joined.status.success(),
        "join failed: {}",
        String::from_utf8_lossy(&joined.stderr)
    );
    wait_until("the joining node to know the circle", || {
        circle_info(node, circle).is_some()
    });
}

/// Which example bot a test runs.
enum Bot {
    Rust,
    Python(PathBuf),
}

impl Bot {
    /// The bot's command line, attached to `socket` and listening to `circle`,
    /// configured the way the README tells a user to: through the environment.
    fn command(&self, socket: &Path, circle: &str) -> Command {
        let mut cmd = match self {
            Bot::Rust => Command::new(echo_bot_binary()),
            Bot::Python(python) => {
                let mut cmd = Command::new(python);
                cmd.arg(repo_file("examples/echo_bot.py"))
                    .env("PYTHONDONTWRITEBYTECODE", "1")
                    .env("PYTHONUNBUFFERED", "1");
                cmd
            }
        };
        cmd.env("FELUND_SOCKET", socket)
            .env("FELUND_BOT_CIRCLE", circle);
        cmd
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
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
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

/// The Python named by FELUND_BOT_PYTHON, or `None` (after saying the test is skipped).
fn python_bot(test: &str) -> Option<Bot> {
    let Some(python) = std::env::var_os("FELUND_BOT_PYTHON") else {
        eprintln!(
            "SKIPPED {test}: the Python bot tests need FELUND_BOT_PYTHON, a python with the \
             felund package (`python3 -m venv .bot-venv && .bot-venv/bin/pip install ./python`; \
             see .ci/run)"
        );
        return None;
    };
    let python = PathBuf::from(python);
    assert!(
        python.exists(),
        "FELUND_BOT_PYTHON={} does not exist",
        python.display()
    );
    Some(Bot::Python(python))
}

/// `bot` answers `!echo`, `!ping` and `!help` from another node, in the channel they
/// were written in, exactly once each, and ignores chat and its own replies.
fn answers_commands_from_another_node(bot: &Bot) {
    let pair = Pair::start();
    let mut process = pair.spawn(bot);

    let reply = pair.ask_and_wait(&mut process, "!echo hi", "hi");
    assert_eq!(reply["display_name"], "botnode");
    assert_eq!(reply["own"], false);
    pair.ask_and_wait(&mut process, "!ping", "pong");
    let help = pair.ask_and_wait(&mut process, "!help", HELP);
    assert_eq!(help["channel_id"], "general");
    // Its own replies are not commands to it: "hi" was answered exactly once, and
    // ordinary chat gets no answer.
    send(&pair.human, &pair.circle, "general", "just chatting");
    pair.ask_and_wait(&mut process, "!echo last", "last");
    let mut expected = [
        "!echo hi",
        "hi",
        "!ping",
        "pong",
        "!help",
        HELP,
        "just chatting",
        "!echo last",
        "last",
    ];
    expected.sort();
    assert_eq!(
        pair.sorted_texts(),
        expected,
        "the bot answered exactly the commands, once each"
    );
}

/// `bot` keeps answering after its felundd is stopped and started again, and after
/// it is killed (SIGKILL) and started again, answering each command once.
fn keeps_answering_across_restarts(bot: &Bot) {
    let mut pair = Pair::start();
    let mut process = pair.spawn(bot);
    pair.ask_and_wait(&mut process, "!echo before", "before");

    pair.bot_node.restart();
    pair.ask_and_wait(&mut process, "!echo after a restart", "after a restart");

    pair.bot_node.kill();
    pair.bot_node.start_again();
    pair.ask_and_wait(&mut process, "!echo after a kill", "after a kill");

    let mut expected = [
        "!echo before",
        "before",
        "!echo after a restart",
        "after a restart",
        "!echo after a kill",
        "after a kill",
    ];
    expected.sort();
    assert_eq!(pair.sorted_texts(), expected, "each command answered once");
}

/// A member flooding `bot` with commands gets a burst of answers, not one each, and
/// another member is still answered.
fn limits_a_flooding_member_and_answers_another(bot: &Bot) {
    let pair = Pair::start();
    let honest = Daemon::start_with(&["--sync-interval", "1", "--name", "honest"]);
    join(&honest, &pair.code, &pair.circle);
    let mut process = pair.spawn(bot);

    let flood: Vec<String> = (0..30).map(|i| format!("!echo flood {i}")).collect();
    send_many(&pair.human, &pair.circle, &flood);
    // The whole flood reaches the bot's node before the honest command is sent, so
    // the bot has taken it all in when it answers that one.
    let count = |prefix: &str| {
        texts(&pair.bot_node, &pair.circle, "general")
            .iter()
            .filter(|t| t.starts_with(prefix))
            .count()
    };
    wait_until("the flood on the bot's node", || {
        count("!echo flood ") == 30
    });
    send(&honest, &pair.circle, "general", "!echo honest");
    let bot_id = node_id(&pair.bot_node);
    wait_until("the bot's answer to the honest member", || {
        process.assert_running();
        find_message(&honest, &pair.circle, "general", "honest")
            .is_some_and(|m| m["author_node_id"] == bot_id.as_str())
    });
    let answered = count("flood ");
    let burst = BOT_BURST_PER_AUTHOR as usize;
    // A burst, plus at most a few refills while the flood was taken in.
    assert!(
        (burst..=2 * burst).contains(&answered),
        "{answered} of 30 flood commands answered; the burst is {burst}"
    );
}

/// Started without felundd, `bot` exits 2 at once and says where it looked.
fn exits_2_naming_a_missing_socket(bot: &Bot) {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("felundd.sock");
    let out = bot
        .command(&socket, "somecircle")
        .output()
        .expect("run the bot");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("felundd is not running at {}", socket.display())),
        "{err}"
    );
}

#[test]
fn rust_echo_bot_answers_echo_ping_and_help_from_another_node() {
    answers_commands_from_another_node(&Bot::Rust);
}

#[test]
fn rust_echo_bot_keeps_answering_after_felundd_restarts_and_is_killed() {
    keeps_answering_across_restarts(&Bot::Rust);
}

#[test]
fn rust_echo_bot_limits_a_flooding_member_and_still_answers_another() {
    limits_a_flooding_member_and_answers_another(&Bot::Rust);
}

#[test]
fn rust_echo_bot_without_felundd_exits_2_naming_the_socket() {
    exits_2_naming_a_missing_socket(&Bot::Rust);
}

#[test]
fn python_echo_bot_answers_echo_ping_and_help_from_another_node() {
    let test = "python_echo_bot_answers_echo_ping_and_help_from_another_node";
    if let Some(bot) = python_bot(test) {
        answers_commands_from_another_node(&bot);
    }
}

#[test]
fn python_echo_bot_keeps_answering_after_felundd_restarts_and_is_killed() {
    let test = "python_echo_bot_keeps_answering_after_felundd_restarts_and_is_killed";
    if let Some(bot) = python_bot(test) {
        keeps_answering_across_restarts(&bot);
    }
}

#[test]
fn python_echo_bot_limits_a_flooding_member_and_still_answers_another() {
    let test = "python_echo_bot_limits_a_flooding_member_and_still_answers_another";
    if let Some(bot) = python_bot(test) {
        limits_a_flooding_member_and_answers_another(&bot);
    }
}

#[test]
fn python_echo_bot_without_felundd_exits_2_naming_the_socket() {
    if let Some(bot) = python_bot("python_echo_bot_without_felundd_exits_2_naming_the_socket") {
        exits_2_naming_a_missing_socket(&bot);
    }
}

/// The README shows the examples verbatim, and they are as short as promised.
#[test]
fn the_readme_bots_are_the_examples_and_fit_their_line_budgets() {
    let readme = std::fs::read_to_string(repo_file("README.md")).expect("README.md");
    for (file, budget) in [("examples/echo_bot.py", 15), ("examples/echo_bot.rs", 25)] {
        let example = std::fs::read_to_string(repo_file(file)).expect(file);
        assert!(
            readme.contains(&example),
            "README.md must show {file} verbatim"
        );
        let lines = example.lines().count();
        assert!(
            lines <= budget,
            "{file} has {lines} lines; at most {budget}"
        );
    }
}

/// The text of the next message `events` delivers (other events skipped), or a
/// panic after the deadline.
async fn next_text(events: &mut felund_client::events::EventStream) -> String {
    let wait = async {
        loop {
            let event = events.next().await.expect("felundd refused the stream");
            if let Some(felund_client::api::event::Kind::Message(m)) = event.kind {
                return m.text;
            }
        }
    };
    tokio::time::timeout(felund_tests::DEADLINE, wait)
        .await
        .expect("a message event before the deadline")
}

/// felund-client's `EventStream`, which the Rust bot is built on: a message stored
/// while the stream was broken (felundd restarted, nobody reading) is delivered
/// when it resumes, and nothing is delivered twice.
#[test]
fn event_stream_delivers_what_was_stored_while_felundd_restarted_once() {
    let mut daemon = Daemon::start();
    let circle = create_circle(&daemon, "events").id;
    // A worker thread keeps the client's connection served between `block_on`s, as
    // any live program would (a connection nobody polls holds up felundd's shutdown).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let client = runtime
        .block_on(felund_client::connect(&daemon.socket))
        .expect("connect");
    let mut events = felund_client::events::EventStream::new(client, circle.clone());
    // Subscribe (and wait for it) by asking for the first event while sending it.
    let first = runtime.block_on(async {
        let send_when_subscribed = async {
            felund_tests::wait_until_async("the subscription", || {
                daemon.ctl_one(&["status"])["subscriber_count"] == 1
            })
            .await;
            send(&daemon, &circle, "general", "before");
            std::future::pending::<()>().await;
        };
        tokio::select! {
            text = next_text(&mut events) => text,
            () = send_when_subscribed => unreachable!(),
        }
    });
    assert_eq!(first, "before");

    daemon.restart();
    // Stored while the stream is broken and nobody is reading it.
    send(&daemon, &circle, "general", "during the gap");
    assert_eq!(runtime.block_on(next_text(&mut events)), "during the gap");
    send(&daemon, &circle, "general", "after");
    assert_eq!(runtime.block_on(next_text(&mut events)), "after");
}
