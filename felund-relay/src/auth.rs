//! Request signatures (PROTOCOL.md §8 "Request signing"), checked in the reference's order:
//!
//! 1. `X-Felund-Ts`, `X-Felund-Nonce` and `X-Felund-Signature` all present and non-empty,
//!    else 401 `INVALID_SIGNATURE`;
//! 2. `|now − ts| ≤ 300`, else 400 `EXPIRED_TIMESTAMP`;
//! 3. nonce not used in the last 300 s, else 409 `NONCE_REPLAY`;
//! 4. a signing key is known (given in the register body, or stored for
//!    `(circle_hint, X-Felund-Node)` by a live registration), else 401;
//! 5. the signature matches, else 401;
//! 6. the nonce is claimed in the store — atomically, so that a concurrent replay (also through
//!    another relay instance sharing the database) gets 409.

use axum::http::{HeaderMap, Method};

use crate::error::ApiError;
use crate::input::header_str;
use crate::limits::SIGNATURE_WINDOW_S;
use crate::state::AppState;

/// The node header.
pub const HDR_NODE: &str = "x-felund-node";
/// The timestamp header.
pub const HDR_TS: &str = "x-felund-ts";
/// The nonce header.
pub const HDR_NONCE: &str = "x-felund-nonce";
/// The signature header.
pub const HDR_SIGNATURE: &str = "x-felund-signature";

/// Where the key that must have signed a request comes from.
#[derive(Debug, Clone, Copy)]
pub enum KeySource<'a> {
    /// A key given in the request itself (register with `signing_key`), lowercase hex.
    Given(&'a str),
    /// The key stored for `(circle_hint, node_id)`; `None` node means no key.
    Stored {
        /// The circle hint of the request.
        circle_hint: &'a str,
        /// The node whose key signs (`X-Felund-Node`, or the body's node_id on unregister).
        node_id: Option<&'a str>,
    },
}

/// The parts of a request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The method.
    pub method: &'a Method,
    /// The routed path (after `/v1`, no query).
    pub path: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The raw body.
    pub body: &'a [u8],
}

/// A non-empty header value.
fn non_empty<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header_str(headers, name).filter(|v| !v.is_empty())
}

/// True if the request carries any of the timestamp, nonce or signature headers. A request
/// with only `X-Felund-Node` (the web client's echo-suppression hint) counts as unsigned.
pub fn has_signature_headers(headers: &HeaderMap) -> bool {
    [HDR_TS, HDR_NONCE, HDR_SIGNATURE]
        .iter()
        .any(|h| non_empty(headers, h).is_some())
}

/// `X-Felund-Node`, if present and non-empty.
pub fn node_header(headers: &HeaderMap) -> Option<&str> {
    non_empty(headers, HDR_NODE)
}

/// Verifies a signed request (see the module docs for the order of checks).
pub async fn enforce(
    state: &AppState,
    req: Signed<'_>,
    key: KeySource<'_>,
) -> Result<(), ApiError> {
    let (Some(ts_text), Some(nonce), Some(signature)) = (
        non_empty(req.headers, HDR_TS),
        non_empty(req.headers, HDR_NONCE),
        non_empty(req.headers, HDR_SIGNATURE),
    ) else {
        return Err(ApiError::InvalidSignature);
    };
    let ts = crate::input::php_int(ts_text);
    let now = state.now();
    if (i128::from(now) - i128::from(ts)).abs() > i128::from(SIGNATURE_WINDOW_S) {
        return Err(ApiError::ExpiredTimestamp);
    }
    let not_before = now - SIGNATURE_WINDOW_S;
    if state.store.nonce_seen(nonce, not_before).await? {
        return Err(ApiError::NonceReplay);
    }
    let key_hex = match key {
        KeySource::Given(hex) => Some(hex.to_owned()),
        KeySource::Stored {
            circle_hint,
            node_id: Some(node),
        } => state.store.signing_key(circle_hint, node, now).await?,
        KeySource::Stored { node_id: None, .. } => None,
    };
    let key = key_hex
        .and_then(|hex_key| hex::decode(hex_key).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(ApiError::InvalidSignature)?;
    let valid = felund_wire::api_sign::verify_request_signature(
        &key,
        req.method.as_str(),
        req.path,
        req.body,
        ts,
        nonce,
        &signature.to_ascii_lowercase(),
    );
    if !valid {
        return Err(ApiError::InvalidSignature);
    }
    if !state.store.claim_nonce(nonce, ts, not_before).await? {
        return Err(ApiError::NonceReplay);
    }
    Ok(())
}

/// For message push/pull and WebSocket subscriptions: a request with signature headers is
/// verified with the key stored for `(circle_hint, X-Felund-Node)` (a bad one is refused, never
/// treated as unsigned); one without is served, unless the relay requires signatures (401).
pub async fn enforce_if_signed(
    state: &AppState,
    req: Signed<'_>,
    circle_hint: &str,
) -> Result<(), ApiError> {
    if has_signature_headers(req.headers) {
        let key = KeySource::Stored {
            circle_hint,
            node_id: node_header(req.headers),
        };
        enforce(state, req, key).await
    } else if state.config.require_signatures {
        Err(ApiError::InvalidSignature)
    } else {
        Ok(())
    }
}
