//! The v2 message envelope (docs/protocol.md §4): AES-256-GCM over `{"display_name","text"}`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use thiserror::Error;

use crate::ids::CircleSecret;
use crate::json::to_ascii_json_string;

/// The only algorithm the reference writes (it never checks it on receipt).
pub const ENVELOPE_ALG: &str = "AES-256-GCM";

/// The only key id the reference writes (it never checks it on receipt).
pub const ENVELOPE_KEY_ID: &str = "epoch-0";

/// HKDF `info` for the message key.
const MESSAGE_KEY_INFO: &[u8] = b"felund-msg-v1";

/// AES-GCM nonce length; `aes-gcm` only supports the standard 96-bit nonce.
const NONCE_LEN: usize = 12;

/// AES-GCM tag length, appended to the ciphertext.
const TAG_LEN: usize = 16;

/// Why an envelope could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    /// The nonce is not standard base64.
    #[error("envelope nonce is not valid base64")]
    BadNonceBase64,
    /// The nonce does not decode to 12 bytes.
    #[error("envelope nonce must be 12 bytes, got {0}")]
    BadNonceLength(usize),
    /// The ciphertext is not standard base64.
    #[error("envelope ciphertext is not valid base64")]
    BadCiphertextBase64,
    /// The ciphertext is too short to even hold the 16-byte tag.
    #[error("envelope ciphertext is truncated ({0} bytes, at least 16 needed)")]
    Truncated(usize),
    /// Authentication failed: wrong circle, tampered data or mismatched message fields.
    #[error("envelope does not authenticate (wrong circle secret, or the message was altered)")]
    Decrypt,
    /// The decrypted plaintext is not a JSON object with string `display_name` and `text`.
    #[error("envelope plaintext is not a JSON object with string display_name and text")]
    BadPlaintext,
}

/// The `enc` object of a v2 message.
///
/// Field order is the reference's: `alg`, `key_id`, `nonce`, `ciphertext`. `Debug` shows only
/// lengths: the ciphertext is opaque and long, and nothing in it helps a reader of logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Always `AES-256-GCM` when we write it.
    #[serde(default = "default_alg")]
    pub alg: String,
    /// Always `epoch-0` when we write it.
    #[serde(default = "default_key_id")]
    pub key_id: String,
    /// Standard base64 of the 12-byte nonce.
    pub nonce: String,
    /// Standard base64 of ciphertext || 16-byte tag.
    pub ciphertext: String,
}

fn default_alg() -> String {
    ENVELOPE_ALG.to_string()
}

fn default_key_id() -> String {
    ENVELOPE_KEY_ID.to_string()
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("alg", &self.alg)
            .field("key_id", &self.key_id)
            .field("nonce", &self.nonce)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// The plaintext in the reference's key order, plus felundd's optional `sent_ms` (the
/// author's send time in milliseconds, which orders messages of the same second). The
/// reference and the web client read `display_name` and `text` and ignore other keys, and
/// inside the envelope the extra key is invisible to anyone without the secret.
#[derive(Serialize)]
struct Plaintext<'a> {
    display_name: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sent_ms: Option<i64>,
}

/// What an opened envelope holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The author's display name.
    pub display_name: String,
    /// The text.
    pub text: String,
    /// The author's send time in milliseconds, when the author wrote one (felundd does);
    /// use it only if it falls in the message's `created_ts` second.
    pub sent_ms: Option<i64>,
}

/// The message key: HKDF-SHA256 of the raw secret, no salt, info `felund-msg-v1`, 32 bytes.
pub fn message_key(secret: &CircleSecret) -> [u8; 32] {
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(None, secret.as_bytes()).expand(MESSAGE_KEY_INFO, &mut key);
    key
}

/// Seals `display_name` and `text` for a message whose associated data is `aad`
/// (see [`crate::message::WireMessage::aad`]). `nonce` must be fresh random bytes.
pub fn seal(
    secret: &CircleSecret,
    aad: &str,
    display_name: &str,
    text: &str,
    nonce: [u8; NONCE_LEN],
) -> Envelope {
    seal_with_order(secret, aad, display_name, text, None, nonce)
}

/// [`seal`], also sealing the author's send time in milliseconds (`sent_ms`) when given.
pub fn seal_with_order(
    secret: &CircleSecret,
    aad: &str,
    display_name: &str,
    text: &str,
    sent_ms: Option<i64>,
    nonce: [u8; NONCE_LEN],
) -> Envelope {
    // Written exactly like the reference so the vectors' ciphertexts are reproduced.
    let plaintext = to_ascii_json_string(&Plaintext {
        display_name,
        text,
        sent_ms,
    })
    .unwrap_or_default();
    let key = message_key(secret);
    let cipher = Aes256Gcm::new(&key.into());
    // Encryption only fails for inputs beyond GCM's 64 GiB limit, which no message reaches.
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    Envelope {
        alg: ENVELOPE_ALG.to_string(),
        key_id: ENVELOPE_KEY_ID.to_string(),
        nonce: STANDARD.encode(nonce),
        ciphertext: STANDARD.encode(ciphertext),
    }
}

/// Opens an envelope, returning `(display_name, text)`.
///
/// Accepts any JSON object as plaintext; a missing `display_name` or `text` reads as empty,
/// like the reference. Unlike the reference (which would stringify them), non-string values
/// are refused. `alg` and `key_id` are not checked, like the reference.
pub fn open(
    secret: &CircleSecret,
    aad: &str,
    env: &Envelope,
) -> Result<(String, String), EnvelopeError> {
    open_all(secret, aad, env).map(|o| (o.display_name, o.text))
}

/// [`open`], with everything the plaintext holds. A `sent_ms` that is not an integer is
/// ignored (it only orders messages).
pub fn open_all(secret: &CircleSecret, aad: &str, env: &Envelope) -> Result<Opened, EnvelopeError> {
    let nonce = STANDARD
        .decode(env.nonce.as_bytes())
        .map_err(|_| EnvelopeError::BadNonceBase64)?;
    let nonce: [u8; NONCE_LEN] = nonce
        .as_slice()
        .try_into()
        .map_err(|_| EnvelopeError::BadNonceLength(nonce.len()))?;
    let ciphertext = STANDARD
        .decode(env.ciphertext.as_bytes())
        .map_err(|_| EnvelopeError::BadCiphertextBase64)?;
    if ciphertext.len() < TAG_LEN {
        return Err(EnvelopeError::Truncated(ciphertext.len()));
    }
    let key = message_key(secret);
    let plaintext = Aes256Gcm::new(&key.into())
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| EnvelopeError::Decrypt)?;
    let value: Value =
        serde_json::from_slice(&plaintext).map_err(|_| EnvelopeError::BadPlaintext)?;
    let obj = value.as_object().ok_or(EnvelopeError::BadPlaintext)?;
    let field = |key: &str| match obj.get(key) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(EnvelopeError::BadPlaintext),
    };
    Ok(Opened {
        display_name: field("display_name")?,
        text: field("text")?,
        sent_ms: obj.get("sent_ms").and_then(Value::as_i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> CircleSecret {
        CircleSecret::from_bytes(vec![9; 32])
    }

    #[test]
    fn seal_then_open() {
        let env = seal(&secret(), "aad", "Zoë", "hi 🎉", [1; 12]);
        assert_eq!(
            open(&secret(), "aad", &env).unwrap(),
            ("Zoë".to_string(), "hi 🎉".to_string())
        );
        assert_eq!(open(&secret(), "other", &env), Err(EnvelopeError::Decrypt));
    }

    #[test]
    fn the_send_time_travels_sealed_and_plain_seals_have_none() {
        let env = seal_with_order(&secret(), "aad", "a", "b", Some(1_700_000_000_123), [1; 12]);
        let opened = open_all(&secret(), "aad", &env).unwrap();
        assert_eq!(opened.sent_ms, Some(1_700_000_000_123));
        assert_eq!(
            open(&secret(), "aad", &env).unwrap(),
            ("a".into(), "b".into())
        );
        let plain = seal(&secret(), "aad", "a", "b", [1; 12]);
        assert_eq!(open_all(&secret(), "aad", &plain).unwrap().sent_ms, None);
    }

    #[test]
    fn malformed_envelopes_fail_cleanly() {
        let good = seal(&secret(), "aad", "a", "b", [1; 12]);
        let mut bad = good.clone();
        bad.nonce = "***".into();
        assert_eq!(
            open(&secret(), "aad", &bad),
            Err(EnvelopeError::BadNonceBase64)
        );
        bad = good.clone();
        bad.nonce = STANDARD.encode([0u8; 8]);
        assert_eq!(
            open(&secret(), "aad", &bad),
            Err(EnvelopeError::BadNonceLength(8))
        );
        bad = good.clone();
        bad.ciphertext = "not base64!".into();
        assert_eq!(
            open(&secret(), "aad", &bad),
            Err(EnvelopeError::BadCiphertextBase64)
        );
        bad = good.clone();
        bad.ciphertext = STANDARD.encode([0u8; 10]);
        assert_eq!(
            open(&secret(), "aad", &bad),
            Err(EnvelopeError::Truncated(10))
        );
        bad = good;
        let mut raw = STANDARD.decode(&bad.ciphertext).unwrap();
        raw.truncate(raw.len() - 1);
        bad.ciphertext = STANDARD.encode(raw);
        assert_eq!(open(&secret(), "aad", &bad), Err(EnvelopeError::Decrypt));
    }

    #[test]
    fn debug_hides_ciphertext() {
        let env = seal(&secret(), "aad", "a", "secret words", [1; 12]);
        assert!(!format!("{env:?}").contains(&env.ciphertext));
    }
}
