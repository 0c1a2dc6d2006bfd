//! `felundctl search`: full-text search over chat messages (the daemon's FTS5 index),
//! driven through the real CLI against a real felundd.

use felund_tests::chat::{create_circle, try_json};
use felund_tests::ctl::{keys, MESSAGE_KEYS};
use felund_tests::{wait_until, Daemon};
use serde_json::Value;

fn send(d: &Daemon, circle: &str, channel: &str, text: &str) -> String {
    d.ctl_one(&["send", "--circle-id", circle, "--channel", channel, text])["msg_id"]
        .as_str()
        .expect("msg_id")
        .to_string()
}

/// `felundctl --json search ARGS`, as parsed lines.
fn search(d: &Daemon, args: &[&str]) -> Vec<Value> {
    let mut full = vec!["search"];
    full.extend_from_slice(args);
    d.ctl_json(&full)
}

/// The texts of a search's results, sorted (order within a second is by arrival).
fn found(d: &Daemon, args: &[&str]) -> Vec<String> {
    let mut texts: Vec<String> = search(d, args)
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect();
    texts.sort();
    texts
}

/// A daemon with one circle ("main") holding a few messages in #general and #ops.
fn corpus() -> (Daemon, String) {
    let d = Daemon::start_with(&["--name", "searcher"]);
    let circle = create_circle(&d, "main").id;
    d.ctl_one(&["channel", "create", "ops", "--circle-id", &circle]);
    for text in [
        "hello world",
        "Help wanted in the garden",
        "a shell script",
        "meet at the café at noon",
        "NAÏVE Crème Brûlée",
    ] {
        send(&d, &circle, "general", text);
    }
    send(&d, &circle, "ops", "deploy hello service");
    (d, circle)
}

#[test]
fn search_finds_a_word_case_insensitively_and_only_whole_words() {
    let (d, _) = corpus();
    assert_eq!(
        found(&d, &["HELLO"]),
        ["deploy hello service", "hello world"]
    );
    assert_eq!(found(&d, &["garden"]), ["Help wanted in the garden"]);
    // "hell" is not a word of any message ("hello" and "shell" do not match it).
    assert!(found(&d, &["hell"]).is_empty());
}

#[test]
fn search_with_a_trailing_star_matches_word_prefixes_only() {
    let (d, _) = corpus();
    assert_eq!(
        found(&d, &["hel*"]),
        [
            "Help wanted in the garden",
            "deploy hello service",
            "hello world"
        ]
    );
    // A prefix matches the start of words, never their middle ("shell").
    assert!(!found(&d, &["hel*"]).iter().any(|t| t.contains("shell")));
}

#[test]
fn search_ignores_diacritics_in_both_directions() {
    let (d, _) = corpus();
    assert_eq!(found(&d, &["cafe"]), ["meet at the café at noon"]);
    assert_eq!(found(&d, &["CAFÉ"]), ["meet at the café at noon"]);
    assert_eq!(
        found(&d, &["naive", "creme", "brulee"]),
        ["NAÏVE Crème Brûlée"]
    );
}

#[test]
fn search_requires_every_word_to_match() {
    let (d, _) = corpus();
    assert_eq!(found(&d, &["hello", "world"]), ["hello world"]);
    // Several words in one argument mean the same.
    assert_eq!(found(&d, &["hello world"]), ["hello world"]);
    assert!(found(&d, &["hello", "garden"]).is_empty());
}

#[test]
fn search_treats_query_syntax_as_plain_words() {
    let (d, _) = corpus();
    // FTS5 operators and punctuation are taken literally, never as query syntax
    // (which would be a syntax error or match differently).
    for q in [
        "hello OR garden",
        "NOT hello",
        "hello AND",
        "\"hello",
        "(hello",
        "hello:",
    ] {
        let out = d.ctl(&["--json", "search", "--", q]);
        assert!(
            out.status.success(),
            "search {q:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(found(&d, &["hello OR garden"]).is_empty(), "OR is a word");
}

#[test]
fn search_is_limited_to_a_circle_and_a_channel_when_asked() {
    let (d, main) = corpus();
    let other = create_circle(&d, "other").id;
    send(&d, &other, "general", "hello from the other circle");

    assert_eq!(found(&d, &["hello"]).len(), 3, "all circles by default");
    assert_eq!(
        found(&d, &["hello", "--circle-id", "other"]),
        ["hello from the other circle"]
    );
    assert_eq!(
        found(&d, &["hello", "--circle-id", &main]),
        ["deploy hello service", "hello world"]
    );
    assert_eq!(
        found(&d, &["hello", "--circle-id", "main", "--channel", "ops"]),
        ["deploy hello service"]
    );
    // Channel names are normalised as everywhere ('#', case).
    assert_eq!(
        found(&d, &["hello", "--channel", "#OPS"]),
        ["deploy hello service"]
    );
    // A channel filter without a circle applies across circles.
    assert_eq!(
        found(&d, &["hello", "--channel", "general"]),
        ["hello from the other circle", "hello world"]
    );
    // An unknown circle is an error, not an empty result.
    let out = d.ctl(&["search", "hello", "--circle-id", "nosuchcircle"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn search_never_returns_control_events() {
    let (d, main) = corpus();
    // Each of these writes a control event whose JSON text names the channel or
    // circle and the event kind.
    d.ctl_one(&["channel", "create", "zebra", "--circle-id", &main]);
    d.ctl_one(&["rename", "--circle-id", &main, "quokka"]);
    d.ctl_one(&["channel", "leave", "zebra", "--circle-id", &main]);
    for q in [
        "zebra",
        "quokka",
        "evt",
        "channel_evt",
        "circle_name_evt",
        "t",
        "op",
        "create",
    ] {
        let hits = search(&d, &[q]);
        assert!(hits.is_empty(), "search {q:?} returned {hits:?}");
    }
    assert!(search(&d, &["__control"]).is_empty());
    // The control channel is not searchable even when named explicitly.
    let out = d.ctl(&["--json", "search", "zebra", "--channel", "__control"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn search_results_have_exactly_the_eight_message_keys_newest_first() {
    let (d, main) = corpus();
    let results = search(&d, &["hello"]);
    assert_eq!(results.len(), 2);
    for m in &results {
        assert_eq!(keys(m), MESSAGE_KEYS);
        assert_eq!(m["circle_id"], main.as_str());
        assert_eq!(m["display_name"], "searcher");
        assert_eq!(m["own"], true);
        assert_eq!(m["msg_id"].as_str().map(str::len), Some(32));
    }
    let ts: Vec<i64> = results
        .iter()
        .map(|m| m["created_ts"].as_i64().unwrap_or(0))
        .collect();
    assert!(ts[0] >= ts[1], "newest first: {ts:?}");
}

#[test]
fn search_limit_caps_the_number_of_results() {
    let (d, main) = corpus();
    for i in 0..5 {
        send(&d, &main, "general", &format!("repeat number {i}"));
    }
    assert_eq!(search(&d, &["repeat"]).len(), 5);
    assert_eq!(search(&d, &["repeat", "--limit", "2"]).len(), 2);
    assert_eq!(search(&d, &["repeat", "-n", "1"]).len(), 1);
    // Out of range is a usage error.
    assert_eq!(
        d.ctl(&["search", "repeat", "--limit", "0"]).status.code(),
        Some(2)
    );
}

#[test]
fn search_with_nothing_to_look_for_exits_1_with_a_clear_error() {
    let (d, _) = corpus();
    for empty in ["", "   ", "*", " * "] {
        let out = d.ctl(&["--json", "search", "--", empty]);
        assert_eq!(out.status.code(), Some(1), "search {empty:?}");
        assert!(out.stdout.is_empty(), "search {empty:?} printed results");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: nothing to search for\n",
            "search {empty:?}"
        );
    }
    // No words at all is a usage error.
    let out = d.ctl(&["search"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn search_finds_nothing_with_exit_0_and_says_so_in_text_mode() {
    let (d, _) = corpus();
    assert!(search(&d, &["xylophone"]).is_empty());
    let out = d.ctl(&["search", "xylophone"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "No messages match.\n");
}

#[test]
fn search_index_survives_a_daemon_restart() {
    let (mut d, main) = corpus();
    let before = found(&d, &["hel*"]);
    d.restart();
    assert_eq!(found(&d, &["hel*"]), before);
    // Messages written after the restart are indexed too.
    send(&d, &main, "general", "helicopter landing");
    assert!(found(&d, &["heli*"]).contains(&"helicopter landing".to_string()));
}

#[test]
fn search_forgets_the_messages_of_a_circle_that_was_left() {
    let (d, main) = corpus();
    let other = create_circle(&d, "other").id;
    send(&d, &other, "general", "hello from the other circle");
    d.ctl_one(&["leave", "--circle-id", &other]);
    let texts = found(&d, &["hello"]);
    assert_eq!(texts, ["deploy hello service", "hello world"]);
    assert!(search(&d, &["hello", "--circle-id", &main]).len() == 2);
}

#[test]
fn search_finds_messages_received_from_another_node() {
    let a = Daemon::start_with(&["--sync-interval", "1", "--name", "alice"]);
    let b = Daemon::start_with(&["--sync-interval", "1", "--name", "bob"]);
    let circle = create_circle(&a, "shared");
    assert!(b.ctl(&["join", &circle.code]).status.success());
    send(&a, &circle.id, "general", "synchronised pelican sighting");
    let mut hits = Vec::new();
    wait_until("bob's index to have alice's message", || {
        hits = try_json(&b, &["search", "pelican"]).unwrap_or_default();
        !hits.is_empty()
    });
    assert_eq!(hits[0]["display_name"], "alice");
    assert_eq!(hits[0]["own"], false);
    assert_eq!(hits[0]["text"], "synchronised pelican sighting");
}
