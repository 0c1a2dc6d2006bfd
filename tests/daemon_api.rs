//! End-to-end tests of one felundd driven by the real felundctl over the real Unix
//! socket, with the real SQLite state file.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::mpsc;

use felund_tests::{wait_until, Daemon, DEADLINE};
use serde_json::Value;

fn create_circle(d: &Daemon, name: &str) -> (String, String) {
    let v = d.ctl_one(&["invite", "--name", name]);
    let id = v["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let code = v["invite_code"].as_str().expect("invite_code").to_string();
    (id, code)
}

fn send(d: &Daemon, circle: &str, channel: &str, text: &str) -> Value {
    d.ctl_one(&["send", "--circle-id", circle, "--channel", channel, text])
}

fn inbox(d: &Daemon, circle: &str, channel: &str, limit: usize) -> Vec<Value> {
    d.ctl_json(&[
        "inbox",
        "--circle-id",
        circle,
        "--channel",
        channel,
        "--limit",
        &limit.to_string(),
    ])
}

fn texts(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn created_circle_is_listed_with_its_name_and_code_decodes_to_it() {
    let d = Daemon::start();
    let (id, code) = create_circle(&d, "friends");
    assert!(code.starts_with("felund1."), "code {code}");
    let circles = d.ctl_json(&["circles"]);
    assert_eq!(circles.len(), 1);
    assert_eq!(circles[0]["circle_id"], id.as_str());
    assert_eq!(circles[0]["name"], "friends");
    // The same circle's code from `code` names this node's advertised address.
    let v = d.ctl_one(&["code", "--circle-id", "friends"]);
    assert_eq!(v["circle_id"], id.as_str());
    assert_eq!(v["peer"], format!("127.0.0.1:{}", d.port));
}

#[test]
fn sent_messages_come_back_in_inbox_in_order_with_all_fields() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let (id, _) = create_circle(&d, "c");
    let sent = send(&d, &id, "general", "hello | world ✨");
    send(&d, &id, "general", "second");
    let msgs = inbox(&d, &id, "general", 50);
    assert_eq!(texts(&msgs), ["hello | world ✨", "second"]);
    let m = &msgs[0];
    assert_eq!(m["msg_id"], sent["msg_id"]);
    assert_eq!(m["circle_id"], id.as_str());
    assert_eq!(m["channel_id"], "general");
    assert_eq!(m["display_name"], "alice");
    assert_eq!(m["own"], true);
    assert!(m["created_ts"].as_i64().unwrap_or(0) > 1_700_000_000);
    assert_eq!(m["msg_id"].as_str().map(str::len), Some(32));
}

#[test]
fn circle_selector_accepts_prefix_and_name() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "Book Club");
    send(&d, &id[..6], "general", "by prefix");
    send(&d, "book club", "general", "by name");
    assert_eq!(
        texts(&inbox(&d, &id, "general", 10)),
        ["by prefix", "by name"]
    );
}

#[test]
fn joining_another_nodes_code_adds_the_circle_and_remembers_the_peer() {
    let a = Daemon::start();
    let b = Daemon::start();
    let (id, code) = create_circle(&a, "shared");
    let v = b.ctl_one(&["join", &code]);
    assert_eq!(v["circle"]["circle_id"], id.as_str());
    assert_eq!(v["newly_joined"], true);
    assert_eq!(v["peer"], format!("127.0.0.1:{}", a.port));
    // Joining again is harmless and says so.
    let again = b.ctl_one(&["join", "--code", &code]);
    assert_eq!(again["newly_joined"], false);
    assert_eq!(b.ctl_json(&["circles"]).len(), 1);
}

#[test]
fn bad_invite_codes_are_refused_with_a_clear_message_and_change_nothing() {
    let d = Daemon::start();
    for bad in [
        "",
        "hello",
        "felund1.!!!!",
        "felund2.eyJ2IjoxfQ",
        "felund1.eyJ2IjoyLCJzZWNyZXQiOiJhYSIsInBlZXIiOiIifQ",
    ] {
        let out = d.ctl(&["join", bad]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "join {bad:?} should fail with exit 1"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invite code"),
            "unclear error for {bad:?}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("Status {"),
            "raw error for {bad:?}: {err}"
        );
    }
    assert!(d.ctl_json(&["circles"]).is_empty());
}

#[test]
fn unknown_circle_is_reported_as_not_found() {
    let d = Daemon::start();
    let out = d.ctl(&["send", "--circle-id", "nosuchcircle", "hi"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no circle matches 'nosuchcircle'"), "{err}");
}

#[test]
fn oversized_and_empty_messages_are_refused() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    let big = "x".repeat(5000);
    let out = d.ctl(&["send", "--circle-id", &id, &big]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit is 4096"));
    assert_eq!(
        d.ctl(&["send", "--circle-id", &id, "   "]).status.code(),
        Some(1)
    );
    assert!(inbox(&d, &id, "general", 10).is_empty());
}

#[test]
fn restart_keeps_identity_circles_and_messages() {
    let mut d = Daemon::start_with(&["--name", "carol"]);
    let before = d.ctl_one(&["status"]);
    let (id, _) = create_circle(&d, "keep");
    send(&d, &id, "general", "persisted");
    d.restart();
    let after = d.ctl_one(&["status"]);
    assert_eq!(after["node_id"], before["node_id"]);
    assert_eq!(after["display_name"], "carol");
    assert_eq!(texts(&inbox(&d, &id, "general", 10)), ["persisted"]);
    assert_eq!(d.ctl_json(&["circles"])[0]["name"], "keep");
}

#[test]
fn killed_daemon_keeps_every_acknowledged_message() {
    let mut d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    for i in 0..20 {
        send(&d, &id, "general", &format!("m{i}"));
    }
    d.kill();
    d.start_again();
    assert_eq!(inbox(&d, &id, "general", 100).len(), 20);
}

#[test]
fn api_socket_is_private_and_state_dir_too() {
    let d = Daemon::start();
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&d.socket), 0o600, "socket mode");
    assert_eq!(mode(&d.state_dir), 0o700, "state dir mode");
    assert_eq!(
        mode(&d.state_dir.join("felund.sqlite")),
        0o600,
        "database mode"
    );
}

#[test]
fn second_daemon_on_the_same_socket_refuses_to_start() {
    let d = Daemon::start();
    let out = std::process::Command::new(felund_tests::bin("felundd"))
        .arg("--state-dir")
        .arg(d.dir.path().join("other-state"))
        .arg("--socket")
        .arg(&d.socket)
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &felund_tests::free_port().to_string(),
        ])
        .output()
        .expect("run felundd");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another felundd is already serving"));
    // The first one still serves.
    assert!(d.ctl(&["status"]).status.success());
}

#[test]
fn second_daemon_on_the_same_state_dir_refuses_to_start() {
    let d = Daemon::start();
    let out = std::process::Command::new(felund_tests::bin("felundd"))
        .arg("--state-dir")
        .arg(&d.state_dir)
        .arg("--socket")
        .arg(d.dir.path().join("other.sock"))
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &felund_tests::free_port().to_string(),
        ])
        .output()
        .expect("run felundd");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already using the state"));
}

#[test]
fn stale_socket_file_is_replaced_at_start() {
    let mut d = Daemon::start();
    d.kill(); // leaves the socket file behind
    assert!(d.socket.exists());
    d.start_again();
    assert!(d.ctl(&["status"]).status.success());
}

#[test]
fn ctl_reports_a_daemon_that_is_not_running_with_exit_code_2() {
    let mut d = Daemon::start();
    d.stop();
    let out = d.ctl(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("felundd is not running at"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line, got: {err}");
}

#[test]
fn watch_receives_a_message_sent_by_another_client() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "live");
    let mut watch = d
        .ctl_cmd(&["--json", "watch", "--circle-id", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");
    let stdout = watch.stdout.take().expect("watch stdout");
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    wait_until("watch to attach", || {
        d.ctl_one(&["status"])["subscriber_count"].as_u64() >= Some(1)
    });
    let sent = send(&d, &id, "general", "live message");
    let got = loop {
        let v = rx.recv_timeout(DEADLINE).expect("an event from watch");
        if v["event"] == "message" {
            break v;
        }
    };
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(got["text"], "live message");
    assert_eq!(got["msg_id"], sent["msg_id"]);
    assert_eq!(got["circle_id"], id.as_str());
}

#[test]
fn channels_create_join_leave_with_access_modes() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "c");
    d.ctl_one(&["channel", "create", "random", "--circle-id", &id]);
    d.ctl_one(&[
        "channel",
        "create",
        "secret",
        "--circle-id",
        &id,
        "--access",
        "key",
        "--key",
        "k1",
    ]);
    let chans = d.ctl_json(&["channels", "--circle-id", &id]);
    let names: Vec<&str> = chans
        .iter()
        .filter_map(|c| c["channel_id"].as_str())
        .collect();
    assert_eq!(names, ["general", "random", "secret"]);
    send(&d, &id, "random", "in random");
    assert_eq!(texts(&inbox(&d, &id, "random", 10)), ["in random"]);
    // Creating twice is refused; leaving general is refused.
    assert_eq!(
        d.ctl(&["channel", "create", "random", "--circle-id", &id])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        d.ctl(&["channel", "leave", "general", "--circle-id", &id])
            .status
            .code(),
        Some(1)
    );
    // Leave, then posting is refused until joining again.
    d.ctl_one(&["channel", "leave", "random", "--circle-id", &id]);
    let who = d.ctl_json(&["who", "--circle-id", &id, "--channel", "random"]);
    assert!(who.is_empty(), "{who:?}");
    d.ctl_one(&["channel", "join", "random", "--circle-id", &id]);
    let who = d.ctl_json(&["who", "--circle-id", &id, "--channel", "random"]);
    assert_eq!(who.len(), 1);
    // Channel names are normalised like the reference does.
    send(&d, &id, "#Random", "normalised");
    assert_eq!(
        texts(&inbox(&d, &id, "random", 10)),
        ["in random", "normalised"]
    );
}

#[test]
fn display_name_change_is_shown_by_status_and_name() {
    let d = Daemon::start();
    create_circle(&d, "c");
    d.ctl(&["name", "dave"]);
    assert_eq!(d.ctl_one(&["status"])["display_name"], "dave");
    let out = d.ctl(&["name"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("dave"));
}

#[test]
fn two_clients_sending_1000_messages_each_concurrently_all_land_exactly_once() {
    let d = Daemon::start();
    let (id, _) = create_circle(&d, "busy");
    let spawn_sender = |tag: &'static str| {
        let mut child = d
            .ctl_cmd(&["send", "--circle-id", &id, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sender");
        let mut stdin = child.stdin.take().expect("stdin");
        let lines: String = (0..1000).map(|i| format!("{tag}-{i}\n")).collect();
        std::thread::spawn(move || {
            let _ = stdin.write_all(lines.as_bytes());
        });
        child
    };
    let a = spawn_sender("a");
    let b = spawn_sender("b");
    let out_a = a.wait_with_output().expect("sender a");
    let out_b = b.wait_with_output().expect("sender b");
    assert!(
        out_a.status.success(),
        "{}",
        String::from_utf8_lossy(&out_a.stderr)
    );
    assert!(
        out_b.status.success(),
        "{}",
        String::from_utf8_lossy(&out_b.stderr)
    );
    let ids_printed: HashSet<String> = String::from_utf8_lossy(&out_a.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out_b.stdout).lines())
        .map(str::to_string)
        .collect();
    assert_eq!(
        ids_printed.len(),
        2000,
        "every send printed a distinct msg_id"
    );

    // Read the whole channel back, page by page.
    let mut all = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut args = vec!["--json", "inbox", "--circle-id", &id, "--limit", "1000"];
        if let Some(b) = before.as_deref() {
            args.extend(["--before", b]);
        }
        let out = d.ctl(&args);
        assert!(out.status.success());
        let page: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if page.is_empty() {
            break;
        }
        before = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v["next_before"].as_str().map(str::to_string));
        all.extend(page);
        if before.is_none() {
            break;
        }
    }
    let got_texts: Vec<String> = texts(&all);
    let unique: HashSet<&String> = got_texts.iter().collect();
    assert_eq!(got_texts.len(), 2000, "exactly 2000 messages stored");
    assert_eq!(unique.len(), 2000, "no duplicates");
    for tag in ["a", "b"] {
        for i in 0..1000 {
            assert!(unique.contains(&format!("{tag}-{i}")), "missing {tag}-{i}");
        }
    }
    let got_ids: HashSet<String> = all
        .iter()
        .filter_map(|m| m["msg_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(got_ids, ids_printed);
}

#[test]
fn sigterm_ends_watch_streams_and_the_daemon_stops_cleanly() {
    let mut d = Daemon::start();
    let mut watch = d
        .ctl_cmd(&["--json", "watch"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    wait_until("watch to attach", || {
        d.ctl_one(&["status"])["subscriber_count"].as_u64() >= Some(1)
    });
    d.stop(); // panics if felundd does not exit on SIGTERM
    let status = watch.wait().expect("watch exits");
    assert_eq!(
        status.code(),
        Some(0),
        "watch should end cleanly when the daemon stops"
    );
    assert!(!d.socket.exists(), "socket file removed on clean shutdown");
    assert!(
        !d.log().contains("stopping without them"),
        "a client that reads its stream is let go, not cut off:\n{}",
        d.log()
    );
}
