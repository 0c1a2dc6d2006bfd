//! Fan-out of newly stored messages to WebSocket subscribers, by circle hint.
//!
//! A post costs work for the subscribers of its own circle hint only: [`Rooms`] keeps each
//! hint's subscriber queues, and delivering an event looks its hint up, serialises its
//! `MESSAGES` frames once ([`Delivery`], [`crate::frames`]) and appends them, shared, to each of
//! the hint's queues (skipping the poster's own sockets). Subscribers of other hints are neither visited nor
//! woken, so a relay holding 10,000 sockets spends on a post what it spends with one.
//!
//! [`PushHub`] is the seam for cross-instance push: [`LocalHub`] delivers within the process;
//! [`PgHub`](crate::store::PgHub) feeds the same rooms from PostgreSQL `LISTEN/NOTIFY`, so a
//! message posted to any instance reaches the subscribers of every instance, without the
//! handlers or the socket loop knowing which hub they use.

use axum::extract::ws::Utf8Bytes;
use serde_json::value::RawValue;

use crate::frames::{frames, Frame};
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

/// A push event as its subscribers receive it: the event with its frames, serialised once and
/// shared by every socket that sends them.
#[derive(Debug)]
pub struct Delivery {
    event: PushEvent,
    frames: Vec<Frame>,
    bytes: usize,
}

impl Delivery {
    /// The delivery of `event`; `None` when it carries no message.
    pub fn new(event: PushEvent) -> Option<Self> {
        let messages = event.messages.iter().map(|m| (m.seq, m.payload.as_ref()));
        let frames = frames(messages, event.server_time);
        if frames.is_empty() {
            return None;
        }
        let bytes = frames.iter().map(|f| f.text.len()).sum();
        Some(Self {
            event,
            frames,
            bytes,
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

    /// Size of its frames in bytes (what it costs while queued).
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// True if it has no frame (never: [`Delivery::new`] refuses that).
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frames (each with its cursor) for a socket that has seen every seq up to
    /// `last_seq`: the shared frames whose messages are all new, a frame of the new messages
    /// where part of one was already replayed, nothing when nothing is new.
    pub fn frames_after(&self, last_seq: i64) -> Vec<(Utf8Bytes, i64)> {
        let mut out = Vec::new();
        for f in self.frames.iter().filter(|f| f.last_seq > last_seq) {
            if f.first_seq > last_seq {
                out.push((f.text.clone(), f.last_seq));
                continue;
            }
            let fresh = self
                .event
                .messages
                .iter()
                .filter(|m| m.seq > last_seq && m.seq <= f.last_seq)
                .map(|m| (m.seq, m.payload.as_ref()));
            let trimmed = frames(fresh, self.event.server_time);
            out.extend(trimmed.into_iter().map(|t| (t.text, t.last_seq)));
        }
        out
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
    use crate::limits::WS_FRAME_MAX_BYTES;

    fn event(seqs: impl IntoIterator<Item = i64>, pad: usize) -> PushEvent {
        PushEvent {
            circle_hint: "circle01".into(),
            sender_node: None,
            server_time: 7,
            messages: seqs
                .into_iter()
                .map(|seq| PushedMessage {
                    seq,
                    payload: RawValue::from_string(format!(
                        "{{\"n\":{seq},\"p\":\"{}\"}}",
                        "x".repeat(pad)
                    ))
                    .expect("raw"),
                })
                .collect(),
        }
    }

    fn ns(frames: &[(Utf8Bytes, i64)]) -> Vec<i64> {
        frames
            .iter()
            .flat_map(|(text, _)| {
                let v: serde_json::Value = serde_json::from_str(text.as_str()).expect("json");
                v["messages"]
                    .as_array()
                    .expect("messages")
                    .iter()
                    .map(|m| m["n"].as_i64().expect("n"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn frames_after_shares_the_whole_frame_and_trims_what_was_replayed() {
        assert!(Delivery::new(event([], 0)).is_none());
        let d = Delivery::new(event([3, 4], 0)).expect("delivery");
        let all = d.frames_after(0);
        assert_eq!(all.len(), 1);
        assert_eq!(
            all[0].0.as_str(),
            r#"{"t":"MESSAGES","messages":[{"n":3,"p":""},{"n":4,"p":""}],"server_time":7,"cursor":4}"#
        );
        assert_eq!(all[0].1, 4);
        let trimmed = d.frames_after(3);
        assert_eq!(ns(&trimmed), vec![4]);
        assert_eq!(trimmed[0].1, 4);
        assert!(d.frames_after(4).is_empty());
        assert!(d.frames_after(9).is_empty());
    }

    #[test]
    fn a_large_batch_goes_out_in_bounded_frames_and_a_partial_replay_is_trimmed() {
        let d = Delivery::new(event(1..=50, WS_FRAME_MAX_BYTES / 8)).expect("delivery");
        let all = d.frames_after(0);
        assert!(all.len() > 1);
        assert_eq!(ns(&all), (1..=50).collect::<Vec<_>>());
        assert_eq!(all.last().expect("last").1, 50);
        assert_eq!(d.len(), all.iter().map(|(t, _)| t.len()).sum::<usize>());
        let after = d.frames_after(20);
        assert_eq!(ns(&after), (21..=50).collect::<Vec<_>>());
    }
}
