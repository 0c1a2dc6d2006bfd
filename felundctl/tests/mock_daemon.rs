//! The built `felundctl` binary against a scripted stand-in for felundd: every RPC
//! reachable, text and JSON output, exit codes, `send -`, and `watch`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{MockDaemon, CIRCLE_ID};

const BIN: &str = env!("CARGO_BIN_EXE_felundctl");

fn run(daemon: &MockDaemon, args: &[&str]) -> Output {
    run_with_stdin(daemon, args, "")
}

fn run_with_stdin(daemon: &MockDaemon, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("--socket")
        .arg(&daemon.socket)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn felundctl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Stdout of a successful run.
fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The JSON lines of a successful `--json` run.
fn json_lines(out: &Output) -> Vec<Value> {
    ok(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn status_text_and_json() {
    let d = MockDaemon::start();
    let text = ok(&run(&d, &["status"]));
    assert!(text.contains(" node_id"), "{text}");
    assert!(text.contains("1h 2m"), "{text}");
    assert!(text.contains("(none)"), "relay: {text}");
    let v = json_lines(&run(&d, &["--json", "status"]));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["node_id"], "n-self");
    assert_eq!(v[0]["uptime_s"], 3725);
}

#[test]
fn every_rpc_is_reachable() {
    let d = MockDaemon::start();
    let cases: &[(&[&str], &str, &str)] = &[
        // args, JSON key to check, expected value (as a string)
        (&["name"], "display_name", "me"),
        (&["name", "bob"], "display_name", "bob"),
        (
            &["invite", "--name", "friends"],
            "invite_code",
            "felund1mockcode",
        ),
        (&["join", "felund1mockcode"], "newly_joined", "true"),
        (
            &["join", "--code", "felund1mockcode"],
            "peer",
            "127.0.0.1:9999",
        ),
        (&["leave", "-c", "friends"], "circle_id", CIRCLE_ID),
        (&["rename", "-c", "c0ffee", "pals"], "name", "pals"),
        (
            &["code", "--circle-id", "friends"],
            "code",
            "felund1mockcode",
        ),
        (&["circles"], "name", "friends"),
        (&["channels", "-c", "friends"], "channel_id", "general"),
        (
            &[
                "channel", "create", "ops", "-c", "friends", "--access", "invite",
            ],
            "access_mode",
            "invite",
        ),
        (
            &["channel", "join", "ops", "-c", "friends"],
            "requested",
            "true",
        ),
        (
            &["channel", "leave", "ops", "-c", "friends"],
            "channel_id",
            "ops",
        ),
        (
            &["channel", "approve", "ops", "n-bob", "-c", "friends"],
            "channel_id",
            "ops",
        ),
        (&["who", "-c", "friends"], "is_self", "true"),
        (&["send", "-c", "friends", "hi"], "text", "hi"),
        (&["inbox", "-c", "friends"], "msg_id", "m1"),
    ];
    for (args, key, want) in cases {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let lines = json_lines(&run(&d, &all));
        let first = lines
            .first()
            .unwrap_or_else(|| panic!("no output for {args:?}"));
        let got = match &first[*key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(&got, want, "{args:?}: {first}");
        // And the text form succeeds too.
        ok(&run(&d, args));
    }
    // ListPeers answers an empty list: nothing in JSON, a hint in text.
    assert_eq!(ok(&run(&d, &["--json", "peers"])), "");
    assert!(ok(&run(&d, &["peers"])).contains("No peers"));
}

#[test]
fn invite_text_mirrors_reference_format() {
    let d = MockDaemon::start();
    let text = ok(&run(&d, &["invite"]));
    assert!(
        text.contains(&format!(" circle_id   : {CIRCLE_ID}\n")),
        "{text}"
    );
    assert!(text.contains(" felund_code : felund1mockcode\n"), "{text}");
    assert_eq!(
        ok(&run(&d, &["code", "-c", "friends"])),
        "felund1mockcode\n"
    );
}

#[test]
fn message_json_has_exactly_eight_fields() {
    let d = MockDaemon::start();
    let lines = json_lines(&run(&d, &["--json", "inbox", "-c", "friends"]));
    assert_eq!(lines.len(), 2);
    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "author_node_id",
            "channel_id",
            "circle_id",
            "created_ts",
            "display_name",
            "msg_id",
            "own",
            "text"
        ]
    );
}

#[test]
fn inbox_text_lines_and_cursor_hint() {
    let d = MockDaemon::start();
    let out = run(&d, &["inbox", "-c", "friends", "--limit", "2"]);
    let text = ok(&out);
    let first = text.lines().next().unwrap();
    // [YYYY-MM-DD HH:MM] alice: hello
    assert!(
        first.starts_with('[') && first.ends_with("] alice: hello"),
        "{first}"
    );
    assert_eq!(first.find(']'), Some(17), "{first}");
    assert_eq!(text.lines().count(), 3, "multi-line text continues: {text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--before cursor-1"), "{err}");
}

#[test]
fn send_dash_sends_each_nonempty_stdin_line() {
    let d = MockDaemon::start();
    let out = run_with_stdin(
        &d,
        &["send", "-c", "friends", "-"],
        "one\n\n  \ntwo\r\nthree",
    );
    assert_eq!(ok(&out), "m1\nm2\nm3\n");
    assert_eq!(d.seen.lock().unwrap().sent, ["one", "two", "three"]);
    let lines = json_lines(&run_with_stdin(
        &d,
        &["--json", "send", "-c", "friends", "-"],
        "four\n",
    ));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["text"], "four");
    assert_eq!(lines[0]["own"], true);
}

#[test]
fn refusals_exit_1_with_one_error_line() {
    let d = MockDaemon::start();
    for (args, want) in [
        (
            &["leave", "-c", "nope"][..],
            "error: no circle matches \"nope\"\n",
        ),
        (
            &["join", "garbage"],
            "error: invalid invite code: bad checksum\n",
        ),
        (
            &["--json", "name", " "],
            "error: display name must not be empty\n",
        ),
    ] {
        let out = run(&d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn send_dash_stops_at_first_refusal() {
    let d = MockDaemon::start();
    let out = run_with_stdin(&d, &["send", "-c", "nope", "-"], "a\nb\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(d.seen.lock().unwrap().sent.is_empty());
}

#[test]
fn watch_json_prints_every_event_kind_then_exits_0() {
    let d = MockDaemon::start();
    let lines = json_lines(&run(&d, &["--json", "watch"]));
    let kinds: Vec<&str> = lines.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "message",
            "channel",
            "circle",
            "peer",
            "display_name",
            "lagged"
        ]
    );
    assert_eq!(lines[0]["text"], "live");
    assert_eq!(lines[0].as_object().unwrap().len(), 9);
    assert_eq!(lines[1]["kind"], "created");
    assert_eq!(lines[2]["kind"], "renamed");
    assert_eq!(lines[2]["name"], "pals");
    assert_eq!(lines[3]["addr"], "127.0.0.2:9999");
    assert_eq!(lines[4]["display_name"], "robert");
    assert_eq!(lines[5]["missed"], 4);
}

#[test]
fn watch_text_then_ctrl_c_exits_0() {
    let d = MockDaemon::start();
    let mut child = Command::new(BIN)
        .arg("--socket")
        .arg(&d.socket)
        .args(["watch", "-c", "forever"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    for _ in 0..6 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        seen.push(line);
    }
    assert!(seen[0].contains("#general alice: live"), "{seen:?}");
    assert!(seen[5].starts_with("! 4 events"), "{seen:?}");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "watch did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn closed_stdout_is_not_an_error() {
    let d = MockDaemon::start();
    let mut child = Command::new(BIN)
        .arg("--socket")
        .arg(&d.socket)
        .args(["watch", "-c", "forever"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head -0`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn daemon_dying_during_watch_exits_2() {
    let d = MockDaemon::start();
    let mut child = Command::new(BIN)
        .arg("--socket")
        .arg(&d.socket)
        .args(["watch", "-c", "forever"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    drop(d);
    let out = child.wait_with_output().unwrap();
    // A cut connection is not a clean end: exit 2, one line naming the socket.
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("lost the connection to felundd at "),
        "{err}"
    );
}
