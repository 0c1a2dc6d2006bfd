//! Session encryption of gossip frames (docs/protocol.md §6): one AES-256-GCM key per connection,
//! each line `b64(nonce12 || ciphertext || tag)` + `\n`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hkdf::Hkdf;
use sha2::Sha256;
use thiserror::Error;

use crate::ids::CircleSecret;

/// HKDF `info` for the session key.
const SESSION_KEY_INFO: &[u8] = b"felund-session-v1";

/// Nonce and tag lengths: the smallest possible line decodes to 28 bytes.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Length in bytes of the line (newline included) that `plaintext_len` bytes of frame JSON
/// become when sealed: nonce and tag are added, then base64 and the newline.
pub fn sealed_line_len(plaintext_len: usize) -> usize {
    (plaintext_len + NONCE_LEN + TAG_LEN).div_ceil(3) * 4 + 1
}

/// The most bytes of frame JSON whose sealed line fits in `max_line` bytes (newline included).
pub fn max_sealed_plaintext(max_line: usize) -> usize {
    (max_line.saturating_sub(1) / 4 * 3).saturating_sub(NONCE_LEN + TAG_LEN)
}

/// Why an encrypted line could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    /// The line is not standard base64.
    #[error("encrypted frame is not valid base64")]
    BadBase64,
    /// The decoded line cannot hold a nonce and a tag.
    #[error("encrypted frame is too short ({0} bytes, at least 28 needed)")]
    TooShort(usize),
    /// Authentication failed: wrong session key, or the line was altered.
    #[error("encrypted frame does not authenticate (wrong session key, or it was altered)")]
    Decrypt,
}

/// The session key: HKDF-SHA256 of the raw circle secret with salt = client nonce || server
/// nonce (the decoded 16-byte values from HELLO and CHALLENGE), info `felund-session-v1`.
pub fn session_key(
    secret: &CircleSecret,
    client_nonce: &[u8; 16],
    server_nonce: &[u8; 16],
) -> [u8; 32] {
    let mut salt = [0u8; 32];
    salt[..16].copy_from_slice(client_nonce);
    salt[16..].copy_from_slice(server_nonce);
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's output limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(&salt), secret.as_bytes()).expand(SESSION_KEY_INFO, &mut key);
    key
}

/// Seals and opens frame lines under one session key (both directions share it).
///
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct SessionCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SessionCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCipher(..)")
    }
}

impl SessionCipher {
    /// A cipher for the key from [`session_key`].
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// Encrypts one frame (its JSON, without newline) into a wire line ending in `\n`.
    /// `nonce` must be 12 fresh random bytes: there is no sequence number to prevent reuse.
    pub fn seal_line(&self, plaintext: &[u8], nonce: [u8; 12]) -> String {
        // Encryption only fails beyond GCM's 64 GiB limit, which no frame reaches.
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap_or_default();
        let mut raw = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ciphertext);
        let mut line = STANDARD.encode(raw);
        line.push('\n');
        line
    }

    /// Decrypts one wire line, returning the frame's JSON bytes. Surrounding ASCII whitespace
    /// (the `\n` or `\r\n` terminator) is ignored, as the reference strips it too.
    pub fn open_line(&self, line: &[u8]) -> Result<Vec<u8>, SessionError> {
        let raw = STANDARD
            .decode(line.trim_ascii())
            .map_err(|_| SessionError::BadBase64)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(SessionError::TooShort(raw.len()));
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SessionError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tolerate_crlf() {
        let c = SessionCipher::new([3; 32]);
        let line = c.seal_line(b"{\"t\":\"X\"}", [5; 12]);
        assert!(line.ends_with('\n'));
        assert_eq!(c.open_line(line.as_bytes()).unwrap(), b"{\"t\":\"X\"}");
        let crlf = format!("{}\r\n", line.trim_end());
        assert_eq!(c.open_line(crlf.as_bytes()).unwrap(), b"{\"t\":\"X\"}");
    }

    #[test]
    fn sealed_line_lengths_are_exact_and_the_largest_plaintext_fits() {
        let c = SessionCipher::new([3; 32]);
        for n in [0, 1, 2, 3, 100, 24_545] {
            let line = c.seal_line(&vec![b'x'; n], [5; 12]);
            assert_eq!(line.len(), sealed_line_len(n), "{n}");
        }
        for max_line in [16_384, 32_768, 65_536] {
            let most = max_sealed_plaintext(max_line);
            assert!(sealed_line_len(most) <= max_line);
            assert!(sealed_line_len(most + 3) > max_line);
        }
        assert_eq!(max_sealed_plaintext(0), 0);
    }

    #[test]
    fn bad_lines_fail_cleanly() {
        let c = SessionCipher::new([3; 32]);
        assert_eq!(
            c.open_line(b"{\"t\":\"HELLO\"}\n"),
            Err(SessionError::BadBase64)
        );
        assert_eq!(c.open_line(b"AAAA\n"), Err(SessionError::TooShort(3)));
        let line = SessionCipher::new([4; 32]).seal_line(b"x", [5; 12]);
        assert_eq!(c.open_line(line.as_bytes()), Err(SessionError::Decrypt));
        assert_eq!(format!("{c:?}"), "SessionCipher(..)");
    }
}
