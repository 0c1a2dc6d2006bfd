//! Shared by the benchmarks: API helpers and percentile maths. Each bench uses a
//! different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::time::Duration;

use felund_client::{api, ApiClient};

/// Messages in flight when filling a circle.
const IN_FLIGHT: usize = 64;

/// The `p` quantile (0..=1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Creates a circle; returns its id.
pub async fn create_circle(
    client: &ApiClient,
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    Ok(client
        .clone()
        .create_circle(api::CreateCircleRequest { name: name.into() })
        .await?
        .into_inner()
        .circle
        .ok_or("no circle")?
        .circle_id)
}

/// Sends `n` messages into `circle` with many requests in flight.
pub async fn fill(
    client: &ApiClient,
    circle: &str,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut next = 0usize;
    let mut tasks = tokio::task::JoinSet::new();
    while next < n || !tasks.is_empty() {
        while next < n && tasks.len() < IN_FLIGHT {
            let mut c = client.clone();
            let req = api::SendMessageRequest {
                circle: circle.to_string(),
                channel: String::new(),
                text: format!("message {next} with some ordinary chat length text"),
            };
            tasks.spawn(async move { c.send_message(req).await.map(|_| ()) });
            next += 1;
        }
        if let Some(r) = tasks.join_next().await {
            r??;
        }
    }
    Ok(())
}

/// Node info of a daemon.
pub async fn info(client: &ApiClient) -> Result<api::NodeInfo, Box<dyn std::error::Error>> {
    Ok(client
        .clone()
        .get_node_info(api::GetNodeInfoRequest {})
        .await?
        .into_inner())
}

/// Sends `samples` messages one at a time through `sender` and measures, for each,
/// the time from issuing SendMessage to seeing it on a `Subscribe` stream of
/// `watcher` (the same daemon or another). Returns the sorted samples.
pub async fn send_to_event_latency(
    sender: &ApiClient,
    watcher: &ApiClient,
    circle: &str,
    samples: usize,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    use tokio_stream::StreamExt;
    let mut stream = watcher
        .clone()
        .subscribe(api::SubscribeRequest {
            circle: circle.to_string(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut sender = sender.clone();
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let text = format!("latency {i}");
        let t0 = std::time::Instant::now();
        let send = sender.send_message(api::SendMessageRequest {
            circle: circle.to_string(),
            channel: String::new(),
            text: text.clone(),
        });
        let recv = async {
            while let Some(ev) = stream.next().await {
                if let Some(api::event::Kind::Message(m)) = ev?.kind {
                    if m.text == text {
                        return Ok::<_, tonic::Status>(t0.elapsed());
                    }
                }
            }
            Err(tonic::Status::aborted("stream ended"))
        };
        let (sent, seen) = tokio::join!(send, recv);
        sent?;
        out.push(seen?);
    }
    out.sort();
    Ok(out)
}

/// The invite code of `circle` on `from`, joined by `to`.
pub async fn join_from(
    from: &ApiClient,
    to: &ApiClient,
    circle: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let code = from
        .clone()
        .get_invite_code(api::GetInviteCodeRequest {
            circle: circle.to_string(),
        })
        .await?
        .into_inner()
        .code;
    to.clone()
        .join_circle(api::JoinCircleRequest { code })
        .await?;
    Ok(())
}
