//! Slow and numerous clients: half-sent headers, trickled bodies and idle keep-alives are
//! closed after their timeouts, and when the connection cap is reached the oldest idle
//! connection makes room, so a fresh client is still served. (The file-limit attack against
//! the real binary is in `slow_clients_binary.rs`.) Storage plays no part: SQLite only.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{start_with, Backend, Relay};
use felund_relay::RelayConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous: these wait for the relay to act, never assert how fast.
const DEADLINE: Duration = Duration::from_secs(30);

const HALF_HEADER: &[u8] = b"GET /v1/health HTTP/1.1\r\nHost: relay\r\n";

fn addr(relay: &Relay) -> SocketAddr {
    relay.handle.as_ref().expect("handle").local_addr()
}

async fn relay_with(configure: impl FnOnce(&mut RelayConfig)) -> Relay {
    start_with(&Backend::Sqlite, configure).await
}

/// Reads until the relay closes the connection (or the deadline passes: `None`); returns what
/// it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_half_sent_header_is_closed_after_the_header_timeout() {
    let relay = relay_with(|c| c.timeouts.header = Duration::from_secs(1)).await;
    let mut slow = TcpStream::connect(addr(&relay)).await.expect("connect");
    slow.write_all(HALF_HEADER).await.expect("write");
    let answer = read_until_closed(&mut slow)
        .await
        .expect("closed by the relay");
    assert!(!answer.contains("200 OK"), "{answer}");
    // Positive control: a whole request is served.
    assert_eq!(relay.get("/v1/health").await.status, 200);
    relay.stop().await;
}

#[tokio::test]
async fn a_trickled_body_is_answered_408() {
    let relay = relay_with(|c| c.timeouts.body = Duration::from_secs(1)).await;
    let mut slow = TcpStream::connect(addr(&relay)).await.expect("connect");
    slow.write_all(
        b"POST /v1/messages HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"circle_hint\"",
    )
    .await
    .expect("write");
    let answer = read_until_closed(&mut slow).await.expect("answered");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("Request body not received in time"),
        "{answer}"
    );
    // Positive control: a whole body is served.
    let hint = common::Member::new(1, "x-node-00001").hint;
    let reply = relay
        .push_unsigned(&hint, &[common::message("whole-body-01", 1)], None)
        .await;
    assert_eq!(reply.status, 200);
    relay.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let relay = relay_with(|c| c.timeouts.idle = Duration::from_secs(1)).await;
    let mut idle = TcpStream::connect(addr(&relay)).await.expect("connect");
    idle.write_all(b"GET /v1/health HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut idle)
        .await
        .expect("closed when idle");
    assert!(answer.starts_with("HTTP/1.1 200"), "served first: {answer}");
    relay.stop().await;
}

#[tokio::test]
async fn idle_connections_make_room_for_a_fresh_client_at_the_cap() {
    // 8 connections in all: 6 for HTTP, 2 for WebSockets. Timeouts far beyond the deadline,
    // so only eviction can close a connection here.
    let relay = relay_with(|c| {
        c.max_connections = Some(8);
        c.timeouts.header = Duration::from_secs(600);
        c.timeouts.idle = Duration::from_secs(600);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr(&relay)).await.expect("connect");
        stream.write_all(HALF_HEADER).await.expect("write");
        held.push(stream);
    }
    // The oldest idle connections were closed to make room for the newer ones...
    let first = read_until_closed(&mut held[0]).await;
    assert_eq!(first.as_deref(), Some(""), "the oldest was evicted");
    // ...and for a fresh client, which is served.
    let reply = relay.get("/v1/health").await;
    assert_eq!(reply.status, 200);
    relay.stop().await;
}
