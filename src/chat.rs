//! Chat-level helpers for gossip tests: circles, messages and waiting on conditions with
//! the daemon's log at hand. Everything goes through the real felundctl.

use std::collections::BTreeSet;

use felund_wire::CircleSecret;
use serde_json::Value;

use crate::Daemon;

/// A circle as its creator sees it.
#[derive(Debug, Clone)]
pub struct Circle {
    /// Its id.
    pub id: String,
    /// Its invite code (naming the creator's address).
    pub code: String,
    /// Its secret, decoded from the code.
    pub secret: CircleSecret,
}

/// Creates a circle on `d` (`felundctl invite --name NAME`).
pub fn create_circle(d: &Daemon, name: &str) -> Circle {
    let v = d.ctl_one(&["invite", "--name", name]);
    let id = v["circle"]["circle_id"]
        .as_str()
        .expect("circle_id in invite output")
        .to_string();
    let code = v["invite_code"]
        .as_str()
        .expect("invite_code in invite output")
        .to_string();
    let secret = felund_wire::invite::parse_invite(&code)
        .expect("our own invite code parses")
        .secret;
    Circle { id, code, secret }
}

/// The last `n` lines of a daemon's log, for assertion messages.
pub fn log_tail(d: &Daemon, n: usize) -> String {
    let log = d.log();
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].join("\n")
}

/// `felundctl --json ARGS`, parsed, or `None` if the command failed (for use inside
/// polling conditions, where a not-yet-known circle is normal).
pub fn try_json(d: &Daemon, args: &[&str]) -> Option<Vec<Value>> {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let out = d.ctl(&full);
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// This daemon's node id.
pub fn node_id(d: &Daemon) -> String {
    d.ctl_one(&["status"])["node_id"]
        .as_str()
        .expect("status node_id")
        .to_string()
}

/// Sends one message; returns the message object.
pub fn send(d: &Daemon, circle: &str, channel: &str, text: &str) -> Value {
    d.ctl_one(&["send", "--circle-id", circle, "--channel", channel, text])
}

/// Sends one message per entry through `send -` (one felundctl run); returns the msg_ids.
pub fn send_many(d: &Daemon, circle: &str, texts: &[String]) -> Vec<String> {
    let input: String = texts.iter().map(|t| format!("{t}\n")).collect();
    let out = d.ctl_input(&["--json", "send", "--circle-id", circle, "-"], &input);
    assert!(
        out.status.success(),
        "send - failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("send - prints JSON");
            v["msg_id"].as_str().expect("msg_id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), texts.len(), "send - sent every line");
    ids
}

/// The newest `limit` messages of a channel (oldest first), or `None` if the circle is
/// not known yet.
pub fn try_inbox(d: &Daemon, circle: &str, channel: &str, limit: usize) -> Option<Vec<Value>> {
    try_json(
        d,
        &[
            "inbox",
            "--circle-id",
            circle,
            "--channel",
            channel,
            "--limit",
            &limit.to_string(),
        ],
    )
}

/// Texts of the newest 1,000 messages of a channel (empty if the circle is unknown).
pub fn texts(d: &Daemon, circle: &str, channel: &str) -> Vec<String> {
    try_inbox(d, circle, channel, 1000)
        .unwrap_or_default()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The message of `channel` with this text, if present.
pub fn find_message(d: &Daemon, circle: &str, channel: &str, text: &str) -> Option<Value> {
    try_inbox(d, circle, channel, 1000)?
        .into_iter()
        .find(|m| m["text"] == text)
}

/// Every msg_id of a channel, paging through `inbox --before`.
pub fn all_msg_ids(d: &Daemon, circle: &str, channel: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut before: Option<String> = None;
    loop {
        let mut args = vec![
            "--json",
            "inbox",
            "--circle-id",
            circle,
            "--channel",
            channel,
            "--limit",
            "1000",
        ];
        if let Some(b) = &before {
            args.push("--before");
            args.push(b);
        }
        let out = d.ctl(&args);
        assert!(
            out.status.success(),
            "inbox failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut page = 0;
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            if l.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(l).expect("inbox JSON");
            ids.insert(v["msg_id"].as_str().unwrap_or_default().to_string());
            page += 1;
        }
        let next = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v["next_before"].as_str().map(str::to_string));
        match next {
            Some(n) if page > 0 && before.as_deref() != Some(n.as_str()) => before = Some(n),
            _ => return ids,
        }
    }
}

/// The circle as `felundctl circles` lists it, if known.
pub fn circle_info(d: &Daemon, circle: &str) -> Option<Value> {
    try_json(d, &["circles"])?
        .into_iter()
        .find(|c| c["circle_id"] == circle)
}

/// Chat messages (not control events) the daemon holds in a circle, per `circles`.
pub fn message_count(d: &Daemon, circle: &str) -> u64 {
    circle_info(d, circle)
        .and_then(|c| c["message_count"].as_u64())
        .unwrap_or(0)
}

/// Channel ids of a circle (empty if unknown).
pub fn channel_ids(d: &Daemon, circle: &str) -> Vec<String> {
    try_json(d, &["channels", "--circle-id", circle])
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["channel_id"].as_str().map(str::to_string))
        .collect()
}

/// Members (`who`) of a circle or one of its channels: (node_id, display_name).
pub fn who(d: &Daemon, circle: &str, channel: Option<&str>) -> Vec<(String, String)> {
    let mut args = vec!["who", "--circle-id", circle];
    if let Some(ch) = channel {
        args.push("--channel");
        args.push(ch);
    }
    try_json(d, &args)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["node_id"].as_str().unwrap_or_default().to_string(),
                m["display_name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Known peers of a circle as JSON objects (empty if unknown).
pub fn peers(d: &Daemon, circle: &str) -> Vec<Value> {
    try_json(d, &["peers", "--circle-id", circle]).unwrap_or_default()
}
