//! The relay's WebSocket push (`/v1/relay/ws`, docs/protocol.md §10): while connected,
//! messages others post to the relay arrive at once as `MESSAGES` frames and are
//! handed to the circle's [`RelaySync`](super::sync::RelaySync) to verify and store.
//! A relay without the endpoint (the PHP relay) or a dropped connection leaves
//! polling in charge; we retry with backoff.
//!
//! A WebSocket message is bounded like an HTTP answer ([`MAX_RELAY_ANSWER_BYTES`]: a
//! longer one drops the connection unread, and since the relay would replay it on
//! reconnect, polling alone serves for a while), its objects are screened by size the same
//! way, and at most [`RELAY_PUSHED_QUEUE`](crate::limits::RELAY_PUSHED_QUEUE) batches wait for the sync task, so a relay
//! that pushes faster than we store is slowed down rather than buffered.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::answer::{pushed_objects, Objects};
use super::client::RelayClient;
use crate::counters::Counters;
use crate::limits::MAX_RELAY_ANSWER_BYTES;

/// Retry delay after a dropped connection.
const RETRY: Duration = Duration::from_secs(5);
/// Retry delay when the relay has no push endpoint, or pushed a message over the cap (its
/// replay on reconnect would be the same: polling copes better).
const RETRY_LATER: Duration = Duration::from_secs(300);

/// What a circle's push connection and its sync tell each other.
#[derive(Debug, Default)]
pub struct PushSignals {
    /// An established connection dropped: the sync checks the relay at once instead of
    /// trusting its last poll for half a minute.
    pub lost: Notify,
    /// The sync registered at the relay: a connection refused as "not registered" (a node
    /// that just started or joined) is tried again at once instead of after [`RETRY`].
    pub registered: Notify,
}

/// How a push connection ended.
enum Ended {
    /// `out` is closed: the sync is gone.
    Stopped,
    /// The relay closed it or the connection failed.
    Dropped,
    /// The relay sent a message over [`MAX_RELAY_ANSWER_BYTES`].
    TooLarge,
}

/// Keeps a push connection up for `client`'s circle, sending each pushed batch of
/// message objects to `out`. Ends when `out` is closed. See [`PushSignals`] for what it
/// tells the sync and hears from it.
pub async fn listen(
    client: RelayClient,
    relay_url: String,
    counters: Arc<Counters>,
    out: mpsc::Sender<Objects>,
    signals: Arc<PushSignals>,
) {
    let set_connected = |up: bool| {
        counters.relay_health(&relay_url, |h| h.push_connected = up);
    };
    loop {
        let request = match client.ws_request() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(relay = %client.api_root(), "cannot build the push request: {e}");
                return;
            }
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_RELAY_ANSWER_BYTES))
            .max_frame_size(Some(MAX_RELAY_ANSWER_BYTES));
        let mut until_registered = false;
        let wait = match tokio_tungstenite::connect_async_with_config(request, Some(config), false)
            .await
        {
            Ok((stream, _)) => {
                tracing::debug!(relay = %client.api_root(), "relay push connected");
                set_connected(true);
                let ended = forward(stream, &out).await;
                set_connected(false);
                signals.lost.notify_one();
                match ended {
                    Ended::Stopped => return,
                    Ended::Dropped => {
                        tracing::debug!(relay = %client.api_root(), "relay push disconnected; polling meanwhile");
                        RETRY
                    }
                    Ended::TooLarge => {
                        tracing::warn!(relay = %client.api_root(),
                            "relay pushed a message over {MAX_RELAY_ANSWER_BYTES} bytes; polling only for {} s",
                            RETRY_LATER.as_secs());
                        RETRY_LATER
                    }
                }
            }
            // Not registered yet (the sync registers first thing): try again once it has.
            Err(WsError::Http(resp)) if resp.status().as_u16() == 401 => {
                until_registered = true;
                RETRY
            }
            Err(WsError::Http(resp)) => {
                tracing::debug!(
                    status = resp.status().as_u16(),
                    "relay has no push endpoint; polling only"
                );
                RETRY_LATER
            }
            Err(e) => {
                tracing::debug!("relay push connection failed: {e}");
                RETRY
            }
        };
        if out.is_closed() {
            return;
        }
        if until_registered {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = signals.registered.notified() => {}
            }
        } else {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Hands every `MESSAGES` frame of a connection to `out` until it ends.
async fn forward<S>(mut stream: S, out: &mpsc::Sender<Objects>) -> Ended
where
    S: futures_util::Stream<Item = Result<Message, WsError>> + Unpin,
{
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(Message::Text(text)) => {
                if let Some(messages) = pushed_objects(text.as_str()) {
                    if out.send(messages).await.is_err() {
                        return Ended::Stopped;
                    }
                }
            }
            Ok(Message::Close(_)) => return Ended::Dropped,
            Ok(_) => {}
            Err(WsError::Capacity(_)) => return Ended::TooLarge,
            Err(e) => {
                tracing::debug!("relay push connection failed: {e}");
                return Ended::Dropped;
            }
        }
    }
    Ended::Dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_messages_frames_are_taken() {
        assert_eq!(
            pushed_objects(r#"{"t":"MESSAGES","messages":[{"a":1}],"server_time":1}"#)
                .map(|m| m.kept.len()),
            Some(1)
        );
        assert!(pushed_objects(r#"{"t":"PING"}"#).is_none());
        assert!(pushed_objects("not json").is_none());
        assert!(pushed_objects(r#"{"t":"MESSAGES","messages":"x"}"#).is_none());
    }

    #[test]
    fn oversized_objects_in_a_frame_are_counted_not_kept() {
        let big = format!(
            r#"{{"pad":"{}"}}"#,
            "x".repeat(felund_wire::limits::MAX_RELAY_OBJECT_BYTES)
        );
        let frame = format!(r#"{{"t":"MESSAGES","messages":[{big},{{"a":1}},{big}]}}"#);
        let objects = pushed_objects(&frame).expect("a MESSAGES frame");
        assert_eq!(objects.kept.len(), 1);
        assert_eq!((objects.skipped, objects.skipped_bytes), (2, 2 * big.len()));
    }

    #[test]
    fn a_frame_with_more_objects_than_a_page_is_ignored() {
        let many = vec!["{}"; crate::limits::RELAY_PULL_LIMIT as usize + 1].join(",");
        assert!(pushed_objects(&format!(r#"{{"t":"MESSAGES","messages":[{many}]}}"#)).is_none());
    }
}
