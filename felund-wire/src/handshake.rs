//! The HELLO / CHALLENGE / HELLO_AUTH handshake (PROTOCOL.md §6).

use crate::ids::CircleSecret;
use crate::mac::{hex_eq, hmac_hex};

/// The HELLO_AUTH token: hex HMAC-SHA256 under the raw secret of
/// `"{node_id}|{circle_id}|{server_nonce_hex}"`.
///
/// Note the server nonce enters as its **hex text** here, while the session key salt uses
/// the decoded bytes.
pub fn hello_auth_token(
    secret: &CircleSecret,
    node_id: &str,
    circle_id: &str,
    server_nonce_hex: &str,
) -> String {
    hmac_hex(
        secret.as_bytes(),
        format!("{node_id}|{circle_id}|{server_nonce_hex}").as_bytes(),
    )
}

/// Checks a HELLO_AUTH token in constant time.
pub fn verify_hello_auth(
    secret: &CircleSecret,
    node_id: &str,
    circle_id: &str,
    server_nonce_hex: &str,
    token: &str,
) -> bool {
    hex_eq(
        &hello_auth_token(secret, node_id, circle_id, server_nonce_hex),
        token,
    )
}

/// Decodes a HELLO or CHALLENGE nonce: exactly 32 hex digits.
///
/// The reference does not validate the HELLO nonce (a short one gets `enc_ready: true` and then
/// an `Internal error`); we refuse anything else up front.
pub fn parse_nonce16(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_must_be_32_hex_digits() {
        assert_eq!(
            parse_nonce16("00112233445566778899aabbccddeeff"),
            Some([
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ])
        );
        assert_eq!(parse_nonce16("0011"), None);
        assert_eq!(parse_nonce16("zz112233445566778899aabbccddeeff"), None);
        assert_eq!(parse_nonce16("00112233445566778899aabbccddeeff00"), None);
        assert_eq!(parse_nonce16("é0112233445566778899aabbccddeef"), None);
    }

    #[test]
    fn token_verifies_only_for_its_inputs() {
        let s = CircleSecret::from_bytes(vec![1; 32]);
        let t = hello_auth_token(&s, "n", "c", "ab");
        assert!(verify_hello_auth(&s, "n", "c", "ab", &t));
        assert!(!verify_hello_auth(&s, "m", "c", "ab", &t));
        assert!(!verify_hello_auth(&s, "n", "c", "ab", ""));
        assert!(!verify_hello_auth(&s, "n", "c", "ab", &t.to_uppercase()));
    }
}
