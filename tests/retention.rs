//! Retention across gossip: chat older than a node's `--retention-days`, or older than all
//! it keeps under `--max-messages-per-circle`, is never stored when a peer that keeps more
//! hands it over, in the first sync or any later one, while newer chat still flows both ways.
//!
//! One command: `cargo test -p felund-tests --test retention`.

use felund_tests::chat::{create_circle, log_tail, send, texts};
use felund_tests::fake_peer::now_ts;
use felund_tests::refstate::{new_node_id, new_secret, ts, v1_message, RefState};
use felund_tests::{wait_for, wait_until, Daemon};

const DAY: i64 = 86_400;

#[test]
fn a_peer_keeping_chat_longer_never_hands_expired_chat_to_a_node_that_drops_it() {
    // A keeps everything, and holds (imported) chat from 400 days ago and from the last hour.
    let a = Daemon::start_with(&["--sync-interval", "1", "--retention-days", "0"]);
    let secret = new_secret();
    let circle = secret.circle_id();
    let mut state = RefState::new("old-timer");
    state.circle(&secret, "long memory");
    let author = new_node_id();
    for i in 0..3 {
        let old = ts(0) - 400 * DAY + i;
        state.message(&v1_message(
            &secret,
            &author,
            "old",
            "general",
            old,
            &format!("ancient {i}"),
        ));
    }
    state.message(&v1_message(
        &secret,
        &author,
        "old",
        "general",
        ts(1),
        "recent",
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = state.write(dir.path());
    a.ctl_one(&["import-state", path.to_str().expect("utf-8 path")]);
    assert_eq!(texts(&a, &circle, "general").len(), 4, "A keeps all four");

    // B keeps a year (the default) and joins through A.
    let mut b = Daemon::start_with(&["--sync-interval", "1"]);
    let code = a.ctl_one(&["code", "--circle-id", &circle])["code"]
        .as_str()
        .expect("code")
        .to_string();
    b.ctl_one(&["join", &code]);
    wait_until("B to get the recent message", || {
        texts(&b, &circle, "general").contains(&"recent".to_string())
    });
    send(&a, &circle, "general", "from A");
    send(&b, &circle, "general", "from B");
    wait_until("chat inside the window to flow both ways", || {
        texts(&b, &circle, "general").contains(&"from A".to_string())
            && texts(&a, &circle, "general").contains(&"from B".to_string())
    });

    // A fresh session (B restarted) offers the expired chat again; B still takes none.
    b.restart();
    send(&a, &circle, "general", "after the restart");
    wait_until("B to get the message sent after its restart", || {
        texts(&b, &circle, "general").contains(&"after the restart".to_string())
    });
    let kept = texts(&b, &circle, "general");
    assert!(
        kept.iter().all(|t| !t.starts_with("ancient")),
        "B stored chat older than its retention: {kept:?}"
    );
    assert_eq!(
        texts(&a, &circle, "general").len(),
        7,
        "A still keeps everything"
    );
}

#[test]
fn a_node_with_a_count_cap_keeps_its_newest_chat_and_takes_no_older_chat_back() {
    let a = Daemon::start_with(&["--sync-interval", "1"]);
    let circle = create_circle(&a, "busy");
    let mut last_ts = 0;
    for i in 1..=5 {
        let sent = send(&a, &circle.id, "general", &format!("m{i}"));
        last_ts = sent["created_ts"].as_i64().expect("created_ts");
    }
    let mut b = Daemon::start_with(&["--sync-interval", "1", "--max-messages-per-circle", "2"]);
    b.ctl_one(&["join", &circle.code]);
    wait_until("B to catch up", || {
        texts(&b, &circle.id, "general").contains(&"m5".to_string())
    });
    // Pruning runs at start: B keeps its newest two (by creation second, ties by id). A new
    // session offers the other three again; B takes only what is newer than what it keeps.
    b.restart();
    // Creation times are whole seconds and ties go by id: m6 must be of a later second to be
    // newer than what B keeps.
    wait_until("the clock to pass m5's second", || now_ts() > last_ts);
    send(&a, &circle.id, "general", "m6");
    let kept = wait_for("B to hold its newest two and the new message", || {
        let held = texts(&b, &circle.id, "general");
        if held.len() == 3 && held.contains(&"m6".to_string()) {
            Ok(held)
        } else {
            Err(format!("B holds {held:?}; its log:\n{}", log_tail(&b, 30)))
        }
    });
    send(&b, &circle.id, "general", "from B");
    wait_until("A to get B's message", || {
        texts(&a, &circle.id, "general").contains(&"from B".to_string())
    });
    let mut now: Vec<String> = texts(&b, &circle.id, "general");
    now.retain(|t| t != "from B");
    assert_eq!(now, kept, "B took back chat beyond its cap");
}
