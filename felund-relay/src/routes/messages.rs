//! `POST /v1/messages` and `GET /v1/messages` (with the lossless `after_seq` extension).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use felund_wire::relay_api::{PullAnswer, PushAnswer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::auth::{self, Signed};
use crate::error::{json_response, ApiError};
use crate::hub::{PushEvent, PushedMessage};
use crate::input::{clamped_query_int, json_object, require_query_id, require_str, Ctx};
use crate::limits::{
    ID_MAX_LEN, ID_MIN_LEN, MAX_MESSAGES_PER_POST, MAX_OBJECT_BYTES, MAX_TEXT_BYTES,
    MESSAGE_RETENTION_S, MSG_ID_MAX_LEN, MSG_ID_MIN_LEN, PULL_LIMIT_DEFAULT, PULL_LIMIT_MAX,
};
use crate::state::AppState;
use crate::store::{MessageBatch, MessageCursor, NewMessage, PageLimit, StoredMessage};

fn signed(ctx: &Ctx) -> Signed<'_> {
    Signed {
        method: &ctx.method,
        path: &ctx.path,
        headers: &ctx.headers,
        body: &ctx.body,
    }
}

/// Stores a batch of opaque message objects and pushes the new ones to WebSocket subscribers.
pub(super) async fn push(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    state.limits.write(ctx.client, ctx.body.len())?;
    let data = json_object(&ctx.body)?;
    let circle_hint = require_str(&data, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?;
    auth::enforce_if_signed(&state, signed(&ctx), &circle_hint).await?;

    let items: &[Value] = match data.get("messages") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(Value::Object(map)) if map.is_empty() => &[],
        Some(_) => return Err(ApiError::bad("'messages' must be an array")),
    };
    if items.len() > MAX_MESSAGES_PER_POST {
        return Err(ApiError::bad(format!(
            "Too many messages (max {MAX_MESSAGES_PER_POST} per batch)"
        )));
    }
    let raw = raw_messages(&ctx.body, items.len());
    let mut batch = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (msg_id, created_ts) = validate_message(i, item)?;
        let payload = match raw.as_ref().and_then(|r| r.get(i)) {
            Some(text) => (*text).to_owned(),
            None => item.to_string(),
        };
        // The whole object, as stored, not only its text.
        if payload.len() > MAX_OBJECT_BYTES {
            return Err(ApiError::TooLarge(format!(
                "messages[{i}] is larger than {MAX_OBJECT_BYTES} bytes"
            )));
        }
        batch.push(NewMessage {
            msg_id,
            created_ts,
            payload,
        });
    }

    let now = state.now();
    let sender_node = auth::node_header(&ctx.headers).map(str::to_owned);
    let stored = if batch.is_empty() {
        Vec::new()
    } else {
        state
            .store
            .insert_messages(MessageBatch {
                circle_hint: circle_hint.clone(),
                messages: batch,
                now,
                expires_at: now + MESSAGE_RETENTION_S,
                sender_node: sender_node.clone(),
            })
            .await?
    };
    let count = stored.len();
    if !stored.is_empty() {
        state.hub.publish(PushEvent {
            circle_hint,
            sender_node,
            server_time: now,
            messages: stored.into_iter().filter_map(pushed).collect(),
        });
    }
    Ok(json_response(
        StatusCode::OK,
        &PushAnswer {
            ok: true,
            stored: i64::try_from(count).ok(),
            server_time: Some(now),
        },
    ))
}

fn pushed(m: StoredMessage) -> Option<PushedMessage> {
    let payload = RawValue::from_string(m.payload).ok()?;
    Some(PushedMessage {
        seq: m.seq,
        payload,
    })
}

/// The exact text of each element of the body's `messages` array, when it can be recovered
/// (`expected` elements); `None` falls back to re-encoding the parsed value.
fn raw_messages(body: &[u8], expected: usize) -> Option<Vec<&str>> {
    let text = std::str::from_utf8(body).ok()?;
    let top: BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
    let list: Vec<&RawValue> = serde_json::from_str(top.get("messages")?.get()).ok()?;
    let out: Vec<&str> = list.into_iter().map(RawValue::get).collect();
    (out.len() == expected).then_some(out)
}

/// The reference's per-message checks; returns msg_id and created_ts.
fn validate_message(i: usize, item: &Value) -> Result<(String, i64), ApiError> {
    let Some(msg) = item.as_object() else {
        return Err(ApiError::bad(format!("messages[{i}] must be an object")));
    };
    let msg_id = match msg.get("msg_id") {
        Some(Value::String(id)) if (MSG_ID_MIN_LEN..=MSG_ID_MAX_LEN).contains(&id.len()) => {
            id.clone()
        }
        _ => return Err(ApiError::bad(format!("messages[{i}].msg_id is invalid"))),
    };
    let created_ts = created_ts(msg).ok_or_else(|| {
        ApiError::bad(format!(
            "messages[{i}].created_ts must be a non-negative integer"
        ))
    })?;
    match msg.get("text") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) if text.len() <= MAX_TEXT_BYTES => {}
        Some(_) => {
            return Err(ApiError::bad(format!(
                "messages[{i}].text exceeds 4 096 chars"
            )))
        }
    }
    Ok((msg_id, created_ts))
}

/// created_ts: absent or `null` counts as 0 (as in the reference); otherwise a JSON integer ≥ 0.
fn created_ts(msg: &Map<String, Value>) -> Option<i64> {
    match msg.get("created_ts") {
        None | Some(Value::Null) => Some(0),
        Some(v) => v.as_i64().filter(|ts| *ts >= 0),
    }
}

/// Messages of a circle after `since` (reference) or `after_seq` (extension), oldest first;
/// at most `limit` of them and the configured number of bytes (`more` says there are more).
/// A `since` pull's `server_time` is the position its clients resume from, so that their own
/// rules page losslessly (see [`crate::store::since_pos`]).
pub(super) async fn pull(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let circle_hint = require_query_id(&ctx, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?;
    auth::enforce_if_signed(&state, signed(&ctx), &circle_hint).await?;

    let since = clamped_query_int(&ctx, "since", 0, i64::MIN, i64::MAX);
    let limit = clamped_query_int(&ctx, "limit", PULL_LIMIT_DEFAULT, 1, PULL_LIMIT_MAX);
    let cursor = match ctx.query("after_seq") {
        None => MessageCursor::Since(since),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if n >= 0 => MessageCursor::AfterSeq(n),
            _ => {
                return Err(ApiError::bad(
                    "Query param 'after_seq' must be a non-negative integer",
                ))
            }
        },
    };

    let now = state.now();
    let limit = PageLimit {
        rows: u32::try_from(limit).unwrap_or(1),
        bytes: state.config.pull_max_bytes,
    };
    let page = state
        .store
        .pull_messages(&circle_hint, cursor, now, limit)
        .await?;
    let next_cursor = match (page.messages.last(), cursor) {
        (Some(last), _) => last.seq,
        (None, MessageCursor::AfterSeq(after)) => after,
        (None, _) => page.max_seq,
    };
    // For the reference cursor, server_time is where its clients resume (see
    // store::since_pos); an after_seq client resumes from `cursor` and gets the clock.
    let server_time = match cursor {
        MessageCursor::Since(_) => page.since_server_time(),
        _ => now,
    };
    let messages: Vec<Box<RawValue>> = page
        .messages
        .into_iter()
        .filter_map(|m| RawValue::from_string(m.payload).ok())
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &PullAnswer {
            ok: true,
            messages,
            server_time: Some(server_time),
            cursor: Some(next_cursor),
            more: Some(page.more),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_messages_keep_exact_text() {
        let body = br#"{"circle_hint":"x","messages":[ {"msg_id" : "a", "n":1.50} ,{"b":[]}]}"#;
        let raw = raw_messages(body, 2).expect("raw");
        assert_eq!(raw, vec![r#"{"msg_id" : "a", "n":1.50}"#, r#"{"b":[]}"#]);
        assert!(raw_messages(body, 3).is_none());
    }

    #[test]
    fn message_rules() {
        let ok: Value = serde_json::from_str(r#"{"msg_id":"12345678","created_ts":5}"#).expect("j");
        assert_eq!(
            validate_message(0, &ok).expect("ok"),
            ("12345678".into(), 5)
        );
        let no_ts: Value = serde_json::from_str(r#"{"msg_id":"12345678"}"#).expect("j");
        assert_eq!(validate_message(0, &no_ts).expect("ok").1, 0);
        for (text, detail) in [
            (r#"[1]"#, "messages[3] must be an object"),
            (r#"{"msg_id":"1234567"}"#, "messages[3].msg_id is invalid"),
            (r#"{"msg_id":12345678}"#, "messages[3].msg_id is invalid"),
            (
                r#"{"msg_id":"12345678","created_ts":-1}"#,
                "messages[3].created_ts must be a non-negative integer",
            ),
            (
                r#"{"msg_id":"12345678","created_ts":1.0}"#,
                "messages[3].created_ts must be a non-negative integer",
            ),
            (
                r#"{"msg_id":"12345678","text":5}"#,
                "messages[3].text exceeds 4 096 chars",
            ),
        ] {
            let v: Value = serde_json::from_str(text).expect("j");
            assert_eq!(validate_message(3, &v).expect_err(text).to_string(), detail);
        }
    }
}
