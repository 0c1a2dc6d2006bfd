//! In-process tests of the node core on a real SQLite file in a temp dir.

use felund_wire::control::{circle_name_text, AccessMode, ChannelEvent};
use felund_wire::ids::CONTROL_CHANNEL;
use felund_wire::{CircleSecret, WireMessage};

use super::ingest::ingest;
use super::*;
use crate::events::ChannelChange;
use crate::store::messages as message_sql;

async fn node() -> (Node, tempfile::TempDir) {
    node_with(Retention::default()).await
}

async fn node_with(retention: Retention) -> (Node, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = StateStore::open(&dir.path().join("state")).expect("store");
    let settings = NodeSettings {
        state_dir: dir.path().join("state"),
        socket_path: dir.path().join("s.sock"),
        listen_addr: "127.0.0.1:1".into(),
        advertise_addr: "127.0.0.1:1".into(),
        relay_url: None,
        anchor: false,
        webrtc_ip: None,
        retention,
        config: Vec::new(),
    };
    let node = Node::start(store, settings, Some("tester".into()))
        .await
        .expect("node");
    (node, dir)
}

fn remote_message(
    secret: &CircleSecret,
    id: &str,
    channel: &str,
    author: &str,
    name: &str,
    ts: i64,
    text: &str,
) -> WireMessage {
    WireMessage::new_authored(
        secret,
        id.to_string(),
        secret.circle_id(),
        channel.to_string(),
        author.to_string(),
        name.to_string(),
        ts,
        text.to_string(),
        [7; 12],
    )
}

async fn circle_secret(node: &Node, id: &str) -> CircleSecret {
    node.resolve_circle(id).await.expect("circle").secret
}

#[tokio::test]
async fn authored_messages_carry_a_valid_mac_and_envelope() {
    let (node, _dir) = node().await;
    let (circle, _) = node.create_circle("c").await.expect("create");
    let sent = node
        .send_message(&circle.circle.circle_id, "", "hi")
        .await
        .expect("send");
    let secret = circle_secret(&node, &circle.circle.circle_id).await;
    assert!(sent.wire.verify_mac(&secret), "v1 MAC verifies");
    assert_eq!(sent.wire.schema_version, 2);
    let (name, text) = sent.wire.open_enc(&secret).expect("envelope opens");
    assert_eq!((name.as_str(), text.as_str()), ("tester", "hi"));
    assert_eq!(sent.wire.author_node_id, node.node_id());
}

#[tokio::test]
async fn a_msg_id_already_held_is_ignored_first_copy_wins() {
    let (node, _dir) = node().await;
    let (c, _) = node.create_circle("c").await.expect("create");
    let secret = circle_secret(&node, &c.circle.circle_id).await;
    let first = remote_message(&secret, "m1", "general", "peer1", "p", 100, "first");
    let second = remote_message(&secret, "m1", "general", "peer1", "p", 100, "second");
    let (a, b) = (first.clone(), second.clone());
    let events = node
        .store()
        .write(move |conn| ingest(conn, &a, 1))
        .await
        .expect("ingest");
    assert!(events
        .expect("new")
        .iter()
        .any(|e| matches!(e, NodeEvent::Message(_))));
    let events = node
        .store()
        .write(move |conn| ingest(conn, &b, 2))
        .await
        .expect("ingest");
    assert!(events.is_none(), "duplicate is reported as not new");
    let page = node
        .list_messages(&c.circle.circle_id, "", 10, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].wire.text, "first");
}

#[tokio::test]
async fn received_control_events_create_channels_and_rename_circles() {
    let (node, _dir) = node().await;
    let (c, _) = node.create_circle("").await.expect("create");
    let cid = c.circle.circle_id.clone();
    let secret = circle_secret(&node, &cid).await;
    let create = ChannelEvent::create(&cid, "Random", "peer1", 100, AccessMode::Invite, None);
    let m1 = remote_message(
        &secret,
        "e1",
        CONTROL_CHANNEL,
        "peer1",
        "p",
        100,
        &create.to_text(),
    );
    let m2 = remote_message(
        &secret,
        "e2",
        CONTROL_CHANNEL,
        "peer1",
        "p",
        101,
        &circle_name_text(&cid, "Friends"),
    );
    let events = node
        .store()
        .write(move |conn| {
            let mut e = ingest(conn, &m1, 1)?.unwrap_or_default();
            e.extend(ingest(conn, &m2, 1)?.unwrap_or_default());
            Ok(e)
        })
        .await
        .expect("ingest");
    assert!(events.iter().any(|e| matches!(e, NodeEvent::Channel { change: ChannelChange::Created, channel_id, .. } if channel_id == "random")));
    assert!(
        !events.iter().any(|e| matches!(e, NodeEvent::Message(_))),
        "control events are not chat messages"
    );
    let channels = node.list_channels(&cid).await.expect("channels");
    let random = channels
        .iter()
        .find(|c| c.channel_id == "random")
        .expect("random exists");
    assert_eq!(random.access_mode, AccessMode::Invite);
    assert_eq!(random.members, vec!["peer1".to_string()]);
    assert_eq!(
        node.resolve_circle("friends")
            .await
            .expect("by name")
            .circle_id,
        cid
    );
    // Invite-only: joining records a request instead.
    let (_, requested) = node.join_channel(&cid, "random", "").await.expect("join");
    assert!(requested);
    // Only the owner may approve.
    let err = node
        .approve_request(&cid, "random", node.node_id())
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::PermissionDenied(_)), "{err}");
}

#[tokio::test]
async fn display_name_newest_by_created_ts_wins() {
    let (node, _dir) = node().await;
    let (c, _) = node.create_circle("c").await.expect("create");
    let secret = circle_secret(&node, &c.circle.circle_id).await;
    let newer = remote_message(&secret, "n1", "general", "peer1", "new-name", 200, "a");
    let older = remote_message(&secret, "n2", "general", "peer1", "old-name", 100, "b");
    node.store()
        .write(move |conn| {
            ingest(conn, &newer, 1)?;
            ingest(conn, &older, 1)
        })
        .await
        .expect("ingest");
    let members = node
        .members(&c.circle.circle_id, "")
        .await
        .expect("members");
    let peer = members
        .iter()
        .find(|m| m.node_id == "peer1")
        .expect("peer1 is a member");
    assert_eq!(peer.display_name, "new-name");
}

/// A new circle whose #general holds `n` messages `m0`… in order; its id.
async fn circle_with_messages(node: &Node, n: usize) -> String {
    let (c, _) = node.create_circle("c").await.expect("create");
    let cid = c.circle.circle_id.clone();
    for i in 0..n {
        node.send_message(&cid, "", &format!("m{i}"))
            .await
            .expect("send");
    }
    cid
}

#[tokio::test]
async fn paging_walks_a_channel_backwards_without_gaps_or_repeats() {
    let (node, _dir) = node().await;
    let cid = circle_with_messages(&node, 25).await;
    let mut seen = Vec::new();
    let mut before = String::new();
    loop {
        let page = node
            .list_messages(
                &cid,
                "",
                10,
                PageRequest {
                    before: &before,
                    ..Default::default()
                },
            )
            .await
            .expect("page");
        let mut texts: Vec<String> = page.messages.iter().map(|m| m.wire.text.clone()).collect();
        texts.extend(seen);
        seen = texts;
        match page.next_before {
            Some(b) => before = b,
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);
    let err = node
        .list_messages(
            &cid,
            "",
            10,
            PageRequest {
                before: "garbage",
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::InvalidArgument(_)));
}

#[tokio::test]
async fn paging_walks_a_channel_forwards_from_the_start_without_gaps_or_repeats() {
    let (node, _dir) = node().await;
    let cid = circle_with_messages(&node, 25).await;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = node
            .list_messages(
                &cid,
                "",
                10,
                PageRequest {
                    after: &after,
                    from_start: true,
                    ..Default::default()
                },
            )
            .await
            .expect("page");
        seen.extend(page.messages.iter().map(|m| m.wire.text.clone()));
        match page.next_after {
            Some(a) => after = a,
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);
    // Both directions at once is a caller's mistake, not a silent choice.
    let err = node
        .list_messages(
            &cid,
            "",
            10,
            PageRequest {
                before: "1:x",
                from_start: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::InvalidArgument(_)));
}

#[tokio::test]
async fn retention_prunes_old_chat_but_keeps_control_events() {
    let (node, _dir) = node().await;
    let (c, _) = node.create_circle("named").await.expect("create");
    let secret = circle_secret(&node, &c.circle.circle_id).await;
    let old = remote_message(&secret, "old1", "general", "peer1", "p", 1_000, "ancient");
    node.store()
        .write(move |conn| ingest(conn, &old, 1))
        .await
        .expect("ingest");
    node.send_message(&c.circle.circle_id, "", "fresh")
        .await
        .expect("send");
    let removed = node
        .store()
        .write(|conn| message_sql::prune(conn, now_ts() - 86_400, 0))
        .await
        .expect("prune");
    assert_eq!(removed, 1);
    let page = node
        .list_messages(&c.circle.circle_id, "", 10, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].wire.text, "fresh");
    // The circle-name event (a control message) survives.
    assert_eq!(
        node.resolve_circle("named")
            .await
            .expect("name kept")
            .circle_id,
        c.circle.circle_id
    );
}

#[tokio::test]
async fn received_chat_older_than_the_retention_window_is_not_stored_or_announced() {
    let (node, _dir) = node().await;
    let (c, _) = node.create_circle("kept").await.expect("create");
    let circle = c.circle.circle_id.clone();
    let secret = circle_secret(&node, &circle).await;
    let mut events = node.events().subscribe();
    // A peer hands back chat from two years ago (the default keeps one year), a control
    // event as old, and one fresh message.
    let two_years_ago = now_ts() - 2 * 365 * 86_400;
    let ancient = remote_message(
        &secret,
        "ancient1",
        "general",
        "peer1",
        "p",
        two_years_ago,
        "ancient",
    );
    let rename = remote_message(
        &secret,
        "ctl1",
        CONTROL_CHANNEL,
        "peer1",
        "p",
        two_years_ago,
        &circle_name_text(&circle, "renamed long ago"),
    );
    let fresh = remote_message(
        &secret,
        "fresh1",
        "general",
        "peer1",
        "p",
        now_ts(),
        "fresh",
    );
    let stored = node
        .ingest_verified(vec![ancient, rename, fresh], Some("peer1".into()))
        .await
        .expect("ingest");
    assert_eq!(stored, 2, "the control event and the fresh message");
    let page = node
        .list_messages(&circle, "", 10, PageRequest::default())
        .await
        .expect("list");
    let texts: Vec<&str> = page.messages.iter().map(|m| m.wire.text.as_str()).collect();
    assert_eq!(texts, ["fresh"]);
    while let Ok(event) = events.try_recv() {
        if let NodeEvent::Message(m) = &*event {
            assert_ne!(
                m.wire.text, "ancient",
                "no subscriber is told of expired chat"
            );
        }
    }
}

#[tokio::test]
async fn received_chat_beyond_the_count_cap_is_not_stored_but_newer_chat_is() {
    let (node, _dir) = node_with(Retention {
        max_age_days: 0,
        max_per_circle: 3,
    })
    .await;
    let (c, _) = node.create_circle("capped").await.expect("create");
    let circle = c.circle.circle_id.clone();
    let secret = circle_secret(&node, &circle).await;
    let at = |id: &str, age: i64| {
        remote_message(&secret, id, "general", "peer1", "p", now_ts() - age, id)
    };
    let full = vec![at("kept1", 300), at("kept2", 200), at("kept3", 100)];
    let stored = node
        .ingest_verified(full, Some("peer1".into()))
        .await
        .expect("ingest");
    assert_eq!(stored, 3);
    // The circle is at its cap: older chat than all three is not stored, newer chat is.
    let stored = node
        .ingest_verified(
            vec![at("older", 400), at("newer", 10)],
            Some("peer1".into()),
        )
        .await
        .expect("ingest");
    assert_eq!(stored, 1);
    let page = node
        .list_messages(&circle, "", 10, PageRequest::default())
        .await
        .expect("list");
    let texts: Vec<&str> = page.messages.iter().map(|m| m.wire.text.as_str()).collect();
    assert_eq!(texts, ["kept1", "kept2", "kept3", "newer"]);
}

#[tokio::test]
async fn count_cap_keeps_the_newest_messages_per_circle() {
    let (node, _dir) = node().await;
    let (c, _) = node.create_circle("c").await.expect("create");
    let secret = circle_secret(&node, &c.circle.circle_id).await;
    let msgs: Vec<WireMessage> = (0..5)
        .map(|i| {
            remote_message(
                &secret,
                &format!("id{i}"),
                "general",
                "p1",
                "p",
                1_000_000 + i,
                &format!("t{i}"),
            )
        })
        .collect();
    node.store()
        .write(move |conn| {
            for m in &msgs {
                ingest(conn, m, 1)?;
            }
            message_sql::prune(conn, i64::MIN, 2)
        })
        .await
        .expect("prune");
    let page = node
        .list_messages(&c.circle.circle_id, "", 10, PageRequest::default())
        .await
        .expect("list");
    let texts: Vec<&str> = page.messages.iter().map(|m| m.wire.text.as_str()).collect();
    assert_eq!(texts, ["t3", "t4"]);
}

#[tokio::test]
async fn subscribers_get_committed_messages_and_circle_changes() {
    let (node, _dir) = node().await;
    let mut rx = node.events().subscribe();
    let (c, _) = node.create_circle("").await.expect("create");
    node.send_message(&c.circle.circle_id, "", "evt")
        .await
        .expect("send");
    let mut saw_join = false;
    loop {
        match &*rx.recv().await.expect("event") {
            NodeEvent::Circle {
                change: crate::events::CircleChange::Joined,
                ..
            } => saw_join = true,
            NodeEvent::Message(m) => {
                assert_eq!(m.wire.text, "evt");
                break;
            }
            _ => {}
        }
    }
    assert!(saw_join);
}
