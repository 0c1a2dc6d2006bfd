//! Live events that survive a felundd restart.
//!
//! [`EventStream`] subscribes to felundd's events and, when the stream ends or the
//! daemon goes away, waits for it (backing off from 0.1 s to 5 s), subscribes again
//! and carries on where it stopped: it subscribes with the `seq` of the last message
//! it delivered (`SubscribeRequest.after_seq`), and felundd first replays every chat
//! message stored after it. Each message is delivered once, in felundd's storage
//! order, and none stored while the stream was away is missed (felundd replays at most
//! 10,000; beyond that a `Lagged` event says so). Events that are not messages
//! (channel, circle, peer, name and read changes) are not replayed: re-list those if
//! they matter.

use tonic::{Code, Status, Streaming};

use crate::api::{self, event};
use crate::limits::{RECONNECT_INITIAL, RECONNECT_MAX};
use crate::retry::Backoff;
use crate::ApiClient;

/// Waits between resubscribe attempts while felundd is away.
const RECONNECT: Backoff = Backoff::new(RECONNECT_INITIAL, RECONNECT_MAX);

/// A resumable subscription to felundd's live events; see the [module docs](self).
pub struct EventStream {
    client: ApiClient,
    circle: String,
    stream: Option<Streaming<api::Event>>,
    /// The seq of the last message delivered (or, before the first, of the newest
    /// message stored when the stream started).
    after_seq: Option<u64>,
    failures: u32,
}

impl EventStream {
    /// Events of `circle` (an id, a unique prefix or a name; empty: every circle),
    /// from the moment of the first [`next`](Self::next) on.
    pub fn new(client: ApiClient, circle: impl Into<String>) -> Self {
        EventStream {
            client,
            circle: circle.into(),
            stream: None,
            after_seq: None,
            failures: 0,
        }
    }

    /// The next event. Waits through felundd restarts; fails only when felundd
    /// refuses the subscription (e.g. `NOT_FOUND` for an unknown circle).
    pub async fn next(&mut self) -> Result<api::Event, Status> {
        loop {
            let Some(stream) = self.stream.as_mut() else {
                if let Err(status) = self.subscribe().await {
                    self.recover(status).await?;
                }
                continue;
            };
            match stream.message().await {
                Ok(Some(event)) => {
                    if let Some(event::Kind::Message(m)) = &event.kind {
                        self.after_seq = Some(self.after_seq.unwrap_or(0).max(m.seq));
                    }
                    return Ok(event);
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

    async fn wait(&mut self) {
        self.stream = None;
        self.failures = self.failures.saturating_add(1);
        tokio::time::sleep(RECONNECT.delay(self.failures)).await;
    }

    /// Subscribes, replaying what was stored after the last message delivered (once
    /// this returns, felundd has registered the subscription).
    async fn subscribe(&mut self) -> Result<(), Status> {
        let after_seq = match self.after_seq {
            Some(seq) => seq,
            None => {
                let info = self
                    .client
                    .get_node_info(api::GetNodeInfoRequest {})
                    .await?;
                let seq = info.into_inner().last_seq;
                self.after_seq = Some(seq);
                seq
            }
        };
        let request = api::SubscribeRequest {
            circle: self.circle.clone(),
            after_seq,
        };
        self.stream = Some(self.client.subscribe(request).await?.into_inner());
        self.failures = 0;
        Ok(())
    }
}

/// Whether a failed call means felundd is not there (stopped, restarting, killed)
/// rather than that it refused: `UNAVAILABLE`, or any status that wraps a transport
/// error (a connection cut mid-stream is `UNKNOWN` "h2 protocol error"). Statuses
/// felundd sends carry no source error.
fn felundd_is_away(status: &Status) -> bool {
    status.code() == Code::Unavailable || std::error::Error::source(status).is_some()
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
