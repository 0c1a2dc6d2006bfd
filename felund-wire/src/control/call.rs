//! `CALL_EVT`: the web client's call control. A node without calls must store and forward
//! these intact, so the whole object is kept.

use serde_json::{Map, Value};

use super::fields::opt_str;
use crate::json::to_ascii_json;

/// The ops the reference recognises in a `CALL_EVT`.
pub const CALL_OPS: [&str; 10] = [
    "create",
    "invite",
    "join",
    "view",
    "leave",
    "end",
    "revoke",
    "signal.offer",
    "signal.answer",
    "signal.candidate",
];

/// A call event: its `op`, its `session_id` and the full original object.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// One of [`CALL_OPS`].
    pub op: String,
    /// The call session (non-empty).
    pub session_id: String,
    /// The whole event object, `t` included.
    pub raw: Map<String, Value>,
}

impl CallEvent {
    /// The message text: the raw object as compact ASCII JSON with sorted keys.
    pub fn to_text(&self) -> String {
        to_ascii_json(&Value::Object(self.raw.clone()))
    }

    /// Reads a call event (its `t` already checked): a known `op` and a non-empty string
    /// `session_id` are required.
    pub(super) fn from_object(obj: &Map<String, Value>) -> Option<CallEvent> {
        let op = opt_str(obj, "op").ok()??;
        if !CALL_OPS.contains(&op.as_str()) {
            return None;
        }
        let session_id = opt_str(obj, "session_id").ok()?.filter(|s| !s.is_empty())?;
        Some(CallEvent {
            op,
            session_id,
            raw: obj.clone(),
        })
    }
}
