//! Control events (docs/protocol.md §5): JSON objects carried as the text of messages in the
//! `__control` channel.
//!
//! [`parse_control`] recognises the four kinds the reference knows; anything else is stored
//! and forwarded but has no effect. [`effects`] turns an event into a pure plan of state
//! changes that the caller applies to its own storage.

mod anchor;
mod call;
mod channel;
mod effects;
mod fields;

use serde_json::{json, Value};

pub use anchor::AnchorAnnounce;
pub use call::{CallEvent, CALL_OPS};
pub use channel::{AccessMode, ChannelEvent, ChannelOp};
pub use effects::{effects, Effect};

use crate::ids::sha256_hex;
use crate::json::to_ascii_json;

/// `t` of a channel event.
pub const CHANNEL_EVT: &str = "CHANNEL_EVT";
/// `t` of a circle-name event.
pub const CIRCLE_NAME_EVT: &str = "CIRCLE_NAME_EVT";
/// `t` of an anchor announcement.
pub const ANCHOR_ANNOUNCE: &str = "ANCHOR_ANNOUNCE";
/// `t` of a call event.
pub const CALL_EVT: &str = "CALL_EVT";

/// A recognised control event.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlEvent {
    /// `CHANNEL_EVT`: channel membership and display names.
    Channel(ChannelEvent),
    /// `CIRCLE_NAME_EVT`: the circle's friendly name (both fields non-empty).
    CircleName {
        /// The circle named by the event (the name applies to the carrying message's circle).
        circle_id: String,
        /// The name, as sent (trimmed and truncated when applied).
        name: String,
    },
    /// `ANCHOR_ANNOUNCE`: a node's anchor capabilities.
    AnchorAnnounce(AnchorAnnounce),
    /// `CALL_EVT`: web-client call control, kept intact.
    Call(CallEvent),
}

impl ControlEvent {
    /// The message text for this event: compact ASCII JSON with sorted keys, as the reference
    /// writes it.
    pub fn to_text(&self) -> String {
        match self {
            ControlEvent::Channel(e) => e.to_text(),
            ControlEvent::CircleName { circle_id, name } => circle_name_text(circle_id, name),
            ControlEvent::AnchorAnnounce(a) => a.to_text(),
            ControlEvent::Call(c) => c.to_text(),
        }
    }
}

/// Recognises a control event in a `__control` message's text.
///
/// `None` means "not a JSON object with a known `t` and valid fields": such a message is
/// stored, forwarded and otherwise ignored. The checks follow the reference's parsers (a
/// CHANNEL_EVT needs a known `op`, a CIRCLE_NAME_EVT a non-empty `circle_id` and `name`, an
/// ANCHOR_ANNOUNCE a non-empty `node_id`, a CALL_EVT a known `op` and non-empty `session_id`).
/// Where the reference would coerce a wrongly typed field with Python's `str()` or crash on it,
/// this refuses the event instead.
pub fn parse_control(text: &str) -> Option<ControlEvent> {
    let value: Value = serde_json::from_str(text).ok()?;
    let obj = value.as_object()?;
    match obj.get("t")?.as_str()? {
        CHANNEL_EVT => ChannelEvent::from_object(obj).map(ControlEvent::Channel),
        CIRCLE_NAME_EVT => {
            let field = |k| {
                fields::opt_str(obj, k)
                    .ok()
                    .flatten()
                    .filter(|s| !s.is_empty())
            };
            Some(ControlEvent::CircleName {
                circle_id: field("circle_id")?,
                name: field("name")?,
            })
        }
        ANCHOR_ANNOUNCE => AnchorAnnounce::from_object(obj).map(ControlEvent::AnchorAnnounce),
        CALL_EVT => CallEvent::from_object(obj).map(ControlEvent::Call),
        _ => None,
    }
}

/// The text of a CIRCLE_NAME_EVT: `{"circle_id":..,"name":..,"t":"CIRCLE_NAME_EVT"}`.
pub fn circle_name_text(circle_id: &str, name: &str) -> String {
    to_ascii_json(&json!({"t": CIRCLE_NAME_EVT, "circle_id": circle_id, "name": name}))
}

/// `key_hash` of a key-protected channel: hex SHA-256 of `"{circle_id}|{channel_id}|{key}"`.
pub fn channel_key_hash(circle_id: &str, channel_id: &str, key: &str) -> String {
    sha256_hex(format!("{circle_id}|{channel_id}|{key}").as_bytes())
}
