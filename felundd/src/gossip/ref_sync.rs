//! Drives the reference sync sequence of [`felund_wire::sync::reference`] (PEERS,
//! MSGS_HAVE, MSGS_REQ, MSGS_SEND, each side writing while it reads) and answers its
//! questions from the store.
//!
//! Talking to a reference node every frame stays within its limits: the machine advertises
//! only as many ids as fit one line — newest first, and first of all the ids this peer was
//! not seen to hold last time (remembered in [`Gossip`]) — asks for at most 50 ids, and
//! sends only the requested messages that fit. A reference newcomer therefore converges
//! over successive sessions instead of failing every one.

use felund_wire::limits::REFERENCE_MAX_REQ_IDS_ENCRYPTED;
use felund_wire::sync::{RefSync, Step};

use super::handshake::Session;
use super::peers::{merge, sync_start};
use super::{Gossip, GossipError};
use crate::node::receive::{self, Received};
use crate::store::messages as message_sql;

/// Runs the reference sequence on an established session.
pub async fn run(g: &Gossip, s: &mut Session) -> Result<Received, GossipError> {
    let circle_id = s.circle.circle_id.clone();
    let peer = s.peer_node_id.clone();
    let start = sync_start(g, s).await?;
    let ours = our_ids(g, &circle_id).await?;
    let known = g.holdings_of(&circle_id, &peer);
    let (state, opening) = RefSync::start(start, REFERENCE_MAX_REQ_IDS_ENCRYPTED, ours, |id| {
        known.contains(id)
    });
    drop(known);

    // PEERS and MSGS_HAVE both ways; then MSGS_REQ both ways.
    let opened = s.exchange(opening, state, RefSync::on_frame).await?;
    merge(g, s, opened.named_peers).await?;
    let (answering, wanted) = s
        .exchange([opened.request], opened.next, |st, f| {
            st.on_frame(f).map(Step::Done)
        })
        .await?;

    // MSGS_SEND both ways: the requested messages we hold, as many as fit.
    let cid = circle_id.clone();
    let msgs = g
        .node()
        .store()
        .read(move |conn| message_sql::get_many(conn, &cid, &wanted))
        .await
        .map_err(|e| GossipError::Node(e.into()))?;
    let (waiting, send) = answering.answer(
        msgs.iter()
            .map(|m| (m.wire.to_value(), m.wire.encoded_len_ascii())),
    );
    drop(msgs);
    let done = s
        .exchange([send], waiting, |st, f| st.on_frame(f).map(Step::Done))
        .await?;
    let received = receive::gossip_messages(g.node(), &s.circle, &done.messages, &peer).await?;
    g.remember_holdings(&circle_id, &peer, done.peer_holds);
    Ok(received)
}

/// The ids we hold in the circle, newest first.
pub async fn our_ids(g: &Gossip, circle_id: &str) -> Result<Vec<String>, GossipError> {
    let cid = circle_id.to_string();
    Ok(g.node()
        .store()
        .read(move |conn| message_sql::ids_newest_first(conn, &cid))
        .await
        .map_err(|e| GossipError::Node(e.into()))?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}
