//! Identifiers (docs/protocol.md §1): circle secrets and ids, node ids, message ids, channel ids
//! and display names.

use std::fmt;

use sha2::{Digest, Sha256};
use thiserror::Error;

/// The public channel every circle has.
pub const GENERAL_CHANNEL: &str = "general";

/// The reserved channel that carries control events (docs/protocol.md §5); never shown as chat.
pub const CONTROL_CHANNEL: &str = "__control";

/// Display names longer than this are truncated when learned from events or messages.
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;

/// Channel ids are at most this many characters.
pub const MAX_CHANNEL_ID_CHARS: usize = 32;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// The circle secret text was empty after trimming.
    #[error("the circle secret is empty")]
    EmptySecret,
    /// The circle secret had an odd number of hex digits.
    #[error("the circle secret must have an even number of hex digits")]
    OddLengthSecret,
    /// The circle secret contained something other than hex digits.
    #[error("the circle secret must contain only hex digits (0-9, a-f)")]
    NonHexSecret,
    /// The channel name was empty after normalisation.
    #[error("a channel name cannot be empty")]
    EmptyChannel,
    /// The channel name was longer than 32 characters.
    #[error("a channel name can have at most 32 characters")]
    ChannelTooLong,
    /// The channel name started with `__`, which is reserved.
    #[error("channel names starting with '__' are reserved")]
    ReservedChannel,
    /// The channel name contained a character outside `a-z`, `0-9`, `-` and `_`.
    #[error("a channel name may contain only letters a-z, digits, '-' and '_'")]
    BadChannelChar,
    /// A name was empty after trimming.
    #[error("a name cannot be empty")]
    EmptyName,
    /// A name contained a control or text-direction character (shown as its code point).
    #[error("a name cannot contain control characters (found U+{0:04X})")]
    ControlInName(u32),
}

/// The shared key of a circle: whoever holds it is a member.
///
/// The bytes never appear in `Debug` output, so a secret cannot leak into logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct CircleSecret(Vec<u8>);

impl CircleSecret {
    /// Wraps raw secret bytes (the reference makes 32 random bytes).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Parses the hex form used in invite codes and state files.
    ///
    /// Surrounding whitespace is trimmed and case is ignored, like the reference. Any even,
    /// non-zero number of hex digits is accepted, because the reference does not insist on
    /// 32 bytes either.
    pub fn from_hex(text: &str) -> Result<Self, IdError> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() {
            return Err(IdError::EmptySecret);
        }
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IdError::NonHexSecret);
        }
        hex::decode(&text).map(Self).map_err(|e| match e {
            hex::FromHexError::OddLength => IdError::OddLengthSecret,
            _ => IdError::NonHexSecret,
        })
    }

    /// The raw secret bytes: the key of every MAC and HKDF in the protocol.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// The public circle id derived from this secret.
    pub fn circle_id(&self) -> String {
        circle_id(&self.0)
    }
}

impl fmt::Debug for CircleSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CircleSecret(..)")
    }
}

/// Lowercase hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The first `n` characters of a hex digest (always ASCII, so byte slicing is exact).
fn hex_prefix(data: &[u8], n: usize) -> String {
    let mut digest = sha256_hex(data);
    digest.truncate(n);
    digest
}

/// circle_id = first 24 hex chars of SHA-256 of the **raw** secret bytes (not of its hex text).
pub fn circle_id(secret: &[u8]) -> String {
    hex_prefix(secret, 24)
}

/// What a relay sees instead of the circle id: first 16 hex chars of SHA-256 of the ASCII id.
pub fn circle_hint(circle_id: &str) -> String {
    hex_prefix(circle_id.as_bytes(), 16)
}

/// A node's stable identity: first 24 hex chars of SHA-256 of 32 random bytes (the seed).
pub fn node_id_from_seed(seed: &[u8; 32]) -> String {
    hex_prefix(seed, 24)
}

/// A message id: first 32 hex chars of SHA-256 of `"{node_id}|{created_ts}|{random16hex}"`.
///
/// `random16hex` is the caller's 16 random hex characters (this crate has no randomness).
pub fn msg_id(node_id: &str, created_ts: i64, random16hex: &str) -> String {
    hex_prefix(
        format!("{node_id}|{created_ts}|{random16hex}").as_bytes(),
        32,
    )
}

/// Normalises a channel name typed by a user into the id to send.
///
/// Trims, lower-cases and removes one leading `#`; the result must be 1–32 characters of
/// ASCII letters, digits, `-` and `_`, not starting with `__`. This is stricter than what we
/// accept from others ([`is_valid_channel_id`]) on purpose: we only ever send ASCII ids.
pub fn normalize_channel_id(input: &str) -> Result<String, IdError> {
    let lowered = input.trim().to_lowercase();
    let id = lowered.strip_prefix('#').unwrap_or(&lowered);
    if id.is_empty() {
        return Err(IdError::EmptyChannel);
    }
    if id.chars().count() > MAX_CHANNEL_ID_CHARS {
        return Err(IdError::ChannelTooLong);
    }
    if id.starts_with("__") {
        return Err(IdError::ReservedChannel);
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(IdError::BadChannelChar);
    }
    Ok(id.to_string())
}

/// Whether a channel id received from another node is acceptable.
///
/// Mirrors the reference: 1–32 characters, not starting with `__`, each character alphanumeric
/// (Unicode-aware, like Python's `str.isalnum`) or `-` or `_`. Rust's notion of alphanumeric is
/// very close to Python's; the rare differences only concern exotic scripts.
pub fn is_valid_channel_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_CHANNEL_ID_CHARS
        && !id.starts_with("__")
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// Truncates a display name to [`MAX_DISPLAY_NAME_CHARS`] characters (Unicode scalar values,
/// like Python's `name[:40]`).
pub fn truncate_display_name(name: &str) -> String {
    name.chars().take(MAX_DISPLAY_NAME_CHARS).collect()
}

/// A display or circle name this node is about to set and announce to every peer: trimmed,
/// refused when empty or when it holds a control character (escape sequences, bells and
/// newlines would reach every peer's terminal) or a text-direction override (which makes a
/// name read as another), then shortened to [`MAX_DISPLAY_NAME_CHARS`] characters — the
/// reference shortens longer names anyway. Callers tell the user when it was shortened.
pub fn local_name(input: &str) -> Result<String, IdError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(IdError::EmptyName);
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || is_direction_override(*c))
    {
        return Err(IdError::ControlInName(u32::from(c)));
    }
    Ok(truncate_display_name(name))
}

/// Unicode bidirectional embedding, override and isolate controls.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_refuse_control_characters_and_are_shortened_to_40() {
        assert_eq!(local_name("  zoë 🎉 "), Ok("zoë 🎉".to_string()));
        assert_eq!(local_name(" \t"), Err(IdError::EmptyName));
        assert_eq!(
            local_name("a\u{1b}[31mb"),
            Err(IdError::ControlInName(0x1b))
        );
        assert_eq!(local_name("a\nb"), Err(IdError::ControlInName(0x0a)));
        assert_eq!(local_name("a\u{7}"), Err(IdError::ControlInName(0x07)));
        assert_eq!(
            local_name("evil\u{202E}gpj"),
            Err(IdError::ControlInName(0x202e))
        );
        let long = "é".repeat(45);
        assert_eq!(local_name(&long).map(|n| n.chars().count()), Ok(40));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = CircleSecret::from_hex("abcd").unwrap();
        assert_eq!(format!("{s:?}"), "CircleSecret(..)");
    }

    #[test]
    fn secret_hex_rules() {
        assert_eq!(
            CircleSecret::from_hex("  ABcd\n").unwrap().as_bytes(),
            &[0xab, 0xcd]
        );
        assert_eq!(CircleSecret::from_hex(" "), Err(IdError::EmptySecret));
        assert_eq!(CircleSecret::from_hex("abc"), Err(IdError::OddLengthSecret));
        assert_eq!(CircleSecret::from_hex("zz"), Err(IdError::NonHexSecret));
        assert_eq!(CircleSecret::from_hex("+1"), Err(IdError::NonHexSecret));
    }

    #[test]
    fn derived_ids_have_fixed_lengths() {
        assert_eq!(node_id_from_seed(&[7; 32]).len(), 24);
        let m = msg_id("node", 1_763_900_000, "0123456789abcdef");
        assert_eq!(m.len(), 32);
        assert_eq!(
            m,
            sha256_hex(b"node|1763900000|0123456789abcdef")[..32].to_string()
        );
    }

    #[test]
    fn channel_id_normalisation_table() {
        let ok = [
            ("general", "general"),
            ("  #Random ", "random"),
            ("#dev-ops_2", "dev-ops_2"),
            ("a", "a"),
            ("_x", "_x"),
            (
                "abcdefghijklmnopqrstuvwxyz012345",
                "abcdefghijklmnopqrstuvwxyz012345",
            ),
        ];
        for (input, want) in ok {
            assert_eq!(
                normalize_channel_id(input).as_deref(),
                Ok(want),
                "{input:?}"
            );
        }
        let bad = [
            ("", IdError::EmptyChannel),
            ("   ", IdError::EmptyChannel),
            ("#", IdError::EmptyChannel),
            ("##x", IdError::BadChannelChar),
            ("__control", IdError::ReservedChannel),
            ("#__x", IdError::ReservedChannel),
            ("a b", IdError::BadChannelChar),
            ("café", IdError::BadChannelChar),
            ("a.b", IdError::BadChannelChar),
            ("abcdefghijklmnopqrstuvwxyz0123456", IdError::ChannelTooLong),
        ];
        for (input, want) in bad {
            assert_eq!(normalize_channel_id(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn accept_side_channel_ids_are_unicode_aware() {
        assert!(is_valid_channel_id("café"));
        assert!(is_valid_channel_id("日本語"));
        assert!(is_valid_channel_id("General"));
        assert!(!is_valid_channel_id(""));
        assert!(!is_valid_channel_id("__control"));
        assert!(!is_valid_channel_id("a b"));
        assert!(!is_valid_channel_id(&"x".repeat(33)));
        assert!(is_valid_channel_id(&"é".repeat(32)));
    }

    #[test]
    fn display_names_truncate_by_character() {
        assert_eq!(truncate_display_name(&"é".repeat(50)).chars().count(), 40);
        assert_eq!(truncate_display_name("bob"), "bob");
    }
}
