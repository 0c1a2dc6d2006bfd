//! `ANCHOR_ANNOUNCE`: a node tells the circle whether it can store and forward for it.

use serde_json::{json, Map, Value};

use super::fields::{int_or_zero, truthy};
use super::ANCHOR_ANNOUNCE;
use crate::json::to_ascii_json;

/// An anchor announcement. Recorded per circle and node; a newer `announced_at` replaces the
/// record, and every receipt refreshes its last-seen time (the applier's clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorAnnounce {
    /// The announcing node.
    pub node_id: String,
    /// Whether it serves ANCHOR_PUSH/ANCHOR_PULL.
    pub can_anchor: bool,
    /// Whether it is reachable from the internet.
    pub public_reachable: bool,
    /// Whether it is on an intermittent connection.
    pub is_mobile: bool,
    /// The announcer's clock; 0 when absent.
    pub announced_at: i64,
}

impl AnchorAnnounce {
    /// The message text: `{"announced_at":..,"capabilities":{..},"node_id":..,"t":"ANCHOR_ANNOUNCE"}`.
    pub fn to_text(&self) -> String {
        to_ascii_json(&json!({
            "t": ANCHOR_ANNOUNCE,
            "node_id": self.node_id,
            "capabilities": {
                "can_anchor": self.can_anchor,
                "public_reachable": self.public_reachable,
                "is_mobile": self.is_mobile,
            },
            "announced_at": self.announced_at,
        }))
    }

    /// Reads an announcement (its `t` already checked): `node_id` must be a non-empty string;
    /// capability flags use Python truthiness like the reference, a non-object `capabilities`
    /// means all false; a non-integer `announced_at` refuses the event.
    pub(super) fn from_object(obj: &Map<String, Value>) -> Option<AnchorAnnounce> {
        let node_id = obj.get("node_id")?.as_str().filter(|s| !s.is_empty())?;
        let caps = obj.get("capabilities").and_then(Value::as_object);
        let flag = |k: &str| truthy(caps.and_then(|c| c.get(k)));
        Some(AnchorAnnounce {
            node_id: node_id.to_string(),
            can_anchor: flag("can_anchor"),
            public_reachable: flag("public_reachable"),
            is_mobile: flag("is_mobile"),
            announced_at: int_or_zero(obj, "announced_at").ok()?,
        })
    }
}
