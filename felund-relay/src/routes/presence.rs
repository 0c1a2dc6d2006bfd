//! `POST /v1/register`, `DELETE /v1/register` and `GET /v1/peers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use felund_wire::relay_api::{PeerRecord, PeersAnswer, RawList, RegisterAnswer, UnregisterAnswer};
use serde_json::value::RawValue;

use crate::auth::{self, KeySource, Signed};
use crate::error::{json_response, ApiError};
use crate::input::{clamped_query_int, require_query_id, Ctx};
use crate::limits::{ID_MAX_LEN, ID_MIN_LEN, PEERS_LIMIT_DEFAULT, PEERS_LIMIT_MAX};
use crate::presence::{observed_host, parse_register, parse_unregister};
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
    let req = parse_register(&ctx.body)?;
    if let Some(key) = &req.signing_key {
        auth::enforce(&state, signed(&ctx), KeySource::Given(key)).await?;
    }

    let now = state.now();
    let expires_at = now + req.ttl_s;
    let record = PresenceRecord {
        endpoints: to_json(&req.endpoints)?,
        capabilities: to_json(&req.capabilities)?,
        circle_hint: req.circle_hint,
        node_id: req.node_id,
        observed_at: now,
        expires_at,
        signing_key: req.signing_key.unwrap_or_default(),
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
        &RegisterAnswer {
            ok: true,
            server_time: now,
            expires_at,
            observed_host: observed_host(&ctx.headers, ctx.remote_ip),
        },
    ))
}

/// Removes a node's presence under the key the request is signed with (one of the keys the
/// body's node registered with).
pub(super) async fn unregister(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    state.limits.write(ctx.client, ctx.body.len())?;
    let req = parse_unregister(&ctx.body)?;
    let key = KeySource::Stored {
        circle_hint: &req.circle_hint,
        node_id: Some(&req.node_id),
    };
    let verified = auth::enforce(&state, signed(&ctx), key).await?;
    let removed = state
        .store
        .remove_presence(&req.circle_hint, &req.node_id, &verified)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &UnregisterAnswer { ok: true, removed },
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
    let peers: Vec<PeerRecord> = records
        .iter()
        .map(|r| PeerRecord {
            node_id: r.node_id.clone(),
            circle_hint: Some(r.circle_hint.clone()),
            // Both were written by this relay from the contract's types.
            endpoints: serde_json::from_str(&r.endpoints).unwrap_or(RawList(Vec::new())),
            capabilities: serde_json::from_str::<&RawValue>(&r.capabilities).ok(),
            observed_at: Some(r.observed_at),
            expires_at: Some(r.expires_at),
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &PeersAnswer { ok: true, peers },
    ))
}

/// A part of a request as the JSON text the store keeps.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|err| ApiError::Internal(format!("could not encode a record: {err}")))
}
