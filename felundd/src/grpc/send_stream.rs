//! `SendMessages`: many chat messages over one stream, stored in the order sent.
//!
//! One task per stream reads the requests in order and, for each, checks it and
//! queues its write on the store at once — the writer commits in queue order, so
//! the stream's order is the stored order — while up to [`SEND_WINDOW`] sends wait
//! for their commit. Answers go back in the same order, each after its commit. The
//! first refusal ends the stream, after the answers of the sends queued before it;
//! no request after it is read.

use std::collections::VecDeque;
use std::pin::Pin;

use felund_proto::v1 as api;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Status, Streaming};

use super::convert;
use crate::limits::SEND_WINDOW;
use crate::node::{Node, QueuedSend, SendTarget};

/// The answer stream of `SendMessages`.
pub type SendStream = Pin<Box<dyn Stream<Item = Result<api::Message, Status>> + Send>>;

/// Serves one `SendMessages` stream.
pub fn serve(node: Node, requests: Streaming<api::SendMessageRequest>) -> SendStream {
    let (tx, rx) = mpsc::channel(SEND_WINDOW);
    tokio::spawn(run(node, requests, tx));
    Box::pin(ReceiverStream::new(rx))
}

/// The resolved target of the previous request, reused while requests name the
/// same circle and channel.
type Cached = Option<((String, String), SendTarget)>;

async fn run(
    node: Node,
    mut requests: Streaming<api::SendMessageRequest>,
    tx: mpsc::Sender<Result<api::Message, Status>>,
) {
    let me = node.node_id().to_string();
    let mut pending: VecDeque<QueuedSend> = VecDeque::new();
    let mut cached: Cached = None;
    // Why reading stopped: the end of the client's stream, or a refusal to report.
    let mut stop: Option<Option<Status>> = None;
    loop {
        if pending.is_empty() {
            if let Some(refusal) = stop {
                if let Some(status) = refusal {
                    let _ = tx.send(Err(status)).await;
                }
                return;
            }
        }
        let reading = stop.is_none() && pending.len() < SEND_WINDOW;
        tokio::select! {
            biased;
            () = oldest(&mut pending), if !pending.is_empty() => {
                let Some(queued) = pending.pop_front() else { continue };
                let answer = node
                    .finish_send(queued)
                    .await
                    .map(|m| convert::message(m, &me))
                    .map_err(Status::from);
                let refused = answer.is_err();
                // A client that went away needs no more answers; what is queued
                // still commits.
                if tx.send(answer).await.is_err() || refused {
                    return;
                }
            }
            next = requests.next(), if reading => match next {
                Some(Ok(r)) => match queue(&node, &mut cached, r).await {
                    Ok(q) => pending.push_back(q),
                    Err(status) => stop = Some(Some(status)),
                },
                None => stop = Some(None),
                Some(Err(status)) => {
                    tracing::debug!("a SendMessages stream broke: {status}");
                    stop = Some(None);
                }
            },
        }
    }
}

/// Waits for the oldest queued send to commit.
async fn oldest(pending: &mut VecDeque<QueuedSend>) {
    if let Some(q) = pending.front_mut() {
        q.committed().await;
    }
}

/// Checks one request and queues its write.
async fn queue(
    node: &Node,
    cached: &mut Cached,
    r: api::SendMessageRequest,
) -> Result<QueuedSend, Status> {
    let key = (r.circle, r.channel);
    let target = match cached {
        Some((k, t)) if *k == key => t.clone(),
        _ => {
            let t = node
                .send_target(&key.0, &key.1)
                .await
                .map_err(Status::from)?;
            *cached = Some((key, t.clone()));
            t
        }
    };
    node.queue_send(&target, &r.text).map_err(Status::from)
}
