//! The relay's WebSocket push (`/v1/relay/ws`, PROTOCOL.md §9): while connected,
//! messages others post to the relay arrive at once as `MESSAGES` frames and are
//! handed to the circle's [`RelaySync`](super::sync::RelaySync) to verify and store.
//! A relay without the endpoint (the PHP relay) or a dropped connection leaves
//! polling in charge; we retry with backoff.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::client::RelayClient;
use crate::counters::Counters;

/// Retry delay after a dropped connection.
const RETRY: Duration = Duration::from_secs(5);
/// Retry delay when the relay has no push endpoint.
const RETRY_NO_ENDPOINT: Duration = Duration::from_secs(300);
/// Largest frame accepted from the relay.
const MAX_FRAME: usize = 8 * 1024 * 1024;

/// Keeps a push connection up for `client`'s circle, sending each pushed batch of
/// message objects to `out`. Ends when `out` is closed.
pub async fn listen(client: RelayClient, counters: Arc<Counters>, out: mpsc::Sender<Vec<Value>>) {
    let set_connected = |up: bool| {
        if let Ok(mut h) = counters.relay.lock() {
            h.push_connected = up;
        }
    };
    loop {
        let url = client.ws_url();
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME))
            .max_frame_size(Some(MAX_FRAME));
        let wait = match tokio_tungstenite::connect_async_with_config(
            url.as_str(),
            Some(config),
            false,
        )
        .await
        {
            Ok((mut stream, _)) => {
                tracing::debug!(relay = %client.api_root(), "relay push connected");
                set_connected(true);
                while let Some(frame) = stream.next().await {
                    match frame {
                        Ok(Message::Text(text)) => {
                            if let Some(messages) = parse_messages(text.as_str()) {
                                if out.send(messages).await.is_err() {
                                    set_connected(false);
                                    return;
                                }
                            }
                        }
                        Ok(Message::Close(_)) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                set_connected(false);
                tracing::debug!(relay = %client.api_root(), "relay push disconnected; polling meanwhile");
                RETRY
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                tracing::debug!(
                    status = resp.status().as_u16(),
                    "relay has no push endpoint; polling only"
                );
                RETRY_NO_ENDPOINT
            }
            Err(e) => {
                tracing::debug!("relay push connection failed: {e}");
                RETRY
            }
        };
        if out.is_closed() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// The message objects of a `MESSAGES` frame; anything else is ignored.
fn parse_messages(text: &str) -> Option<Vec<Value>> {
    let v: Value = serde_json::from_str(text).ok()?;
    if v.get("t")?.as_str()? != "MESSAGES" {
        return None;
    }
    v.get("messages")?.as_array().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_messages_frames_are_taken() {
        assert_eq!(
            parse_messages(r#"{"t":"MESSAGES","messages":[{"a":1}],"server_time":1}"#)
                .map(|m| m.len()),
            Some(1)
        );
        assert!(parse_messages(r#"{"t":"PING"}"#).is_none());
        assert!(parse_messages("not json").is_none());
        assert!(parse_messages(r#"{"t":"MESSAGES","messages":"x"}"#).is_none());
    }
}
