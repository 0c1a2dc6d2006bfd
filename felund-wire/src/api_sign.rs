//! Relay HTTP API request signing (docs/protocol.md §9).

use crate::ids::{sha256_hex, CircleSecret};
use crate::mac::{hex_eq, hmac_hex, hmac_sha256};

/// The per-circle API signing key: HMAC-SHA256 of ASCII `api-v1` under the raw secret.
/// It is sent (hex) once in the register body; requests are signed with its raw 32 bytes.
pub fn api_signing_key(secret: &CircleSecret) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), b"api-v1")
}

/// The canonical string: UPPERCASE method, path after `/v1` (no query), hex SHA-256 of the raw
/// body (of the empty string for GET), ts in decimal and the nonce, with no separators.
pub fn canonical_string(method: &str, path: &str, body: &[u8], ts: i64, nonce: &str) -> String {
    format!(
        "{}{}{}{}{}",
        method.to_ascii_uppercase(),
        path,
        sha256_hex(body),
        ts,
        nonce
    )
}

/// The `X-Felund-Signature` value: hex HMAC-SHA256 of the canonical string under the key's
/// raw bytes (not its hex text).
pub fn sign_request(
    key: &[u8; 32],
    method: &str,
    path: &str,
    body: &[u8],
    ts: i64,
    nonce: &str,
) -> String {
    hmac_hex(
        key,
        canonical_string(method, path, body, ts, nonce).as_bytes(),
    )
}

/// Checks a request signature in constant time. Timestamp freshness and nonce replay are the
/// server's business (it has the clock and the memory).
pub fn verify_request_signature(
    key: &[u8; 32],
    method: &str,
    path: &str,
    body: &[u8],
    ts: i64,
    nonce: &str,
    signature_hex: &str,
) -> bool {
    hex_eq(
        &sign_request(key, method, path, body, ts, nonce),
        signature_hex,
    )
}
