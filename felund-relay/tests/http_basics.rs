//! Health, routing, CORS, 404, malformed JSON and body limits.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::{header_map, start, Backend};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn health_on_every_prefix(backend: Backend) {
    let relay = start(&backend).await;
    for path in [
        "/v1/health",
        "/api/v1/health",
        "/api/v1/health/",
        "/x/y/v1/health",
        "/health",
    ] {
        let reply = relay.get(path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.json,
            json!({"ok": true, "version": "0.1.0", "time": relay.now()})
        );
        reply.assert_cors();
        assert!(reply
            .header("content-type")
            .is_some_and(|v| v.starts_with("application/json")));
    }
    relay.stop().await;
}

async fn unknown_routes_are_404_with_cors(backend: Backend) {
    let relay = start(&backend).await;
    let reply = relay.get("/api/v1/nope").await;
    reply.assert_detail(404, "Not found: GET /nope");
    reply.assert_cors();
    // A known path with a method it does not serve is a 404 too, like the reference.
    let reply = relay
        .send(Method::PUT, "/v1/health", None, HeaderMap::new())
        .await;
    reply.assert_detail(404, "Not found: PUT /health");
    reply.assert_cors();
    let reply = relay.get("/").await;
    reply.assert_detail(404, "Not found: GET /");
    relay.stop().await;
}

async fn options_is_204_with_cors_anywhere(backend: Backend) {
    let relay = start(&backend).await;
    for path in ["/v1/messages", "/api/v1/register", "/whatever"] {
        let reply = relay
            .send(
                Method::OPTIONS,
                path,
                None,
                header_map(&[("Access-Control-Request-Method", "POST")]),
            )
            .await;
        assert_eq!(reply.status, 204, "{path}");
        reply.assert_cors();
    }
    relay.stop().await;
}

async fn malformed_json_is_400_with_detail_and_cors(backend: Backend) {
    let relay = start(&backend).await;
    for path in ["/v1/register", "/v1/messages"] {
        let reply = relay
            .send(
                Method::POST,
                path,
                Some(b"{not json".to_vec()),
                HeaderMap::new(),
            )
            .await;
        reply.assert_detail(400, "Request body must be a JSON object");
        reply.assert_cors();
    }
    let reply = relay
        .send(
            Method::POST,
            "/v1/signal",
            Some(b"[".to_vec()),
            HeaderMap::new(),
        )
        .await;
    reply.assert_detail(400, "Invalid JSON body");
    reply.assert_cors();
    // An empty body is an empty object to the reference: the first field is reported.
    let reply = relay
        .send(
            Method::POST,
            "/v1/register",
            Some(Vec::new()),
            HeaderMap::new(),
        )
        .await;
    reply.assert_detail(400, "Field 'node_id' must be a string (8–128 chars)");
    relay.stop().await;
}

async fn oversized_body_is_413_quickly(backend: Backend) {
    let relay = start(&backend).await;
    let body = vec![b'x'; 5 * 1024 * 1024];
    let started = Instant::now();
    let reply = relay
        .send(Method::POST, "/v1/messages", Some(body), HeaderMap::new())
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    reply.assert_detail(413, "Request body too large");
    reply.assert_cors();
    relay.stop().await;
}

async fn oversized_chunked_body_is_413_without_reading_it_all(backend: Backend) {
    let relay = start(&backend).await;
    let addr = relay.handle.as_ref().expect("handle").local_addr();
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    // Headers, then 2 MiB of chunks; the relay answers after 1 MiB.
    let writer_task = tokio::spawn(async move {
        let head = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                    Transfer-Encoding: chunked\r\n\r\n";
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..32 {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await
    });
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n")
                        && String::from_utf8_lossy(&response).contains("}")
                    {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer in time");
    let text = String::from_utf8_lossy(&response).to_lowercase();
    assert!(text.starts_with("http/1.1 413"), "{text}");
    assert!(text.contains("access-control-allow-origin: *"), "{text}");
    assert!(text.contains("request body too large"), "{text}");
    writer_task.abort();
    relay.stop().await;
}

on_both_backends!(
    health_on_every_prefix,
    unknown_routes_are_404_with_cors,
    options_is_204_with_cors_anywhere,
    malformed_json_is_400_with_detail_and_cors,
    oversized_body_is_413_quickly,
    oversized_chunked_body_is_413_without_reading_it_all,
);
