//! Turning a received JSON object into a [`WireMessage`], checking every field.
//!
//! Two shapes exist. Gossip messages (MSGS_SEND) must be exactly the ten-key object of
//! docs/protocol.md §3: the reference drops anything else, so we refuse to store or forward it.
//! Relay and anchor objects are rebuilt field by field by the reference, which ignores other
//! keys and lacks `text`/`display_name`/`mac` when it carries `enc`; we accept that shape.

use serde_json::{Map, Value};

use super::{MessageError, WireMessage};
use crate::envelope::{Envelope, ENVELOPE_ALG, ENVELOPE_KEY_ID};
use crate::ids::GENERAL_CHANNEL;
use crate::limits::{
    MAX_DISPLAY_NAME_BYTES, MAX_ENC_CIPHERTEXT_BYTES, MAX_ENC_FIELD_BYTES, MAX_ID_BYTES,
    MAX_MAC_BYTES, MAX_MSG_ID_BYTES, MAX_RECEIVED_TEXT_BYTES,
};

/// The only keys a message object may carry (docs/protocol.md §3).
pub(super) const MESSAGE_KEYS: [&str; 10] = [
    "msg_id",
    "circle_id",
    "author_node_id",
    "created_ts",
    "text",
    "channel_id",
    "display_name",
    "mac",
    "schema_version",
    "enc",
];

/// How strictly to read an object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A full message from gossip: no unknown keys, `text` required.
    Gossip,
    /// A relay/anchor object: unknown keys ignored, `text` optional.
    Relay,
}

/// Longest unknown key quoted back in an error, so a hostile key cannot bloat logs.
const MAX_QUOTED_KEY_CHARS: usize = 64;

/// Reads and checks a message object of the given shape.
pub(super) fn read(v: &Value, shape: Shape) -> Result<WireMessage, MessageError> {
    let obj = v.as_object().ok_or(MessageError::NotAnObject)?;
    if shape == Shape::Gossip {
        if let Some(key) = obj.keys().find(|k| !MESSAGE_KEYS.contains(&k.as_str())) {
            return Err(MessageError::UnknownField(
                key.chars().take(MAX_QUOTED_KEY_CHARS).collect(),
            ));
        }
    }
    let text = match shape {
        Shape::Gossip => required_str(obj, "text", MAX_RECEIVED_TEXT_BYTES, true)?,
        Shape::Relay => optional_str(obj, "text", MAX_RECEIVED_TEXT_BYTES)?.unwrap_or_default(),
    };
    let enc = match obj.get("enc") {
        None => None,
        // The relay rule keys on the presence of `enc`: a null one cannot be decrypted, so the
        // reference drops the object, and so do we.
        Some(Value::Null) if shape == Shape::Relay => return Err(MessageError::NullEnvelope),
        Some(Value::Null) => None,
        Some(Value::Object(e)) => Some(read_envelope(e)?),
        Some(_) => return Err(wrong_type("enc", "an object or null")),
    };
    Ok(WireMessage {
        msg_id: required_str(obj, "msg_id", MAX_MSG_ID_BYTES, false)?,
        circle_id: required_str(obj, "circle_id", MAX_ID_BYTES, false)?,
        author_node_id: required_str(obj, "author_node_id", MAX_ID_BYTES, false)?,
        created_ts: required_int(obj, "created_ts")?,
        text,
        channel_id: optional_str(obj, "channel_id", MAX_ID_BYTES)?
            .unwrap_or_else(|| GENERAL_CHANNEL.to_string()),
        display_name: optional_str(obj, "display_name", MAX_DISPLAY_NAME_BYTES)?
            .unwrap_or_default(),
        mac: optional_str(obj, "mac", MAX_MAC_BYTES)?.unwrap_or_default(),
        schema_version: match obj.get("schema_version") {
            None => 1,
            Some(v) => int_value(v, "schema_version")?,
        },
        enc,
        sent_ms: None,
    })
}

/// Reads an `enc` object: `nonce` and `ciphertext` are required strings, `alg`/`key_id` default
/// to the only values the reference writes. Other keys inside `enc` are ignored (the reference
/// ignores them too) and are not kept.
fn read_envelope(e: &Map<String, Value>) -> Result<Envelope, MessageError> {
    Ok(Envelope {
        alg: optional_str(e, "alg", MAX_ENC_FIELD_BYTES)?
            .unwrap_or_else(|| ENVELOPE_ALG.to_string()),
        key_id: optional_str(e, "key_id", MAX_ENC_FIELD_BYTES)?
            .unwrap_or_else(|| ENVELOPE_KEY_ID.to_string()),
        nonce: required_str(e, "nonce", MAX_ENC_FIELD_BYTES, true)?,
        ciphertext: required_str(e, "ciphertext", MAX_ENC_CIPHERTEXT_BYTES, true)?,
    })
}

fn wrong_type(field: &'static str, expected: &'static str) -> MessageError {
    MessageError::WrongType { field, expected }
}

fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), MessageError> {
    if s.len() > max {
        Err(MessageError::TooLong { field, max })
    } else {
        Ok(())
    }
}

fn required_str(
    obj: &Map<String, Value>,
    field: &'static str,
    max: usize,
    allow_empty: bool,
) -> Result<String, MessageError> {
    let s = optional_str(obj, field, max)?.ok_or(MessageError::MissingField(field))?;
    if s.is_empty() && !allow_empty {
        return Err(MessageError::EmptyField(field));
    }
    Ok(s)
}

/// A string field that may be absent; present-but-not-a-string (null included) is an error,
/// because the reference would store such a value and then MAC or display nonsense.
fn optional_str(
    obj: &Map<String, Value>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, MessageError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => {
            check_len(field, s, max)?;
            Ok(Some(s.clone()))
        }
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

fn required_int(obj: &Map<String, Value>, field: &'static str) -> Result<i64, MessageError> {
    obj.get(field)
        .ok_or(MessageError::MissingField(field))
        .and_then(|v| int_value(v, field))
}

/// A JSON integer that fits in i64. Floats (even `1.0`), strings and booleans are refused: a
/// non-integer `created_ts` wedges a reference node (docs/protocol.md §6.8).
fn int_value(v: &Value, field: &'static str) -> Result<i64, MessageError> {
    match v {
        Value::Number(n) => n.as_i64().ok_or(if n.is_u64() {
            MessageError::OutOfRange(field)
        } else {
            wrong_type(field, "an integer")
        }),
        _ => Err(wrong_type(field, "an integer")),
    }
}
