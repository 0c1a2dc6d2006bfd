//! Direct TCP gossip between real felundd daemons (docs/protocol.md §6): join bootstraps,
//! messages flow both ways, control events propagate, stopped nodes catch up, chains of
//! daemons converge and a newcomer gets a large history.

use std::time::Duration;

use felund_tests::chat::{
    all_msg_ids, channel_ids, circle_info, create_circle, find_message, log_tail, message_count,
    node_id, send, send_many, texts, who,
};
use felund_tests::eventually;
use felund_tests::{Daemon, DEADLINE};

const FAST: &[&str] = &["--sync-interval", "1"];

fn daemon(name: &str) -> Daemon {
    Daemon::start_with(&["--sync-interval", "1", "--name", name])
}

/// Both logs, shortened, for failure messages.
fn logs(ds: &[&Daemon]) -> String {
    ds.iter()
        .enumerate()
        .map(|(i, d)| format!("--- daemon {i} (port {}) ---\n{}", d.port, log_tail(d, 60)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn has_text(d: &Daemon, circle: &str, channel: &str, text: &str) -> bool {
    texts(d, circle, channel).iter().any(|t| t == text)
}

fn join(d: &Daemon, code: &str) {
    let v = d.ctl_one(&["join", code]);
    assert!(v["circle"]["circle_id"].is_string(), "join output {v}");
}

#[test]
fn joined_daemons_exchange_messages_both_ways_with_authors_and_names() {
    let a = daemon("alice");
    let b = daemon("bob");
    let c = create_circle(&a, "pair");
    let first = send(&a, &c.id, "general", "hello from alice");
    join(&b, &c.code);
    assert!(
        eventually(DEADLINE, || has_text(
            &b,
            &c.id,
            "general",
            "hello from alice"
        )),
        "the joiner did not get the host's message\n{}",
        logs(&[&a, &b])
    );
    let got = find_message(&b, &c.id, "general", "hello from alice").expect("message");
    assert_eq!(got["msg_id"], first["msg_id"], "same msg_id on both sides");
    assert_eq!(got["author_node_id"], node_id(&a).as_str());
    assert_eq!(got["display_name"], "alice");
    assert_eq!(got["own"], false);

    send(&b, &c.id, "general", "hi from bob ✨ | with a pipe");
    assert!(
        eventually(DEADLINE, || has_text(
            &a,
            &c.id,
            "general",
            "hi from bob ✨ | with a pipe"
        )),
        "the host did not get the joiner's message\n{}",
        logs(&[&a, &b])
    );
    let got = find_message(&a, &c.id, "general", "hi from bob ✨ | with a pipe").expect("msg");
    assert_eq!(got["display_name"], "bob");
    assert_eq!(got["author_node_id"], node_id(&b).as_str());

    send(&a, &c.id, "general", "second from alice");
    assert!(
        eventually(DEADLINE, || has_text(
            &b,
            &c.id,
            "general",
            "second from alice"
        )),
        "a later message from the host did not reach the joiner\n{}",
        logs(&[&a, &b])
    );
    assert_eq!(
        texts(&a, &c.id, "general"),
        texts(&b, &c.id, "general"),
        "both inboxes hold the same messages in the same order"
    );
}

#[test]
fn join_brings_the_circle_name_and_channels_of_the_host_at_once() {
    let a = daemon("alice");
    let b = daemon("bob");
    let c = create_circle(&a, "book club");
    a.ctl_one(&["channel", "create", "novels", "--circle-id", &c.id]);
    send(&a, &c.id, "novels", "first chapter");
    join(&b, &c.code);
    assert!(
        eventually(DEADLINE, || {
            circle_info(&b, &c.id).is_some_and(|i| i["name"] == "book club")
                && channel_ids(&b, &c.id).contains(&"novels".to_string())
                && has_text(&b, &c.id, "novels", "first chapter")
        }),
        "joiner lacks name/channel/message: circles {:?} channels {:?}\n{}",
        circle_info(&b, &c.id),
        channel_ids(&b, &c.id),
        logs(&[&a, &b])
    );
}

#[test]
fn new_message_is_pushed_to_a_connected_daemon_without_waiting_for_a_round() {
    // Rounds every 120 s: within the 60 s deadline only a push can deliver.
    let a = Daemon::start_with(&["--sync-interval", "120", "--name", "alice"]);
    let b = Daemon::start_with(&["--sync-interval", "120", "--name", "bob"]);
    let c = create_circle(&a, "push");
    send(&a, &c.id, "general", "before join");
    join(&b, &c.code);
    assert!(
        eventually(DEADLINE, || has_text(&b, &c.id, "general", "before join")),
        "join did not bootstrap at once\n{}",
        logs(&[&a, &b])
    );
    send(&a, &c.id, "general", "pushed to bob");
    assert!(
        eventually(DEADLINE, || has_text(&b, &c.id, "general", "pushed to bob")),
        "host's new message was not pushed\n{}",
        logs(&[&a, &b])
    );
    send(&b, &c.id, "general", "pushed to alice");
    assert!(
        eventually(DEADLINE, || has_text(
            &a,
            &c.id,
            "general",
            "pushed to alice"
        )),
        "joiner's new message was not pushed\n{}",
        logs(&[&a, &b])
    );
}

#[test]
fn channel_create_join_leave_rename_and_display_names_propagate() {
    let a = daemon("alice");
    let b = daemon("bob");
    let c = create_circle(&a, "team");
    join(&b, &c.code);
    let (a_id, b_id) = (node_id(&a), node_id(&b));

    a.ctl_one(&["channel", "create", "dev", "--circle-id", &c.id]);
    assert!(
        eventually(DEADLINE, || channel_ids(&b, &c.id)
            .contains(&"dev".to_string())),
        "channel create did not reach the joiner: {:?}\n{}",
        channel_ids(&b, &c.id),
        logs(&[&a, &b])
    );

    b.ctl_json(&["channel", "join", "dev", "--circle-id", &c.id]);
    assert!(
        eventually(DEADLINE, || who(&a, &c.id, Some("dev"))
            .iter()
            .any(|(id, _)| *id == b_id)),
        "channel join did not reach the host: {:?}\n{}",
        who(&a, &c.id, Some("dev")),
        logs(&[&a, &b])
    );
    send(&b, &c.id, "dev", "in dev");
    assert!(
        eventually(DEADLINE, || has_text(&a, &c.id, "dev", "in dev")),
        "message in the new channel did not arrive\n{}",
        logs(&[&a, &b])
    );

    b.ctl_json(&["channel", "leave", "dev", "--circle-id", &c.id]);
    assert!(
        eventually(DEADLINE, || {
            let members = who(&a, &c.id, Some("dev"));
            members.iter().any(|(id, _)| *id == a_id) && !members.iter().any(|(id, _)| *id == b_id)
        }),
        "channel leave did not reach the host: {:?}\n{}",
        who(&a, &c.id, Some("dev")),
        logs(&[&a, &b])
    );

    a.ctl_json(&["rename", "--circle-id", &c.id, "renamed team"]);
    assert!(
        eventually(DEADLINE, || circle_info(&b, &c.id)
            .is_some_and(|i| i["name"] == "renamed team")),
        "circle rename did not reach the joiner: {:?}\n{}",
        circle_info(&b, &c.id),
        logs(&[&a, &b])
    );

    b.ctl_json(&["name", "carol"]);
    assert!(
        eventually(DEADLINE, || who(&a, &c.id, None)
            .iter()
            .any(|(id, name)| *id == b_id && name == "carol")),
        "display-name change did not reach the host: {:?}\n{}",
        who(&a, &c.id, None),
        logs(&[&a, &b])
    );
    send(&b, &c.id, "general", "now I am carol");
    assert!(
        eventually(DEADLINE, || find_message(
            &a,
            &c.id,
            "general",
            "now I am carol"
        )
        .is_some_and(|m| m["display_name"] == "carol")),
        "message after the rename does not carry the new name\n{}",
        logs(&[&a, &b])
    );
}

#[test]
fn restarted_daemon_catches_up_on_messages_sent_while_it_was_down() {
    let mut a = daemon("alice");
    let mut b = daemon("bob");
    let c = create_circle(&a, "restart");
    send(&a, &c.id, "general", "warm-up");
    join(&b, &c.code);
    assert!(
        eventually(DEADLINE, || has_text(&b, &c.id, "general", "warm-up")),
        "initial sync failed\n{}",
        logs(&[&a, &b])
    );

    b.stop();
    for i in 0..3 {
        send(&a, &c.id, "general", &format!("while bob was down {i}"));
    }
    b.start_again();
    assert!(
        eventually(DEADLINE, || (0..3).all(|i| has_text(
            &b,
            &c.id,
            "general",
            &format!("while bob was down {i}")
        ))),
        "restarted joiner did not catch up: {:?}\n{}",
        texts(&b, &c.id, "general"),
        logs(&[&a, &b])
    );

    // And the other way round: the host restarts and catches up from the joiner.
    a.stop();
    send(&b, &c.id, "general", "while alice was down");
    a.start_again();
    assert!(
        eventually(DEADLINE, || has_text(
            &a,
            &c.id,
            "general",
            "while alice was down"
        )),
        "restarted host did not catch up: {:?}\n{}",
        texts(&a, &c.id, "general"),
        logs(&[&a, &b])
    );
}

#[test]
fn node_that_joined_while_the_host_was_down_catches_up_when_the_host_returns() {
    let mut a = daemon("alice");
    let b = daemon("bob");
    let c = create_circle(&a, "offline host");
    send(&a, &c.id, "general", "said before bob came");
    a.stop();

    let v = b.ctl_one(&["join", &c.code]);
    assert_eq!(
        v["circle"]["circle_id"],
        c.id.as_str(),
        "join works with the host down"
    );
    send(&b, &c.id, "general", "bob waited");

    a.start_again();
    assert!(
        eventually(DEADLINE, || has_text(
            &b,
            &c.id,
            "general",
            "said before bob came"
        )),
        "joiner never retried the host's address: {:?}\n{}",
        texts(&b, &c.id, "general"),
        logs(&[&a, &b])
    );
    assert!(
        eventually(DEADLINE, || has_text(&a, &c.id, "general", "bob waited")),
        "host did not get the joiner's message: {:?}\n{}",
        texts(&a, &c.id, "general"),
        logs(&[&a, &b])
    );
}

#[test]
fn five_daemons_joined_in_a_chain_converge_to_every_message() {
    let nodes: Vec<Daemon> = (0..5).map(|i| daemon(&format!("node{i}"))).collect();
    let c = create_circle(&nodes[0], "chain");
    send(&nodes[0], &c.id, "general", "from node 0");
    for i in 1..nodes.len() {
        // Each joins the code of the previous node, which names that node's address.
        let code = nodes[i - 1].ctl_one(&["code", "--circle-id", &c.id]);
        let code = code["invite_code"]
            .as_str()
            .or_else(|| code["code"].as_str())
            .unwrap_or_else(|| panic!("no code in {code}"))
            .to_string();
        join(&nodes[i], &code);
        send(&nodes[i], &c.id, "general", &format!("from node {i}"));
    }
    let want: Vec<String> = (0..5).map(|i| format!("from node {i}")).collect();
    let refs: Vec<&Daemon> = nodes.iter().collect();
    for (i, d) in nodes.iter().enumerate() {
        assert!(
            eventually(DEADLINE, || {
                let have = texts(d, &c.id, "general");
                want.iter().all(|w| have.contains(w))
            }),
            "node {i} did not converge: has {:?}\n{}",
            texts(d, &c.id, "general"),
            logs(&refs)
        );
    }
}

#[test]
fn newcomer_joining_a_circle_of_2000_messages_gets_all_of_them() {
    let a = Daemon::start_with(FAST);
    let b = Daemon::start_with(FAST);
    let c = create_circle(&a, "big");
    let lines: Vec<String> = (0..2000)
        .map(|i| format!("history message {i:04}"))
        .collect();
    let sent = send_many(&a, &c.id, &lines);
    assert_eq!(message_count(&a, &c.id), 2000);
    join(&b, &c.code);
    let within = Duration::from_secs(120);
    assert!(
        eventually(within, || message_count(&b, &c.id) >= 2000),
        "newcomer has {} of 2000 messages after {within:?}\n{}",
        message_count(&b, &c.id),
        logs(&[&a, &b])
    );
    let got = all_msg_ids(&b, &c.id, "general");
    let want: std::collections::BTreeSet<String> = sent.into_iter().collect();
    assert_eq!(got.len(), 2000, "distinct messages on the newcomer");
    assert_eq!(got, want, "the newcomer holds exactly the host's messages");
}

/// Nobody announces joining #general, so every node used to count only itself there.
#[test]
fn general_counts_every_member_of_the_circle_on_every_node() {
    let a = daemon("alice");
    let b = daemon("bob");
    let c3 = daemon("carol");
    let c = create_circle(&a, "three");
    join(&b, &c.code);
    join(&c3, &c.code);
    for (d, text) in [(&a, "from alice"), (&b, "from bob"), (&c3, "from carol")] {
        send(d, &c.id, "general", text);
    }
    for d in [&a, &b, &c3] {
        let counted = || {
            let general = d
                .ctl_json(&["channels", "--circle-id", &c.id])
                .into_iter()
                .find(|ch| ch["channel_id"] == "general");
            let in_listing = general.is_some_and(|g| g["member_count"] == 3);
            in_listing && who(d, &c.id, Some("general")).len() == 3
        };
        assert!(
            eventually(DEADLINE, counted),
            "#general does not count 3 members: {:?} / {:?}\n{}",
            d.ctl_json(&["channels", "--circle-id", &c.id]),
            who(d, &c.id, Some("general")),
            logs(&[&a, &b, &c3])
        );
    }
}

/// One author's messages keep the order they were written in through a catch-up, even
/// twenty in one second (the catch-up sends newest first; arrival order used to break
/// ties), and two nodes show an interleaved channel in the same order.
#[test]
fn a_catch_up_keeps_the_written_order_and_every_node_shows_one_order() {
    let a = daemon("alice");
    let mut b = daemon("bob");
    let c = create_circle(&a, "order");
    join(&b, &c.code);
    send(&a, &c.id, "general", "warm-up");
    assert!(eventually(DEADLINE, || has_text(
        &b, &c.id, "general", "warm-up"
    )));
    b.stop();
    let lines: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    send_many(&a, &c.id, &lines);
    b.start_again();
    assert!(
        eventually(DEADLINE, || texts(&b, &c.id, "general").len() == 21),
        "bob has {:?}\n{}",
        texts(&b, &c.id, "general"),
        logs(&[&a, &b])
    );
    let mut want = vec!["warm-up".to_string()];
    want.extend(lines);
    assert_eq!(texts(&b, &c.id, "general"), want, "bob's order");
    assert_eq!(texts(&a, &c.id, "general"), want, "alice's order");

    // Both write at once: whatever the interleaving, both nodes agree on it.
    let (x, y): (Vec<String>, Vec<String>) =
        (0..10).map(|i| (format!("a{i}"), format!("b{i}"))).unzip();
    std::thread::scope(|s| {
        s.spawn(|| send_many(&a, &c.id, &x));
        s.spawn(|| send_many(&b, &c.id, &y));
    });
    assert!(
        eventually(DEADLINE, || texts(&a, &c.id, "general").len() == 41
            && texts(&b, &c.id, "general").len() == 41),
        "{:?} / {:?}",
        texts(&a, &c.id, "general"),
        texts(&b, &c.id, "general")
    );
    let (on_a, on_b) = (texts(&a, &c.id, "general"), texts(&b, &c.id, "general"));
    assert_eq!(on_a, on_b, "the two nodes disagree on the order");
    for author in ["a", "b"] {
        let mine: Vec<&String> = on_a
            .iter()
            .filter(|t| t.starts_with(author) && t.len() == 2)
            .collect();
        let written: Vec<String> = (0..10).map(|i| format!("{author}{i}")).collect();
        assert_eq!(
            mine,
            written.iter().collect::<Vec<_>>(),
            "{author}'s own order"
        );
    }
}
