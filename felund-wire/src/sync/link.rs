//! Live links: after a digest sync the initiator may offer (`X_LINK`) to keep the
//! connection, and the responder accepts (`X_LINK_OK`). Both sides then push every message
//! they newly store as `X_PUSH` and ping with `X_PING`; a link takes nothing else. When to
//! offer, ping and give up is the driver's (it has the clock); a link that ends loses
//! nothing, since the next digest sync repairs the difference.

use serde_json::Value;

use crate::ext::MAX_PUSH_MESSAGES;
use crate::Frame;

use super::{unexpected, SyncError};

/// The initiator after writing `X_LINK`, waiting for the answer.
#[derive(Debug)]
pub struct LinkOffered(());

/// The responder after a digest sync, waiting for an offer.
#[derive(Debug)]
pub struct AwaitingOffer(());

/// A live link.
#[derive(Debug)]
pub struct Link(());

impl LinkOffered {
    /// Offers a link; returns the state and the `X_LINK` to write.
    pub fn offer() -> (Self, Frame) {
        (Self(()), Frame::XLink {})
    }

    /// Takes the answer: `X_LINK_OK` starts the link; anything else means none (the
    /// session ends).
    pub fn on_frame(self, frame: Frame) -> Option<Link> {
        matches!(frame, Frame::XLinkOk {}).then_some(Link(()))
    }
}

impl AwaitingOffer {
    /// The responder's state once the sync is over.
    pub fn new() -> Self {
        Self(())
    }

    /// Takes the frame after the sync: `X_LINK` starts the link, with the `X_LINK_OK` to
    /// write; anything else means none (the session ends).
    pub fn on_frame(self, frame: Frame) -> Option<(Link, Frame)> {
        matches!(frame, Frame::XLink {}).then_some((Link(()), Frame::XLinkOk {}))
    }
}

impl Default for AwaitingOffer {
    fn default() -> Self {
        Self::new()
    }
}

impl Link {
    /// Takes a frame from the peer: the messages of an `X_PUSH` (at most
    /// [`MAX_PUSH_MESSAGES`]; verify each, then store the good ones), nothing for an `X_PING`.
    /// Anything else ends the link.
    pub fn on_frame(&self, frame: Frame) -> Result<Option<Vec<Value>>, SyncError> {
        match frame {
            Frame::XPush { messages } if messages.len() > MAX_PUSH_MESSAGES => Err(
                SyncError::TooMuch("more messages in one X_PUSH than a link carries"),
            ),
            Frame::XPush { messages } => Ok(Some(messages)),
            Frame::XPing {} => Ok(None),
            other => Err(unexpected("X_PUSH or X_PING", other)),
        }
    }

    /// The `X_PUSH` frames for `messages`, newly stored message objects of the circle: one
    /// per [`MAX_PUSH_MESSAGES`] (a driver that batches up to that writes one).
    pub fn push(&self, mut messages: Vec<Value>) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(messages.len().div_ceil(MAX_PUSH_MESSAGES));
        while messages.len() > MAX_PUSH_MESSAGES {
            let rest = messages.split_off(MAX_PUSH_MESSAGES);
            frames.push(Frame::XPush { messages });
            messages = rest;
        }
        if !messages.is_empty() {
            frames.push(Frame::XPush { messages });
        }
        frames
    }

    /// The `X_PING` that keeps the link alive.
    pub fn ping(&self) -> Frame {
        Frame::XPing {}
    }
}
