//! The real felundctl against the real felundd: text and JSON output, exit codes and
//! stderr lines, `send -`, paging hints, `watch` (events, Ctrl-C, a dying daemon),
//! closed stdout, and every subcommand of `felundctl --help` at least once.
//!
//! These replace felundctl's old tests against an in-process mock daemon.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};

use felund_tests::chat::log_tail;
use felund_tests::{bin, wait_until, Daemon, DEADLINE};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

/// The eight fields of a message's JSON, sorted.
const MESSAGE_KEYS: [&str; 8] = [
    "author_node_id",
    "channel_id",
    "circle_id",
    "created_ts",
    "display_name",
    "msg_id",
    "own",
    "text",
];

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout of a run that must have succeeded (exit 0).
fn ok(args: &[&str], out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "felundctl {args:?} failed\nstdout: {}\nstderr: {}",
        stdout_of(out),
        stderr_of(out)
    );
    stdout_of(out)
}

/// Text output of a successful `felundctl ARGS`.
fn text(d: &Daemon, args: &[&str]) -> String {
    ok(args, &d.ctl(args))
}

/// Asserts that a run was refused the documented way: exit 1, nothing on stdout and
/// exactly one `error: ...` line on stderr, which is returned.
fn assert_refused(args: &[&str], out: &Output) -> String {
    let err = stderr_of(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "felundctl {args:?} should exit 1\nstdout: {}\nstderr: {err}",
        stdout_of(out)
    );
    assert!(
        out.stdout.is_empty(),
        "felundctl {args:?} printed on stdout: {}",
        stdout_of(out)
    );
    assert_eq!(
        err.lines().count(),
        1,
        "one stderr line for {args:?}: {err:?}"
    );
    assert!(err.starts_with("error: "), "{args:?}: {err:?}");
    assert!(err.ends_with('\n'), "{args:?}: {err:?}");
    assert_no_crash(&err);
    err
}

/// No panic message or debug dump in `stderr`.
fn assert_no_crash(stderr: &str) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "Status {"] {
        assert!(!stderr.contains(bad), "{bad:?} in stderr: {stderr}");
    }
}

/// Runs `felundctl ARGS` with `stdin` as its standard input (written from a thread,
/// ignoring a reader that stops early).
fn run_with_stdin(d: &Daemon, args: &[&str], stdin: &str) -> Output {
    let mut child = d
        .ctl_cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn felundctl");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_string();
    let writer = std::thread::spawn(move || {
        // felundctl stops reading at the first refusal: a broken pipe here is normal.
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("felundctl exits");
    writer.join().expect("stdin writer");
    out
}

/// Parses every non-empty line of `text` as JSON.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Creates a circle; returns (circle_id, invite code).
fn create_circle(d: &Daemon, name: &str) -> (String, String) {
    let v = d.ctl_one(&["invite", "--name", name]);
    let id = v["circle"]["circle_id"].as_str().expect("circle_id");
    let code = v["invite_code"].as_str().expect("invite_code");
    (id.to_string(), code.to_string())
}

fn node_id(d: &Daemon) -> String {
    d.ctl_one(&["status"])["node_id"]
        .as_str()
        .expect("node_id")
        .to_string()
}

/// Sorted keys of a JSON object.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort_unstable();
    k
}

fn is_msg_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `line` is `[YYYY-MM-DD HH:MM] ` followed by `rest`.
fn is_stamped(line: &str, rest: &str) -> bool {
    let b = line.as_bytes();
    if b.len() < 19 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b[0] == b'['
        && digits(1..5)
        && b[5] == b'-'
        && digits(6..8)
        && b[8] == b'-'
        && digits(9..11)
        && b[11] == b' '
        && digits(12..14)
        && b[14] == b':'
        && digits(15..17)
        && b[17] == b']'
        && b[18] == b' '
        && &line[19..] == rest
}

/// How many event subscribers the daemon reports (felundd counts its own too).
fn subscribers(d: &Daemon) -> u64 {
    d.ctl_one(&["status"])["subscriber_count"]
        .as_u64()
        .expect("subscriber_count")
}

/// Spawns `cmd` (a `watch`) and waits until felundd counts one more subscriber.
fn spawn_attached(d: &Daemon, mut cmd: Command) -> Running {
    let before = subscribers(d);
    let child = Running(Some(cmd.spawn().expect("spawn felundctl watch")));
    wait_until("watch to subscribe", || subscribers(d) > before);
    child
}

/// A child process killed if the test ends (or fails) while it runs.
struct Running(Option<Child>);

impl Running {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child")
    }

    fn take_stdout(&mut self) -> ChildStdout {
        self.child().stdout.take().expect("piped stdout")
    }

    fn interrupt(&mut self) {
        let pid = Pid::from_raw(self.child().id() as i32);
        kill(pid, Signal::SIGINT).expect("send SIGINT");
    }

    /// Waits (at most [`DEADLINE`]) for the process to exit; returns its status and
    /// its stderr.
    fn wait_exit(&mut self) -> (ExitStatus, String) {
        let child = self.child();
        let mut status = None;
        wait_until("felundctl to exit", || {
            status = child.try_wait().expect("try_wait");
            status.is_some()
        });
        let mut err = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            pipe.read_to_string(&mut err).expect("read stderr");
        }
        self.0 = None;
        (status.expect("exit status"), err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `felundctl watch` attached to a daemon, its stdout lines read by a thread.
struct Watch {
    proc: Running,
    lines: Receiver<String>,
}

impl Watch {
    /// Starts `felundctl ARGS` (a watch) and waits until it has subscribed.
    fn start(d: &Daemon, args: &[&str]) -> Watch {
        let mut cmd = d.ctl_cmd(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut proc = spawn_attached(d, cmd);
        let stdout = proc.take_stdout();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch { proc, lines }
    }

    /// The next stdout line (panics after [`DEADLINE`]).
    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .expect("a line from felundctl watch")
    }

    /// The next stdout line as JSON.
    fn next_json(&self) -> Value {
        let line = self.next_line();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON from watch {line:?}: {e}"))
    }

    /// Ctrl-C; returns the exit status and stderr.
    fn interrupt(mut self) -> (ExitStatus, String) {
        self.proc.interrupt();
        self.proc.wait_exit()
    }
}

/// The subcommands listed under `Commands:` in a `--help` text (without `help`).
fn listed_subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

fn help_of(args: &[&str]) -> String {
    let out = Command::new(bin("felundctl"))
        .args(args)
        .arg("--help")
        .env_remove("FELUND_SOCKET")
        .output()
        .expect("felundctl --help");
    ok(args, &out)
}

// ---------------------------------------------------------------------------------
// status, invite, code
// ---------------------------------------------------------------------------------

#[test]
fn status_in_text_and_json() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let v = d.ctl_json(&["status"]);
    assert_eq!(v.len(), 1, "one object: {v:?}");
    let v = &v[0];
    let id = v["node_id"].as_str().expect("node_id");
    assert!(
        id.len() >= 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{v}"
    );
    assert_eq!(v["display_name"], "alice");
    assert_eq!(v["listen_addr"], format!("127.0.0.1:{}", d.port));
    assert!(!v["version"].as_str().unwrap_or_default().is_empty(), "{v}");
    for count in [
        "uptime_s",
        "circle_count",
        "message_count",
        "peer_count",
        "subscriber_count",
    ] {
        assert!(v[count].is_u64(), "{count} in {v}");
    }
    assert_eq!(v["circle_count"], 0);
    assert_eq!(v["relay_url"], "");

    // Text: one sentence per part of the node, with units.
    let t = text(&d, &["status"]);
    let field = |name: &str| field_of(&t, name);
    assert!(t.starts_with(" node"), "{t}");
    assert!(
        field("node").starts_with(&format!("alice ({id}), felundd ")),
        "{t}"
    );
    assert!(
        field("gossip").starts_with(&format!(
            "listening on 127.0.0.1:{}; 0 live links; last sync never; sessions 0 ok, 0 failed; 0 B in, 0 B out",
            d.port
        )),
        "{t}"
    );
    assert_eq!(field("relay"), "(none)");
    assert!(
        field("store").starts_with("0 circles, 0 messages in "),
        "{t}"
    );
    assert!(field("api").ends_with(", 0 clients attached"), "{t}");
    assert_eq!(field("anchor"), "off");

    // Counts follow the state.
    create_circle(&d, "c");
    assert_eq!(d.ctl_one(&["status"])["circle_count"], 1);
    assert!(field_of(&text(&d, &["status"]), "store").starts_with("1 circle, "));

    // --json --verbose: one object, the settings nested in it.
    let v = d.ctl_json(&["status", "--verbose"]);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["settings"]["name"]["value"], "\"alice\"", "{}", v[0]);
    assert_eq!(v[0]["settings"]["name"]["source"], "flag");
}

/// An unreachable peer is named in the gossip sentence, with why.
#[test]
fn status_names_an_unreachable_peer_and_why() {
    let host = Daemon::start_with(&["--name", "bob", "--sync-interval", "1"]);
    let d = Daemon::start_with(&["--name", "alice", "--sync-interval", "1"]);
    let (_, code) = create_circle(&host, "c");
    d.ctl_one(&["join", &code]);
    let mut host = host;
    host.stop();
    wait_until("the gossip sentence to name bob as unreachable", || {
        let g = field_of(&text(&d, &["status"]), "gossip");
        g.contains("1 peer unreachable (bob at 127.0.0.1:") && g.contains("since ")
    });
}

fn field_of(t: &str, name: &str) -> String {
    t.lines()
        .find_map(|l| {
            let (k, val) = l.split_once(" : ")?;
            (k.trim() == name).then(|| val.to_string())
        })
        .unwrap_or_else(|| panic!("no {name} line in:\n{t}"))
}

#[test]
fn invite_text_mirrors_the_reference_format() {
    let d = Daemon::start();
    let t = text(&d, &["invite", "--name", "friends"]);
    let circles = d.ctl_json(&["circles"]);
    assert_eq!(circles.len(), 1);
    let id = circles[0]["circle_id"].as_str().expect("circle_id");
    let code = d.ctl_one(&["code", "-c", id])["code"]
        .as_str()
        .expect("code")
        .to_string();
    assert!(code.starts_with("felund1."), "{code}");
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "Circle created.", "{t}");
    assert_eq!(lines[1], format!(" circle_id   : {id}"), "{t}");
    assert_eq!(lines[2], " name        : friends", "{t}");
    assert_eq!(lines[3], format!(" felund_code : {code}"), "{t}");
    assert!(
        t.contains(&format!("\n  felundctl join {code}\n")),
        "join hint: {t}"
    );
    // `code` prints the bare code, by id or by name.
    assert_eq!(text(&d, &["code", "-c", "friends"]), format!("{code}\n"));
    assert_eq!(text(&d, &["code", "--circle-id", id]), format!("{code}\n"));
    // Without --name there is no name line.
    let t = text(&d, &["invite"]);
    assert!(t.starts_with("Circle created.\n circle_id   : "), "{t}");
    assert!(!t.contains(" name        :"), "{t}");
    assert!(t.contains("\n felund_code : felund1."), "{t}");
}

// ---------------------------------------------------------------------------------
// Messages: JSON shape, inbox text and paging, send -
// ---------------------------------------------------------------------------------

#[test]
fn message_json_has_exactly_the_eight_fields() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let (id, _) = create_circle(&d, "c");
    let sent = d.ctl_one(&["send", "-c", &id, "hello"]);
    assert_eq!(keys(&sent), MESSAGE_KEYS, "send --json: {sent}");
    let listed = d.ctl_json(&["inbox", "-c", &id]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        keys(&listed[0]),
        MESSAGE_KEYS,
        "inbox --json: {}",
        listed[0]
    );
    assert_eq!(listed[0], sent, "same message both ways");
    let m = &listed[0];
    assert!(is_msg_id(m["msg_id"].as_str().unwrap_or_default()), "{m}");
    assert_eq!(m["circle_id"], id.as_str());
    assert_eq!(m["channel_id"], "general");
    assert_eq!(m["author_node_id"], node_id(&d).as_str());
    assert_eq!(m["display_name"], "alice");
    assert!(m["created_ts"].as_i64().unwrap_or(0) > 1_600_000_000, "{m}");
    assert_eq!(m["text"], "hello");
    assert_eq!(m["own"], true);
}

#[test]
fn inbox_text_lines_and_the_before_cursor_in_text_and_json() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let (id, _) = create_circle(&d, "c");
    for t in ["hello", "two\nlines", "third"] {
        text(&d, &["send", "-c", &id, t]);
    }

    // Text: the newest two, oldest first; a multi-line text continues indented.
    let args = ["inbox", "-c", &id, "--limit", "2"];
    let out = d.ctl(&args);
    let t = ok(&args, &out);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 3, "{t}");
    assert!(is_stamped(lines[0], "alice: two"), "{t}");
    assert_eq!(lines[1], format!("{}lines", " ".repeat(19)), "{t}");
    assert!(is_stamped(lines[2], "alice: third"), "{t}");
    // The hint for older messages is on stderr, as a ready-to-run command.
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    let prefix =
        format!("(older messages: felundctl inbox --circle-id {id} --channel general --before ");
    let cursor = err
        .trim_end()
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("hint: {err}"));
    let args = ["inbox", "-c", &id, "--limit", "2", "--before", cursor];
    let out = d.ctl(&args);
    let older = ok(&args, &out);
    assert_eq!(older.lines().count(), 1, "{older}");
    assert!(is_stamped(older.trim_end(), "alice: hello"), "{older}");
    assert_eq!(stderr_of(&out), "", "no hint on the last page");

    // JSON: stdout only messages; the cursor as its own object on stderr.
    let args = ["--json", "inbox", "-c", &id, "--limit", "2"];
    let out = d.ctl(&args);
    let page = json_lines(&ok(&args, &out));
    let page_texts: Vec<&str> = page.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(page_texts, ["two\nlines", "third"]);
    let err = json_lines(&stderr_of(&out));
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(keys(&err[0]), ["next_before"]);
    let cursor = err[0]["next_before"].as_str().expect("cursor").to_string();
    let args = [
        "--json", "inbox", "-c", &id, "--limit", "2", "--before", &cursor,
    ];
    let out = d.ctl(&args);
    let older = json_lines(&ok(&args, &out));
    assert_eq!(older.len(), 1, "{older:?}");
    assert_eq!(older[0]["text"], "hello");
    assert_eq!(stderr_of(&out), "", "no cursor on the last page");

    // A page that is not cut short has no hint.
    let args = ["inbox", "-c", &id, "--limit", "3"];
    let out = d.ctl(&args);
    assert_eq!(ok(&args, &out).lines().count(), 4);
    assert_eq!(stderr_of(&out), "");
    // An empty channel says so.
    text(&d, &["channel", "create", "empty", "-c", &id]);
    assert_eq!(
        text(&d, &["inbox", "-c", &id, "--channel", "empty"]),
        "No messages in #empty.\n"
    );
}

#[test]
fn send_dash_sends_each_nonempty_stdin_line_and_prints_one_msg_id_per_line() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let args = ["send", "-c", &id, "-"];
    let out = run_with_stdin(&d, &args, "one\n\n  \ntwo\r\nthree");
    let printed = ok(&args, &out);
    assert_eq!(stderr_of(&out), "");
    let ids: Vec<&str> = printed.lines().collect();
    assert_eq!(ids.len(), 3, "{printed}");
    assert!(ids.iter().all(|i| is_msg_id(i)), "{printed}");
    let stored = d.ctl_json(&["inbox", "-c", &id]);
    let texts: Vec<&str> = stored.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    let stored_ids: Vec<&str> = stored.iter().filter_map(|m| m["msg_id"].as_str()).collect();
    assert_eq!(stored_ids, ids);

    // JSON: one message object per line.
    let args = ["--json", "send", "-c", &id, "-"];
    let lines = json_lines(&ok(&args, &run_with_stdin(&d, &args, "four\nfive\n")));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["text"], "four");
    assert_eq!(lines[1]["text"], "five");
    assert!(lines
        .iter()
        .all(|m| m["own"] == true && keys(m) == MESSAGE_KEYS));
}

#[test]
fn send_dash_stops_at_the_first_refused_line() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let too_long = "x".repeat(4097);
    let input = format!("before\n{too_long}\nafter\n");
    let args = ["send", "-c", &id, "-"];
    let out = run_with_stdin(&d, &args, &input);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr_of(&out));
    let printed = stdout_of(&out);
    assert_eq!(
        printed.lines().count(),
        1,
        "only the first line's id: {printed}"
    );
    assert!(is_msg_id(printed.trim_end()), "{printed}");
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("4096"), "{err}");
    assert_no_crash(&err);
    let stored = d.ctl_json(&["inbox", "-c", &id]);
    let texts: Vec<&str> = stored.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["before"], "nothing after the refused line was sent");
    assert_eq!(stored[0]["msg_id"], printed.trim_end());

    // An unknown circle refuses the first line: nothing sent, nothing printed.
    let args = ["send", "-c", "nope", "-"];
    let err = assert_refused(&args, &run_with_stdin(&d, &args, "a\nb\n"));
    assert!(err.contains("no circle matches"), "{err}");
    assert_eq!(d.ctl_json(&["inbox", "-c", &id]).len(), 1);
}

// ---------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------

#[test]
fn refusals_exit_1_with_one_error_line_and_nothing_on_stdout() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let cases: &[(&[&str], &str)] = &[
        (&["leave", "-c", "nope"], "no circle matches 'nope'"),
        (
            &["--json", "leave", "-c", "nope"],
            "no circle matches 'nope'",
        ),
        (&["send", "-c", "nope", "hi"], "no circle matches 'nope'"),
        (&["inbox", "-c", "nope"], "no circle matches 'nope'"),
        (&["join", "garbage"], "invalid invite code"),
        (&["--json", "join", "garbage"], "invalid invite code"),
        (
            &["channel", "create", "general", "-c", &id],
            "already exists",
        ),
        (
            &["--json", "channel", "create", "general", "-c", &id],
            "already exists",
        ),
        (&["--json", "name", " "], "display name"),
        (&["name", "a\u{1b}[31mb\u{7}\nc"], "control characters"),
        (&["name", "evil\u{202e}gpj"], "control characters"),
        (&["rename", "-c", &id, "x\ny"], "control characters"),
        (
            &["invite", "--name", "x\u{1b}]0;pwned\u{7}"],
            "control characters",
        ),
        (&["relay", "not-a-url"], "not a relay URL"),
        (
            &["inbox", "-c", &id, "--channel", "nosuch"],
            "no channel #nosuch",
        ),
        (
            &["search", "hi", "-c", &id, "--channel", "nosuch"],
            "no channel #nosuch",
        ),
        (
            &["who", "-c", &id, "--channel", "nosuch"],
            "no channel #nosuch",
        ),
        (
            &["send", "-c", &id, "--channel", "nosuch", "hi"],
            "`felundctl channel create nosuch --circle-id c` creates it",
        ),
    ];
    for (args, want) in cases {
        let err = assert_refused(args, &d.ctl(args));
        assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
    }
    // Nothing changed (the refused invite created no circle).
    assert_eq!(d.ctl_json(&["circles"]).len(), 1);
    assert_eq!(d.ctl_json(&["channels", "-c", &id]).len(), 1);
    assert_eq!(d.ctl_one(&["status"])["relay_url"], "");
}

#[test]
fn long_names_are_shortened_with_a_note_and_emoji_names_are_kept() {
    let d = Daemon::start();
    let long = "n".repeat(50);
    let out = d.ctl(&["name", &long]);
    let stdout = ok(&["name", &long], &out);
    assert_eq!(stdout, format!("Display name set to {}.\n", "n".repeat(40)));
    assert!(
        stderr_of(&out).starts_with("note: the name is too long"),
        "{}",
        stderr_of(&out)
    );
    let out = d.ctl(&["name", "zoë 🎉"]);
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
    assert_eq!(d.ctl_one(&["status"])["display_name"], "zoë 🎉");
    // Circles are found by name however it is typed: emoji, case, composed or not.
    let (party, _) = create_circle(&d, "Café 🎉");
    for typed in ["Café 🎉", "café 🎉", "Cafe\u{301} 🎉", " CAFÉ 🎉 "] {
        let found = d.ctl_one(&["code", "-c", typed]);
        assert_eq!(found["circle_id"], party.as_str(), "{typed:?}");
    }
    let (id, _) = create_circle(&d, "c");
    let out = d.ctl(&["--json", "rename", "-c", &id, &long]);
    ok(&["rename"], &out);
    assert!(stderr_of(&out).starts_with("note: "), "{}", stderr_of(&out));
    assert_eq!(
        json_lines(&stdout_of(&out))[0]["name"],
        "n".repeat(40).as_str()
    );
}

#[test]
fn join_says_when_the_peer_cannot_be_reached_and_circles_shows_not_yet_synced() {
    let d = Daemon::start();
    let secret = felund_wire::CircleSecret::from_bytes(vec![7; 32]);
    let dead = format!("127.0.0.1:{}", felund_tests::free_port());
    let code = felund_wire::invite::encode_invite(&secret, &dead);
    let out = d.ctl(&["join", &code]);
    let stdout = ok(&["join"], &out);
    assert!(stdout.starts_with("Joined circle"), "{stdout}");
    let note = stderr_of(&out);
    assert!(
        note.contains(&format!("could not reach the peer at {dead}"))
            && note.contains("keeps trying")
            && note.contains("felundctl relay URL"),
        "{note}"
    );
    let circles = d.ctl_json(&["circles"]);
    assert_eq!(circles[0]["last_sync_ts"], 0, "{circles:?}");
    assert!(text(&d, &["circles"]).contains("not yet"));

    // Positive control: a reachable host is reached at once, and nothing is noted.
    let host = Daemon::start();
    let (_, code) = create_circle(&host, "reachable");
    let out = d.ctl(&["--json", "join", &code]);
    let joined = json_lines(&ok(&["join"], &out)).remove(0);
    assert_eq!(joined["peer_reached"], true, "{joined}");
    assert_eq!(joined["peer_error"], "");
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
    assert!(
        joined["circle"]["last_sync_ts"].as_i64() > Some(0),
        "{joined}"
    );
}

/// Read markers are felundd's: counts by others' messages, shared by every client
/// (a `read` event), kept across a restart.
#[test]
fn unread_counts_and_read_markers_are_shared_and_survive_a_restart() {
    let mut a = Daemon::start_with(&["--name", "alice", "--sync-interval", "1"]);
    let b = Daemon::start_with(&["--name", "bob", "--sync-interval", "1"]);
    let (id, code) = create_circle(&a, "c");
    b.ctl_one(&["join", &code]);
    for t in ["one", "two @alice", "three"] {
        b.ctl_one(&["send", "-c", &id, t]);
    }
    let general = |d: &Daemon| {
        d.ctl_json(&["channels", "-c", &id])
            .into_iter()
            .find(|c| c["channel_id"] == "general")
            .expect("general")
    };
    wait_until("bob's messages to be unread on alice's node", || {
        general(&a)["unread_count"] == 3
    });
    assert_eq!(general(&a)["unread_mentions"], 1);
    assert!(text(&a, &["channels", "-c", &id]).contains("3 (@1)"));
    let w = Watch::start(&a, &["--json", "watch", "-c", &id]);
    let read = a.ctl_one(&["read", "-c", &id]);
    assert_eq!(read["unread_count"], 0, "{read}");
    let ev = loop {
        let v = w.next_json();
        if v["event"] == "read" {
            break v;
        }
    };
    assert_eq!(ev["channel_id"], "general");
    assert_eq!(ev["read_seq"], read["read_seq"]);
    drop(w);
    a.restart();
    assert_eq!(
        general(&a)["unread_count"],
        0,
        "the marker survives a restart"
    );
    b.ctl_one(&["send", "-c", &id, "four"]);
    wait_until("the new message to count", || {
        general(&a)["unread_count"] == 1
    });
}

/// Flags and the config file win at start; a runtime change says so, and `status
/// --verbose` shows what is in force until then.
#[test]
fn runtime_name_and_relay_changes_say_that_the_flags_win_at_the_next_start() {
    let mut d = Daemon::start_with(&["--name", "bob", "--relay", "http://127.0.0.1:1"]);
    let out = d.ctl(&["name", "bobby"]);
    ok(&["name"], &out);
    let note = stderr_of(&out);
    assert!(
        note.contains("flag sets name = \"bob\" and will set it back at its next start"),
        "{note}"
    );
    let out = d.ctl(&["relay", "--off"]);
    ok(&["relay"], &out);
    assert!(
        stderr_of(&out).contains("flag sets relay"),
        "{}",
        stderr_of(&out)
    );
    let verbose = text(&d, &["status", "--verbose"]);
    assert!(
        verbose.contains("name = \"bob\"  # flag; in force now: bobby"),
        "{verbose}"
    );
    assert!(verbose.contains("# flag; in force now: -"), "{verbose}");
    d.restart();
    assert_eq!(d.ctl_one(&["status"])["display_name"], "bob");
    // Without a flag, a runtime change sticks and nothing is noted.
    let plain = Daemon::start();
    let out = plain.ctl(&["name", "carol"]);
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
}

// ---------------------------------------------------------------------------------
// watch
// ---------------------------------------------------------------------------------

#[test]
fn watch_json_prints_events_caused_by_other_commands_then_exits_0_on_sigint() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let (id, _) = create_circle(&d, "friends");
    let me = node_id(&d);
    let w = Watch::start(&d, &["--json", "watch"]);

    let sent = d.ctl_one(&["send", "-c", &id, "live"]);
    text(&d, &["channel", "create", "ops", "-c", &id]);
    text(&d, &["rename", "-c", &id, "pals"]);
    text(&d, &["name", "robert"]);

    // Read until the last caused event; every line is an event object.
    let mut events = Vec::new();
    loop {
        let v = w.next_json();
        assert!(v["event"].is_string(), "no event key: {v}");
        let last = v["event"] == "display_name";
        events.push(v);
        if last {
            break;
        }
    }
    let find = |pred: &dyn Fn(&Value) -> bool, what: &str| -> usize {
        events
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("no {what} event in {events:#?}"))
    };
    let msg = find(&|v| v["event"] == "message", "message");
    let chan = find(
        &|v| v["event"] == "channel" && v["kind"] == "created",
        "channel created",
    );
    let circle = find(&|v| v["event"] == "circle", "circle");
    let name = find(&|v| v["event"] == "display_name", "display_name");
    assert!(msg < chan && chan < circle && circle < name, "{events:#?}");

    let m = &events[msg];
    assert_eq!(keys(m).len(), 9, "event + the eight message fields: {m}");
    assert_eq!(m["msg_id"], sent["msg_id"]);
    assert_eq!(m["text"], "live");
    assert_eq!(m["circle_id"], id.as_str());
    assert_eq!(m["own"], true);
    let c = &events[chan];
    assert_eq!(c["circle_id"], id.as_str());
    assert_eq!(c["channel_id"], "ops");
    assert_eq!(c["node_id"], me.as_str());
    let r = &events[circle];
    assert_eq!(r["kind"], "renamed");
    assert_eq!(r["circle_id"], id.as_str());
    assert_eq!(r["name"], "pals");
    let n = &events[name];
    assert_eq!(n["node_id"], me.as_str());
    assert_eq!(n["display_name"], "robert");

    let (status, err) = w.interrupt();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err, "", "nothing on stderr after Ctrl-C");
}

/// `watch --follow` waits out a daemon that dies and comes back, and replays what was
/// stored in between: every message once, in order.
#[test]
fn watch_follow_survives_a_daemon_restart_without_missing_or_repeating_a_message() {
    let mut d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let w = Watch::start(&d, &["--json", "watch", "--follow", "-c", &id]);
    let next_text = |w: &Watch| loop {
        let v = w.next_json();
        if v["event"] == "message" {
            return v["text"].as_str().unwrap_or_default().to_string();
        }
    };
    d.ctl_one(&["send", "-c", &id, "before"]);
    assert_eq!(next_text(&w), "before");
    d.kill();
    d.start_again();
    // Stored while the watcher is still away (or just back: either way, once).
    d.ctl_one(&["send", "-c", &id, "during"]);
    wait_until("watch to reconnect", || subscribers(&d) >= 1);
    d.ctl_one(&["send", "-c", &id, "after"]);
    assert_eq!(next_text(&w), "during");
    assert_eq!(next_text(&w), "after");
    let (status, err) = w.interrupt();
    assert!(status.success(), "{err}");
    assert!(err.is_empty(), "JSON mode prints no notes: {err}");
}

#[test]
fn watch_text_prints_a_readable_line_per_message_and_exits_0_on_sigint() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let (id, _) = create_circle(&d, "c");
    let w = Watch::start(&d, &["watch", "-c", &id]);
    text(&d, &["send", "-c", &id, "hello there"]);
    let line = w.next_line();
    // Circles are shown by name, as people know them.
    let want = "c #general alice: hello there";
    assert!(is_stamped(&line, want), "{line:?} is not [time] {want}");
    let (status, err) = w.interrupt();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err, "");
}

#[test]
fn daemon_dying_during_watch_exits_2_with_one_line() {
    let mut d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let mut w = Watch::start(&d, &["watch"]);
    text(&d, &["send", "-c", &id, "before the crash"]);
    assert!(w.next_line().ends_with("before the crash"));
    d.kill();
    let (status, err) = w.proc.wait_exit();
    assert_eq!(status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    let want = format!("lost the connection to felundd at {}", d.socket.display());
    assert!(err.starts_with(&want), "{err:?}");
    assert_no_crash(&err);
}

// ---------------------------------------------------------------------------------
// Closed stdout
// ---------------------------------------------------------------------------------

#[test]
fn closed_stdout_is_not_an_error_for_inbox() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    // ~400 KB of output: far more than a pipe holds, so felundctl is still writing
    // when the reader goes away.
    let body = "y".repeat(4000);
    let input: String = (0..100).map(|i| format!("{i} {body}\n")).collect();
    let args = ["send", "-c", &id, "-"];
    ok(&args, &run_with_stdin(&d, &args, &input));

    for json in [false, true] {
        let mut args = vec!["inbox", "-c", &id, "--limit", "1000"];
        if json {
            args.insert(0, "--json");
        }
        let mut proc = Running(Some(
            d.ctl_cmd(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn inbox"),
        ));
        let mut reader = BufReader::new(proc.take_stdout());
        let mut first = String::new();
        reader.read_line(&mut first).expect("first line");
        assert!(first.contains(&body[..100]), "{first:.200}");
        drop(reader); // like `| head -1`
        let (status, err) = proc.wait_exit();
        assert_eq!(status.code(), Some(0), "json={json}: {err}");
        assert_eq!(err, "", "json={json}");
    }
}

#[test]
fn closed_stdout_is_not_an_error_for_watch() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let mut cmd = d.ctl_cmd(&["watch", "-c", &id]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut proc = spawn_attached(&d, cmd);
    drop(proc.take_stdout()); // like `| head -0`
                              // The next event makes watch write into the closed pipe.
    text(&d, &["send", "-c", &id, "nobody reads this"]);
    let (status, err) = proc.wait_exit();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

// ---------------------------------------------------------------------------------
// Every subcommand
// ---------------------------------------------------------------------------------

/// Runs felundctl and records which subcommands were exercised.
#[derive(Default)]
struct Tracker {
    seen: RefCell<BTreeSet<String>>,
}

impl Tracker {
    fn note(&self, args: &[&str]) {
        let mut words = args.iter().filter(|a| !a.starts_with('-'));
        if let Some(cmd) = words.next() {
            let name = match (*cmd, words.next()) {
                ("channel", Some(sub)) => format!("channel {sub}"),
                _ => cmd.to_string(),
            };
            self.seen.borrow_mut().insert(name);
        }
    }

    fn out(&self, d: &Daemon, args: &[&str]) -> Output {
        self.note(args);
        d.ctl(args)
    }

    fn text(&self, d: &Daemon, args: &[&str]) -> String {
        ok(args, &self.out(d, args))
    }

    fn json(&self, d: &Daemon, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        json_lines(&ok(&full, &self.out(d, &full)))
    }

    fn one(&self, d: &Daemon, args: &[&str]) -> Value {
        let mut v = self.json(d, args);
        assert_eq!(v.len(), 1, "one object from {args:?}: {v:?}");
        v.remove(0)
    }
}

#[test]
fn every_subcommand_works_against_a_real_daemon() {
    let fast = ["--sync-interval", "1"];
    let a = Daemon::start_with(&["--name", "alice", fast[0], fast[1]]);
    let b = Daemon::start_with(&["--name", "bob", fast[0], fast[1]]);
    let t = Tracker::default();
    let a_id = node_id(&a);
    let b_id = node_id(&b);
    let logs = || {
        format!(
            "--- a ---\n{}\n--- b ---\n{}",
            log_tail(&a, 60),
            log_tail(&b, 60)
        )
    };

    // status, name
    assert_eq!(t.one(&a, &["status"])["node_id"], a_id.as_str());
    assert!(t.text(&a, &["status"]).contains(&a_id));
    assert_eq!(t.text(&a, &["name"]), "alice\n");
    assert_eq!(t.one(&a, &["name", "alicia"])["display_name"], "alicia");
    assert_eq!(
        t.text(&a, &["name", "alice"]),
        "Display name set to alice.\n"
    );
    assert_eq!(t.one(&a, &["name"])["display_name"], "alice");

    // invite, code, circles, rename
    let created = t.one(&a, &["invite", "--name", "team"]);
    let team = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    assert_eq!(created["circle"]["name"], "team");
    let code = created["invite_code"].as_str().expect("code").to_string();
    assert!(t
        .text(&a, &["invite", "--name", "spare"])
        .starts_with("Circle created.\n"));
    assert_eq!(t.text(&a, &["code", "-c", "team"]), format!("{code}\n"));
    let c = t.one(&a, &["code", "-c", &team]);
    assert_eq!(c["code"], code.as_str());
    assert_eq!(c["peer"], format!("127.0.0.1:{}", a.port));
    let names: BTreeSet<String> = t
        .json(&a, &["circles"])
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(names, BTreeSet::from(["spare".into(), "team".into()]));
    let listing = t.text(&a, &["circles"]);
    assert!(
        listing.starts_with("CIRCLE") && listing.contains(&team),
        "{listing}"
    );
    let spare = t.one(&a, &["rename", "-c", "spare", "extra"]);
    assert_eq!(spare["name"], "extra");
    let spare_id = spare["circle_id"].as_str().expect("circle_id").to_string();
    assert_eq!(
        t.text(&a, &["rename", "-c", "extra", "spare"]),
        format!("Circle {spare_id} is now named spare.\n")
    );

    // channels, channel create/leave/join, who
    let chans = t.json(&a, &["channels", "-c", "team"]);
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0]["channel_id"], "general");
    let ops = t.one(
        &a,
        &[
            "channel", "create", "ops", "-c", "team", "--access", "invite",
        ],
    );
    assert_eq!(ops["access_mode"], "invite");
    assert_eq!(ops["joined"], true);
    assert_eq!(
        t.text(&a, &["channel", "create", "random", "-c", "team"]),
        format!("Created #random (public) in circle {team}.\n")
    );
    assert_eq!(
        t.text(&a, &["channel", "leave", "random", "-c", "team"]),
        "Left #random.\n"
    );
    let joined = t.one(&a, &["channel", "join", "#random", "-c", "team"]);
    assert_eq!(joined["requested"], false);
    assert_eq!(joined["channel"]["joined"], true);
    assert_eq!(
        t.one(&a, &["channel", "leave", "random", "-c", "team"])["joined"],
        false
    );
    assert_eq!(
        t.text(&a, &["channel", "join", "random", "-c", "team"]),
        "Joined #random.\n"
    );
    let listing = t.text(&a, &["channels", "-c", "team"]);
    assert!(listing.starts_with("CHANNEL"), "{listing}");
    assert!(
        listing.contains("#ops") && listing.contains("invite"),
        "{listing}"
    );
    assert_eq!(
        t.text(&a, &["read", "-c", "team", "--channel", "random"]),
        "#random read.\n"
    );
    let who = t.json(&a, &["who", "-c", "team"]);
    assert_eq!(who.len(), 1, "{who:?}");
    assert_eq!(who[0]["node_id"], a_id.as_str());
    assert_eq!(who[0]["display_name"], "alice");
    assert_eq!(who[0]["is_self"], true);
    let listing = t.text(&a, &["who", "-c", "team", "--channel", "ops"]);
    assert!(
        listing.contains(&a_id) && listing.contains("(you)"),
        "{listing}"
    );

    // send, inbox
    let id = t.text(&a, &["send", "-c", "team", "hello"]);
    assert!(is_msg_id(id.trim_end()), "{id}");
    let sent = t.one(&a, &["send", "-c", "team", "--channel", "ops", "in ops"]);
    assert_eq!(sent["channel_id"], "ops");
    let inbox = t.json(&a, &["inbox", "-c", "team"]);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["msg_id"], id.trim_end());
    let listing = t.text(&a, &["inbox", "-c", "team", "--channel", "ops"]);
    assert!(is_stamped(listing.trim_end(), "alice: in ops"), "{listing}");

    // search
    let found = t.json(&a, &["search", "hel*", "-c", "team"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["msg_id"], id.trim_end());
    assert!(t
        .text(&a, &["search", "nothing-like-this"])
        .contains("No messages match."));

    // import-state: a reference-shaped file with one circle and no messages.
    let state = serde_json::json!({
        "node": {"node_id": "0123456789abcdef01234567", "display_name": "old"},
        "circles": {
            "630dcd2966c4336691125448": {
                "circle_id": "630dcd2966c4336691125448",
                "secret_hex": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "name": "imported"
            }
        }
    });
    let file = a.dir.path().join("state.json");
    std::fs::write(&file, state.to_string()).expect("write state.json");
    let path = file.to_str().expect("utf-8 path");
    let report = t.one(&a, &["import-state", path]);
    assert_eq!(report["circles"], 1, "{report}");
    assert_eq!(
        report["adopted_node_id"], "",
        "a node with history keeps its identity"
    );
    assert!(t
        .text(&a, &["import-state", path])
        .starts_with("Imported 0 circles"));

    // relay
    assert_eq!(t.text(&a, &["relay"]), "(none)\n");
    let set = t.text(&a, &["relay", "http://127.0.0.1:1"]);
    assert!(set.starts_with("http://127.0.0.1:1 "), "{set}");
    assert_eq!(a.ctl_one(&["status"])["relay_url"], "http://127.0.0.1:1");
    assert!(field_of(&text(&a, &["status"]), "relay").starts_with("http://127.0.0.1:1"));
    assert_eq!(t.one(&a, &["relay"])["relay_url"], "http://127.0.0.1:1");
    assert_eq!(t.text(&a, &["relay", "--off"]), "(none)\n");
    assert_eq!(a.ctl_one(&["status"])["relay_url"], "");
    t.one(&a, &["relay", "http://127.0.0.1:1"]);
    assert_eq!(t.one(&a, &["relay", "--off"])["relay_url"], "");
    let err = assert_refused(&["relay", "not-a-url"], &t.out(&a, &["relay", "not-a-url"]));
    assert!(err.contains("not-a-url"), "{err}");
    assert_eq!(a.ctl_one(&["status"])["relay_url"], "");

    // peers (none yet), join, peers
    assert!(t.json(&a, &["peers"]).is_empty());
    assert_eq!(t.text(&a, &["peers"]), "No peers known yet.\n");
    let joined = t.text(&b, &["join", &code]);
    assert!(
        joined.starts_with(&format!("Joined circle {team}")),
        "{joined}"
    );
    assert!(
        joined.contains(&format!(" bootstrap peer : 127.0.0.1:{}", a.port)),
        "{joined}"
    );
    let again = t.one(&b, &["join", "--code", &code]);
    assert_eq!(again["newly_joined"], false);
    assert_eq!(again["circle"]["circle_id"], team.as_str());
    // The host is listed once the bootstrap session has run to the end.
    let host = format!("127.0.0.1:{}", a.port);
    wait_until("the host to be listed as a peer", || {
        t.json(&b, &["peers", "-c", &team])
            .iter()
            .any(|p| p["addr"] == host.as_str())
    });
    assert!(t.text(&b, &["peers"]).starts_with("NODE"));

    // channel approve: B asks to join the invite-only #ops once it knows it; the
    // request reaches A, which approves it; the approval reaches B.
    wait_until("B to learn #ops", || {
        b.ctl_json(&["channels", "-c", &team])
            .iter()
            .any(|c| c["channel_id"] == "ops")
    });
    let asked = t.one(&b, &["channel", "join", "ops", "-c", &team]);
    assert_eq!(asked["requested"], true, "{asked}");
    let pending = |d: &Daemon| -> Value {
        d.ctl_json(&["channels", "-c", &team])
            .into_iter()
            .find(|c| c["channel_id"] == "ops")
            .unwrap_or_else(|| panic!("no #ops\n{}", logs()))
    };
    wait_until("B's request to reach A", || {
        pending(&a)["pending_requests"]
            .as_array()
            .is_some_and(|p| p.iter().any(|n| n == b_id.as_str()))
    });
    assert!(
        t.text(&a, &["channels", "-c", "team"]).contains(&b_id),
        "pending request listed"
    );
    // A unique prefix of the node id is enough; a wrong one is refused.
    let refused = a.ctl(&["channel", "approve", "ops", "zz", "-c", "team"]);
    assert_eq!(refused.status.code(), Some(1));
    let approved = t.one(&a, &["channel", "approve", "ops", &b_id[..4], "-c", "team"]);
    assert_eq!(approved["channel_id"], "ops");
    assert!(
        !approved["pending_requests"]
            .as_array()
            .is_some_and(|p| p.iter().any(|n| n == b_id.as_str())),
        "{approved}"
    );
    wait_until("the approval to reach B", || pending(&b)["joined"] == true);
    assert!(t
        .json(&a, &["who", "-c", &team, "--channel", "ops"])
        .iter()
        .any(|m| m["node_id"] == b_id.as_str()));

    // watch
    let full = ["--json", "watch", "-c", &team];
    t.note(&full);
    let w = Watch::start(&a, &full);
    let sent = text(&b, &["send", "-c", &team, "--channel", "ops", "from bob"]);
    let ev = loop {
        let v = w.next_json();
        if v["event"] == "message" {
            break v;
        }
    };
    assert_eq!(ev["msg_id"], sent.trim_end(), "{ev}");
    assert_eq!(ev["display_name"], "bob");
    assert_eq!(ev["own"], false);
    let (status, err) = w.interrupt();
    assert_eq!(status.code(), Some(0), "{err}");

    // leave
    assert_eq!(
        t.one(&a, &["leave", "-c", "spare"])["circle_id"],
        spare_id.as_str()
    );
    assert_eq!(
        t.text(&b, &["leave", "-c", &team]),
        format!("Left circle {team}.\n")
    );
    assert!(t.json(&b, &["circles"]).is_empty());
    // team, and the circle from the imported state file.
    assert_eq!(t.json(&a, &["circles"]).len(), 2);

    // completions (manpages is hidden from --help; covered in felundctl's own tests)
    assert!(t.text(&a, &["completions", "bash"]).contains("inbox"));

    // Every subcommand felundctl lists was run above.
    let mut listed: BTreeSet<String> = listed_subcommands(&help_of(&[])).into_iter().collect();
    assert!(listed.remove("channel"), "channel in {listed:?}");
    for sub in listed_subcommands(&help_of(&["channel"])) {
        listed.insert(format!("channel {sub}"));
    }
    assert!(listed.len() >= 19, "{listed:?}");
    let seen = t.seen.borrow();
    let missing: Vec<&String> = listed.iter().filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "not exercised: {missing:?}");
}

#[test]
fn send_dash_keeps_input_order_with_many_lines_in_flight() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let input: String = (0..900).map(|i| format!("line {i}\n")).collect();
    let args = ["send", "-c", &id, "-"];
    let printed = ok(&args, &run_with_stdin(&d, &args, &input));
    let ids: Vec<&str> = printed.lines().collect();
    assert_eq!(ids.len(), 900);
    let stored = d.ctl_json(&["inbox", "-c", &id, "--limit", "1000"]);
    let texts: Vec<&str> = stored.iter().filter_map(|m| m["text"].as_str()).collect();
    let expected: Vec<String> = (0..900).map(|i| format!("line {i}")).collect();
    assert_eq!(texts, expected, "stored in input order");
    let stored_ids: Vec<&str> = stored.iter().filter_map(|m| m["msg_id"].as_str()).collect();
    assert_eq!(stored_ids, ids, "printed in input order");
}

#[test]
fn send_dash_names_the_refused_line_and_how_many_were_sent_before_it() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    // Blank lines count as input lines but are not sent.
    let mut input: String = (0..300).map(|i| format!("ok {i}\n\n")).collect();
    input.push_str(&"x".repeat(4097));
    input.push('\n');
    input.extend((0..300).map(|i| format!("never {i}\n")));
    let args = ["send", "-c", &id, "-"];
    let out = run_with_stdin(&d, &args, &input);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr_of(&out));
    assert_eq!(stdout_of(&out).lines().count(), 300);
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: line 601 was refused: ") && err.contains("4096"),
        "{err}"
    );
    assert!(err.contains("(300 lines before it were sent)"), "{err}");
    assert_no_crash(&err);
    let stored = d.ctl_json(&["inbox", "-c", &id, "--limit", "1000"]);
    let texts: Vec<&str> = stored.iter().filter_map(|m| m["text"].as_str()).collect();
    let expected: Vec<String> = (0..300).map(|i| format!("ok {i}")).collect();
    assert_eq!(texts, expected, "the lines before it, and nothing after it");
}
