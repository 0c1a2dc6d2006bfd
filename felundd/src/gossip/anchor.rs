//! Drives the anchor exchange of [`felund_wire::sync::anchor`] after a reference sync: as
//! initiator towards a reference anchor, push our newest messages and pull what it holds;
//! as an anchor (`--anchor`), take pushed envelopes and answer pulls from our store.
//! Between two felundd nodes the extension sync already moves everything, so this runs
//! only with reference peers. An unexpected frame ends the exchange quietly: the sync
//! before it already succeeded.

use std::time::Duration;

use felund_wire::sync::anchor::{AwaitingPush, AwaitingPushAck};
use serde_json::Value;

use super::conn::ConnError;
use super::handshake::Session;
use super::{Gossip, GossipError};
use crate::model::{Circle, StoredMessage};
use crate::node::receive;
use crate::node::{now_ts, random_nonce12};
use crate::store::{cursors, messages as message_sql};

/// How many of our newest messages we push to an anchor.
const PUSH_COUNT: usize = 50;
/// Most envelopes we answer a pull with.
const PULL_LIMIT: usize = 200;
/// How long the initiator waits for the push's acknowledgement.
const ACK_WAIT: Duration = Duration::from_secs(5);
/// How long the initiator waits for the answer to its pull.
const PULL_WAIT: Duration = Duration::from_secs(10);
/// How long an anchor waits for a push after the sync.
const PUSH_WAIT: Duration = Duration::from_secs(3);

fn store_err(e: crate::store::StoreError) -> GossipError {
    GossipError::Node(e.into())
}

/// Relay envelopes of `msgs` (fresh nonces), each with its encoded length.
fn envelopes<'a>(
    circle: &'a Circle,
    msgs: &'a [StoredMessage],
) -> impl Iterator<Item = (Value, usize)> + 'a {
    msgs.iter().map(|m| {
        let v = m
            .wire
            .seal_relay_envelope(&circle.secret, random_nonce12())
            .to_value();
        let len = v.to_string().len();
        (v, len)
    })
}

/// As initiator, after sync, towards a peer whose WELCOME said `can_anchor`.
pub async fn as_initiator(g: &Gossip, s: &mut Session) -> Result<(), GossipError> {
    let circle = s.circle.clone();
    let cid = circle.circle_id.clone();
    let newest = g
        .node()
        .store()
        .read(move |conn| message_sql::newest(conn, &cid, PUSH_COUNT, false))
        .await
        .map_err(store_err)?;
    let (awaiting, push) = AwaitingPushAck::push(
        &circle.circle_id,
        s.json_budget(),
        envelopes(&circle, &newest),
    );
    s.writer.write_frame(&push).await?;
    s.reader.set_timeout(ACK_WAIT);
    let Some(pushed) = awaiting.on_frame(s.reader.read_frame().await?) else {
        return Ok(());
    };
    let source = format!("anchor:{}", s.peer_node_id);
    let (cid, src) = (circle.circle_id.clone(), source.clone());
    let since: i64 = g
        .node()
        .store()
        .read(move |conn| cursors::get(conn, &cid, &src))
        .await
        .map_err(store_err)?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (awaiting, pull) = pushed.pull(since);
    s.writer.write_frame(&pull).await?;
    s.reader.set_timeout(PULL_WAIT);
    if let Some(pulled) = awaiting.on_frame(s.reader.read_frame().await?) {
        let got =
            receive::relay_envelopes(g.node(), &circle, &pulled.envelopes, &s.peer_node_id).await?;
        tracing::debug!(stored = got.stored, "anchor pull");
        let cid = circle.circle_id.clone();
        let next = pulled.server_time.to_string();
        g.node()
            .store()
            .write(move |conn| cursors::set(conn, &cid, &source, &next))
            .await
            .map_err(store_err)?;
    }
    Ok(())
}

/// As an anchor, after sync: serve ANCHOR_PUSH then ANCHOR_PULL if they come.
pub async fn as_responder(g: &Gossip, s: &mut Session) -> Result<(), GossipError> {
    s.reader.set_timeout(PUSH_WAIT);
    let circle = s.circle.clone();
    let Some(frame) = quiet_end(s.reader.read_frame().await)? else {
        return Ok(());
    };
    let Some((taken, pushed)) = AwaitingPush::new(s.json_budget()).on_frame(frame) else {
        return Ok(());
    };
    let got = receive::relay_envelopes(g.node(), &circle, &pushed, &s.peer_node_id).await?;
    drop(pushed);
    let (awaiting, ack) = taken.ack(got.stored);
    s.writer.write_frame(&ack).await?;
    let Some(frame) = quiet_end(s.reader.read_frame().await)? else {
        return Ok(());
    };
    let Some((answering, since)) = awaiting.on_frame(frame) else {
        return Ok(());
    };
    let cid = circle.circle_id.clone();
    let msgs = g
        .node()
        .store()
        .read(move |conn| message_sql::created_after(conn, &cid, since, PULL_LIMIT))
        .await
        .map_err(store_err)?;
    let answer = answering.answer(envelopes(&circle, &msgs), now_ts());
    s.writer.write_frame(&answer).await?;
    Ok(())
}

/// A read where the peer closing or going quiet just ends the exchange (`None`).
fn quiet_end(
    r: Result<felund_wire::Frame, ConnError>,
) -> Result<Option<felund_wire::Frame>, GossipError> {
    match r {
        Ok(f) => Ok(Some(f)),
        Err(ConnError::Closed) | Err(ConnError::Timeout(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
