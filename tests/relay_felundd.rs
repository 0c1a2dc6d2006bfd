//! felundd as a relay client: two daemons with no direct path between them (each
//! advertises an address nobody listens on) chat through a real relay — our
//! felund-relay (lossless cursor, WebSocket push), the reference PHP relay (signed
//! API, polling) and the reference aiohttp relay (WebSocket push) — including relay
//! restarts, a relay that is down at first, and a daemon restart, with no loss and
//! no duplicates.

use felund_tests::reference::Reference;
use felund_tests::relays::{daemon_behind_relay, RelayKind, RelayProcess};
use felund_tests::{wait_until, Daemon};
use serde_json::Value;

fn texts(d: &Daemon, circle: &str) -> Vec<String> {
    d.ctl_json(&["inbox", "--circle-id", circle, "--limit", "1000"])
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

fn wait_for_text(d: &Daemon, circle: &str, text: &str) {
    wait_until(&format!("'{text}' to arrive"), || {
        texts(d, circle).iter().any(|t| t == text)
    });
}

/// A circle on `a` that `b` joined through a code whose peer is unreachable.
fn shared_circle(a: &Daemon, b: &Daemon) -> String {
    let v = a.ctl_one(&["invite", "--name", "relayed"]);
    let circle = v["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let code = v["invite_code"].as_str().expect("code").to_string();
    b.ctl_one(&["join", &code]);
    circle
}

fn chat_both_ways_through(kind: RelayKind, r: Option<&Reference>) {
    let relay = RelayProcess::start(kind, r);
    let a = daemon_behind_relay(&relay.url(), "alice");
    let b = daemon_behind_relay(&relay.url(), "bob");
    let circle = shared_circle(&a, &b);
    a.ctl_one(&["send", "--circle-id", &circle, "from alice"]);
    wait_for_text(&b, &circle, "from alice");
    b.ctl_one(&["send", "--circle-id", &circle, "from bob"]);
    wait_for_text(&a, &circle, "from bob");
    // Control events travel too: bob learns the circle's name and alice's name.
    wait_until("the circle name to reach bob", || {
        b.ctl_json(&["circles"])
            .first()
            .is_some_and(|c| c["name"] == "relayed")
    });
    let msgs = b.ctl_json(&["inbox", "--circle-id", &circle]);
    let from_alice = msgs
        .iter()
        .find(|m| m["text"] == "from alice")
        .expect("alice's message");
    assert_eq!(from_alice["display_name"], "alice");
    // Neither learned a direct path: all of this went through the relay.
    assert_eq!(
        a.ctl_one(&["status"])["gossip_sessions_ok"],
        0,
        "{}",
        a.log()
    );
    assert!(!relay.log().contains("Traceback"), "{}", relay.log());
}

#[test]
fn daemons_without_a_direct_path_chat_through_felund_relay() {
    chat_both_ways_through(RelayKind::Felund, None);
}

#[test]
fn restarts_of_felund_relay_and_of_a_daemon_lose_and_duplicate_nothing() {
    outage_and_restart(RelayKind::Felund, None);
}

#[test]
fn a_backlog_larger_than_one_pull_page_arrives_whole_through_felund_relay() {
    let relay = RelayProcess::start(RelayKind::Felund, None);
    let a = daemon_behind_relay(&relay.url(), "alice");
    let circle = {
        let v = a.ctl_one(&["invite", "--name", "backlog"]);
        v["circle"]["circle_id"]
            .as_str()
            .expect("circle_id")
            .to_string()
    };
    let code = a.ctl_one(&["code", "--circle-id", &circle])["code"]
        .as_str()
        .expect("code")
        .to_string();
    // 1,200 messages: more than two pages of the relay's largest pull (500).
    let lines: String = (0..1200).map(|i| format!("backlog {i}\n")).collect();
    let mut send = a
        .ctl_cmd(&["send", "--circle-id", &circle, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn send");
    {
        use std::io::Write;
        let mut stdin = send.stdin.take().expect("stdin");
        stdin.write_all(lines.as_bytes()).expect("write lines");
    }
    assert!(send.wait().expect("send").success());
    wait_until("alice to push everything", || {
        a.ctl_one(&["status"])["relay_ok"] == true
    });
    let b = daemon_behind_relay(&relay.url(), "bob");
    b.ctl_one(&["join", &code]);
    wait_until("bob to get all 1,200", || {
        b.ctl_json(&["circles"])
            .first()
            .and_then(|c| c["message_count"].as_u64())
            == Some(1200)
    });
}

#[test]
fn daemons_without_a_direct_path_chat_through_the_reference_php_relay() {
    let Some(r) =
        Reference::from_env("daemons_without_a_direct_path_chat_through_the_reference_php_relay")
    else {
        return;
    };
    chat_both_ways_through(RelayKind::Php, Some(&r));
}

#[test]
fn daemons_without_a_direct_path_chat_through_the_reference_websocket_relay() {
    let Some(r) = Reference::from_env(
        "daemons_without_a_direct_path_chat_through_the_reference_websocket_relay",
    ) else {
        return;
    };
    chat_both_ways_through(RelayKind::AioHttp, Some(&r));
}

#[test]
fn messages_sent_while_the_php_relay_is_down_arrive_once_it_returns_without_duplicates() {
    let Some(r) = Reference::from_env(
        "messages_sent_while_the_php_relay_is_down_arrive_once_it_returns_without_duplicates",
    ) else {
        return;
    };
    outage_and_restart(RelayKind::Php, Some(&r));
}

/// Relay killed and restarted (same database) while a daemon sends, then a daemon
/// restart: everything arrives once.
fn outage_and_restart(kind: RelayKind, r: Option<&Reference>) {
    let mut relay = RelayProcess::start(kind, r);
    let a = daemon_behind_relay(&relay.url(), "alice");
    let mut b = daemon_behind_relay(&relay.url(), "bob");
    let circle = shared_circle(&a, &b);
    a.ctl_one(&["send", "--circle-id", &circle, "before the outage"]);
    wait_for_text(&b, &circle, "before the outage");

    relay.stop();
    for i in 0..5 {
        a.ctl_one(&[
            "send",
            "--circle-id",
            &circle,
            &format!("during the outage {i}"),
        ]);
    }
    // Local chat keeps working while the relay is down, and the failure shows.
    assert_eq!(texts(&a, &circle).len(), 6);
    wait_until("alice to notice the relay is down", || {
        a.ctl_one(&["status"])["relay_ok"] == false
    });

    relay.start_again();
    for i in 0..5 {
        wait_for_text(&b, &circle, &format!("during the outage {i}"));
    }
    wait_until("alice to see the relay healthy again", || {
        a.ctl_one(&["status"])["relay_ok"] == true
    });

    // A restarted daemon keeps its cursor: nothing is fetched twice or lost.
    b.restart();
    a.ctl_one(&["send", "--circle-id", &circle, "after bob's restart"]);
    wait_for_text(&b, &circle, "after bob's restart");
    let got = texts(&b, &circle);
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(got.len(), unique.len(), "duplicates: {got:?}");
    assert_eq!(got.len(), 7, "{got:?}");
}

#[test]
fn a_relay_that_is_down_at_start_does_not_block_local_chat_and_is_used_once_up() {
    let Some(r) = Reference::from_env(
        "a_relay_that_is_down_at_start_does_not_block_local_chat_and_is_used_once_up",
    ) else {
        return;
    };
    let mut relay = RelayProcess::start(RelayKind::AioHttp, Some(&r));
    relay.stop();
    let a = daemon_behind_relay(&relay.url(), "alice");
    let b = daemon_behind_relay(&relay.url(), "bob");
    let circle = shared_circle(&a, &b);
    a.ctl_one(&["send", "--circle-id", &circle, "queued while down"]);
    assert_eq!(texts(&a, &circle), ["queued while down"]);
    relay.start_again();
    wait_for_text(&b, &circle, "queued while down");
}

#[test]
fn relay_set_at_runtime_is_used_and_remembered_across_restarts() {
    let Some(r) =
        Reference::from_env("relay_set_at_runtime_is_used_and_remembered_across_restarts")
    else {
        return;
    };
    let relay = RelayProcess::start(RelayKind::AioHttp, Some(&r));
    let mut a = Daemon::start_with(&["--advertise", "127.0.0.1:1", "--sync-interval", "1"]);
    let b = daemon_behind_relay(&relay.url(), "bob");
    let circle = shared_circle(&a, &b);
    let v: Value = a.ctl_one(&["relay", &relay.url()]);
    assert_eq!(v["relay_url"], relay.url());
    a.restart();
    assert_eq!(a.ctl_one(&["status"])["relay_url"], relay.url());
    a.ctl_one(&["send", "--circle-id", &circle, "after setting the relay"]);
    wait_for_text(&b, &circle, "after setting the relay");
}

/// Relay health is about the relay in force and its latest attempt: a new URL starts
/// afresh (no stale verdict carried over), and a relay that dies is reported failing,
/// with when it was last tried and last reached.
#[test]
fn relay_health_describes_the_current_relay_and_its_latest_attempt() {
    let mut relay = RelayProcess::start(RelayKind::Felund, None);
    let a = daemon_behind_relay(&relay.url(), "alice");
    a.ctl_one(&["invite", "--name", "health"]);
    wait_until("the relay to be reached", || {
        let s = a.ctl_one(&["status"]);
        s["relay_ok"] == true && s["relay_last_attempt"].as_i64() > Some(0)
    });
    assert!(a.ctl(&["relay"]).status.success());
    let shown = String::from_utf8_lossy(&a.ctl(&["relay"]).stdout).into_owned();
    assert!(shown.contains("(ok, last contact "), "{shown}");

    // A new URL: nothing is known about it yet, and nothing from the old one shows.
    let dead = format!("http://127.0.0.1:{}", felund_tests::free_port());
    let s = a.ctl_one(&["relay", &dead]);
    assert_eq!(s["relay_url"], dead.as_str());
    assert_eq!(s["relay_ok"], false);
    assert_eq!(s["relay_last_success"], 0, "{s}");
    wait_until("the dead relay to be reported failing", || {
        let s = a.ctl_one(&["status"]);
        s["relay_ok"] == false && s["relay_last_attempt"].as_i64() > Some(0)
    });
    let shown = String::from_utf8_lossy(&a.ctl(&["relay"]).stdout).into_owned();
    assert!(
        shown.contains("(failing, last try ") && shown.contains("never reached"),
        "{shown}"
    );

    // Back to the live relay, then it dies.
    a.ctl_one(&["relay", &relay.url()]);
    wait_until("the relay to be reached again", || {
        a.ctl_one(&["status"])["relay_ok"] == true
    });
    relay.stop();
    wait_until("the stopped relay to be reported failing", || {
        a.ctl_one(&["status"])["relay_ok"] == false
    });
    let shown = String::from_utf8_lossy(&a.ctl(&["relay"]).stdout).into_owned();
    assert!(shown.contains("last reached "), "{shown}");
}

/// A relay that requires signatures serves felundd in full, push included: felundd signs
/// its WebSocket subscription like every other request.
#[test]
fn felundd_chats_and_gets_push_through_a_relay_that_requires_signatures() {
    let relay = RelayProcess::start_felund(&["--require-signatures"]);
    let a = daemon_behind_relay(&relay.url(), "alice");
    let b = daemon_behind_relay(&relay.url(), "bob");
    let circle = shared_circle(&a, &b);
    wait_until("bob's push connection", || {
        b.ctl_one(&["status"])["relay_push_connected"] == true
    });
    a.ctl_one(&["send", "--circle-id", &circle, "signed all the way"]);
    wait_for_text(&b, &circle, "signed all the way");
}

#[test]
fn felund_relay_writes_no_colour_codes_into_a_log_file() {
    let relay = RelayProcess::start(RelayKind::Felund, None);
    let _a = daemon_behind_relay(&relay.url(), "alice");
    wait_until("the relay to log a request", || {
        relay.log().contains("INFO")
    });
    assert!(!relay.log().contains('\u{1b}'), "{:?}", relay.log());
}

/// Through a relay only, a backlog written within one second arrives in the order it
/// was written (the relay returns storage order; the channel is shown by send order).
#[test]
fn a_backlog_through_the_relay_keeps_the_order_it_was_written_in() {
    let relay = RelayProcess::start(RelayKind::Felund, None);
    let a = daemon_behind_relay(&relay.url(), "alice");
    let mut b = daemon_behind_relay(&relay.url(), "bob");
    let circle = shared_circle(&a, &b);
    b.stop();
    let lines: Vec<String> = (1..=8).map(|i| i.to_string()).collect();
    felund_tests::chat::send_many(&a, &circle, &lines);
    b.start_again();
    wait_until("the backlog to arrive", || texts(&b, &circle).len() == 8);
    assert_eq!(texts(&b, &circle), lines);
}
