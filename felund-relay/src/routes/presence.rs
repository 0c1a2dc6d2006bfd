//! `POST /v1/register`, `DELETE /v1/register` and `GET /v1/peers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::auth::{self, KeySource, Signed};
use crate::error::{json_response, ApiError};
use crate::input::{
    clamped_query_int, json_object, optional_int, require_query_id, require_str, Ctx,
};
use crate::limits::{
    ID_MAX_LEN, ID_MIN_LEN, PEERS_LIMIT_DEFAULT, PEERS_LIMIT_MAX, TTL_DEFAULT_S, TTL_MAX_S,
    TTL_MIN_S,
};
use crate::presence::{is_hex_key, normalize_capabilities, observed_host, validate_endpoints};
use crate::state::AppState;
use crate::store::{PresenceOutcome, PresenceRecord};

fn signed(ctx: &Ctx) -> Signed<'_> {
    Signed {
        method: &ctx.method,
        path: &ctx.path,
        headers: &ctx.headers,
        body: &ctx.body,
    }
}

/// Registers (replaces) a node's presence under its key. With `signing_key` the request must
/// be signed with that key; without one it is accepted unsigned into the unsigned partition,
/// which signed callers never see and which never touches a keyed record.
pub(super) async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    state.limits.write(ctx.client, ctx.body.len())?;
    let data = json_object(&ctx.body)?;
    let node_id = require_str(&data, "node_id", ID_MIN_LEN, ID_MAX_LEN)?;
    let circle_hint = require_str(&data, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?;
    let ttl_s = optional_int(&data, "ttl_s", TTL_MIN_S, TTL_MAX_S, TTL_DEFAULT_S)?;
    let endpoints = validate_endpoints(&data)?;
    let capabilities = normalize_capabilities(&data)?;
    let signing_key = match data.get("signing_key") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(key)) if is_hex_key(key) => key.to_ascii_lowercase(),
        Some(_) => {
            return Err(ApiError::bad(
                "Field 'signing_key' must be a 64-char hex string",
            ))
        }
    };
    if !signing_key.is_empty() {
        auth::enforce(&state, signed(&ctx), KeySource::Given(&signing_key)).await?;
    }

    let now = state.now();
    let expires_at = now + ttl_s;
    let record = PresenceRecord {
        circle_hint,
        node_id,
        endpoints: endpoints.to_string(),
        capabilities: capabilities.to_string(),
        observed_at: now,
        expires_at,
        signing_key,
        client_addr: ctx.client.map(|ip| ip.to_string()).unwrap_or_default(),
    };
    let limits = state.config.presence;
    match state.store.put_presence(record, limits).await? {
        PresenceOutcome::Stored => {}
        PresenceOutcome::TooManyKeys => {
            return Err(ApiError::Conflict(format!(
                "Too many signing keys registered in this circle (max {})",
                limits.max_keys_per_hint
            )))
        }
        PresenceOutcome::AddressUsesOtherKeys => {
            return Err(ApiError::Conflict(
                "Your address already registered another signing key in this circle".into(),
            ))
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "ok": true,
            "server_time": now,
            "expires_at": expires_at,
            "observed_host": observed_host(&ctx.headers, ctx.remote_ip),
        }),
    ))
}

/// Removes a node's presence under the key the request is signed with (one of the keys the
/// body's node registered with).
pub(super) async fn unregister(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    state.limits.write(ctx.client, ctx.body.len())?;
    let data = json_object(&ctx.body)?;
    let node_id = require_str(&data, "node_id", ID_MIN_LEN, ID_MAX_LEN)?;
    let circle_hint = require_str(&data, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?;
    let key = KeySource::Stored {
        circle_hint: &circle_hint,
        node_id: Some(&node_id),
    };
    let verified = auth::enforce(&state, signed(&ctx), key).await?;
    let removed = state
        .store
        .remove_presence(&circle_hint, &node_id, &verified)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"ok": true, "removed": removed}),
    ))
}

/// Live peers of a circle registered with the key the request is signed with (members see
/// members; an outsider sees only what it registered itself), newest first, without the
/// caller.
pub(super) async fn peers(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let circle_hint = require_query_id(&ctx, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?;
    let limit = clamped_query_int(&ctx, "limit", PEERS_LIMIT_DEFAULT, 1, PEERS_LIMIT_MAX);
    let exclude = auth::node_header(&ctx.headers).map(str::to_owned);
    let key = KeySource::Stored {
        circle_hint: &circle_hint,
        node_id: exclude.as_deref(),
    };
    let verified = auth::enforce(&state, signed(&ctx), key).await?;

    let now = state.now();
    let limit = u32::try_from(limit).unwrap_or(1);
    let records = state
        .store
        .live_peers(&circle_hint, &verified, exclude.as_deref(), now, limit)
        .await?;
    let peers: Vec<Value> = records
        .into_iter()
        .map(|r| {
            json!({
                "node_id": r.node_id,
                "circle_hint": r.circle_hint,
                "endpoints": serde_json::from_str::<Value>(&r.endpoints).unwrap_or(Value::Null),
                "capabilities": serde_json::from_str::<Value>(&r.capabilities).unwrap_or(Value::Null),
                "observed_at": r.observed_at,
                "expires_at": r.expires_at,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"ok": true, "peers": peers}),
    ))
}
