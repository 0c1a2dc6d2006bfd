//! What operators run the relay with: the Prometheus metrics on their own listen address
//! (off by default, bounded whatever clients send) and the readiness check for load
//! balancers (503 while the database is away, while `/v1/health` stays up).

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::{message, metric, pg, start, start_with, Backend, Member};
use felund_relay::RelayConfig;
use reqwest::Method;
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(60);

fn with_metrics(config: &mut RelayConfig) {
    config.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
}

fn requests(text: &str, method: &str, route: &str, status: &str) -> f64 {
    metric(
        text,
        "felund_relay_http_requests_total",
        &[("method", method), ("route", route), ("status", status)],
    )
    .unwrap_or(0.0)
}

async fn metrics_count_requests_messages_rate_limits_and_subscribers(backend: Backend) {
    let relay = start_with(&backend, |c| {
        with_metrics(c);
        c.write_requests_per_minute = 4;
    })
    .await;
    let alice = Member::new(1, "alice-node-0001");
    relay.register(&alice).await;
    let hint = alice.hint.clone();
    // Two posts: 3 new messages, then 1 new and 2 duplicates.
    let first: Vec<_> = (0..3)
        .map(|i| message(&format!("metric-{i:04}"), 1))
        .collect();
    relay.push(&alice, &first).await;
    let mut second = first[1..].to_vec();
    second.push(message("metric-0003", 1));
    assert_eq!(relay.push(&alice, &second).await.json["stored"], json!(1));
    // A fifth write request from this address is over the limit (4 a minute).
    relay.register(&alice).await;
    let refused = relay.push(&alice, &first).await;
    assert_eq!(refused.status, 429, "{:?}", refused.json);
    relay.pull(&alice, "&since=0").await;
    let _socket = relay.ws(&hint, "watcher-node-01").await;

    let text = relay.metrics().await;
    assert_eq!(requests(&text, "POST", "/messages", "200"), 2.0);
    assert_eq!(requests(&text, "POST", "/messages", "429"), 1.0);
    assert_eq!(requests(&text, "POST", "/register", "200"), 2.0);
    assert_eq!(requests(&text, "GET", "/messages", "200"), 1.0);
    let count = |name, labels: &[(&str, &str)]| metric(&text, name, labels).unwrap_or(-1.0);
    assert_eq!(
        count(
            "felund_relay_rate_limited_requests_total",
            &[("route", "/messages")]
        ),
        1.0
    );
    assert_eq!(count("felund_relay_messages_stored_total", &[]), 4.0);
    assert_eq!(count("felund_relay_websocket_subscribers", &[]), 1.0);
    assert_eq!(
        count(
            "felund_relay_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/messages")]
        ),
        3.0
    );
    for kind in ["unavailable", "backend"] {
        assert_eq!(
            count("felund_relay_store_errors_total", &[("kind", kind)]),
            0.0
        );
    }
    match backend {
        Backend::Postgres(_) => {
            let max = count(
                "felund_relay_database_pool_connections",
                &[("state", "max")],
            );
            assert_eq!(max, f64::from(Backend::pg_options().max_connections));
            let open = count(
                "felund_relay_database_pool_connections",
                &[("state", "in_use")],
            ) + count(
                "felund_relay_database_pool_connections",
                &[("state", "idle")],
            );
            assert!((1.0..=max).contains(&open), "{open}");
        }
        Backend::Sqlite => assert!(!text.contains("felund_relay_database_pool_connections{")),
    }
    relay.stop().await;
}

on_both_backends!(metrics_count_requests_messages_rate_limits_and_subscribers);

#[tokio::test]
async fn metrics_are_off_by_default_and_never_on_the_api_port() {
    let plain = start(&Backend::Sqlite).await;
    assert!(plain
        .handle
        .as_ref()
        .expect("handle")
        .metrics_addr()
        .is_none());
    for path in ["/metrics", "/v1/metrics"] {
        assert_eq!(plain.get(path).await.status, 404, "{path}");
    }
    plain.stop().await;

    let relay = start_with(&Backend::Sqlite, with_metrics).await;
    assert_eq!(relay.get("/metrics").await.status, 404);
    // And the metrics listener serves nothing of the API.
    let addr = relay
        .handle
        .as_ref()
        .and_then(|h| h.metrics_addr())
        .expect("metrics");
    let api_there = relay
        .http
        .get(format!("http://{addr}/v1/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(api_there.status().as_u16(), 404);
    assert!(relay
        .metrics()
        .await
        .contains("felund_relay_http_requests_total"));
    relay.stop().await;
}

#[tokio::test]
async fn crafted_paths_and_methods_add_no_time_series() {
    let relay = start_with(&Backend::Sqlite, with_metrics).await;
    // Positive control: real routes are labelled as themselves.
    relay.get("/v1/health").await;
    let before = relay.metrics().await;
    assert_eq!(requests(&before, "GET", "/health", "200"), 1.0);
    // An attacker varies paths and methods to mint a series per request.
    for i in 0..300 {
        let method = Method::from_bytes(format!("M{i}").as_bytes()).expect("method");
        let path = format!("/v1/messages/{i}/{}", "x".repeat(i % 50));
        relay.send(method, &path, None, Default::default()).await;
        relay.get(&format!("/api{i}/v1/zz{i}?q={i}")).await;
    }
    let after = relay.metrics().await;
    assert_eq!(requests(&after, "other", "other", "404"), 300.0);
    assert_eq!(requests(&after, "GET", "other", "404"), 300.0);
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    // Two new label sets (each a counter and a histogram), whatever the 600 requests were.
    assert!(
        series(&after) <= series(&before) + 2 * (1 + 1 + 14),
        "{} series before, {} after",
        series(&before),
        series(&after)
    );
    relay.stop().await;
}

#[tokio::test]
async fn readiness_on_sqlite_is_ready() {
    let relay = start(&Backend::Sqlite).await;
    let reply = relay.get("/v1/ready").await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(reply.json["ready"], json!(true));
    reply.assert_cors();
    relay.stop().await;
}

/// Polls `path` until it answers `status`.
async fn wait_for_status(relay: &common::Relay, path: &str, status: u16) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let reply = relay.get(path).await;
        if reply.status == status {
            return reply.json;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{path} never answered {status}: {} {:?}",
            reply.status,
            reply.json
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_database_while_health_stays_up() {
    let Some(cluster) = pg::private("readiness_follows_the_database_while_health_stays_up") else {
        return;
    };
    let backend = Backend::Postgres(cluster.create_database());
    let relay = start_with(&backend, with_metrics).await;
    let hint = Member::new(1, "x-node-00001").hint;
    assert_eq!(relay.get("/v1/ready").await.status, 200);

    cluster.stop();
    let down = wait_for_status(&relay, "/v1/ready", 503).await;
    assert_eq!(down, json!({"ok": false, "detail": "database unavailable"}));
    // Liveness is the process, not the database: a load balancer keeps it, marked not ready.
    assert_eq!(relay.get("/v1/health").await.status, 200);
    let pull = relay
        .get(&format!("/v1/messages?circle_hint={hint}&since=0"))
        .await;
    assert_eq!(pull.status, 503);
    let text = relay.metrics().await;
    let unavailable = metric(
        &text,
        "felund_relay_store_errors_total",
        &[("kind", "unavailable")],
    )
    .unwrap_or(0.0);
    assert!(unavailable >= 1.0, "{unavailable}");
    assert!(requests(&text, "GET", "/ready", "503") >= 1.0);

    cluster.start_again();
    wait_for_status(&relay, "/v1/ready", 200).await;
    let pushed = relay
        .push_unsigned(&hint, &[message("after-outage", 1)], None)
        .await;
    assert_eq!(pushed.status, 200, "{:?}", pushed.json);
    relay.stop().await;
}
