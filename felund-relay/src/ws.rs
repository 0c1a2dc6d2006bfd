//! `GET /v1/relay/ws?circle_hint=..&node_id=..`: WebSocket push (PROTOCOL.md §9).
//!
//! On connect the socket gets the messages stored in the last 120 s (at most 200, and at most
//! the configured replay bytes — a client pages the rest with `after_seq`) as one
//! `{"t":"MESSAGES","messages":[...],"server_time":ts,"cursor":seq}` frame (only if there are
//! any); afterwards every message newly stored by `POST /v1/messages` for its circle is pushed
//! the same way, except to sockets opened with the poster's `X-Felund-Node`. `cursor` is the
//! seq of the last message in the frame (extension: a client may resume with `after_seq`).
//! The relay pings every 15 s and closes a socket it has not heard from for two intervals;
//! client frames (`{"t":"PONG"}` or anything else) are ignored.
//!
//! When pushes could have been missed — the database (and with it the cross-instance feed)
//! went away, or the socket fell too far behind — the relay closes the socket with code 1013
//! ("try again later") and a reason (`database unavailable`, `push lagged`), so the client
//! reconnects and catches up through the replay or its `after_seq` cursor. While the push feed
//! is down, new subscriptions are refused with 503.
//!
//! Subscribers are capped per circle and signing key (unsigned subscribers count apart, so an
//! outsider's sockets never take the members' share), per client address and in total (429 or
//! 503 on the upgrade request); a socket that does not take a frame within
//! [`WS_SEND_TIMEOUT_S`] is dropped, so a stalled reader cannot hold pushes back.

use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::auth::{self, Signed};
use crate::client::client_ip;
use crate::error::ApiError;
use crate::hub::{HubEvent, PushEvent};
use crate::input::query_map;
use crate::limits::{ID_MAX_LEN, ID_MIN_LEN, WS_REPLAY_MAX, WS_REPLAY_WINDOW_S, WS_SEND_TIMEOUT_S};
use crate::state::AppState;
use crate::store::{MessageCursor, PageLimit, StoreError};
use crate::subscribers::Subscription;

/// Largest frame accepted from a client (they only send `PONG`s).
const MAX_CLIENT_FRAME: usize = 64 * 1024;

#[derive(Serialize)]
struct MessagesFrame<'a> {
    t: &'static str,
    messages: Vec<&'a RawValue>,
    server_time: i64,
    cursor: i64,
}

fn frame_text(messages: Vec<&RawValue>, server_time: i64, cursor: i64) -> Option<String> {
    serde_json::to_string(&MessagesFrame {
        t: "MESSAGES",
        messages,
        server_time,
        cursor,
    })
    .ok()
}

/// The upgrade handler: 400 without `circle_hint` (8–128 chars) and `node_id` (1–128);
/// signature headers, when present, are verified like a message pull (and required with
/// `--require-signatures`); 429/503 when a subscriber cap is reached.
pub async fn subscribe(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let query = query_map(&uri);
    let circle_hint = query.get("circle_hint").cloned().unwrap_or_default();
    let node_id = query.get("node_id").cloned().unwrap_or_default();
    if circle_hint.chars().count() < ID_MIN_LEN || node_id.is_empty() {
        return Err(ApiError::bad("circle_hint and node_id required"));
    }
    if circle_hint.len() > ID_MAX_LEN || node_id.len() > ID_MAX_LEN {
        return Err(ApiError::bad(format!(
            "circle_hint and node_id must be at most {ID_MAX_LEN} bytes"
        )));
    }
    let signed = Signed {
        method: &method,
        path: uri.path(),
        headers: &headers,
        body: b"",
    };
    let key = auth::enforce_if_signed(&state, signed, &circle_hint).await?;
    if !state.hub.is_live() {
        return Err(ApiError::Unavailable("push feed is down".into()));
    }
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::bad(format!(
            "WebSocket upgrade required: {}",
            rejection.body_text()
        ))
    })?;
    let client = client_ip(
        &headers,
        peer.map(|p| p.0 .0.ip()),
        state.config.trust_forwarded_for,
    );
    let admitted = state
        .subscribers
        .admit(&circle_hint, key.as_deref().unwrap_or(""), client)?;
    Ok(upgrade
        .max_message_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| session(state, socket, circle_hint, node_id, admitted))
        .into_response())
}

/// Sends one frame, giving up after [`WS_SEND_TIMEOUT_S`] (a reader that stalls is dropped).
async fn send(socket: &mut WebSocket, message: Message) -> bool {
    let wait = Duration::from_secs(WS_SEND_TIMEOUT_S);
    matches!(
        tokio::time::timeout(wait, socket.send(message)).await,
        Ok(Ok(()))
    )
}

/// One subscriber's life: replay, then live pushes, pings and shutdown; `_admitted` holds its
/// place under the subscriber caps until it ends.
async fn session(
    state: AppState,
    mut socket: WebSocket,
    circle_hint: String,
    node_id: String,
    _admitted: Subscription,
) {
    tracing::debug!(circle = %circle_hint, node = %node_id, "ws connect");
    // Subscribe before reading the replay so nothing stored in between is lost; the seq
    // filter below drops what the replay already carried.
    let mut events = state.hub.subscribe();
    let mut shutdown = state.shutdown.clone();
    let mut last_seq = 0_i64;
    // The feed may have dropped between the upgrade and the subscription: pushes would be lost.
    if !state.hub.is_live() {
        let _ = socket.send(try_later(DB_UNAVAILABLE)).await;
        return;
    }

    let now = state.now();
    let replay = state
        .store
        .pull_messages(
            &circle_hint,
            MessageCursor::Since(now - WS_REPLAY_WINDOW_S),
            now,
            PageLimit {
                rows: WS_REPLAY_MAX,
                bytes: state.config.ws_replay_max_bytes,
            },
        )
        .await;
    match replay {
        Ok(page) => {
            let raws: Vec<Box<RawValue>> = page
                .messages
                .iter()
                .filter_map(|m| RawValue::from_string(m.payload.clone()).ok())
                .collect();
            if let Some(last) = page.messages.last() {
                last_seq = last.seq;
                let refs = raws.iter().map(AsRef::as_ref).collect();
                if let Some(text) = frame_text(refs, now, last_seq) {
                    if !send(&mut socket, Message::Text(text.into())).await {
                        return;
                    }
                }
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "ws replay failed");
            let reason = match err {
                StoreError::Unavailable(_) => DB_UNAVAILABLE,
                _ => "replay failed",
            };
            let _ = socket.send(try_later(reason)).await;
            return;
        }
    }

    let period = state.config.ws_ping_interval.max(Duration::from_millis(10));
    let mut ping = interval_at(Instant::now() + period, period);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();

    loop {
        if *shutdown.borrow() {
            let _ = socket.send(going_away()).await;
            break;
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    let _ = socket.send(going_away()).await;
                    break;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > period * 2 {
                    tracing::debug!(circle = %circle_hint, node = %node_id, "ws idle, closing");
                    break;
                }
                if !send(&mut socket, Message::Ping(Default::default())).await {
                    break;
                }
            }
            event = events.recv() => match event {
                Ok(HubEvent::Messages(event)) => {
                    if let Some((text, seq)) = push_frame(&event, &circle_hint, &node_id, last_seq) {
                        if !send(&mut socket, Message::Text(text.into())).await {
                            tracing::debug!(circle = %circle_hint, node = %node_id, "ws send failed or stalled");
                            break;
                        }
                        last_seq = seq;
                    }
                }
                Ok(HubEvent::Interrupted(reason)) => {
                    tracing::debug!(circle = %circle_hint, node = %node_id, reason, "ws feed lost");
                    let _ = socket.send(try_later(reason)).await;
                    break;
                }
                Err(RecvError::Lagged(missed)) => {
                    // Pushes were dropped for this socket: let the client reconnect and replay.
                    tracing::warn!(missed, circle = %circle_hint, "ws subscriber lagged");
                    let _ = socket.send(try_later("push lagged")).await;
                    break;
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
        }
    }
    tracing::debug!(circle = %circle_hint, node = %node_id, "ws disconnect");
}

/// Close reason when the database (or the push feed through it) is unavailable.
pub const DB_UNAVAILABLE: &str = "database unavailable";

/// A close frame 1013 ("try again later") with `reason`.
fn try_later(reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: 1013,
        reason: Utf8Bytes::from_static(reason),
    }))
}

fn going_away() -> Message {
    Message::Close(Some(CloseFrame {
        code: 1001,
        reason: Utf8Bytes::from_static("relay shutting down"),
    }))
}

/// The frame (and its cursor) `event` yields for a socket of `circle_hint` opened by `node_id`
/// that has seen everything up to `last_seq`; `None` if nothing is for it.
fn push_frame(
    event: &PushEvent,
    circle_hint: &str,
    node_id: &str,
    last_seq: i64,
) -> Option<(String, i64)> {
    if event.circle_hint != circle_hint || event.sender_node.as_deref() == Some(node_id) {
        return None;
    }
    let fresh: Vec<_> = event.messages.iter().filter(|m| m.seq > last_seq).collect();
    let cursor = fresh.last()?.seq;
    let refs = fresh.iter().map(|m| m.payload.as_ref()).collect();
    frame_text(refs, event.server_time, cursor).map(|text| (text, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::PushedMessage;

    fn event(sender: Option<&str>) -> PushEvent {
        let msg = |seq: i64| PushedMessage {
            seq,
            payload: RawValue::from_string(format!("{{\"n\":{seq}}}")).expect("raw"),
        };
        PushEvent {
            circle_hint: "circle01".into(),
            sender_node: sender.map(str::to_owned),
            server_time: 7,
            messages: vec![msg(3), msg(4)],
        }
    }

    #[test]
    fn push_filtering() {
        let (text, seq) =
            push_frame(&event(Some("poster01")), "circle01", "reader01", 0).expect("frame");
        assert_eq!(seq, 4);
        assert_eq!(
            text,
            r#"{"t":"MESSAGES","messages":[{"n":3},{"n":4}],"server_time":7,"cursor":4}"#
        );
        assert!(push_frame(&event(Some("poster01")), "circle01", "poster01", 0).is_none());
        assert!(push_frame(&event(None), "circle02", "reader01", 0).is_none());
        let (text, _) = push_frame(&event(None), "circle01", "reader01", 3).expect("frame");
        assert!(text.contains(r#"[{"n":4}]"#));
        assert!(push_frame(&event(None), "circle01", "reader01", 4).is_none());
    }
}
