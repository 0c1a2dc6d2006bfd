//! The PEERS frame both sync flavours open with, in both directions, and the reading of the
//! peer's opening (its PEERS, then the flavour's second frame).

use crate::frame::PeerEntry;
use crate::limits::MAX_PEERS_PER_FRAME;
use crate::Frame;

use super::{unexpected, SyncError, SyncStart};

/// What the frame's keys cost before any entry, and each entry besides its two strings.
const ENTRY_OVERHEAD: usize = 64;

/// Our PEERS frame: the known peers of `start` in order (most recently seen first), never the
/// recipient or ourselves (a reference node connects to itself when told about itself), at
/// most [`MAX_PEERS_PER_FRAME`], as many as fit the budget.
pub fn peers_frame(start: &SyncStart) -> Frame {
    let mut used = ENTRY_OVERHEAD;
    let mut entries = Vec::new();
    for p in start
        .peers
        .iter()
        .filter(|p| p.node_id != start.peer_node_id && p.node_id != start.local_node_id)
        .take(MAX_PEERS_PER_FRAME)
    {
        let cost = p.node_id.len() + p.addr.len() + ENTRY_OVERHEAD;
        if used + cost > start.json_budget {
            break;
        }
        used += cost;
        entries.push(p.clone());
    }
    Frame::Peers {
        circle_id: start.circle_id.clone(),
        peers: entries,
    }
}

/// The peer's opening as far as it has been read: its PEERS first, then the frame of type
/// `second`. The named entries are dial candidates, never members: the peer vouches for
/// them, but they become peers only by completing a session of their own.
#[derive(Debug)]
pub(crate) struct OpeningRead {
    /// What the opening is, for errors: `PEERS then …`.
    expected: &'static str,
    named: Option<Vec<PeerEntry>>,
}

impl OpeningRead {
    pub(crate) fn new(expected: &'static str) -> Self {
        Self {
            expected,
            named: None,
        }
    }

    /// Takes one frame of the opening: `Ok(None)` after PEERS, `Ok(Some(frame))` with the
    /// second frame (whose type `is_second` accepts), which completes the opening.
    pub(crate) fn on_frame(
        &mut self,
        frame: Frame,
        is_second: fn(&Frame) -> bool,
    ) -> Result<Option<Frame>, SyncError> {
        match (&self.named, frame) {
            (None, Frame::Peers { mut peers, .. }) => {
                peers.truncate(MAX_PEERS_PER_FRAME);
                self.named = Some(peers);
                Ok(None)
            }
            (Some(_), f) if is_second(&f) => Ok(Some(f)),
            (_, f) => Err(unexpected(self.expected, f)),
        }
    }

    /// The named peers (empty until PEERS was read).
    pub(crate) fn named(self) -> Vec<PeerEntry> {
        self.named.unwrap_or_default()
    }
}
