//! felundctl as a scripter uses it for whole channels: `send` taking the rest of the
//! line, `inbox --limit N` above one API page and `inbox --all --json` as a complete,
//! ordered export — against the real felundd.

use felund_tests::chat::create_circle;
use felund_tests::ctl::stderr_of;
use felund_tests::Daemon;
use serde_json::Value;

/// Messages stored in the test channel: more than two API pages.
const STORED: usize = 2345;

/// The text of message `i`.
fn line(i: usize) -> String {
    format!("line {i}")
}

/// A daemon with one circle whose #general holds [`STORED`] messages, in order.
fn channel_with_many_messages() -> (Daemon, String) {
    let d = Daemon::start();
    let c = create_circle(&d, "big");
    let input: String = (0..STORED).map(|i| line(i) + "\n").collect();
    let out = d.ctl_input(&["send", "-c", &c.id, "-"], &input);
    assert!(out.status.success(), "{}", stderr_of(&out));
    (d, c.id)
}

fn texts(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| m["text"].as_str().expect("text").to_string())
        .collect()
}

#[test]
fn send_takes_the_rest_of_the_line_as_the_text() {
    let d = Daemon::start();
    let c = create_circle(&d, "c");
    let out = d.ctl(&["send", "-c", &c.id, "hello", "world"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = d.ctl(&["send", "-c", &c.id, "--", "-1", "degrees"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stored = d.ctl_json(&["inbox", "-c", &c.id]);
    assert_eq!(texts(&stored), ["hello world", "-1 degrees"]);
}

#[test]
fn inbox_all_json_is_a_complete_ordered_export_of_a_channel_larger_than_a_page() {
    let (d, id) = channel_with_many_messages();
    let out = d.ctl(&["--json", "inbox", "-c", &id, "--all"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stderr.is_empty(), "an export has no cursor to print");
    let exported: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let expected: Vec<String> = (0..STORED).map(line).collect();
    assert_eq!(texts(&exported), expected, "every message once, in order");

    // Text output pages the same way: one line per message.
    let out = d.ctl(&["inbox", "-c", &id, "--all"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), STORED);
}

#[test]
fn inbox_limit_above_one_page_returns_the_newest_in_order_with_a_cursor_for_the_rest() {
    let (d, id) = channel_with_many_messages();
    let newest = 1500;
    let out = d.ctl(&["--json", "inbox", "-c", &id, "--limit", &newest.to_string()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let page: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let expected: Vec<String> = (STORED - newest..STORED).map(line).collect();
    assert_eq!(texts(&page), expected);
    let cursor: Value =
        serde_json::from_slice(&out.stderr).expect("the cursor of older messages on stderr");
    let cursor = cursor["next_before"].as_str().expect("next_before");

    // The cursor reaches exactly the rest.
    let rest = d.ctl_json(&["inbox", "-c", &id, "--limit", "5000", "--before", cursor]);
    let expected: Vec<String> = (0..STORED - newest).map(line).collect();
    assert_eq!(texts(&rest), expected);
}
