//! The reference sync sequence (PROTOCOL.md §6): PEERS, MSGS_HAVE, MSGS_REQ,
//! MSGS_SEND, each side writing before it reads.
//!
//! Talking to a reference node we keep every frame within its limits (§7): we
//! advertise only as many ids as fit one line — newest first, and first of all the
//! ids this peer did not have last time — ask for at most 50 ids, and send only the
//! requested messages that fit. A reference newcomer therefore converges over
//! successive sessions instead of failing every one.

use std::collections::HashSet;

use felund_wire::limits::REFERENCE_MAX_REQ_IDS_ENCRYPTED;
use felund_wire::Frame;

use super::common::{fit_ids, fit_values, open_sync};
use super::handshake::Session;
use super::{Gossip, GossipError};
use crate::node::receive::{self, Received};
use crate::store::messages as message_sql;

/// Runs the reference sequence on an established session.
pub async fn run(g: &Gossip, s: &mut Session) -> Result<Received, GossipError> {
    let circle_id = s.circle.circle_id.clone();
    let peer = s.peer_node_id.clone();
    let cid = circle_id.clone();
    let ours = g
        .node()
        .store()
        .read(move |conn| message_sql::ids_newest_first(conn, &cid))
        .await
        .map_err(|e| GossipError::Node(e.into()))?;
    let held: HashSet<&str> = ours.iter().map(|(id, _)| id.as_str()).collect();
    let budget = s.json_budget();

    // 1–4: PEERS and MSGS_HAVE out, theirs in, peers merged.
    let known = g.known_ids(&circle_id, &peer);
    let unknown_first = ours
        .iter()
        .filter(|(id, _)| !known.contains(id))
        .chain(ours.iter().filter(|(id, _)| known.contains(id)))
        .map(|(id, _)| id.clone());
    let mut have = fit_ids(unknown_first, budget);
    have.sort();
    let theirs = open_sync(
        g,
        s,
        Frame::MsgsHave {
            circle_id: circle_id.clone(),
            msg_ids: have,
        },
        |f| matches!(f, Frame::MsgsHave { .. }),
    )
    .await?;
    let Frame::MsgsHave {
        msg_ids: their_have,
        ..
    } = theirs
    else {
        return Err(GossipError::Protocol("Bad sync frames".into()));
    };

    // 5–6: what we lack, within what the peer can answer in one frame.
    let cap = if s.ext {
        usize::MAX
    } else {
        REFERENCE_MAX_REQ_IDS_ENCRYPTED
    };
    let mut want: Vec<String> = their_have
        .iter()
        .filter(|id| !held.contains(id.as_str()))
        .take(cap)
        .cloned()
        .collect();
    want = fit_ids(want, budget);
    let got = s
        .exchange(
            &[Frame::MsgsReq {
                circle_id: circle_id.clone(),
                msg_ids: want,
            }],
            |f| match f {
                Frame::MsgsReq { .. } => Ok(true),
                _ => Err(GossipError::Protocol("Expected MSGS_REQ".into())),
            },
        )
        .await?;
    let requested = match got.into_iter().next() {
        Some(Frame::MsgsReq { msg_ids, .. }) => msg_ids,
        _ => Vec::new(),
    };

    // 7–8: the requested messages that fit, newest first; theirs in.
    let cid = circle_id.clone();
    let req: Vec<String> = requested.into_iter().take(10_000).collect();
    let msgs = g
        .node()
        .store()
        .read(move |conn| message_sql::get_many(conn, &cid, &req))
        .await
        .map_err(|e| GossipError::Node(e.into()))?;
    let sized = msgs
        .iter()
        .map(|m| (m.wire.to_value(), m.wire.encoded_len_ascii()));
    let sending = fit_values(sized, budget);
    let sent_ids: Vec<String> = sending
        .iter()
        .filter_map(|v| v.get("msg_id").and_then(|x| x.as_str()).map(str::to_string))
        .collect();
    let got = s
        .exchange(
            &[Frame::MsgsSend {
                circle_id: circle_id.clone(),
                messages: sending,
            }],
            |f| match f {
                Frame::MsgsSend { .. } => Ok(true),
                _ => Err(GossipError::Protocol("Expected MSGS_SEND".into())),
            },
        )
        .await?;
    let received = match got.first() {
        Some(Frame::MsgsSend { messages, .. }) => {
            receive::gossip_messages(g.node(), &s.circle, messages, &peer).await?
        }
        _ => Received::default(),
    };
    g.remember_known(&circle_id, &peer, their_have.into_iter().chain(sent_ids));
    Ok(received)
}
