//! The subscribers of each circle hint and their bounded push queues.
//!
//! [`Rooms`] maps a circle hint to its subscribers; each subscriber has a small queue of shared
//! [`Delivery`]s and a [`Notify`] that wakes its socket task. Delivering an event touches only
//! the queues of its hint, so a post costs nothing for subscribers of other hints (a single
//! broadcast channel woke every socket of the relay for every post). A queue holds at most
//! [`WS_QUEUE_MAX_EVENTS`] events and [`WS_QUEUE_MAX_BYTES`] bytes of frames (one event is
//! always accepted): a subscriber that falls further behind is closed with "push lagged", and
//! its client catches up through the replay on reconnect or its `after_seq` cursor, as after
//! any reconnect. The frames are shared, so queued events cost a pointer each until the last
//! socket has sent them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::hub::{Delivery, PushEvent};
use crate::limits::{WS_QUEUE_MAX_BYTES, WS_QUEUE_MAX_EVENTS};

/// Close reason of a subscriber whose queue overflowed.
pub const PUSH_LAGGED: &str = "push lagged";

/// What a subscription yields next.
#[derive(Debug)]
pub enum Next {
    /// An event for this subscriber's hint.
    Push(Arc<Delivery>),
    /// The subscription ended: the queue overflowed ([`PUSH_LAGGED`]) or the hub lost its feed;
    /// pushes may have been missed, so the socket should close with this reason and let the
    /// client reconnect.
    Closed(&'static str),
}

#[derive(Debug, Default)]
struct QueueState {
    events: VecDeque<Arc<Delivery>>,
    bytes: usize,
    closed: Option<&'static str>,
}

/// One subscriber's queue.
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Notify,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `delivery`; false if the queue is closed (now or before).
    fn push(&self, delivery: &Arc<Delivery>) -> bool {
        let mut state = self.lock();
        if state.closed.is_some() {
            return false;
        }
        let full = state.events.len() >= WS_QUEUE_MAX_EVENTS
            || (!state.events.is_empty() && state.bytes + delivery.len() > WS_QUEUE_MAX_BYTES);
        if full {
            close(&mut state, PUSH_LAGGED);
        } else {
            state.bytes += delivery.len();
            state.events.push_back(Arc::clone(delivery));
        }
        drop(state);
        self.ready.notify_one();
        !full
    }

    fn close(&self, reason: &'static str) {
        close(&mut self.lock(), reason);
        self.ready.notify_one();
    }
}

/// Marks the queue closed (the first reason wins) and frees what it held.
fn close(state: &mut QueueState, reason: &'static str) {
    state.closed.get_or_insert(reason);
    state.events = VecDeque::new();
    state.bytes = 0;
}

#[derive(Debug)]
struct Member {
    id: u64,
    node_id: Box<str>,
    queue: Arc<Queue>,
}

#[derive(Debug, Default)]
struct Inner {
    rooms: Mutex<HashMap<Box<str>, Vec<Member>>>,
    next_id: AtomicU64,
}

/// The subscribers of every circle hint (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Rooms {
    inner: Arc<Inner>,
}

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, Vec<Member>>> {
        self.inner.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribes a socket of `circle_hint` opened by `node_id`.
    pub fn join(&self, circle_hint: &str, node_id: &str) -> Inbox {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(Queue::default());
        let member = Member {
            id,
            node_id: node_id.into(),
            queue: Arc::clone(&queue),
        };
        self.lock()
            .entry(circle_hint.into())
            .or_default()
            .push(member);
        Inbox {
            queue,
            rooms: self.clone(),
            circle_hint: circle_hint.into(),
            id,
        }
    }

    /// True if anyone subscribes to `circle_hint`.
    pub fn has_subscribers(&self, circle_hint: &str) -> bool {
        self.lock().contains_key(circle_hint)
    }

    /// Queues `event` for every subscriber of its hint except the poster's own sockets; the
    /// frame is serialised once, and only if someone will receive it.
    pub fn deliver(&self, event: PushEvent) {
        let sender = event.sender_node.as_deref();
        let wanted = self
            .lock()
            .get(event.circle_hint.as_str())
            .is_some_and(|room| room.iter().any(|m| Some(m.node_id.as_ref()) != sender));
        if !wanted {
            return;
        }
        // Serialised outside the lock: a large batch must not hold up other hints' posts.
        let Some(delivery) = Delivery::new(event).map(Arc::new) else {
            return;
        };
        let sender = delivery.sender_node();
        let mut rooms = self.lock();
        if let Some(room) = rooms.get_mut(delivery.circle_hint()) {
            // A lagged subscriber leaves its room at once; its socket closes on its own.
            room.retain(|m| Some(m.node_id.as_ref()) == sender || m.queue.push(&delivery));
        }
    }

    /// Ends every subscription with `reason` (the hub's feed was lost).
    pub fn interrupt(&self, reason: &'static str) {
        let rooms = std::mem::take(&mut *self.lock());
        for member in rooms.into_values().flatten() {
            member.queue.close(reason);
        }
    }

    fn leave(&self, circle_hint: &str, id: u64) {
        let mut rooms = self.lock();
        if let Some(room) = rooms.get_mut(circle_hint) {
            room.retain(|m| m.id != id);
            if room.is_empty() {
                rooms.remove(circle_hint);
            }
        }
    }
}

/// One subscription: yields its hint's events; leaves the room when dropped.
#[derive(Debug)]
pub struct Inbox {
    queue: Arc<Queue>,
    rooms: Rooms,
    circle_hint: Box<str>,
    id: u64,
}

impl Inbox {
    /// The next event, or why the subscription ended. Cancel-safe: an event is taken from the
    /// queue only when it is returned.
    pub async fn recv(&self) -> Next {
        loop {
            {
                let mut state = self.queue.lock();
                if let Some(delivery) = state.events.pop_front() {
                    state.bytes -= delivery.len();
                    return Next::Push(delivery);
                }
                if let Some(reason) = state.closed {
                    return Next::Closed(reason);
                }
            }
            self.queue.ready.notified().await;
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.rooms.leave(&self.circle_hint, self.id);
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use serde_json::value::RawValue;

    use super::*;
    use crate::hub::PushedMessage;

    /// An event of `seq` for `hint` from `sender`, whose frame is about `bytes` long.
    fn event(hint: &str, sender: Option<&str>, seq: i64, bytes: usize) -> PushEvent {
        let payload = format!("{{\"pad\":\"{}\"}}", "x".repeat(bytes));
        PushEvent {
            circle_hint: hint.into(),
            sender_node: sender.map(str::to_owned),
            server_time: 1,
            messages: vec![PushedMessage {
                seq,
                payload: RawValue::from_string(payload).expect("raw"),
            }],
        }
    }

    /// What `inbox` has right now, without waiting.
    fn ready(inbox: &Inbox) -> Option<Next> {
        inbox.recv().now_or_never()
    }

    fn pushed(next: Option<Next>) -> Arc<Delivery> {
        match next {
            Some(Next::Push(delivery)) => delivery,
            other => panic!("expected a push, got {other:?}"),
        }
    }

    #[test]
    fn a_post_is_queued_only_for_its_hint_and_never_for_the_posters_sockets() {
        let rooms = Rooms::default();
        let reader = rooms.join("hint-aaaa", "reader-1");
        let poster = rooms.join("hint-aaaa", "poster-1");
        let elsewhere = rooms.join("hint-bbbb", "reader-1");
        rooms.deliver(event("hint-aaaa", Some("poster-1"), 1, 10));
        let delivery = pushed(ready(&reader));
        assert_eq!(delivery.circle_hint(), "hint-aaaa");
        assert!(ready(&poster).is_none(), "the poster's own socket");
        assert!(ready(&elsewhere).is_none(), "another hint");
        // Positive control: the same sockets get what is theirs.
        rooms.deliver(event("hint-bbbb", None, 2, 10));
        rooms.deliver(event("hint-aaaa", None, 3, 10));
        assert_eq!(pushed(ready(&elsewhere)).circle_hint(), "hint-bbbb");
        assert_eq!(pushed(ready(&poster)).circle_hint(), "hint-aaaa");
        assert_eq!(
            pushed(ready(&reader))
                .frames_after(0)
                .last()
                .expect("frame")
                .1,
            3
        );
    }

    #[test]
    fn a_subscriber_that_stops_reading_is_closed_at_the_byte_bound_and_frees_its_queue() {
        let rooms = Rooms::default();
        let stalled = rooms.join("hint-aaaa", "stalled-1");
        let reader = rooms.join("hint-aaaa", "reader-1");
        let size = 256 * 1024;
        let first = {
            rooms.deliver(event("hint-aaaa", None, 1, size));
            Arc::downgrade(&pushed(ready(&reader)))
        };
        let events = WS_QUEUE_MAX_BYTES / size + 2;
        for seq in 2..=events as i64 {
            rooms.deliver(event("hint-aaaa", None, seq, size));
            // The reader keeps up and gets every event.
            assert_eq!(
                pushed(ready(&reader))
                    .frames_after(0)
                    .last()
                    .expect("frame")
                    .1,
                seq
            );
        }
        assert!(matches!(ready(&stalled), Some(Next::Closed(PUSH_LAGGED))));
        assert!(
            first.upgrade().is_none(),
            "the lagged queue let go of its events"
        );
        // It left the room: later events are not queued for it, the reader still gets them.
        rooms.deliver(event("hint-aaaa", None, 1000, 10));
        assert!(matches!(ready(&stalled), Some(Next::Closed(PUSH_LAGGED))));
        assert_eq!(
            pushed(ready(&reader))
                .frames_after(0)
                .last()
                .expect("frame")
                .1,
            1000
        );
    }

    #[test]
    fn a_subscriber_that_stops_reading_is_closed_at_the_event_bound() {
        let rooms = Rooms::default();
        let stalled = rooms.join("hint-aaaa", "stalled-1");
        for seq in 1..=WS_QUEUE_MAX_EVENTS as i64 {
            rooms.deliver(event("hint-aaaa", None, seq, 1));
        }
        // Full but not over: the first event is still there.
        assert_eq!(
            pushed(ready(&stalled))
                .frames_after(0)
                .last()
                .expect("frame")
                .1,
            1
        );
        rooms.deliver(event("hint-aaaa", None, 5000, 1));
        rooms.deliver(event("hint-aaaa", None, 5001, 1));
        assert!(matches!(ready(&stalled), Some(Next::Closed(PUSH_LAGGED))));
    }

    #[test]
    fn one_event_above_the_byte_bound_still_reaches_an_empty_queue() {
        let rooms = Rooms::default();
        let reader = rooms.join("hint-aaaa", "reader-1");
        rooms.deliver(event("hint-aaaa", None, 1, WS_QUEUE_MAX_BYTES + 1));
        assert!(pushed(ready(&reader)).len() > WS_QUEUE_MAX_BYTES);
    }

    #[test]
    fn an_interruption_ends_every_subscription_and_new_ones_start_afresh() {
        let rooms = Rooms::default();
        let a = rooms.join("hint-aaaa", "reader-1");
        let b = rooms.join("hint-bbbb", "reader-1");
        rooms.deliver(event("hint-aaaa", None, 1, 10));
        rooms.interrupt("database unavailable");
        for inbox in [&a, &b] {
            assert!(matches!(
                ready(inbox),
                Some(Next::Closed("database unavailable"))
            ));
        }
        assert!(!rooms.has_subscribers("hint-aaaa"));
        let fresh = rooms.join("hint-aaaa", "reader-1");
        rooms.deliver(event("hint-aaaa", None, 2, 10));
        assert_eq!(
            pushed(ready(&fresh))
                .frames_after(0)
                .last()
                .expect("frame")
                .1,
            2
        );
    }

    #[test]
    fn a_dropped_subscription_leaves_its_room() {
        let rooms = Rooms::default();
        let a = rooms.join("hint-aaaa", "reader-1");
        let b = rooms.join("hint-aaaa", "reader-2");
        drop(a);
        assert!(rooms.has_subscribers("hint-aaaa"));
        drop(b);
        assert!(!rooms.has_subscribers("hint-aaaa"));
    }

    #[tokio::test]
    async fn a_waiting_subscriber_is_woken_by_its_hints_event() {
        let rooms = Rooms::default();
        let reader = rooms.join("hint-aaaa", "reader-1");
        let waiting = tokio::spawn(async move { reader.recv().await });
        tokio::task::yield_now().await;
        rooms.deliver(event("hint-aaaa", None, 7, 10));
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), waiting)
            .await
            .expect("woken")
            .expect("join");
        assert_eq!(
            pushed(Some(next)).frames_after(0).last().expect("frame").1,
            7
        );
    }
}
