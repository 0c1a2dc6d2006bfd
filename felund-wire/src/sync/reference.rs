//! The reference sync sequence: PEERS and MSGS_HAVE, MSGS_REQ, MSGS_SEND, each side writing
//! its frame of a step before (felundd: while) reading the other's.
//!
//! Budgets for reference peers, which fail a whole session on a line longer than they read
//! and answer `Internal error` when asked for much more than about 50 ids: MSGS_HAVE lists
//! only as many ids as fit one line — first those the peer was not seen to hold in earlier
//! sessions, newest first, then the rest newest first — sent sorted; MSGS_REQ asks for at most
//! `max_req_ids` of the ids the peer listed that we lack, as many as fit; MSGS_SEND carries the
//! requested messages in order up to the first that would overflow the line, skipping any that
//! could never fit one. A reference newcomer so converges over successive sessions.

use std::collections::HashSet;

use serde_json::Value;

use crate::frame::PeerEntry;
use crate::limits::MAX_REQ_IDS_SERVED;
use crate::Frame;

use super::budget::{fit_ids, fit_values};
use super::peers::{peers_frame, OpeningRead};
use super::{unexpected, Step, SyncError, SyncStart};

/// The sequence after our PEERS and MSGS_HAVE, reading the peer's.
#[derive(Debug)]
pub struct RefSync {
    circle_id: String,
    json_budget: usize,
    max_req_ids: usize,
    held: HashSet<String>,
    opening: OpeningRead,
}

/// The peer's opening is read: write [`RefOpened::request`] while reading its MSGS_REQ.
#[derive(Debug)]
pub struct RefOpened {
    /// Nodes the peer names as peers of the circle: dial candidates, never members.
    pub named_peers: Vec<PeerEntry>,
    /// Our MSGS_REQ.
    pub request: Frame,
    /// The next state.
    pub next: AwaitingReq,
}

/// Waiting for the peer's MSGS_REQ.
#[derive(Debug)]
pub struct AwaitingReq {
    circle_id: String,
    json_budget: usize,
    peer_holds: Vec<String>,
}

/// The peer's request is read: answer it with the messages we hold.
#[derive(Debug)]
pub struct Answering {
    circle_id: String,
    json_budget: usize,
    peer_holds: Vec<String>,
}

/// Waiting for the peer's MSGS_SEND.
#[derive(Debug)]
pub struct AwaitingSend {
    peer_holds: Vec<String>,
}

/// The sequence is complete.
#[derive(Debug)]
pub struct RefDone {
    /// The peer's messages, raw: verify each, then store the good ones (a valid message
    /// that was not asked for is stored like the others, as the reference does).
    pub messages: Vec<Value>,
    /// Ids the peer now holds, among those we hold or asked for (it listed them, or we sent
    /// them): what to advertise last to it next time. Never more than we hold plus what we
    /// asked for, so a peer cannot grow this by listing ids nobody has.
    pub peer_holds: Vec<String>,
}

impl RefSync {
    /// Starts the sequence with `ours`, the ids we hold, newest first; `peer_holds` tells which
    /// of them the peer held in earlier sessions (they are advertised last). `max_req_ids`
    /// caps our MSGS_REQ. Returns the state and our PEERS and MSGS_HAVE, to write in order.
    pub fn start(
        start: SyncStart,
        max_req_ids: usize,
        ours: Vec<String>,
        peer_holds: impl Fn(&str) -> bool,
    ) -> (Self, [Frame; 2]) {
        let unknown_first = ours
            .iter()
            .filter(|id| !peer_holds(id))
            .chain(ours.iter().filter(|id| peer_holds(id)))
            .cloned();
        let mut have = fit_ids(unknown_first, start.json_budget);
        have.sort_unstable();
        let frames = [
            peers_frame(&start),
            Frame::MsgsHave {
                circle_id: start.circle_id.clone(),
                msg_ids: have,
            },
        ];
        let state = Self {
            circle_id: start.circle_id,
            json_budget: start.json_budget,
            max_req_ids,
            held: ours.into_iter().collect(),
            opening: OpeningRead::new("PEERS then MSGS_HAVE"),
        };
        (state, frames)
    }

    /// Takes the peer's PEERS, then its MSGS_HAVE, which completes the step.
    pub fn on_frame(mut self, frame: Frame) -> Result<Step<Self, RefOpened>, SyncError> {
        let their_have = match self
            .opening
            .on_frame(frame, |f| matches!(f, Frame::MsgsHave { .. }))?
        {
            None => return Ok(Step::More(self)),
            Some(Frame::MsgsHave { msg_ids, .. }) => msg_ids,
            Some(other) => return Err(unexpected("MSGS_HAVE", other)),
        };
        let held = &self.held;
        let lacking = their_have.iter().filter(|id| !held.contains(id.as_str()));
        let want = fit_ids(lacking.take(self.max_req_ids).cloned(), self.json_budget);
        let peer_holds = their_have
            .into_iter()
            .filter(|id| held.contains(id.as_str()))
            .chain(want.iter().cloned())
            .collect();
        Ok(Step::Done(RefOpened {
            named_peers: self.opening.named(),
            request: Frame::MsgsReq {
                circle_id: self.circle_id.clone(),
                msg_ids: want,
            },
            next: AwaitingReq {
                circle_id: self.circle_id,
                json_budget: self.json_budget,
                peer_holds,
            },
        }))
    }
}

impl AwaitingReq {
    /// Takes the peer's MSGS_REQ; returns the ids it wants (at most
    /// [`MAX_REQ_IDS_SERVED`]), to be answered with [`Answering::answer`].
    pub fn on_frame(self, frame: Frame) -> Result<(Answering, Vec<String>), SyncError> {
        let mut wanted = match frame {
            Frame::MsgsReq { msg_ids, .. } => msg_ids,
            other => return Err(unexpected("MSGS_REQ", other)),
        };
        wanted.truncate(MAX_REQ_IDS_SERVED);
        let next = Answering {
            circle_id: self.circle_id,
            json_budget: self.json_budget,
            peer_holds: self.peer_holds,
        };
        Ok((next, wanted))
    }
}

impl Answering {
    /// Answers with `messages` (each a message object with its encoded length), the ones the
    /// peer asked for that we hold, in the order asked. Returns the state and our MSGS_SEND,
    /// holding those that fit.
    pub fn answer(
        self,
        messages: impl IntoIterator<Item = (Value, usize)>,
    ) -> (AwaitingSend, Frame) {
        let sending = fit_values(messages, self.json_budget);
        let mut peer_holds = self.peer_holds;
        peer_holds.extend(
            sending
                .iter()
                .filter_map(|m| m.get("msg_id").and_then(Value::as_str))
                .map(str::to_string),
        );
        let frame = Frame::MsgsSend {
            circle_id: self.circle_id,
            messages: sending,
        };
        (AwaitingSend { peer_holds }, frame)
    }
}

impl AwaitingSend {
    /// Takes the peer's MSGS_SEND, which completes the sequence.
    pub fn on_frame(self, frame: Frame) -> Result<RefDone, SyncError> {
        match frame {
            Frame::MsgsSend { messages, .. } => Ok(RefDone {
                messages,
                peer_holds: self.peer_holds,
            }),
            other => Err(unexpected("MSGS_SEND", other)),
        }
    }
}
