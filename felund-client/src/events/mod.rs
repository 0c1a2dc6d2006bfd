//! Live events that survive a felundd restart.
//!
//! [`EventStream`] subscribes to felundd's events and, when the stream ends or the
//! daemon goes away, waits for it (backing off from 0.1 s to 5 s), subscribes again,
//! and first delivers the messages stored in between. Each message is delivered once.
//!
//! What a resumed stream delivers: every message whose `created_ts` is at least the
//! later of (when the stream was first subscribed) and (when it broke minus
//! [`GAP_SLACK_S`](crate::limits::GAP_SLACK_S) seconds), up to the newest
//! [`GAP_FILL_PAGE`](crate::limits::GAP_FILL_PAGE) per joined channel. What it may
//! miss: messages that arrive during the gap but were *created* earlier (a peer
//! syncing old history), more than a page per channel, and every event that is not
//! a message (channel, circle, peer and name changes) — re-list those if they matter.

mod resume;

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use tonic::{Code, Status, Streaming};

use crate::api::{self, event};
use crate::limits::GAP_FILL_PAGE;
use crate::ApiClient;
use resume::Resume;

/// A resumable subscription to felundd's live events; see the [module docs](self).
pub struct EventStream {
    client: ApiClient,
    circle: String,
    stream: Option<Streaming<api::Event>>,
    pending: VecDeque<api::Event>,
    resume: Resume,
}

impl EventStream {
    /// Events of `circle` (an id, a unique prefix or a name; empty: every circle).
    /// Nothing is requested until the first [`next`](Self::next).
    pub fn new(client: ApiClient, circle: impl Into<String>) -> Self {
        EventStream {
            client,
            circle: circle.into(),
            stream: None,
            pending: VecDeque::new(),
            resume: Resume::default(),
        }
    }

    /// The next event. Waits through felundd restarts; fails only when felundd
    /// refuses the subscription (e.g. `NOT_FOUND` for an unknown circle).
    pub async fn next(&mut self) -> Result<api::Event, Status> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let Some(stream) = self.stream.as_mut() else {
                if let Err(status) = self.subscribe().await {
                    self.recover(status).await?;
                }
                continue;
            };
            match stream.message().await {
                Ok(Some(event)) => {
                    if self.is_new(&event) {
                        return Ok(event);
                    }
                }
                Ok(None) => {
                    tracing::info!("felundd ended the event stream (it is stopping)");
                    self.wait().await;
                }
                Err(status) => self.recover(status).await?,
            }
        }
    }

    /// Waits to resubscribe when `status` means felundd is away; else returns it.
    async fn recover(&mut self, status: Status) -> Result<(), Status> {
        if !felundd_is_away(&status) {
            return Err(status);
        }
        tracing::info!(error = %status.message(), "event stream lost; resubscribing");
        self.wait().await;
        Ok(())
    }

    /// Whether `event` should be delivered: not a message already delivered.
    fn is_new(&mut self, event: &api::Event) -> bool {
        match &event.kind {
            Some(event::Kind::Message(m)) => self.resume.first_delivery(&m.msg_id),
            _ => true,
        }
    }

    async fn wait(&mut self) {
        self.stream = None;
        tokio::time::sleep(self.resume.broke(now())).await;
    }

    /// Subscribes (once this returns, felundd has registered the subscription) and
    /// queues the messages missed since the stream broke.
    async fn subscribe(&mut self) -> Result<(), Status> {
        let request = api::SubscribeRequest {
            circle: self.circle.clone(),
        };
        let stream = self.client.subscribe(request).await?.into_inner();
        if let Some(cutoff) = self.resume.subscribed(now()) {
            for msg in self.missed(cutoff).await? {
                if self.resume.first_delivery(&msg.msg_id) {
                    self.pending.push_back(api::Event {
                        kind: Some(event::Kind::Message(msg)),
                    });
                }
            }
            self.resume.filled();
        }
        self.stream = Some(stream);
        Ok(())
    }

    /// The messages of every joined channel in scope created at or after `cutoff`,
    /// oldest first.
    async fn missed(&mut self, cutoff: i64) -> Result<Vec<api::Message>, Status> {
        let circles = if self.circle.is_empty() {
            let list = self.client.list_circles(api::ListCirclesRequest {}).await?;
            list.into_inner()
                .circles
                .into_iter()
                .map(|c| c.circle_id)
                .collect()
        } else {
            vec![self.circle.clone()]
        };
        let mut found = Vec::new();
        for circle in circles {
            let request = api::ListChannelsRequest { circle };
            let channels = self.client.list_channels(request).await?.into_inner();
            for channel in channels.channels.into_iter().filter(|c| c.joined) {
                let request = api::ListMessagesRequest {
                    circle: channel.circle_id.clone(),
                    channel: channel.channel_id.clone(),
                    limit: GAP_FILL_PAGE,
                    before: String::new(),
                };
                let page = self.client.list_messages(request).await?.into_inner();
                let fresh: Vec<_> = page
                    .messages
                    .into_iter()
                    .filter(|m| m.created_ts >= cutoff)
                    .collect();
                if fresh.len() >= GAP_FILL_PAGE as usize {
                    tracing::warn!(
                        channel = %channel.channel_id,
                        "over {GAP_FILL_PAGE} messages while the event stream was away; \
                         older ones are not delivered (page with ListMessages)"
                    );
                }
                found.extend(fresh);
            }
        }
        found.sort_by_key(|m| m.created_ts);
        Ok(found)
    }
}

/// Whether a failed call means felundd is not there (stopped, restarting, killed)
/// rather than that it refused: `UNAVAILABLE`, or any status that wraps a transport
/// error (a connection cut mid-stream is `UNKNOWN` "h2 protocol error"). Statuses
/// felundd sends carry no source error.
fn felundd_is_away(status: &Status) -> bool {
    status.code() == Code::Unavailable || std::error::Error::source(status).is_some()
}

/// The wall clock in Unix seconds (what `created_ts` is compared with).
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_are_felundd_away_but_its_refusals_are_not() {
        assert!(felundd_is_away(&Status::unavailable("connection refused")));
        let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
        assert!(felundd_is_away(&Status::from_error(Box::new(cut))));
        assert!(!felundd_is_away(&Status::not_found(
            "no circle matches 'x'"
        )));
        assert!(!felundd_is_away(&Status::unknown("an error felundd sent")));
    }
}
