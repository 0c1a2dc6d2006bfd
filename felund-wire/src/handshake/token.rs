//! The handshake's proofs of the circle secret: the reference HELLO_AUTH token, and the
//! felundd transcript proof that binds both nonces and both node ids.

use crate::ids::CircleSecret;
use crate::mac::{hex_eq, hmac_hex};

use super::Role;

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

/// The felundd transcript proof (`X_PROOF`, extension v2): hex HMAC-SHA256 under the raw
/// secret of `"felundd-proof-v1|{sender role}|{circle_id}|{initiator id}|{responder id}|{client
/// nonce hex}|{server nonce hex}"`.
///
/// The reference HELLO_AUTH token covers neither the client nonce nor the responder, so a
/// token can be relayed from one member to another by someone who strips or swaps the nonce.
/// This proof covers the whole handshake as each side saw it, and names the sender's role so
/// that a proof cannot be reflected back to its author.
pub fn transcript_proof(secret: &CircleSecret, sender: Role, t: &Transcript) -> String {
    let role = match sender {
        Role::Initiator => "initiator",
        Role::Responder => "responder",
    };
    hmac_hex(
        secret.as_bytes(),
        format!(
            "felundd-proof-v1|{role}|{}|{}|{}|{}|{}",
            t.circle_id, t.initiator_id, t.responder_id, t.client_nonce_hex, t.server_nonce_hex
        )
        .as_bytes(),
    )
}

/// Checks a peer's [`transcript_proof`] in constant time.
pub fn verify_transcript_proof(
    secret: &CircleSecret,
    sender: Role,
    t: &Transcript,
    proof: &str,
) -> bool {
    hex_eq(&transcript_proof(secret, sender, t), proof)
}

/// What both sides of one handshake saw: the input of the transcript proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The circle.
    pub circle_id: String,
    /// The node that connected.
    pub initiator_id: String,
    /// The node that answered.
    pub responder_id: String,
    /// The HELLO nonce, as sent (hex text).
    pub client_nonce_hex: String,
    /// The CHALLENGE nonce, as sent (hex text).
    pub server_nonce_hex: String,
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

    #[test]
    fn transcript_proof_binds_role_and_every_field() {
        let s = CircleSecret::from_bytes(vec![1; 32]);
        let t = Transcript {
            circle_id: "c".into(),
            initiator_id: "a".into(),
            responder_id: "b".into(),
            client_nonce_hex: "00".into(),
            server_nonce_hex: "11".into(),
        };
        let p = transcript_proof(&s, Role::Initiator, &t);
        assert!(verify_transcript_proof(&s, Role::Initiator, &t, &p));
        assert!(!verify_transcript_proof(&s, Role::Responder, &t, &p));
        let other = CircleSecret::from_bytes(vec![2; 32]);
        assert!(!verify_transcript_proof(&other, Role::Initiator, &t, &p));
        let variants = [
            Transcript {
                circle_id: "x".into(),
                ..t.clone()
            },
            Transcript {
                initiator_id: "x".into(),
                ..t.clone()
            },
            Transcript {
                responder_id: "x".into(),
                ..t.clone()
            },
            Transcript {
                client_nonce_hex: String::new(),
                ..t.clone()
            },
            Transcript {
                server_nonce_hex: "12".into(),
                ..t.clone()
            },
        ];
        for v in variants {
            assert!(
                !verify_transcript_proof(&s, Role::Initiator, &v, &p),
                "{v:?}"
            );
        }
    }
}
