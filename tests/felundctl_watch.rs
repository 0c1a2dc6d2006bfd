//! `felundctl watch` against the real felundd: events caused by other commands, Ctrl-C,
//! `--follow` across a restart, a daemon dying underneath, and closed stdout.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use felund_tests::chat::{create_circle, node_id};
use felund_tests::ctl::*;
use felund_tests::{wait_until, Daemon};
use serde_json::Value;

// watch
// ---------------------------------------------------------------------------------

#[test]
fn watch_json_prints_events_caused_by_other_commands_then_exits_0_on_sigint() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let id = create_circle(&d, "friends").id;
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
    let id = create_circle(&d, "c").id;
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
    let id = create_circle(&d, "c").id;
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
    let id = create_circle(&d, "c").id;
    let w = Watch::start(&d, &["watch"]);
    text(&d, &["send", "-c", &id, "before the crash"]);
    assert!(w.next_line().ends_with("before the crash"));
    d.kill();
    let (status, err) = w.wait_exit();
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
    let id = create_circle(&d, "c").id;
    // ~400 KB of output: far more than a pipe holds, so felundctl is still writing
    // when the reader goes away.
    let body = "y".repeat(4000);
    let input: String = (0..100).map(|i| format!("{i} {body}\n")).collect();
    let args = ["send", "-c", &id, "-"];
    ok(&args, &d.ctl_input(&args, &input));

    for json in [false, true] {
        let mut args = vec!["inbox", "-c", &id, "--limit", "1000"];
        if json {
            args.insert(0, "--json");
        }
        let mut cmd = d.ctl_cmd(&args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut proc = Running::spawn(cmd);
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
    let id = create_circle(&d, "c").id;
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
