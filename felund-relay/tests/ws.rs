//! WebSocket push: replay on connect, live push, no echo to the poster, pings, errors.

#[macro_use]
mod common;

use std::time::Duration;

use common::{message, start, start_with, Backend, Member, Relay};
use felund_relay::limits::WS_FRAME_MAX_BYTES;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(relay: &Relay, hint: &str, node: &str) -> Socket {
    let url = format!(
        "ws://{}/api/v1/relay/ws?circle_hint={hint}&node_id={node}",
        relay.handle.as_ref().expect("handle").local_addr()
    );
    let (socket, response) = connect_async(url).await.expect("ws connect");
    assert_eq!(response.status().as_u16(), 101);
    socket
}

/// The next text frame as JSON, or `None` if none arrives within `wait`.
async fn next_json(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match frame.expect("ws frame") {
            Message::Text(text) => return Some(serde_json::from_str(&text).expect("json")),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

fn ids(frame: &Value) -> Vec<&str> {
    frame["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["msg_id"].as_str().expect("id"))
        .collect()
}

const QUIET: Duration = Duration::from_millis(300);
const WAIT: Duration = Duration::from_secs(5);

async fn replay_on_connect_covers_the_last_120_seconds(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    relay
        .push_unsigned(&hint, &[message("too-old-001", 1)], None)
        .await;
    relay.clock.advance(121);
    relay
        .push_unsigned(
            &hint,
            &[message("recent-0001", 1), message("recent-0002", 1)],
            None,
        )
        .await;
    relay.clock.advance(119);
    let mut socket = connect(&relay, &hint, "reader-node-01").await;
    let frame = next_json(&mut socket, WAIT).await.expect("replay");
    assert_eq!(frame["t"], json!("MESSAGES"));
    assert_eq!(ids(&frame), vec!["recent-0001", "recent-0002"]);
    assert_eq!(frame["server_time"], json!(relay.now()));
    assert_eq!(frame["messages"][0], message("recent-0001", 1));
    // cursor = seq of the last message: a pull after it finds nothing.
    let reply = relay
        .get(&format!(
            "/v1/messages?circle_hint={hint}&after_seq={}",
            frame["cursor"]
        ))
        .await;
    assert_eq!(reply.json["messages"], json!([]));
    // Nothing to replay → no frame.
    let other = Member::new(2, "x-node-00001").hint;
    let mut quiet = connect(&relay, &other, "reader-node-01").await;
    assert!(next_json(&mut quiet, QUIET).await.is_none());
    relay.stop().await;
}

/// A message of about 5 KB (an envelope with padding).
fn sized_message(id: &str) -> Value {
    let mut m = message(id, 1);
    m["pad"] = json!("p".repeat(5_000));
    m
}

/// Frames from `socket` until they carry `count` messages: (msg_ids, cursors, longest frame).
async fn frames_until(socket: &mut Socket, count: usize) -> (Vec<String>, Vec<i64>, usize) {
    let (mut got, mut cursors, mut longest) = (Vec::new(), Vec::new(), 0);
    while got.len() < count {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = frame {
            longest = longest.max(text.len());
            let frame: Value = serde_json::from_str(&text).expect("json");
            got.extend(ids(&frame).into_iter().map(str::to_owned));
            cursors.push(frame["cursor"].as_i64().expect("cursor"));
        }
    }
    (got, cursors, longest)
}

async fn large_replays_and_batches_arrive_in_bounded_frames_in_order(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let mut stored = Vec::new();
    for b in 0..4 {
        let batch: Vec<Value> = (0..25)
            .map(|i| sized_message(&format!("replayed-{b}-{i:03}")))
            .collect();
        relay.push_unsigned(&hint, &batch, None).await;
        stored.extend(
            batch
                .iter()
                .map(|m| m["msg_id"].as_str().expect("id").to_owned()),
        );
    }
    // About 500 KB of replay: several frames, every message once, in order.
    let mut socket = connect(&relay, &hint, "reader-node-01").await;
    let (got, cursors, longest) = frames_until(&mut socket, stored.len()).await;
    assert_eq!(got, stored);
    assert!(cursors.len() > 1, "one frame of {longest} bytes");
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));
    // A frame's keys add a few dozen bytes to its messages.
    assert!(longest <= WS_FRAME_MAX_BYTES + 100, "{longest}");
    let after = relay
        .get(&format!(
            "/v1/messages?circle_hint={hint}&after_seq={}",
            cursors.last().expect("cursor")
        ))
        .await;
    assert_eq!(after.json["messages"], json!([]));

    // A live batch of 50 such messages: the same.
    let batch: Vec<Value> = (0..50)
        .map(|i| sized_message(&format!("live-batch-{i:03}")))
        .collect();
    relay.push_unsigned(&hint, &batch, None).await;
    let (got, cursors, longest) = frames_until(&mut socket, batch.len()).await;
    let sent: Vec<&str> = batch
        .iter()
        .map(|m| m["msg_id"].as_str().expect("id"))
        .collect();
    assert_eq!(got, sent);
    assert!(cursors.len() > 1);
    assert!(longest <= WS_FRAME_MAX_BYTES + 100, "{longest}");
    relay.stop().await;
}

async fn live_push_skips_the_poster_and_other_circles(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let other_hint = Member::new(2, "x-node-00001").hint;
    let mut reader = connect(&relay, &hint, "reader-node-01").await;
    let mut poster = connect(&relay, &hint, "poster-node-01").await;
    let mut elsewhere = connect(&relay, &other_hint, "reader-node-01").await;
    // Warm-up: once each socket has seen one frame, its session is subscribed (anything a
    // socket could see by replay instead of live push is behind us).
    relay
        .push_unsigned(&hint, &[message("warm-up-0001", 1)], None)
        .await;
    relay
        .push_unsigned(&other_hint, &[message("warm-up-0002", 1)], None)
        .await;
    for socket in [&mut reader, &mut poster, &mut elsewhere] {
        next_json(socket, WAIT).await.expect("warm-up");
    }

    let reply = relay
        .push_unsigned(&hint, &[message("live-msg-001", 1)], Some("poster-node-01"))
        .await;
    assert_eq!(reply.json["stored"], json!(1));
    let frame = next_json(&mut reader, WAIT).await.expect("push");
    assert_eq!(ids(&frame), vec!["live-msg-001"]);
    assert_eq!(frame["server_time"], json!(relay.now()));
    assert!(frame["cursor"].as_i64().expect("cursor") > 0);

    // A duplicate stores nothing and pushes nothing.
    relay
        .push_unsigned(&hint, &[message("live-msg-001", 1)], Some("someone-else"))
        .await;
    // A signed post counts its X-Felund-Node too.
    let signer = Member::new(1, "poster-node-01");
    relay.register(&signer).await;
    relay.push(&signer, &[message("live-msg-002", 1)]).await;
    let frame = next_json(&mut reader, WAIT).await.expect("push");
    assert_eq!(ids(&frame), vec!["live-msg-002"]);

    // A post without X-Felund-Node reaches everyone in the circle, poster's socket included:
    // the first frame the poster's socket sees is this one, so nothing was echoed before.
    relay
        .push_unsigned(&hint, &[message("anon-msg-001", 1)], None)
        .await;
    let frame = next_json(&mut poster, WAIT).await.expect("push");
    assert_eq!(ids(&frame), vec!["anon-msg-001"]);
    let frame = next_json(&mut reader, WAIT).await.expect("push");
    assert_eq!(ids(&frame), vec!["anon-msg-001"]);
    assert!(next_json(&mut elsewhere, QUIET).await.is_none());
    relay.stop().await;
}

async fn client_frames_are_ignored_and_pings_flow(backend: Backend) {
    let relay = start_with(&backend, |c| {
        c.ws_ping_interval = Duration::from_millis(100)
    })
    .await;
    let hint = Member::new(1, "x-node-00001").hint;
    let mut socket = connect(&relay, &hint, "reader-node-01").await;
    socket
        .send(Message::Text(r#"{"t":"PONG"}"#.into()))
        .await
        .expect("send");
    socket
        .send(Message::Text("garbage".into()))
        .await
        .expect("send");
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    while pings < 2 {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("ping in time")
            .expect("open")
            .expect("frame");
        if let Message::Ping(_) = frame {
            pings += 1;
        }
    }
    // Still open and delivering.
    relay
        .push_unsigned(&hint, &[message("after-ping-1", 1)], None)
        .await;
    let frame = next_json(&mut socket, WAIT).await.expect("push");
    assert_eq!(ids(&frame), vec!["after-ping-1"]);
    relay.stop().await;
}

async fn shutdown_closes_sockets(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let mut socket = connect(&relay, &hint, "reader-node-01").await;
    relay.stop().await;
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok());
}

async fn missing_params_are_400(backend: Backend) {
    let relay = start(&backend).await;
    for query in [
        "",
        "?circle_hint=abcdefgh",
        "?node_id=reader-node-01",
        "?circle_hint=short&node_id=x",
    ] {
        let reply = relay.get(&format!("/v1/relay/ws{query}")).await;
        reply.assert_detail(400, "circle_hint and node_id required");
        reply.assert_cors();
    }
    let url = format!(
        "ws://{}/v1/relay/ws?circle_hint=abcdefgh",
        relay.handle.as_ref().expect("handle").local_addr()
    );
    assert!(connect_async(url).await.is_err());
    // With both params but no upgrade: still a 400.
    let reply = relay
        .get("/v1/relay/ws?circle_hint=abcdefgh&node_id=reader-node-01")
        .await;
    assert_eq!(reply.status, 400);
    relay.stop().await;
}

async fn require_signatures_applies_to_subscriptions(backend: Backend) {
    let relay = start_with(&backend, |c| c.require_signatures = true).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let url = format!(
        "ws://{}/v1/relay/ws?circle_hint={hint}&node_id=reader-node-01",
        relay.handle.as_ref().expect("handle").local_addr()
    );
    let err = connect_async(url).await.expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status().as_u16(), 401)
        }
        other => panic!("unexpected {other:?}"),
    }
    relay.stop().await;
}

on_both_backends!(
    replay_on_connect_covers_the_last_120_seconds,
    large_replays_and_batches_arrive_in_bounded_frames_in_order,
    live_push_skips_the_poster_and_other_circles,
    client_frames_are_ignored_and_pings_flow,
    shutdown_closes_sockets,
    missing_params_are_400,
    require_signatures_applies_to_subscriptions,
);
