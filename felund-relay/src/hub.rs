//! Fan-out of newly stored messages to WebSocket subscribers, by circle hint.
//!
//! A post costs work for the subscribers of its own circle hint only: [`Rooms`] keeps each
//! hint's subscriber queues, and delivering an event looks its hint up, serialises the
//! `MESSAGES` frame once ([`Delivery`]) and appends that one shared frame to each of the hint's
//! queues (skipping the poster's own sockets). Subscribers of other hints are neither visited nor
//! woken, so a relay holding 10,000 sockets spends on a post what it spends with one.
//!
//! [`PushHub`] is the seam for cross-instance push: [`LocalHub`] delivers within the process;
//! [`PgHub`](crate::store::PgHub) feeds the same rooms from PostgreSQL `LISTEN/NOTIFY`, so a
//! message posted to any instance reaches the subscribers of every instance, without the
//! handlers or the socket loop knowing which hub they use.

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use serde_json::value::RawValue;

pub use crate::rooms::{Inbox, Next, Rooms};

/// One message inside a [`PushEvent`].
#[derive(Debug)]
pub struct PushedMessage {
    /// Its sequence number.
    pub seq: i64,
    /// The message object exactly as received.
    pub payload: Box<RawValue>,
}

/// Messages newly stored by one `POST /v1/messages`.
#[derive(Debug)]
pub struct PushEvent {
    /// The circle they were posted to.
    pub circle_hint: String,
    /// The poster's `X-Felund-Node`, if it sent one; its own sockets are skipped.
    pub sender_node: Option<String>,
    /// Server time of storage.
    pub server_time: i64,
    /// The newly stored messages, in seq order.
    pub messages: Vec<PushedMessage>,
}

#[derive(Serialize)]
struct MessagesFrame<'a> {
    t: &'static str,
    messages: Vec<&'a RawValue>,
    server_time: i64,
    cursor: i64,
}

/// The push frame `{"t":"MESSAGES","messages":[...],"server_time":..,"cursor":..}` (the replay on
/// connect and every live push); `cursor` is the seq of the last message.
pub fn messages_frame<'a>(
    messages: impl IntoIterator<Item = &'a RawValue>,
    server_time: i64,
    cursor: i64,
) -> Option<String> {
    serde_json::to_string(&MessagesFrame {
        t: "MESSAGES",
        messages: messages.into_iter().collect(),
        server_time,
        cursor,
    })
    .ok()
}

/// A push event as its subscribers receive it: the event with its frame, serialised once and
/// shared by every socket that sends it.
#[derive(Debug)]
pub struct Delivery {
    event: PushEvent,
    frame: Utf8Bytes,
    first_seq: i64,
    last_seq: i64,
}

impl Delivery {
    /// The delivery of `event`; `None` when it carries no message.
    pub fn new(event: PushEvent) -> Option<Self> {
        let first_seq = event.messages.first()?.seq;
        let last_seq = event.messages.last()?.seq;
        let payloads = event.messages.iter().map(|m| m.payload.as_ref());
        let frame = messages_frame(payloads, event.server_time, last_seq)?;
        Some(Self {
            event,
            frame: frame.into(),
            first_seq,
            last_seq,
        })
    }

    /// The circle hint it goes to.
    pub fn circle_hint(&self) -> &str {
        &self.event.circle_hint
    }

    /// The poster's node, whose own sockets do not get it.
    pub fn sender_node(&self) -> Option<&str> {
        self.event.sender_node.as_deref()
    }

    /// Size of its frame in bytes (what it costs while queued).
    pub fn len(&self) -> usize {
        self.frame.len()
    }

    /// True if its frame is empty (never: a frame has at least its keys).
    pub fn is_empty(&self) -> bool {
        self.frame.is_empty()
    }

    /// The frame (and its cursor) for a socket that has seen every seq up to `last_seq`:
    /// the shared frame when all of it is new, a frame of the new messages when part of it
    /// was already replayed, `None` when nothing is new.
    pub fn frame_after(&self, last_seq: i64) -> Option<(Utf8Bytes, i64)> {
        if last_seq >= self.last_seq {
            return None;
        }
        if last_seq < self.first_seq {
            return Some((self.frame.clone(), self.last_seq));
        }
        let fresh = self.event.messages.iter().filter(|m| m.seq > last_seq);
        let text = messages_frame(
            fresh.map(|m| m.payload.as_ref()),
            self.event.server_time,
            self.last_seq,
        )?;
        Some((text.into(), self.last_seq))
    }
}

/// Publishes push events to the subscribers of their circle hint (of this process or, for a
/// shared hub, of every relay instance).
pub trait PushHub: Send + Sync + 'static {
    /// Hands `event` (just committed by this process) to the hub; never blocks. A local hub
    /// delivers it at once; a shared hub may ignore it because its feed (the database) will
    /// deliver the same messages to every instance, in commit order.
    fn publish(&self, event: PushEvent);

    /// A new subscription of `circle_hint` for a socket opened by `node_id` (events posted by
    /// that node are not delivered to it), receiving every event delivered from now on.
    fn subscribe(&self, circle_hint: &str, node_id: &str) -> Inbox;

    /// False while the hub's feed is down: new subscriptions would miss pushes, so they are
    /// refused (503) and sessions that subscribed meanwhile close themselves.
    fn is_live(&self) -> bool {
        true
    }
}

/// A [`PushHub`] for one process: delivers each published event to the rooms at once.
#[derive(Debug, Clone, Default)]
pub struct LocalHub {
    rooms: Rooms,
}

impl PushHub for LocalHub {
    fn publish(&self, event: PushEvent) {
        self.rooms.deliver(event);
    }

    fn subscribe(&self, circle_hint: &str, node_id: &str) -> Inbox {
        self.rooms.join(circle_hint, node_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seqs: &[i64]) -> PushEvent {
        PushEvent {
            circle_hint: "circle01".into(),
            sender_node: None,
            server_time: 7,
            messages: seqs
                .iter()
                .map(|&seq| PushedMessage {
                    seq,
                    payload: RawValue::from_string(format!("{{\"n\":{seq}}}")).expect("raw"),
                })
                .collect(),
        }
    }

    #[test]
    fn frame_after_shares_the_whole_frame_and_trims_what_was_replayed() {
        assert!(Delivery::new(event(&[])).is_none());
        let d = Delivery::new(event(&[3, 4])).expect("delivery");
        let (text, cursor) = d.frame_after(0).expect("frame");
        assert_eq!(cursor, 4);
        assert_eq!(
            text.as_str(),
            r#"{"t":"MESSAGES","messages":[{"n":3},{"n":4}],"server_time":7,"cursor":4}"#
        );
        let (text, _) = d.frame_after(3).expect("frame");
        assert_eq!(
            text.as_str(),
            r#"{"t":"MESSAGES","messages":[{"n":4}],"server_time":7,"cursor":4}"#
        );
        assert!(d.frame_after(4).is_none());
        assert!(d.frame_after(9).is_none());
    }
}
