//! Drives live links ([`felund_wire::sync::link`]): after an extension sync, the
//! initiator may ask to keep the connection open. Both sides then push every message
//! they newly store (authored here or received from anyone but this peer) as `X_PUSH`
//! the moment it commits, and ping every [`PING_EVERY`]. A link that lags, idles out or
//! errs just closes: the next digest sync repairs whatever it missed.

use std::sync::Arc;
use std::time::Duration;

use felund_wire::ext::MAX_PUSH_MESSAGES;
use felund_wire::sync::link::{AwaitingOffer, Link, LinkOffered};
use felund_wire::Frame;
use tokio::sync::{broadcast, mpsc};

use super::conn::ConnError;
use super::handshake::{Role, Session};
use super::{Gossip, GossipError};
use crate::counters::Counters;
use crate::node::receive;
use crate::node::NewWire;

/// Keep-alive interval on a link.
const PING_EVERY: Duration = Duration::from_secs(15);
/// A link with no frame for this long is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a responder waits for `X_LINK` after the sync.
const OFFER_WAIT: Duration = Duration::from_secs(5);

/// After an extension sync: the initiator offers a link when it has none to this
/// peer; the responder accepts one if offered.
pub async fn after_sync(
    g: &Gossip,
    mut s: Session,
    bus: broadcast::Receiver<Arc<NewWire>>,
) -> Result<(), GossipError> {
    let (cid, peer) = (s.circle.circle_id.clone(), s.peer_node_id.clone());
    match s.role {
        Role::Initiator => {
            if !g.claim_link(&cid, &peer) {
                s.writer.shutdown().await;
                return Ok(());
            }
            let result = async {
                let (offered, x_link) = LinkOffered::offer();
                s.writer.write_frame(&x_link).await?;
                match offered.on_frame(s.reader.read_frame().await?) {
                    Some(link) => run(g, s, link, bus).await,
                    None => Ok(()),
                }
            }
            .await;
            g.release_link(&cid, &peer);
            result
        }
        Role::Responder => {
            s.reader.set_timeout(OFFER_WAIT);
            let frame = match s.reader.read_frame().await {
                Ok(f) => f,
                Err(ConnError::Closed) | Err(ConnError::Timeout(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let Some((link, ok)) = AwaitingOffer::new().on_frame(frame) else {
                return Ok(());
            };
            // Accept even if we hold a link to this peer ourselves (both dialled at
            // once): a duplicate link only duplicates pushes, which dedup absorbs.
            let claimed = g.claim_link(&cid, &peer);
            s.writer.write_frame(&ok).await?;
            let result = run(g, s, link, bus).await;
            if claimed {
                g.release_link(&cid, &peer);
            }
            result
        }
    }
}

async fn run(
    g: &Gossip,
    s: Session,
    link: Link,
    mut bus: broadcast::Receiver<Arc<NewWire>>,
) -> Result<(), GossipError> {
    let Session {
        mut reader,
        mut writer,
        circle,
        peer_node_id: peer,
        ..
    } = s;
    tracing::debug!(peer = %peer, circle = %circle.circle_id, "live link up");
    let counters = std::sync::Arc::clone(g.node().counters());
    Counters::add(&counters.live_links, 1);
    reader.set_timeout(IDLE_TIMEOUT);
    // Reading runs in its own task so a half-read line is never lost to `select!`.
    let (tx, mut frames) = mpsc::channel::<Result<Frame, ConnError>>(64);
    let read_task = tokio::spawn(async move {
        loop {
            let r = reader.read_frame().await;
            let stop = r.is_err();
            if tx.send(r).await.is_err() || stop {
                break;
            }
        }
    });
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let result = loop {
        tokio::select! {
            f = frames.recv() => match f.map(|f| f.map(|f| link.on_frame(f))) {
                Some(Ok(Ok(Some(messages)))) => {
                    if let Err(e) = receive::gossip_messages(g.node(), &circle, &messages, &peer).await {
                        break Err(e.into());
                    }
                }
                Some(Ok(Ok(None))) => {}
                Some(Ok(Err(e))) => break Err(e.into()),
                Some(Err(ConnError::Closed)) | None => break Ok(()),
                Some(Err(e)) => break Err(e.into()),
            },
            m = bus.recv() => match m {
                Ok(first) => {
                    let mut batch = Vec::new();
                    let mut next = Some(first);
                    while let Some(nw) = next.take() {
                        if nw.wire.circle_id == circle.circle_id && nw.source.as_deref() != Some(peer.as_str()) {
                            batch.push(nw.wire.to_value());
                        }
                        if batch.len() < MAX_PUSH_MESSAGES {
                            next = bus.try_recv().ok();
                        }
                    }
                    // At most one frame: the batch stops at what one push carries.
                    let mut sent = Ok(());
                    for push in link.push(batch) {
                        sent = writer.write_frame(&push).await;
                        if sent.is_err() {
                            break;
                        }
                    }
                    if let Err(e) = sent {
                        break Err(e.into());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(peer = %peer, missed = n, "live link lagged; closing it (next sync repairs)");
                    break Ok(());
                }
                Err(broadcast::error::RecvError::Closed) => break Ok(()),
            },
            _ = ping.tick() => {
                if let Err(e) = writer.write_frame(&link.ping()).await {
                    break Err(e.into());
                }
            }
        }
    };
    read_task.abort();
    Counters::dec(&counters.live_links);
    writer.shutdown().await;
    tracing::debug!(peer = %peer, circle = %circle.circle_id, "live link down");
    result
}
