//! The anchor exchange after a reference sync, in both roles. The initiator, towards a peer
//! whose WELCOME said `can_anchor`, pushes relay envelopes of its newest messages
//! (`ANCHOR_PUSH`), and after the acknowledgement pulls what the anchor holds
//! (`ANCHOR_PULL` → `ANCHOR_MSGS`). An anchor takes the push, acknowledges it and answers
//! the pull. Every list is cut to one line of the peer's limit; an unexpected frame, an
//! ERROR included, just ends the exchange (the sync before it already succeeded).

use serde_json::Value;

use crate::Frame;

use super::budget::fit_values;

/// The initiator after `ANCHOR_PUSH`, waiting for the acknowledgement.
#[derive(Debug)]
pub struct AwaitingPushAck {
    circle_id: String,
}

/// The push was acknowledged: pull next.
#[derive(Debug)]
pub struct Pushed {
    circle_id: String,
}

/// The initiator after `ANCHOR_PULL`, waiting for `ANCHOR_MSGS`.
#[derive(Debug)]
pub struct AwaitingAnchorMsgs(());

/// What the anchor answered a pull with.
#[derive(Debug)]
pub struct Pulled {
    /// Relay envelopes, raw: verify each by the relay rule, then store the good ones.
    pub envelopes: Vec<Value>,
    /// The anchor's clock: the `since` of the next pull from this anchor.
    pub server_time: i64,
}

/// An anchor after the sync, waiting for a push.
#[derive(Debug)]
pub struct AwaitingPush {
    json_budget: usize,
}

/// An anchor that took a push: acknowledge it once the envelopes are stored.
#[derive(Debug)]
pub struct PushTaken {
    json_budget: usize,
}

/// An anchor after the acknowledgement, waiting for a pull.
#[derive(Debug)]
pub struct AwaitingPull {
    json_budget: usize,
}

/// An anchor answering a pull.
#[derive(Debug)]
pub struct AnsweringPull {
    json_budget: usize,
}

impl AwaitingPushAck {
    /// Starts the exchange as initiator with `envelopes` (relay envelopes of our newest
    /// messages, each with its encoded length); returns the state and the `ANCHOR_PUSH`,
    /// holding those that fit `json_budget`.
    pub fn push(
        circle_id: &str,
        json_budget: usize,
        envelopes: impl IntoIterator<Item = (Value, usize)>,
    ) -> (Self, Frame) {
        let frame = Frame::AnchorPush {
            circle_id: circle_id.to_string(),
            envelopes: fit_values(envelopes, json_budget),
        };
        let state = Self {
            circle_id: circle_id.to_string(),
        };
        (state, frame)
    }

    /// Takes the answer: `ANCHOR_PUSH_ACK` lets us pull; anything else ends the exchange.
    pub fn on_frame(self, frame: Frame) -> Option<Pushed> {
        matches!(frame, Frame::AnchorPushAck { .. }).then_some(Pushed {
            circle_id: self.circle_id,
        })
    }
}

impl Pushed {
    /// Pulls what the anchor holds since `since` (the `server_time` of its last answer for
    /// this circle, 0 at first); returns the state and the `ANCHOR_PULL`.
    pub fn pull(self, since: i64) -> (AwaitingAnchorMsgs, Frame) {
        let frame = Frame::AnchorPull {
            circle_id: self.circle_id,
            since,
        };
        (AwaitingAnchorMsgs(()), frame)
    }
}

impl AwaitingAnchorMsgs {
    /// Takes the answer: `ANCHOR_MSGS`, or anything else, which ends the exchange.
    pub fn on_frame(self, frame: Frame) -> Option<Pulled> {
        match frame {
            Frame::AnchorMsgs {
                envelopes,
                server_time,
            } => Some(Pulled {
                envelopes,
                server_time,
            }),
            _ => None,
        }
    }
}

impl AwaitingPush {
    /// An anchor whose answers must fit `json_budget`.
    pub fn new(json_budget: usize) -> Self {
        Self { json_budget }
    }

    /// Takes the first frame after the sync: an `ANCHOR_PUSH` gives its envelopes (verify
    /// each by the relay rule, store the good ones, then [`PushTaken::ack`]); anything else
    /// ends the exchange.
    pub fn on_frame(self, frame: Frame) -> Option<(PushTaken, Vec<Value>)> {
        match frame {
            Frame::AnchorPush { envelopes, .. } => Some((
                PushTaken {
                    json_budget: self.json_budget,
                },
                envelopes,
            )),
            _ => None,
        }
    }
}

impl PushTaken {
    /// Acknowledges the push, `stored` being how many envelopes were newly stored; returns
    /// the state and the `ANCHOR_PUSH_ACK`.
    pub fn ack(self, stored: usize) -> (AwaitingPull, Frame) {
        let frame = Frame::AnchorPushAck {
            stored: i64::try_from(stored).unwrap_or(i64::MAX),
        };
        let state = AwaitingPull {
            json_budget: self.json_budget,
        };
        (state, frame)
    }
}

impl AwaitingPull {
    /// Takes the next frame: an `ANCHOR_PULL` gives its `since` (answer with
    /// [`AnsweringPull::answer`]); anything else ends the exchange.
    pub fn on_frame(self, frame: Frame) -> Option<(AnsweringPull, i64)> {
        match frame {
            Frame::AnchorPull { since, .. } => Some((
                AnsweringPull {
                    json_budget: self.json_budget,
                },
                since,
            )),
            _ => None,
        }
    }
}

impl AnsweringPull {
    /// The `ANCHOR_MSGS` with `envelopes` (relay envelopes of our messages created after
    /// `since`, oldest first, each with its encoded length), as many as fit, and our clock.
    pub fn answer(
        self,
        envelopes: impl IntoIterator<Item = (Value, usize)>,
        server_time: i64,
    ) -> Frame {
        Frame::AnchorMsgs {
            envelopes: fit_values(envelopes, self.json_budget),
            server_time,
        }
    }
}
