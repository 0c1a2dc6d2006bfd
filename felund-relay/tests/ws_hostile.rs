//! Hostile WebSocket subscribers cost a bounded amount and never hold the others back: a socket
//! whose reader stalls is closed as lagged once its queue of pushes passes the byte bound
//! (while every other subscriber of the circle gets every push), and a client frame announced
//! larger than the limit closes its socket at the header, before the relay buffers any of it.

#[macro_use]
mod common;

use std::time::Duration;

use common::{next_event, start_with, Backend, Member, Relay, WsEvent};
use felund_relay::limits::{WS_MAX_CLIENT_FRAME, WS_QUEUE_MAX_BYTES};
use felund_relay::RelayConfig;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous: these wait for the relay to act, never assert how fast.
const DEADLINE: Duration = Duration::from_secs(60);
/// Messages per post, each about [`PAD`] bytes: a post just under the 1 MiB body limit.
const PER_POST: usize = 20;
const PAD: usize = 40_000;

/// Only the behaviour under test may close a socket: no pings, idle or send timeouts.
fn patient(config: &mut RelayConfig) {
    config.ws_ping_interval = Duration::from_secs(600);
    config.ws_send_timeout = Duration::from_secs(600);
    config.timeouts.idle = Duration::from_secs(600);
    config.write_requests_per_minute = 0;
    config.write_bytes_per_minute = 0;
}

/// How many bytes the kernel may buffer on the relay's side of a socket.
fn kernel_send_buffer_max() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

/// A subscriber that reads nothing: its receive buffer is as small as the kernel allows, so
/// what the relay sends piles up on the relay's side.
async fn stalled_subscriber(relay: &Relay, hint: &str) -> WebSocketStream<TcpStream> {
    let addr = relay.handle.as_ref().expect("handle").local_addr();
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let stream = socket.connect(addr).await.expect("connect");
    let url = format!("ws://{addr}/v1/relay/ws?circle_hint={hint}&node_id=stalled-node-1");
    tokio_tungstenite::client_async(url, stream)
        .await
        .expect("upgrade")
        .0
}

fn big_message(id: &str) -> Value {
    let mut m = common::message(id, 1);
    m["pad"] = json!("p".repeat(PAD));
    m
}

/// Collects the msg_ids pushed to `socket` until it has `expected` of them.
async fn collect(mut socket: common::Socket, expected: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(expected);
    while ids.len() < expected {
        match next_event(&mut socket, DEADLINE).await {
            WsEvent::Json(frame) => ids.extend(common::msg_ids(&frame)),
            other => panic!("honest subscriber after {} ids: {other:?}", ids.len()),
        }
    }
    ids
}

async fn a_stalled_subscriber_is_closed_as_lagged_while_the_others_get_every_push(
    backend: Backend,
) {
    let relay = start_with(&backend, patient).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let mut stalled = stalled_subscriber(&relay, &hint).await;
    let honest = relay.ws(&hint, "honest-node-1").await;

    // Enough to fill the kernel's buffer on the relay's side, the frame being written, and the
    // stalled socket's queue bound, with room to spare.
    let flood = WS_QUEUE_MAX_BYTES + kernel_send_buffer_max() + (4 << 20);
    let posts = flood / (PER_POST * PAD) + 1;
    let reader = tokio::spawn(collect(honest, posts * PER_POST));
    let mut sent = Vec::new();
    for p in 0..posts {
        let batch: Vec<Value> = (0..PER_POST)
            .map(|i| big_message(&format!("flood-{p:04}-{i:04}")))
            .collect();
        let reply = relay.push_unsigned(&hint, &batch, None).await;
        assert_eq!(reply.json["stored"], json!(PER_POST), "{:?}", reply.json);
        sent.extend(
            batch
                .iter()
                .map(|m| m["msg_id"].as_str().expect("id").to_owned()),
        );
    }
    // Positive control: the subscriber that reads got every push, in order.
    let got = tokio::time::timeout(DEADLINE, reader)
        .await
        .expect("honest subscriber in time")
        .expect("join");
    assert_eq!(got, sent);

    // The stalled one, reading at last: what the kernel held, then a close telling it to
    // reconnect (it catches up through the replay or its cursor).
    let mut received = 0;
    let close = loop {
        let frame = tokio::time::timeout(DEADLINE, stalled.next())
            .await
            .expect("a frame in time")
            .expect("no close before the end of the stream")
            .expect("frame");
        match frame {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).expect("json");
                received += common::msg_ids(&frame).len();
            }
            Message::Close(close) => break close.expect("close frame"),
            _ => {}
        }
    };
    assert_eq!(u16::from(close.code), 1013);
    assert_eq!(close.reason.as_str(), "push lagged");
    assert!(received < sent.len(), "it cannot have had everything");
    relay.stop().await;
}

#[tokio::test]
async fn a_client_frame_announced_over_the_limit_closes_its_socket_at_the_header() {
    let relay = start_with(&Backend::Sqlite, patient).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let mut attacker = relay.ws(&hint, "attacker-node").await;
    let mut honest = relay.ws(&hint, "honest-node-1").await;

    // A masked text frame header announcing 8 MiB (under the WebSocket library's default frame
    // limit of 16 MiB), then only its first KiB.
    let mut raw = vec![0x81, 0x80 | 127];
    raw.extend_from_slice(&(8u64 << 20).to_be_bytes());
    raw.extend_from_slice(&[1, 2, 3, 4]);
    raw.extend_from_slice(&[b'x'; 1024]);
    let MaybeTlsStream::Plain(tcp) = attacker.get_mut() else {
        panic!("plain TCP expected");
    };
    tcp.write_all(&raw).await.expect("write");
    // The relay closes it without waiting for the rest (a close frame or the end of the stream).
    match tokio::time::timeout(DEADLINE, attacker.next()).await {
        Err(_) => panic!("the relay waited for the rest of the frame"),
        Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => {}
        Ok(Some(Ok(other))) => panic!("unexpected {other:?}"),
    }

    // Positive control: frames within the limit are accepted and the socket keeps its pushes.
    honest
        .send(Message::Text(r#"{"t":"PONG"}"#.into()))
        .await
        .expect("pong");
    let within = "y".repeat(WS_MAX_CLIENT_FRAME - 64);
    honest
        .send(Message::Text(within.into()))
        .await
        .expect("send");
    relay
        .push_unsigned(&hint, &[common::message("after-frames", 1)], None)
        .await;
    match next_event(&mut honest, DEADLINE).await {
        WsEvent::Json(frame) => assert_eq!(common::msg_ids(&frame), vec!["after-frames"]),
        other => panic!("honest socket: {other:?}"),
    }
    relay.stop().await;
}

on_both_backends!(a_stalled_subscriber_is_closed_as_lagged_while_the_others_get_every_push);
