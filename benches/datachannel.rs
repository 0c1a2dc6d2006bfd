//! Browser-peer message latency over a WebRTC DataChannel versus through the relay: one
//! felundd, felund-relay carrying the signalling, and the aiortc browser peer of the tests
//! (`tests/webrtc/browser_peer.py`, needs FELUND_WEBRTC_PYTHON).
//!
//! - felundd → browser over the channel: SendMessage until the browser has decrypted it
//!   (the browser stamps the wall clock when it merges the message).
//! - browser → felundd over the channel: the browser authors a message (MSG_NEW) until
//!   felundd's Subscribe stream delivers it.
//! - felundd → relay: SendMessage until the message can be pulled from felund-relay by a
//!   client polling every 10 ms: the best a browser reached only through the relay can
//!   do (the web client polls every 5 s, so it waits 2.5 s more on average).
//!
//! Run: `cargo build --release --workspace && cargo bench --bench datachannel`
//! (`FELUND_BENCH_SMOKE=1`: tiny sizes; `benches/run_all.py` runs every bench).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use felund_client::{api, ApiClient};
use felund_tests::browser_peer::{BrowserOptions, BrowserPeer, LOW_ID};
use felund_tests::relays::{daemon_behind_relay, http_request, RelayProcess};
use felund_wire::ids::circle_hint;
use support::{report, Figure};
use tokio_stream::StreamExt;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

async fn send(client: &ApiClient, circle: &str, text: &str) -> Res<api::Message> {
    Ok(client
        .clone()
        .send_message(api::SendMessageRequest {
            circle: circle.into(),
            channel: String::new(),
            text: text.into(),
        })
        .await?
        .into_inner())
}

/// felundd → browser: from SendMessage to the browser's merge, per message.
async fn to_browser(c: &ApiClient, b: &BrowserPeer, circle: &str, n: usize) -> Res<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let text = format!("to the browser {i}");
        let t0 = wall();
        send(c, circle, &text).await?;
        let seen = b.wait_event("the browser to merge it", |e| {
            e["event"] == "message" && e["text"] == text.as_str()
        });
        let at = seen["at"].as_f64().ok_or("no at")?;
        out.push(Duration::from_secs_f64((at - t0).max(0.0)));
    }
    out.sort();
    Ok(out)
}

/// browser → felundd: from the browser authoring to felundd's event, per message.
async fn from_browser(
    c: &ApiClient,
    b: &mut BrowserPeer,
    circle: &str,
    n: usize,
) -> Res<Vec<Duration>> {
    let mut stream = c
        .clone()
        .subscribe(api::SubscribeRequest {
            circle: circle.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let text = format!("from the browser {i}");
        b.send(0, &text);
        let authored = b.named("authored");
        let t0 = authored
            .last()
            .and_then(|e| e["at"].as_f64())
            .ok_or("no at")?;
        loop {
            let ev = stream.next().await.ok_or("stream ended")??;
            if let Some(api::event::Kind::Message(m)) = ev.kind {
                if m.text == text {
                    out.push(Duration::from_secs_f64((wall() - t0).max(0.0)));
                    break;
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// felundd → relay: from SendMessage until a pull from the relay holds it.
async fn to_relay(
    c: &ApiClient,
    relay: &RelayProcess,
    circle: &str,
    n: usize,
) -> Res<Vec<Duration>> {
    let hint = circle_hint(circle);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t0 = Instant::now();
        let m = send(c, circle, &format!("through the relay {i}")).await?;
        loop {
            let path = format!("/v1/messages?circle_hint={hint}&since=0&limit=500");
            let (status, body) =
                http_request(relay.port, "GET", &path, &[], None).ok_or("relay unreachable")?;
            if status == 200 && body.contains(&m.msg_id) {
                out.push(t0.elapsed());
                break;
            }
            if t0.elapsed() > Duration::from_secs(60) {
                return Err("the message never reached the relay".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    out.sort();
    Ok(out)
}

#[tokio::main]
async fn main() -> Res<()> {
    let Some(py) = BrowserPeer::python("datachannel bench") else {
        println!("datachannel: skipped, FELUND_WEBRTC_PYTHON not set");
        return Ok(());
    };
    let n = support::size(100, 5);
    let relay = RelayProcess::start_felund(&[]);
    let d = daemon_behind_relay(&relay.url(), "bench");
    let c = felund_client::connect(&d.socket).await?;
    let circle = support::create_circle(&c, "datachannel-bench").await?;
    let code = c
        .clone()
        .get_invite_code(api::GetInviteCodeRequest {
            circle: circle.clone(),
        })
        .await?
        .into_inner()
        .code;
    let secret = felund_wire::invite::parse_invite(&code)?.secret;
    let mut b = BrowserPeer::start(
        &py,
        &relay.url(),
        &[&secret],
        BrowserOptions {
            node_id: Some(LOW_ID.into()),
            ..BrowserOptions::default()
        },
    );
    let t0 = Instant::now();
    b.wait_event("a verified channel", |e| e["event"] == "open");
    report(Figure {
        table: "datachannel",
        id: "connect",
        what: "browser start (register, offer) until felundd's AUTH verified on the channel",
        target: "< 15 s (the web client's limit)",
        measured: format!("{:.2} s", t0.elapsed().as_secs_f64()),
        met: Some(t0.elapsed() < Duration::from_secs(15)),
    });
    let s = to_browser(&c, &b, &circle, n).await?;
    report(Figure {
        table: "datachannel",
        id: "to_browser",
        what: &format!("felundd → browser over the DataChannel (MSG_NEW), {n} sends"),
        target: "—",
        measured: support::spread(&s),
        met: None,
    });
    let s = from_browser(&c, &mut b, &circle, n).await?;
    report(Figure {
        table: "datachannel",
        id: "from_browser",
        what: &format!(
            "browser → felundd over the DataChannel (MSG_NEW to a Subscribe event), {n} sends"
        ),
        target: "—",
        measured: support::spread(&s),
        met: None,
    });
    let s = to_relay(&c, &relay, &circle, n).await?;
    report(Figure {
        table: "datachannel",
        id: "to_relay",
        what: &format!(
            "felundd → felund-relay, pullable by a client polling every 10 ms (the web client polls every 5 s), {n} sends"
        ),
        target: "—",
        measured: support::spread(&s),
        met: None,
    });
    Ok(())
}
