//! Invite codes (docs/protocol.md §2): `felund1.` + b64url of `{"v":1,"secret":..,"peer":..}`.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::addr::parse_host_port;
use crate::ids::{CircleSecret, IdError};
use crate::json::to_ascii_json_string;

/// Every invite code starts with this.
pub const INVITE_PREFIX: &str = "felund1.";

/// Decodes URL-safe base64 with or without padding. Trailing bits are tolerated because
/// Python's decoder tolerates them and we want to accept every code the reference accepts.
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why an invite code was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InviteError {
    /// The code does not start with `felund1.`.
    #[error("invite code must start with 'felund1.'")]
    BadPrefix,
    /// The part after the prefix is not base64.
    #[error("invite code is damaged: the part after 'felund1.' is not valid base64")]
    BadBase64,
    /// The decoded payload is not a JSON object.
    #[error("invite code is damaged: its payload is not a JSON object")]
    NotJson,
    /// `v` is not the integer 1.
    #[error("invite code has an unsupported version (only version 1 is known)")]
    UnsupportedVersion,
    /// The payload has no (or an empty) `secret`.
    #[error("invite code has no circle secret")]
    MissingSecret,
    /// The secret is not valid hex.
    #[error("invite code has a bad circle secret: {0}")]
    BadSecret(#[from] IdError),
    /// A field has the wrong JSON type.
    #[error("invite code field '{0}' must be a string")]
    WrongType(&'static str),
    /// The peer is neither empty, a relay URL nor `host:port` with a port in 1..=65535.
    #[error("invite code peer {0:?} is not host:port (port 1-65535) or a relay URL")]
    BadPeer(String),
}

/// Where a new member should go first to meet the circle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitePeer {
    /// No bootstrap address (the joiner relies on the relay or on being contacted).
    None,
    /// A TCP node to sync with; `host` may be a bracketed IPv6 literal.
    Tcp {
        /// Host name or address, exactly as written in the code.
        host: String,
        /// TCP port, 1..=65535.
        port: u16,
    },
    /// A relay base URL, as written by web clients (which have no listener).
    Relay(String),
}

impl InvitePeer {
    /// The `peer` string to write into a code.
    pub fn as_code_peer(&self) -> String {
        match self {
            InvitePeer::None => String::new(),
            InvitePeer::Tcp { host, port } => format!("{host}:{port}"),
            InvitePeer::Relay(url) => url.clone(),
        }
    }

    /// Classifies a trimmed `peer` string the way the reference does.
    fn parse(peer: &str) -> Result<Self, InviteError> {
        if peer.is_empty() {
            Ok(InvitePeer::None)
        } else if is_relay_url(peer) {
            Ok(InvitePeer::Relay(peer.to_string()))
        } else {
            parse_host_port(peer)
                .map(|(host, port)| InvitePeer::Tcp { host, port })
                .ok_or_else(|| InviteError::BadPeer(peer.to_string()))
        }
    }
}

/// A parsed invite code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// The circle secret (redacted in `Debug`).
    pub secret: CircleSecret,
    /// Where to bootstrap from.
    pub peer: InvitePeer,
}

impl Invite {
    /// The circle this invite is for.
    pub fn circle_id(&self) -> String {
        self.secret.circle_id()
    }

    /// Re-encodes this invite as a code.
    pub fn encode(&self) -> String {
        encode_invite(&self.secret, &self.peer.as_code_peer())
    }
}

/// Whether `peer` is a relay URL rather than a TCP address.
pub fn is_relay_url(peer: &str) -> bool {
    ["http://", "https://", "//"]
        .iter()
        .any(|p| peer.starts_with(p))
}

/// The payload in the reference's key order: `v`, `secret`, `peer`.
#[derive(Serialize)]
struct Payload<'a> {
    v: u8,
    secret: &'a str,
    peer: &'a str,
}

/// Makes an invite code, byte-identical to the reference's for the same secret and peer.
///
/// `peer` is written as given: pass `host:port`, a relay URL or an empty string.
pub fn encode_invite(secret: &CircleSecret, peer: &str) -> String {
    let hex = secret.to_hex();
    let payload = Payload {
        v: 1,
        secret: &hex,
        peer,
    };
    // A struct of strings always serialises; the fallback only avoids a panic path.
    let json = to_ascii_json_string(&payload).unwrap_or_default();
    format!("{INVITE_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
}

/// Parses an invite code following docs/protocol.md §2.
///
/// Differences from the reference, all of them refusing codes the reference would accept only
/// by accident: the base64 must be clean (the reference silently drops stray characters),
/// `secret` and `peer` must be JSON strings, `v` must be exactly the integer 1, and a TCP
/// peer's port must be plain digits in 1..=65535 with a non-empty host.
pub fn parse_invite(code: &str) -> Result<Invite, InviteError> {
    let body = code
        .trim()
        .strip_prefix(INVITE_PREFIX)
        .ok_or(InviteError::BadPrefix)?;
    // Python's urlsafe decoder also accepts the standard alphabet's `+` and `/`.
    let body: String = body
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    let raw = LENIENT_URL_SAFE
        .decode(body.as_bytes())
        .map_err(|_| InviteError::BadBase64)?;
    let payload: Value = serde_json::from_slice(&raw).map_err(|_| InviteError::NotJson)?;
    let obj = payload.as_object().ok_or(InviteError::NotJson)?;

    if obj.get("v").and_then(Value::as_i64) != Some(1) {
        return Err(InviteError::UnsupportedVersion);
    }
    let secret = optional_str(obj.get("secret"), "secret")?.trim();
    if secret.is_empty() {
        return Err(InviteError::MissingSecret);
    }
    let secret = CircleSecret::from_hex(secret)?;
    let peer = InvitePeer::parse(optional_str(obj.get("peer"), "peer")?.trim())?;
    Ok(Invite { secret, peer })
}

/// A missing or null field reads as empty, like the reference's `payload.get(key, "")`.
fn optional_str<'a>(v: Option<&'a Value>, field: &'static str) -> Result<&'a str, InviteError> {
    match v {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(InviteError::WrongType(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> CircleSecret {
        CircleSecret::from_bytes((0u8..32).collect())
    }

    #[test]
    fn round_trips_every_peer_kind() {
        for peer in [
            InvitePeer::None,
            InvitePeer::Tcp {
                host: "[::1]".into(),
                port: 9999,
            },
            InvitePeer::Relay("https://relay.example/api".into()),
        ] {
            let invite = Invite {
                secret: secret(),
                peer,
            };
            assert_eq!(parse_invite(&invite.encode()).unwrap(), invite);
        }
    }

    #[test]
    fn refuses_bad_codes_with_readable_errors() {
        assert_eq!(parse_invite("nope"), Err(InviteError::BadPrefix));
        assert_eq!(
            InviteError::BadPrefix.to_string(),
            "invite code must start with 'felund1.'"
        );
        assert_eq!(parse_invite("felund1.!!!!"), Err(InviteError::BadBase64));
        let code = |json: &str| format!("felund1.{}", URL_SAFE_NO_PAD.encode(json));
        assert_eq!(
            parse_invite(&code(r#"{"v":1,"secret":"00","peer":"h:0"}"#)),
            Err(InviteError::BadPeer("h:0".into()))
        );
        assert_eq!(
            parse_invite(&code(r#"{"v":"1","secret":"00"}"#)),
            Err(InviteError::UnsupportedVersion)
        );
        assert_eq!(
            parse_invite(&code(r#"{"v":1,"secret":7}"#)),
            Err(InviteError::WrongType("secret"))
        );
        assert_eq!(parse_invite(&code(r#"[1]"#)), Err(InviteError::NotJson));
    }

    #[test]
    fn accepts_standard_alphabet_like_python() {
        let good = encode_invite(&secret(), "h:1");
        let std_alpha = good.replace('-', "+").replace('_', "/");
        assert_eq!(parse_invite(&std_alpha), parse_invite(&good));
    }
}
