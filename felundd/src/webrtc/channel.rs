//! The felund protocol on one open DataChannel: HELLO/AUTH through felund-wire's machine,
//! then history and live messages out, verified messages in.
//!
//! Nothing here touches a socket: [`Proto`] takes the channel's text messages and queues the
//! frames to write; the peer task ([`super::peer`]) moves them through SCTP and does the
//! store work (history, ingest) the protocol asks for.

use std::collections::VecDeque;

use felund_wire::datachannel::{
    msgs_send_frames, CircleKey, DcFrame, DcHandshake, DcStep, Verified,
};
use felund_wire::limits::DC_MAX_SENT_FRAME_BYTES;
use felund_wire::WireMessage;
use serde_json::Value;

use crate::limits::DC_MAX_QUEUED_BYTES;
use crate::model::Circle;
use crate::node::random_nonce12;

/// What a received text message asks the peer task to do.
#[derive(Debug)]
pub(super) enum Incoming {
    /// Nothing (a handshake step, an ignored frame).
    Nothing,
    /// The peer proved the secret of `circles[index]`: send it the history.
    Verified(Verified),
    /// Unverified message objects from the verified peer, to check and store.
    Messages(Vec<Value>),
    /// The session must end.
    Fail(String),
}

/// The protocol state of one channel.
pub(super) struct Proto {
    handshake: Option<DcHandshake>,
    hello: String,
    verified: Option<Verified>,
    out: VecDeque<String>,
    out_bytes: usize,
}

impl Proto {
    /// A channel to `peer`, meant for `circles[0]` but ready to authenticate in any of them.
    pub(super) fn new(
        own: &str,
        peer: &str,
        circles: &[Circle],
        nonce: String,
    ) -> Result<Self, String> {
        let keys = circles
            .iter()
            .map(|c| CircleKey::new(c.secret.clone()))
            .collect();
        let (handshake, hello) =
            DcHandshake::start(own, peer, keys, nonce).map_err(|e| e.to_string())?;
        Ok(Self {
            handshake: Some(handshake),
            hello,
            verified: None,
            out: VecDeque::new(),
            out_bytes: 0,
        })
    }

    /// The peer, once it proved the secret.
    pub(super) fn verified(&self) -> Option<&Verified> {
        self.verified.as_ref()
    }

    /// The channel opened: HELLO goes first. A channel that opens again (a peer may announce
    /// a second one, which replaces the first) starts over only if AUTH is still missing.
    pub(super) fn on_open(&mut self) {
        if self.verified.is_none() {
            self.out.clear();
            self.out_bytes = 0;
            let hello = self.hello.clone();
            self.queue(hello);
        }
    }

    /// One text message from the channel.
    pub(super) fn on_text(&mut self, text: &str) -> Incoming {
        let frame = match DcFrame::parse(text) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!("ignoring DataChannel message: {e}");
                return Incoming::Nothing;
            }
        };
        if self.verified.is_some() {
            return match frame {
                DcFrame::MsgsSend { messages } => Incoming::Messages(messages),
                DcFrame::MsgNew { message } => Incoming::Messages(vec![message]),
                // Late handshake frames (a browser that saw AUTH before HELLO repeats
                // itself): harmless, ignored.
                DcFrame::Hello { .. } | DcFrame::Auth { .. } => Incoming::Nothing,
            };
        }
        let Some(hs) = self.handshake.take() else {
            return Incoming::Fail("handshake state lost".into());
        };
        match hs.on_frame(frame) {
            Ok(DcStep::Continue(hs, send)) => {
                self.handshake = Some(hs);
                send.into_iter().for_each(|f| {
                    self.queue(f);
                });
                Incoming::Nothing
            }
            Ok(DcStep::Done(verified, send)) => {
                send.into_iter().for_each(|f| {
                    self.queue(f);
                });
                self.verified = Some(verified.clone());
                Incoming::Verified(verified)
            }
            Err(e) => Incoming::Fail(e.to_string()),
        }
    }

    /// Queues a frame; false when the queue is over [`DC_MAX_QUEUED_BYTES`] (the peer reads
    /// too slowly and the session should end).
    pub(super) fn queue(&mut self, frame: String) -> bool {
        self.out_bytes += frame.len();
        self.out.push_back(frame);
        self.out_bytes <= DC_MAX_QUEUED_BYTES
    }

    /// Queues MSGS_SEND frames carrying `messages` (oldest first); returns how many were sent.
    pub(super) fn queue_history(&mut self, messages: &[String]) -> (usize, bool) {
        let (frames, skipped) = msgs_send_frames(messages, DC_MAX_SENT_FRAME_BYTES);
        let mut fits = true;
        for f in frames {
            fits &= self.queue(f);
        }
        (messages.len() - skipped, fits)
    }

    /// Queues one MSG_NEW.
    pub(super) fn queue_new(&mut self, message: &str) -> bool {
        if message.len() + 32 > DC_MAX_SENT_FRAME_BYTES {
            return true;
        }
        self.queue(format!(r#"{{"type":"MSG_NEW","message":{message}}}"#))
    }

    /// The next frame to write, if any.
    pub(super) fn front(&self) -> Option<&String> {
        self.out.front()
    }

    /// The front frame was written.
    pub(super) fn pop(&mut self) {
        if let Some(f) = self.out.pop_front() {
            self.out_bytes -= f.len();
        }
    }
}

/// A stored message as a browser takes it: the relay envelope (its own `enc` when it has one,
/// else sealed now with a fresh nonce), compact JSON.
pub(super) fn to_browser(wire: &WireMessage, circle: &Circle) -> String {
    let env = wire
        .relay_envelope()
        .unwrap_or_else(|| wire.seal_relay_envelope(&circle.secret, random_nonce12()));
    serde_json::to_string(&env).unwrap_or_default()
}
