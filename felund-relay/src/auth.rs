//! Request signatures (docs/protocol.md §9.2 "Request signing"), checked in the reference's order:
//!
//! 1. `X-Felund-Ts`, `X-Felund-Nonce` and `X-Felund-Signature` all present and non-empty,
//!    else 401 `INVALID_SIGNATURE`;
//! 2. `|now − ts| ≤ 300`, else 400 `EXPIRED_TIMESTAMP`;
//! 3. nonce not used in the last 300 s, else 409 `NONCE_REPLAY`;
//! 4. a signing key is known (given in the register body, or one of the keys that live
//!    registrations of `(circle_hint, X-Felund-Node)` were made with), else 401;
//! 5. the signature matches (that key, or one of those keys), else 401;
//! 6. the nonce is claimed in the store — atomically, so that a concurrent replay (also through
//!    another relay instance sharing the database) gets 409.
//!
//! Every header is bounded before it is used: a nonce over [`MAX_NONCE_LEN`], a timestamp over
//! [`MAX_TS_HEADER_LEN`], a signature that is not [`SIGNATURE_HEX_LEN`] hex digits or a node id
//! over [`ID_MAX_LEN`] is refused with 401 at step 1, before the store is asked anything.
//!
//! Presence is partitioned by key, so a node id registered by an outsider with another key
//! does not lock the member out: the member's request verifies with the member's key, and the
//! verified key tells the handler whose records the caller may see or remove.

use axum::http::{HeaderMap, Method};

use crate::error::ApiError;
use crate::input::header_str;
use crate::limits::{
    ID_MAX_LEN, MAX_NONCE_LEN, MAX_TS_HEADER_LEN, SIGNATURE_HEX_LEN, SIGNATURE_WINDOW_S,
};
use crate::state::AppState;

/// The node header.
pub use felund_wire::relay_api::headers::NODE as HDR_NODE;
/// The nonce header.
pub use felund_wire::relay_api::headers::NONCE as HDR_NONCE;
/// The signature header.
pub use felund_wire::relay_api::headers::SIGNATURE as HDR_SIGNATURE;
/// The timestamp header.
pub use felund_wire::relay_api::headers::TS as HDR_TS;

/// Where the key that must have signed a request comes from.
#[derive(Debug, Clone, Copy)]
pub enum KeySource<'a> {
    /// A key given in the request itself (register with `signing_key`), lowercase hex.
    Given(&'a str),
    /// The keys of the live registrations of `(circle_hint, node_id)`; `None` node means none.
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

/// `X-Felund-Node`, if present, non-empty and at most [`ID_MAX_LEN`] bytes.
pub fn node_header(headers: &HeaderMap) -> Option<&str> {
    non_empty(headers, HDR_NODE).filter(|n| n.len() <= ID_MAX_LEN)
}

/// The three signature headers, if all are present and within their bounds.
fn signature_headers(headers: &HeaderMap) -> Option<(&str, &str, &str)> {
    let ts = non_empty(headers, HDR_TS).filter(|t| t.len() <= MAX_TS_HEADER_LEN)?;
    let nonce = non_empty(headers, HDR_NONCE).filter(|n| n.len() <= MAX_NONCE_LEN)?;
    let signature = non_empty(headers, HDR_SIGNATURE)
        .filter(|s| s.len() == SIGNATURE_HEX_LEN && s.bytes().all(|b| b.is_ascii_hexdigit()))?;
    // A node header that is there but out of bounds is refused, not ignored.
    if non_empty(headers, HDR_NODE).is_some_and(|n| n.len() > ID_MAX_LEN) {
        return None;
    }
    Some((ts, nonce, signature))
}

/// A hex key as its 32 bytes.
fn key_bytes(hex_key: &str) -> Option<[u8; 32]> {
    hex::decode(hex_key)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

/// Verifies a signed request (see the module docs for the order of checks); returns the
/// (lowercase hex) key it was signed with.
pub async fn enforce(
    state: &AppState,
    req: Signed<'_>,
    key: KeySource<'_>,
) -> Result<String, ApiError> {
    let Some((ts_text, nonce, signature)) = signature_headers(req.headers) else {
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
    let candidates = match key {
        KeySource::Given(hex) => vec![hex.to_owned()],
        KeySource::Stored {
            circle_hint,
            node_id: Some(node),
        } => {
            let limit = state.config.presence.max_keys_per_hint;
            state
                .store
                .signing_keys(circle_hint, node, now, limit)
                .await?
        }
        KeySource::Stored { node_id: None, .. } => Vec::new(),
    };
    let signature = signature.to_ascii_lowercase();
    let verified = candidates.into_iter().find(|hex_key| {
        key_bytes(hex_key).is_some_and(|key| {
            felund_wire::api_sign::verify_request_signature(
                &key,
                req.method.as_str(),
                req.path,
                req.body,
                ts,
                nonce,
                &signature,
            )
        })
    });
    let Some(verified) = verified else {
        return Err(ApiError::InvalidSignature);
    };
    if !state.store.claim_nonce(nonce, ts, not_before).await? {
        return Err(ApiError::NonceReplay);
    }
    Ok(verified)
}

/// For message push/pull and WebSocket subscriptions: a request with signature headers is
/// verified with the keys registered for `(circle_hint, X-Felund-Node)` (a bad one is refused,
/// never treated as unsigned) and yields its key; one without is served as `None`, unless the
/// relay requires signatures (401).
pub async fn enforce_if_signed(
    state: &AppState,
    req: Signed<'_>,
    circle_hint: &str,
) -> Result<Option<String>, ApiError> {
    if has_signature_headers(req.headers) {
        let key = KeySource::Stored {
            circle_hint,
            node_id: node_header(req.headers),
        };
        enforce(state, req, key).await.map(Some)
    } else if state.config.require_signatures {
        Err(ApiError::InvalidSignature)
    } else {
        Ok(None)
    }
}
