//! Receiving messages from outside (gossip peers, relays, anchors): strict
//! validation, circle check, MAC/envelope verification, then one batched store
//! write. Nothing unverified is stored.

use std::borrow::Borrow;

use felund_wire::WireMessage;
use serde_json::Value;

use super::Node;
use crate::error::NodeError;
use crate::model::Circle;

/// Outcome of one batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Newly stored.
    pub stored: usize,
    /// Refused (malformed, wrong circle, failed verification).
    pub rejected: usize,
}

/// Verifies gossip message objects (docs/protocol.md §4, gossip rule) and stores the good
/// ones; `source` is the sending peer's node id.
pub async fn gossip_messages(
    node: &Node,
    circle: &Circle,
    values: &[Value],
    source: &str,
) -> Result<Received, NodeError> {
    queue_gossip_messages(node, circle, values, source).await
}

/// [`gossip_messages`], with the verified messages queued on the store before this
/// returns (see [`Node::queue_ingest`]); the future resolves once they committed.
pub fn queue_gossip_messages(
    node: &Node,
    circle: &Circle,
    values: &[Value],
    source: &str,
) -> impl std::future::Future<Output = Result<Received, NodeError>> + Send + 'static {
    let (good, rejected) = verify_gossip(circle, values, source);
    let stored = node.queue_ingest(good, Some(source.to_string()));
    async move {
        Ok(Received {
            stored: stored.await?,
            rejected,
        })
    }
}

/// The messages among `values` that are valid, of `circle` and verify under its
/// secret, and how many were refused.
fn verify_gossip(circle: &Circle, values: &[Value], source: &str) -> (Vec<WireMessage>, usize) {
    let mut good = Vec::with_capacity(values.len());
    let mut rejected = 0;
    for v in values {
        match WireMessage::from_value(v) {
            Ok(mut m) if m.circle_id == circle.circle_id => match m.verify_gossip(&circle.secret) {
                Ok(()) => good.push(m),
                Err(e) => {
                    rejected += 1;
                    tracing::debug!(
                        peer = source,
                        "dropping message that fails verification: {e}"
                    );
                }
            },
            Ok(_) => {
                rejected += 1;
                tracing::debug!(peer = source, "dropping message for another circle");
            }
            Err(e) => {
                rejected += 1;
                tracing::debug!(peer = source, "dropping malformed message: {e}");
            }
        }
    }
    if rejected > 0 {
        tracing::warn!(
            peer = source,
            rejected,
            "rejected messages that failed validation"
        );
    }
    (good, rejected)
}

/// Verifies relay-style envelopes (relay and anchor pull/push; docs/protocol.md §4, relay
/// rule) and stores the good ones. `values` is consumed one at a time, so a caller may
/// parse each object only when it is needed.
pub async fn relay_envelopes<V: Borrow<Value>>(
    node: &Node,
    circle: &Circle,
    values: impl IntoIterator<Item = V>,
    source: &str,
) -> Result<Received, NodeError> {
    let mut good = Vec::new();
    let mut rejected = 0;
    for v in values {
        match WireMessage::verify_relay(v.borrow(), &circle.secret) {
            Ok(m) if m.circle_id == circle.circle_id => good.push(m),
            _ => rejected += 1,
        }
    }
    let stored = node.ingest_verified(good, Some(source.to_string())).await?;
    Ok(Received { stored, rejected })
}
