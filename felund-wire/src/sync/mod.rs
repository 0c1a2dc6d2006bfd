//! The gossip sync after the handshake, as sans-I/O state machines: both flavours, the live
//! link and the anchor exchange.
//!
//! Like [`crate::handshake`], every machine takes decoded [`Frame`]s and gives back the frames
//! to write and what happened ("the peer names these nodes", "the peer wants these ids",
//! "store these messages", "the peer holds these ids"); it owns no socket, clock or store. Its
//! questions are parameters: the driver reads our ids, peers and messages from its store and
//! passes them in. Each step consumes the previous state, so steps cannot run out of order,
//! and a step that takes a run of frames returns [`Step::More`] until the run is complete.
//!
//! Both sides of a sync run the same steps and write each step's frames before (felundd:
//! while) reading the other's, so the driver writes the frames a step returns while it feeds
//! the peer's frames of the same step to the machine.
//!
//! - [`reference`]: PEERS, MSGS_HAVE, MSGS_REQ, MSGS_SEND, budgeted to a reference peer's line
//!   limits ([`budget`]).
//! - [`digest`]: between felundd nodes: PEERS and X_DIGEST, then X_BUCKETS and runs of X_IDS,
//!   X_REQ and X_SEND ([`runs`]).
//! - [`link`]: X_LINK / X_LINK_OK, then X_PUSH and X_PING on the live link.
//! - [`anchor`]: ANCHOR_PUSH / ANCHOR_PULL in both roles (reference peers only).
//! - [`peers`]: the PEERS frame both flavours open with.
//!
//! ```text
//! reference                                  digest (felundd ⇄ felundd)
//! RefSync::start ── PEERS, MSGS_HAVE ──►      ExtSync::start ── PEERS, X_DIGEST ──►
//!   on_frame × 2 → RefOpened (MSGS_REQ)         on_frame × 2 → ExtOpened (in sync: done,
//! AwaitingReq::on_frame → wanted ids                          else X_BUCKETS)
//! Answering::answer(messages) → MSGS_SEND     AwaitingBuckets::on_frame → X_IDS run
//! AwaitingSend::on_frame → RefDone            IdsRun::on_frame … → X_REQ run
//!   (messages to store, ids the peer holds)   ReqRun::on_frame … → Transfer
//!                                               SendRun (X_SEND out) ‖ ReceiveRun (X_SEND in)
//! ```
//!
//! Everything read is bounded: PEERS entries ([`crate::limits::MAX_PEERS_PER_FRAME`]), ids
//! answered per MSGS_REQ ([`crate::limits::MAX_REQ_IDS_SERVED`]), wanted ids per session
//! ([`crate::ext::MAX_WANTED_IDS`]), and every run by what the other side may send in it: no
//! more ids than its digest counts, no more requests than ids we offered, no more messages
//! than we asked for, no empty chunk that claims more follow.

pub mod anchor;
pub mod budget;
pub mod digest;
pub mod link;
pub mod peers;
pub mod reference;
pub mod runs;

#[cfg(test)]
mod tests;

use thiserror::Error;

use crate::frame::PeerEntry;
use crate::Frame;

pub use digest::ExtSync;
pub use reference::RefSync;

/// Why a sync ended. [`SyncError::reply`] is the `ERROR` text to answer with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncError {
    /// The peer sent an `ERROR` frame.
    #[error("peer refused: {0}")]
    Refused(String),
    /// A frame other than the one this step takes.
    #[error("expected {expected}, got {got}")]
    Unexpected {
        /// The frame type this step takes.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
    /// The peer sent more than the protocol lets it send here.
    #[error("the peer sent {0}")]
    TooMuch(&'static str),
}

impl SyncError {
    /// The `ERROR` frame text to answer with (the reference's wording where it has one);
    /// `None` when the peer gave up itself.
    pub fn reply(&self) -> Option<&'static str> {
        Some(match self {
            SyncError::Refused(_) => return None,
            SyncError::Unexpected {
                expected: "MSGS_REQ",
                ..
            } => "Expected MSGS_REQ",
            SyncError::Unexpected {
                expected: "MSGS_SEND",
                ..
            } => "Expected MSGS_SEND",
            SyncError::Unexpected { .. } | SyncError::TooMuch(_) => "Bad sync frames",
        })
    }
}

/// The error for a frame that is not the one expected (an `ERROR` frame becomes
/// [`SyncError::Refused`]).
fn unexpected(expected: &'static str, got: Frame) -> SyncError {
    match got {
        Frame::Error { err } => SyncError::Refused(err),
        other => SyncError::Unexpected {
            expected,
            got: other.type_name(),
        },
    }
}

/// What a state that reads a run of frames returns for each one.
#[derive(Debug)]
pub enum Step<S, N> {
    /// The step needs more frames: feed the next one to this state.
    More(S),
    /// The step is complete; this is what follows.
    Done(N),
}

/// What every sync starts from: the session and what the driver read from its store.
#[derive(Debug, Clone)]
pub struct SyncStart {
    /// The circle of the session.
    pub circle_id: String,
    /// Our node id (never listed in our PEERS).
    pub local_node_id: String,
    /// The peer's node id (never listed in the PEERS it gets).
    pub peer_node_id: String,
    /// Bytes of frame JSON that fit one line to the peer ([`budget::json_budget`]).
    pub json_budget: usize,
    /// The circle's known peers with an address, most recently seen first.
    pub peers: Vec<PeerEntry>,
}
