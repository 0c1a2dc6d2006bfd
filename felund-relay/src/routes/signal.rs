//! `POST /v1/signal` and `GET /v1/signal` (unsigned, like the reference aiohttp relay).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use felund_wire::relay_api::{SignalPollAnswer, SignalPostAnswer, SignalRecord};

use crate::error::{json_response, ApiError};
use crate::input::Ctx;
use crate::limits::{
    SIGNAL_ID_MAX, SIGNAL_ID_MIN, SIGNAL_POLL_LIMIT, SIGNAL_POLL_MAX_BYTES, SIGNAL_SESSION_MAX,
};
use crate::signal::{parse_post, parse_since_id};
use crate::state::AppState;
use crate::store::{NewSignal, PageLimit, RateLimit};

/// Stores one signal for its recipient, rate-limited per client address and per
/// `from_node_id`.
pub(super) async fn post(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    state.limits.write(ctx.client, ctx.body.len())?;
    let post = parse_post(&ctx.body)?;
    state.limits.signal(ctx.client)?;
    let now = state.now();
    let limit = RateLimit {
        limit: state.config.signal_rate_limit,
        window_s: state.config.signal_rate_window_s,
    };
    if !state
        .store
        .hit_signal_rate(&post.from_node_id, now, limit)
        .await?
    {
        tracing::info!(from = %post.from_node_id, session = %post.session_id, "signal rate limited");
        return Err(ApiError::RateLimited {
            detail: format!("Rate limit exceeded — retry after {}s", limit.window_s),
            retry_after_s: limit.window_s,
        });
    }
    state
        .store
        .insert_signal(NewSignal {
            session_id: post.session_id,
            from_node: post.from_node_id,
            to_node: post.to_node_id,
            circle_hint: post.circle_hint,
            kind: post.kind.as_str().to_owned(),
            payload: post.payload,
            created_at: now,
            // `parse_post` always sets the effective TTL.
            expires_at: now + post.ttl_s.unwrap_or_default(),
        })
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &SignalPostAnswer {
            ok: true,
            server_time: Some(now),
        },
    ))
}

/// Unexpired signals for `to_node_id` after `since_id` (optionally of one session), by id; at
/// most 200 and [`SIGNAL_POLL_MAX_BYTES`] of payload (the next poll's `since_id` gets the rest).
pub(super) async fn poll(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let to_node = ctx.query("to_node_id").unwrap_or("").to_owned();
    if to_node.chars().count() < SIGNAL_ID_MIN {
        return Err(ApiError::bad("to_node_id required (8+ chars)"));
    }
    if to_node.chars().count() > SIGNAL_ID_MAX {
        return Err(ApiError::bad(format!(
            "to_node_id too long (max {SIGNAL_ID_MAX} chars)"
        )));
    }
    let since_id = ctx.query("since_id").map_or(0, parse_since_id);
    let session_id = ctx.query("session_id").filter(|s| !s.is_empty());
    if session_id.is_some_and(|s| s.chars().count() > SIGNAL_SESSION_MAX) {
        return Err(ApiError::bad(format!(
            "session_id too long (max {SIGNAL_SESSION_MAX} chars)"
        )));
    }
    let now = state.now();
    // The cursor is the largest id a client has seen, so a cut page loses nothing.
    let limit = PageLimit {
        rows: SIGNAL_POLL_LIMIT,
        bytes: SIGNAL_POLL_MAX_BYTES,
    };
    let records = state
        .store
        .pending_signals(&to_node, since_id, session_id, now, limit)
        .await?;
    let signals: Vec<SignalRecord> = records
        .into_iter()
        .map(|s| SignalRecord {
            id: s.id,
            session_id: s.session_id,
            from_node: s.from_node,
            to_node: s.to_node,
            kind: s.kind,
            payload: s.payload,
            created_at: s.created_at,
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &SignalPollAnswer {
            ok: true,
            signals,
            server_time: Some(now),
        },
    ))
}
