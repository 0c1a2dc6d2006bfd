//! HMAC-SHA256 and constant-time comparison, shared by every authenticated structure.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `msg` under `key` (any key length is valid for HMAC).
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // `new_from_slice` only fails for algorithms with fixed key sizes; HMAC accepts any size.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// Lowercase hex HMAC-SHA256.
pub(crate) fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    hex::encode(hmac_sha256(key, msg))
}

/// Compares an expected hex MAC with a received one without leaking where they differ.
///
/// The comparison is on the text, exactly as the reference does, so an upper-case MAC does
/// not verify. Different lengths compare unequal (that leaks only the length, which is public).
pub(crate) fn hex_eq(expected: &str, received: &str) -> bool {
    expected.as_bytes().ct_eq(received.as_bytes()).into()
}
