//! `CHANNEL_EVT`: channel creation, membership and display-name changes.

use serde_json::{Map, Value};

use super::fields::{int_or_zero, opt_str, str_or_empty};
use super::CHANNEL_EVT;
use crate::json::to_ascii_json;

/// What a channel event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelOp {
    /// Create a channel (if unknown) and make the creator a member.
    Create,
    /// Add `node_id` to the members.
    Join,
    /// Remove `node_id` from members and requests (never for `general`).
    Leave,
    /// Ask to join an invite-only channel.
    Request,
    /// Move `target_node_id` from requests to members.
    Approve,
    /// Set the display name of `node_id`; no channel involved.
    Rename,
}

impl ChannelOp {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelOp::Create => "create",
            ChannelOp::Join => "join",
            ChannelOp::Leave => "leave",
            ChannelOp::Request => "request",
            ChannelOp::Approve => "approve",
            ChannelOp::Rename => "rename",
        }
    }

    /// Parses a wire name; unknown ops make the whole event unrecognised.
    pub fn parse(s: &str) -> Option<ChannelOp> {
        Some(match s {
            "create" => ChannelOp::Create,
            "join" => ChannelOp::Join,
            "leave" => ChannelOp::Leave,
            "request" => ChannelOp::Request,
            "approve" => ChannelOp::Approve,
            "rename" => ChannelOp::Rename,
            _ => return None,
        })
    }
}

/// Who may join a channel. Enforced only by the sending client (docs/protocol.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AccessMode {
    /// Anyone may join.
    #[default]
    Public,
    /// Joining needs the channel key (checked against `key_hash`).
    Key,
    /// Joining needs the creator's approval of a request.
    Invite,
}

impl AccessMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::Public => "public",
            AccessMode::Key => "key",
            AccessMode::Invite => "invite",
        }
    }

    /// Lenient parse, like the reference: anything but `key` or `invite` is `public`.
    pub fn parse_lenient(s: &str) -> AccessMode {
        match s {
            "key" => AccessMode::Key,
            "invite" => AccessMode::Invite,
            _ => AccessMode::Public,
        }
    }
}

/// A `CHANNEL_EVT`. Fields hold what was received (the channel id is normalised only when
/// effects are planned); which optional fields are set depends on the op, see the builders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEvent {
    /// What the event does.
    pub op: ChannelOp,
    /// The circle the sender meant (effects always apply to the carrying message's circle).
    pub circle_id: String,
    /// The channel; empty for `rename`.
    pub channel_id: String,
    /// The node that issued the event (empty if the sender omitted it).
    pub actor_node_id: String,
    /// The sender's clock; 0 when absent (the reference then uses the receiver's clock).
    pub created_ts: i64,
    /// `create` only.
    pub access_mode: Option<AccessMode>,
    /// `create` only; meaningful for key channels, see [`super::channel_key_hash`].
    pub key_hash: Option<String>,
    /// `create` only; the reference prefers `actor_node_id`.
    pub created_by: Option<String>,
    /// The subject of `join`, `leave`, `request` and `rename`.
    pub node_id: Option<String>,
    /// The subject of `approve`.
    pub target_node_id: Option<String>,
    /// `rename` only.
    pub display_name: Option<String>,
}

impl ChannelEvent {
    /// A bare event with only the always-present fields set.
    fn base(
        op: ChannelOp,
        circle_id: String,
        channel_id: String,
        actor_node_id: String,
        created_ts: i64,
    ) -> Self {
        ChannelEvent {
            op,
            circle_id,
            channel_id,
            actor_node_id,
            created_ts,
            access_mode: None,
            key_hash: None,
            created_by: None,
            node_id: None,
            target_node_id: None,
            display_name: None,
        }
    }

    /// `create`, with the fields the reference CLI sends: `access_mode`, `key_hash` (empty
    /// unless given) and `created_by` = the actor.
    pub fn create(
        circle_id: impl Into<String>,
        channel_id: impl Into<String>,
        actor_node_id: impl Into<String>,
        created_ts: i64,
        access_mode: AccessMode,
        key_hash: Option<String>,
    ) -> Self {
        let actor = actor_node_id.into();
        let mut e = Self::base(
            ChannelOp::Create,
            circle_id.into(),
            channel_id.into(),
            actor.clone(),
            created_ts,
        );
        e.access_mode = Some(access_mode);
        e.key_hash = Some(key_hash.unwrap_or_default());
        e.created_by = Some(actor);
        e
    }

    /// A node's own `join`, `leave` or `request`: `node_id` = actor, as the reference sends.
    fn self_op(
        op: ChannelOp,
        circle_id: String,
        channel_id: String,
        node_id: String,
        created_ts: i64,
    ) -> Self {
        let mut e = Self::base(op, circle_id, channel_id, node_id.clone(), created_ts);
        e.node_id = Some(node_id);
        e
    }

    /// `join` of `node_id` (who is also the actor).
    pub fn join(
        circle_id: impl Into<String>,
        channel_id: impl Into<String>,
        node_id: impl Into<String>,
        created_ts: i64,
    ) -> Self {
        let (c, ch, n) = (circle_id.into(), channel_id.into(), node_id.into());
        Self::self_op(ChannelOp::Join, c, ch, n, created_ts)
    }

    /// `leave` of `node_id` (who is also the actor).
    pub fn leave(
        circle_id: impl Into<String>,
        channel_id: impl Into<String>,
        node_id: impl Into<String>,
        created_ts: i64,
    ) -> Self {
        let (c, ch, n) = (circle_id.into(), channel_id.into(), node_id.into());
        Self::self_op(ChannelOp::Leave, c, ch, n, created_ts)
    }

    /// `request` by `node_id` (who is also the actor) to join an invite channel.
    pub fn request(
        circle_id: impl Into<String>,
        channel_id: impl Into<String>,
        node_id: impl Into<String>,
        created_ts: i64,
    ) -> Self {
        let (c, ch, n) = (circle_id.into(), channel_id.into(), node_id.into());
        Self::self_op(ChannelOp::Request, c, ch, n, created_ts)
    }

    /// `approve` of `target_node_id` by the channel's creator `actor_node_id`.
    pub fn approve(
        circle_id: impl Into<String>,
        channel_id: impl Into<String>,
        actor_node_id: impl Into<String>,
        target_node_id: impl Into<String>,
        created_ts: i64,
    ) -> Self {
        let mut e = Self::base(
            ChannelOp::Approve,
            circle_id.into(),
            channel_id.into(),
            actor_node_id.into(),
            created_ts,
        );
        e.target_node_id = Some(target_node_id.into());
        e
    }

    /// `rename` of `node_id` (who is also the actor) to `display_name`; no channel id, like
    /// the reference CLI. Send one in every circle.
    pub fn rename(
        circle_id: impl Into<String>,
        node_id: impl Into<String>,
        display_name: impl Into<String>,
        created_ts: i64,
    ) -> Self {
        let node_id = node_id.into();
        let mut e = Self::base(
            ChannelOp::Rename,
            circle_id.into(),
            String::new(),
            node_id.clone(),
            created_ts,
        );
        e.node_id = Some(node_id);
        e.display_name = Some(display_name.into());
        e
    }

    /// The message text: compact ASCII JSON with sorted keys.
    ///
    /// Empty `circle_id`, `channel_id` and `actor_node_id` are left out (the reference omits
    /// some of them for some ops and reads a missing one as empty), as are unset options.
    pub fn to_text(&self) -> String {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("t", CHANNEL_EVT.into());
        put("op", self.op.as_str().into());
        for (k, v) in [
            ("circle_id", &self.circle_id),
            ("channel_id", &self.channel_id),
            ("actor_node_id", &self.actor_node_id),
        ] {
            if !v.is_empty() {
                put(k, v.as_str().into());
            }
        }
        put("created_ts", self.created_ts.into());
        if let Some(mode) = self.access_mode {
            put("access_mode", mode.as_str().into());
        }
        for (k, v) in [
            ("key_hash", &self.key_hash),
            ("created_by", &self.created_by),
            ("node_id", &self.node_id),
            ("target_node_id", &self.target_node_id),
            ("display_name", &self.display_name),
        ] {
            if let Some(v) = v {
                put(k, v.as_str().into());
            }
        }
        to_ascii_json(&Value::Object(m))
    }

    /// Reads a `CHANNEL_EVT` object (its `t` already checked). `None` for an unknown `op` or a
    /// wrongly typed field; an unrecognised `access_mode` reads as `public`.
    pub(super) fn from_object(obj: &Map<String, Value>) -> Option<ChannelEvent> {
        let op = ChannelOp::parse(obj.get("op")?.as_str()?)?;
        let access_mode = match obj.get("access_mode") {
            None | Some(Value::Null) => None,
            Some(v) => Some(AccessMode::parse_lenient(v.as_str().unwrap_or(""))),
        };
        Some(ChannelEvent {
            op,
            circle_id: str_or_empty(obj, "circle_id").ok()?,
            channel_id: str_or_empty(obj, "channel_id").ok()?,
            actor_node_id: str_or_empty(obj, "actor_node_id").ok()?,
            created_ts: int_or_zero(obj, "created_ts").ok()?,
            access_mode,
            key_hash: opt_str(obj, "key_hash").ok()?,
            created_by: opt_str(obj, "created_by").ok()?,
            node_id: opt_str(obj, "node_id").ok()?,
            target_node_id: opt_str(obj, "target_node_id").ok()?,
            display_name: opt_str(obj, "display_name").ok()?,
        })
    }
}
