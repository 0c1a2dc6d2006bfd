//! Pieces both sync flavours share: concurrent frame exchange, frame budgets, and
//! the PEERS frame in both directions.

use felund_wire::frame::PeerEntry;
use felund_wire::Frame;
use serde_json::Value;

use super::handshake::Session;
use super::{Gossip, GossipError};
use crate::store::candidates::Source;
use crate::store::peers as peer_sql;

/// Most entries we put in a PEERS frame.
const MAX_PEERS_SENT: usize = 20;
/// Room left in every budget for the frame's own keys and rounding.
const FRAME_SLACK: usize = 256;

impl Session {
    /// Writes `out` while reading frames until `done` says the other side's part is
    /// complete. Both sides of a sync write before they read, so doing the two at
    /// once keeps large exchanges from filling both TCP buffers and deadlocking.
    pub async fn exchange(
        &mut self,
        out: &[Frame],
        mut done: impl FnMut(&Frame) -> Result<bool, GossipError>,
    ) -> Result<Vec<Frame>, GossipError> {
        let writer = &mut self.writer;
        let reader = &mut self.reader;
        let write = async move {
            for f in out {
                writer.write_frame(f).await?;
            }
            Ok::<_, GossipError>(())
        };
        let read = async move {
            let mut got = Vec::new();
            loop {
                let f = reader.read_frame().await?;
                if let Frame::Error { err } = &f {
                    return Err(GossipError::Refused(err.clone()));
                }
                let finished = done(&f)?;
                got.push(f);
                if finished {
                    return Ok(got);
                }
            }
        };
        let ((), got) = tokio::try_join!(write, read)?;
        Ok(got)
    }

    /// Bytes of frame JSON that fit in one (encrypted) line to this peer.
    pub fn json_budget(&self) -> usize {
        let line = self.max_send_line().saturating_sub(1);
        (line / 4 * 3)
            .saturating_sub(28)
            .saturating_sub(FRAME_SLACK)
    }
}

/// The longest prefix of `ids` whose JSON array fits in `budget` bytes.
pub fn fit_ids(ids: impl IntoIterator<Item = String>, budget: usize) -> Vec<String> {
    let mut used = 2;
    let mut out = Vec::new();
    for id in ids {
        let cost = id.len() + 3; // quotes and comma
        if used + cost > budget {
            break;
        }
        used += cost;
        out.push(id);
    }
    out
}

/// The messages of `msgs` (with their encoded sizes), in order, that fit in `budget`
/// together. One that can never fit a frame on its own is skipped rather than ending the
/// list, so it cannot hold back every message behind it session after session.
pub fn fit_values(msgs: impl IntoIterator<Item = (Value, usize)>, budget: usize) -> Vec<Value> {
    let mut used = 2;
    let mut out = Vec::new();
    for (v, len) in msgs {
        if 2 + len + 1 > budget {
            continue;
        }
        if used + len + 1 > budget {
            break;
        }
        used += len + 1;
        out.push(v);
    }
    out
}

/// Our PEERS frame for this session: known peers of the circle with an address,
/// most recently seen first, without the recipient or ourselves (the reference
/// connects to itself when told about itself), within the budget.
pub async fn peers_frame(g: &Gossip, s: &Session) -> Result<Frame, GossipError> {
    let circle_id = s.circle.circle_id.clone();
    let cid = circle_id.clone();
    let peers = g
        .node()
        .store()
        .read(move |conn| peer_sql::list(conn, Some(&cid)))
        .await
        .map_err(|e| GossipError::Node(e.into()))?;
    let me = g.node().node_id();
    let budget = s.json_budget();
    let mut used = 64;
    let mut entries = Vec::new();
    for p in peers
        .into_iter()
        .filter(|p| p.node_id != s.peer_node_id && p.node_id != me)
        .take(MAX_PEERS_SENT)
    {
        let cost = p.node_id.len() + p.addr.len() + 64;
        if used + cost > budget {
            break;
        }
        used += cost;
        entries.push(PeerEntry {
            node_id: p.node_id,
            addr: p.addr,
            last_seen: p.last_seen,
        });
    }
    Ok(Frame::Peers {
        circle_id,
        peers: entries,
    })
}

/// Merges a received PEERS frame (PROTOCOL.md §6 step 4). Unlike the reference, which
/// makes every entry a member, the entries are only dial candidates: a member vouches
/// for them, but they become peers only by completing a session of their own.
pub async fn merge_peers(g: &Gossip, s: &Session, peers: &[PeerEntry]) -> Result<(), GossipError> {
    let named = peers
        .iter()
        .take(MAX_PEERS_SENT)
        .map(|p| (p.node_id.clone(), p.addr.clone()))
        .collect();
    g.node()
        .add_candidates(&s.circle.circle_id, Source::PeersFrame, named)
        .await?;
    Ok(())
}

/// Opens a sync (PROTOCOL.md §6 steps 1–4): writes our PEERS and `second` while
/// reading theirs — PEERS, then a frame `is_second` accepts — and merges their
/// peers. Returns their second frame.
pub async fn open_sync(
    g: &Gossip,
    s: &mut Session,
    second: Frame,
    is_second: fn(&Frame) -> bool,
) -> Result<Frame, GossipError> {
    let out = [peers_frame(g, s).await?, second];
    let mut step = 0;
    let mut got = s
        .exchange(&out, |f| {
            step += 1;
            match (step, f) {
                (1, Frame::Peers { .. }) => Ok(false),
                (2, f) if is_second(f) => Ok(true),
                _ => Err(unexpected(f)),
            }
        })
        .await?;
    let (Some(theirs), Some(Frame::Peers { peers, .. })) = (got.pop(), got.pop()) else {
        return Err(GossipError::Protocol("Bad sync frames".into()));
    };
    merge_peers(g, s, &peers).await?;
    Ok(theirs)
}

/// A protocol error for a frame that is not the one expected here.
pub fn unexpected(f: &Frame) -> GossipError {
    tracing::debug!(frame = f.type_name(), "unexpected frame during sync");
    GossipError::Protocol("Bad sync frames".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_ids_stops_before_the_budget_is_exceeded() {
        let ids: Vec<String> = (0..100).map(|i| format!("{i:032}")).collect();
        let fitted = fit_ids(ids.clone(), 400);
        let json = serde_json::to_string(&fitted).expect("json");
        assert!(json.len() <= 400, "{}", json.len());
        // 11 ids of 32 chars: 2 + 11 × 35 = 387 bytes by our count (386 real).
        assert_eq!(fitted.len(), 11);
        assert_eq!(fitted[..], ids[..11]);
    }

    #[test]
    fn fit_values_keeps_the_first_that_fit() {
        let vals: Vec<(Value, usize)> = (0..10).map(|i| (Value::from(i), 100)).collect();
        assert_eq!(fit_values(vals, 350).len(), 3);
    }

    #[test]
    fn a_message_too_large_for_any_frame_does_not_block_the_ones_behind_it() {
        let vals = vec![
            (Value::from(1), 100),
            (Value::from(2), 10_000),
            (Value::from(3), 100),
        ];
        assert_eq!(fit_values(vals, 350), [Value::from(1), Value::from(3)]);
    }
}
