//! `GET /v1/relay/ws?circle_hint=..&node_id=..`: WebSocket push (docs/protocol.md §10).
//!
//! On connect the socket gets the messages stored in the last 120 s (at most 200, and at most
//! the configured replay bytes — a client pages the rest with `after_seq`) as
//! `{"t":"MESSAGES","messages":[...],"server_time":ts,"cursor":seq}` frames (only if there are
//! any; one frame unless they exceed [`WS_FRAME_MAX_BYTES`](crate::limits::WS_FRAME_MAX_BYTES),
//! see [`crate::frames`]); afterwards every message newly stored by `POST /v1/messages` for its
//! circle is pushed the same way, except to sockets opened with the poster's `X-Felund-Node`.
//! `cursor` is the seq of the last message in the frame (extension: a client may resume with
//! `after_seq`).
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
//! 503 on the upgrade request); a socket that does not take a frame within the send timeout
//! (default [`DEFAULT_WS_SEND_TIMEOUT_S`](crate::limits::DEFAULT_WS_SEND_TIMEOUT_S) seconds)
//! is dropped, so a stalled reader cannot hold pushes back, and one whose queue of pushes
//! overflows meanwhile is closed (see [`crate::rooms`]).
//!
//! # Cost per subscriber
//!
//! A post wakes only the sockets of its circle hint and its frames are serialised once for all
//! of them ([`crate::rooms`]). An idle socket keeps a [`WS_READ_BUFFER_BYTES`] read buffer (the
//! WebSocket library's default of 128 KiB was zeroed on every read attempt, which made each
//! wake-up cost a 128 KiB `memset`), writes each frame straight through (no write buffer; the
//! library keeps a copy area as large as the largest frame sent, hence bounded frames), and
//! refuses client frames over [`WS_MAX_CLIENT_FRAME`] as soon as their header announces them,
//! so a client cannot make its socket buffer more than that.

use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::value::RawValue;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::auth::{self, Signed};
use crate::client::client_ip;
use crate::error::ApiError;
use crate::frames::frames;
use crate::hub::{Inbox, Next};
use crate::input::query_map;
use crate::limits::{
    ID_MAX_LEN, ID_MIN_LEN, WS_MAX_CLIENT_FRAME, WS_READ_BUFFER_BYTES, WS_REPLAY_MAX,
    WS_REPLAY_WINDOW_S,
};
use crate::state::AppState;
use crate::store::{MessageCursor, PageLimit, StoreError};
use crate::subscribers::Subscription;

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
        // Small buffers: an idle socket keeps only what it needs (see the module docs).
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_frame_size(WS_MAX_CLIENT_FRAME)
        .max_message_size(WS_MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| session(state, socket, circle_hint, node_id, admitted))
        .into_response())
}

/// Sends one frame, giving up after `wait` (a reader that stalls is dropped).
async fn send(socket: &mut WebSocket, message: Message, wait: Duration) -> bool {
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
    // Subscribe before reading the replay so nothing stored in between is lost; pushes carry
    // seqs, and what the replay already carried is not sent again.
    let inbox = state.hub.subscribe(&circle_hint, &node_id);
    // The feed may have dropped between the upgrade and the subscription: pushes would be lost.
    if !state.hub.is_live() {
        send(
            &mut socket,
            try_later(DB_UNAVAILABLE),
            state.config.ws_send_timeout,
        )
        .await;
        return;
    }
    let Some(last_seq) = replay(&state, &mut socket, &circle_hint).await else {
        return;
    };
    live(&state, socket, &inbox, last_seq).await;
    tracing::debug!(circle = %circle_hint, node = %node_id, "ws disconnect");
}

/// Sends the messages stored in the last [`WS_REPLAY_WINDOW_S`] seconds (bounded in count and
/// bytes), in frames of bounded size; returns the seq of the last one sent (0 if none), or `None` when the
/// socket is done (closed, stalled, or told to try later).
async fn replay(state: &AppState, socket: &mut WebSocket, circle_hint: &str) -> Option<i64> {
    let now = state.now();
    let limit = PageLimit {
        rows: WS_REPLAY_MAX,
        bytes: state.config.ws_replay_max_bytes,
    };
    let since = MessageCursor::StoredAfter(now - WS_REPLAY_WINDOW_S);
    let page = match state
        .store
        .pull_messages(circle_hint, since, now, limit)
        .await
    {
        Ok(page) => page,
        Err(err) => {
            tracing::warn!(error = %err, "ws replay failed");
            let reason = match err {
                StoreError::Unavailable(_) => DB_UNAVAILABLE,
                _ => "replay failed",
            };
            send(socket, try_later(reason), state.config.ws_send_timeout).await;
            return None;
        }
    };
    let Some(last_seq) = page.messages.last().map(|m| m.seq) else {
        return Some(0);
    };
    let raws: Vec<(i64, Box<RawValue>)> = page
        .messages
        .into_iter()
        .filter_map(|m| Some((m.seq, RawValue::from_string(m.payload).ok()?)))
        .collect();
    let wait = state.config.ws_send_timeout;
    for frame in frames(raws.iter().map(|(seq, raw)| (*seq, raw.as_ref())), now) {
        if !send(socket, Message::Text(frame.text), wait).await {
            return None;
        }
    }
    Some(last_seq)
}

/// Live pushes from `inbox` after `last_seq`, pings, and shutdown, until the socket ends.
async fn live(state: &AppState, mut socket: WebSocket, inbox: &Inbox, mut last_seq: i64) {
    let mut shutdown = state.shutdown.clone();
    let period = state.config.ws_ping_interval.max(Duration::from_millis(10));
    let mut ping = interval_at(Instant::now() + period, period);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let wait = state.config.ws_send_timeout;

    loop {
        if *shutdown.borrow() {
            send(&mut socket, going_away(), wait).await;
            return;
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    send(&mut socket, going_away(), wait).await;
                    return;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > period * 2 {
                    tracing::debug!("ws idle, closing");
                    return;
                }
                if !send(&mut socket, Message::Ping(Default::default()), wait).await {
                    return;
                }
            }
            next = inbox.recv() => match next {
                Next::Push(delivery) => {
                    for (text, seq) in delivery.frames_after(last_seq) {
                        if !send(&mut socket, Message::Text(text), wait).await {
                            tracing::debug!("ws send failed or stalled");
                            return;
                        }
                        last_seq = seq;
                    }
                }
                Next::Closed(reason) => {
                    // Pushes were (or may have been) missed: let the client reconnect and
                    // catch up through the replay or its cursor.
                    tracing::debug!(reason, "ws subscription ended");
                    send(&mut socket, try_later(reason), wait).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
        }
    }
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
