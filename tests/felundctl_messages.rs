//! Messages through the real felundctl and felundd: the JSON shape, `inbox` lines and
//! paging cursors, `send -` (order, refusals, many lines in flight), unread counts and
//! read markers.

use felund_tests::chat::{create_circle, node_id, Circle};
use felund_tests::ctl::*;
use felund_tests::{wait_until, Daemon};

#[test]
fn message_json_has_exactly_the_eight_fields() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let id = create_circle(&d, "c").id;
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
    let id = create_circle(&d, "c").id;
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
    let id = create_circle(&d, "c").id;
    let args = ["send", "-c", &id, "-"];
    let out = d.ctl_input(&args, "one\n\n  \ntwo\r\nthree");
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
    let lines = json_lines(&ok(&args, &d.ctl_input(&args, "four\nfive\n")));
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
    let id = create_circle(&d, "c").id;
    let too_long = "x".repeat(4097);
    let input = format!("before\n{too_long}\nafter\n");
    let args = ["send", "-c", &id, "-"];
    let out = d.ctl_input(&args, &input);
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
    let err = assert_refused(&args, &d.ctl_input(&args, "a\nb\n"));
    assert!(err.contains("no circle matches"), "{err}");
    assert_eq!(d.ctl_json(&["inbox", "-c", &id]).len(), 1);
}

/// Read markers are felundd's: counts by others' messages, shared by every client
/// (a `read` event), kept across a restart.
#[test]
fn unread_counts_and_read_markers_are_shared_and_survive_a_restart() {
    let mut a = Daemon::start_with(&["--name", "alice", "--sync-interval", "1"]);
    let b = Daemon::start_with(&["--name", "bob", "--sync-interval", "1"]);
    let Circle { id, code, .. } = create_circle(&a, "c");
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
fn send_dash_keeps_input_order_with_many_lines_in_flight() {
    let d = Daemon::start();
    let id = create_circle(&d, "c").id;
    let input: String = (0..900).map(|i| format!("line {i}\n")).collect();
    let args = ["send", "-c", &id, "-"];
    let printed = ok(&args, &d.ctl_input(&args, &input));
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
    let id = create_circle(&d, "c").id;
    // Blank lines count as input lines but are not sent.
    let mut input: String = (0..300).map(|i| format!("ok {i}\n\n")).collect();
    input.push_str(&"x".repeat(4097));
    input.push('\n');
    input.extend((0..300).map(|i| format!("never {i}\n")));
    let args = ["send", "-c", &id, "-"];
    let out = d.ctl_input(&args, &input);
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
