//! The anchor exchange after a reference sync (PROTOCOL.md §6): as initiator
//! towards a reference anchor, push our newest messages and pull what it holds; as
//! an anchor (`--anchor`), take pushed envelopes and answer pulls from our store.
//! Between two felundd nodes the extension sync already moves everything, so this
//! runs only with reference peers.

use std::time::Duration;

use felund_wire::Frame;

use super::common::fit_values;
use super::conn::ConnError;
use super::handshake::Session;
use super::{Gossip, GossipError};
use crate::node::receive;
use crate::node::{now_ts, random_nonce12};
use crate::store::{cursors, messages as message_sql};

/// How many of our newest messages we push to an anchor.
const PUSH_COUNT: usize = 50;
/// Most envelopes we answer a pull with.
const PULL_LIMIT: usize = 200;

fn store_err(e: crate::store::StoreError) -> GossipError {
    GossipError::Node(e.into())
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
    let envelopes = newest.iter().map(|m| {
        let env = m.wire.seal_relay_envelope(&circle.secret, random_nonce12());
        let v = env.to_value();
        let len = v.to_string().len();
        (v, len)
    });
    let envelopes = fit_values(envelopes, s.json_budget());
    s.writer
        .write_frame(&Frame::AnchorPush {
            circle_id: circle.circle_id.clone(),
            envelopes,
        })
        .await?;
    s.reader.set_timeout(Duration::from_secs(5));
    if !matches!(s.reader.read_frame().await?, Frame::AnchorPushAck { .. }) {
        return Ok(());
    }
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
    s.writer
        .write_frame(&Frame::AnchorPull {
            circle_id: circle.circle_id.clone(),
            since,
        })
        .await?;
    s.reader.set_timeout(Duration::from_secs(10));
    if let Frame::AnchorMsgs {
        envelopes,
        server_time,
    } = s.reader.read_frame().await?
    {
        let got = receive::relay_envelopes(g.node(), &circle, &envelopes, &s.peer_node_id).await?;
        tracing::debug!(stored = got.stored, "anchor pull");
        let cid = circle.circle_id.clone();
        g.node()
            .store()
            .write(move |conn| cursors::set(conn, &cid, &source, &server_time.to_string()))
            .await
            .map_err(store_err)?;
    }
    Ok(())
}

/// As an anchor, after sync: serve ANCHOR_PUSH then ANCHOR_PULL if they come.
pub async fn as_responder(g: &Gossip, s: &mut Session) -> Result<(), GossipError> {
    s.reader.set_timeout(Duration::from_secs(3));
    let circle = s.circle.clone();
    let frame = match s.reader.read_frame().await {
        Ok(f) => f,
        Err(ConnError::Closed) | Err(ConnError::Timeout(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let Frame::AnchorPush { envelopes, .. } = frame else {
        return Ok(());
    };
    let got = receive::relay_envelopes(g.node(), &circle, &envelopes, &s.peer_node_id).await?;
    s.writer
        .write_frame(&Frame::AnchorPushAck {
            stored: got.stored as i64,
        })
        .await?;
    let since = match s.reader.read_frame().await {
        Ok(Frame::AnchorPull { since, .. }) => since,
        Ok(_) | Err(ConnError::Closed) | Err(ConnError::Timeout(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let cid = circle.circle_id.clone();
    let msgs = g
        .node()
        .store()
        .read(move |conn| message_sql::created_after(conn, &cid, since, PULL_LIMIT))
        .await
        .map_err(store_err)?;
    let envelopes = msgs.iter().map(|m| {
        let v = m
            .wire
            .seal_relay_envelope(&circle.secret, random_nonce12())
            .to_value();
        let len = v.to_string().len();
        (v, len)
    });
    let envelopes = fit_values(envelopes, s.json_budget());
    s.writer
        .write_frame(&Frame::AnchorMsgs {
            envelopes,
            server_time: now_ts(),
        })
        .await?;
    Ok(())
}
