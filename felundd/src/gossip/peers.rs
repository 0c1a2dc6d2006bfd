//! The PEERS frame from the store's side: what every sync starts from (our known peers of
//! the circle, read for [`felund_wire::sync::peers::peers_frame`]) and what a received
//! PEERS frame adds (dial candidates).

use felund_wire::frame::PeerEntry;
use felund_wire::sync::SyncStart;

use super::handshake::Session;
use super::{Gossip, GossipError};
use crate::store::candidates::Source;
use crate::store::peers as peer_sql;

/// What every sync of session `s` starts from: the circle's known peers with an address,
/// most recently seen first, and the session's budget.
pub async fn sync_start(g: &Gossip, s: &Session) -> Result<SyncStart, GossipError> {
    let cid = s.circle.circle_id.clone();
    let peers = g
        .node()
        .store()
        .read(move |conn| peer_sql::list(conn, Some(&cid)))
        .await
        .map_err(|e| GossipError::Node(e.into()))?;
    Ok(SyncStart {
        circle_id: s.circle.circle_id.clone(),
        local_node_id: g.node().node_id().to_string(),
        peer_node_id: s.peer_node_id.clone(),
        json_budget: s.json_budget(),
        peers: peers
            .into_iter()
            .map(|p| PeerEntry {
                node_id: p.node_id,
                addr: p.addr,
                last_seen: p.last_seen,
            })
            .collect(),
    })
}

/// Merges the peers a PEERS frame named. Unlike the reference, which makes every entry a
/// member, they are only dial candidates: a member vouches for them, but they become peers
/// only by completing a session of their own.
pub async fn merge(g: &Gossip, s: &Session, named: Vec<PeerEntry>) -> Result<(), GossipError> {
    let named = named.into_iter().map(|p| (p.node_id, p.addr)).collect();
    g.node()
        .add_candidates(&s.circle.circle_id, Source::PeersFrame, named)
        .await?;
    Ok(())
}
