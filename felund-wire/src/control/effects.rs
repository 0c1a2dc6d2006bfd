//! The state changes a control event asks for, as a pure plan (docs/protocol.md §5).
//!
//! The plan is applied by the caller, always in the circle of the message that carried the
//! event (never the `circle_id` written inside the event), and only when that message was
//! first stored (a msg_id already held is not applied again). General always exists.

use super::{AccessMode, AnchorAnnounce, ChannelEvent, ChannelOp, ControlEvent};
use crate::ids::{is_valid_channel_id, truncate_display_name, GENERAL_CHANNEL};

/// One state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Create the channel **only if it is unknown** (an existing channel keeps its settings).
    CreateChannel {
        /// Normalised channel id.
        channel_id: String,
        /// Access mode.
        access_mode: AccessMode,
        /// The creator (the event's actor, else its `created_by`).
        created_by: String,
        /// The event's `created_ts`; 0 means the event had none and the applier should use
        /// its own clock, as the reference does.
        created_ts: i64,
        /// Set (possibly empty) for key channels only.
        key_hash: Option<String>,
    },
    /// Create the channel as public if it is unknown (the reference records the event's actor
    /// and `created_ts` as creator and time; both are in the event if wanted).
    EnsureChannel {
        /// Normalised channel id.
        channel_id: String,
    },
    /// Add a member (no-op if present).
    AddMember {
        /// Normalised channel id.
        channel_id: String,
        /// The member.
        node_id: String,
    },
    /// Remove a member (no-op if absent).
    RemoveMember {
        /// Normalised channel id.
        channel_id: String,
        /// The member.
        node_id: String,
    },
    /// Add a pending join request.
    ///
    /// docs/protocol.md §5 describes requests for `invite` channels. The reference applier adds the
    /// request whatever the channel's mode (reference senders only request invite channels), so
    /// applying it unconditionally matches the reference; an applier wanting the stricter
    /// reading checks that the channel's mode is `invite` first.
    AddRequest {
        /// Normalised channel id.
        channel_id: String,
        /// The requester.
        node_id: String,
    },
    /// Drop a pending join request (no-op if absent).
    RemoveRequest {
        /// Normalised channel id.
        channel_id: String,
        /// The requester.
        node_id: String,
    },
    /// Set a node's display name (already trimmed and truncated to 40 characters).
    SetDisplayName {
        /// The node.
        node_id: String,
        /// Its new name.
        name: String,
    },
    /// Set the circle's friendly name (already trimmed and truncated to 40 characters);
    /// the latest applied wins.
    SetCircleName {
        /// The name.
        name: String,
    },
    /// Record an anchor announcement (node id trimmed). The applier keeps the newest
    /// `announced_at` per node and refreshes the record's last-seen time on every receipt.
    RecordAnchor(AnchorAnnounce),
}

/// Plans the effects of one control event.
///
/// Call events yield nothing: call sessions live in memory and only matter to nodes that do
/// calls, which can read the [`super::CallEvent`] directly.
pub fn effects(evt: &ControlEvent) -> Vec<Effect> {
    match evt {
        ControlEvent::Channel(e) => channel_effects(e),
        ControlEvent::CircleName { circle_id, name } => {
            let name = truncate_display_name(name.trim());
            if circle_id.is_empty() || name.is_empty() {
                Vec::new()
            } else {
                vec![Effect::SetCircleName { name }]
            }
        }
        ControlEvent::AnchorAnnounce(a) => {
            let node_id = a.node_id.trim();
            if node_id.is_empty() {
                return Vec::new();
            }
            vec![Effect::RecordAnchor(AnchorAnnounce {
                node_id: node_id.to_string(),
                ..a.clone()
            })]
        }
        ControlEvent::Call(_) => Vec::new(),
    }
}

fn channel_effects(e: &ChannelEvent) -> Vec<Effect> {
    if e.op == ChannelOp::Rename {
        // The only op without a channel: the id is not even looked at.
        let node_id = e.node_id.as_deref().unwrap_or("").trim();
        let name = e.display_name.as_deref().unwrap_or("").trim();
        if node_id.is_empty() || name.is_empty() {
            return Vec::new();
        }
        return vec![Effect::SetDisplayName {
            node_id: node_id.to_string(),
            name: truncate_display_name(name),
        }];
    }

    let channel_id = e.channel_id.trim().to_lowercase();
    if !is_valid_channel_id(&channel_id) {
        return Vec::new();
    }
    // Subjects are used as sent (the reference trims only rename's); empty means "none".
    let subject = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let ch = || channel_id.clone();

    if e.op == ChannelOp::Create {
        let access_mode = e.access_mode.unwrap_or_default();
        let created_by = if e.actor_node_id.is_empty() {
            e.created_by.clone().unwrap_or_default()
        } else {
            e.actor_node_id.clone()
        };
        let mut out = vec![Effect::CreateChannel {
            channel_id: ch(),
            access_mode,
            created_by: created_by.clone(),
            created_ts: e.created_ts,
            key_hash: (access_mode == AccessMode::Key)
                .then(|| e.key_hash.clone().unwrap_or_default()),
        }];
        // The reference adds the creator to the members even when the channel already existed.
        if !created_by.is_empty() {
            out.push(Effect::AddMember {
                channel_id: ch(),
                node_id: created_by,
            });
        }
        return out;
    }

    let mut out = vec![Effect::EnsureChannel { channel_id: ch() }];
    match e.op {
        ChannelOp::Join => {
            if let Some(node_id) = subject(&e.node_id) {
                out.push(Effect::AddMember {
                    channel_id: ch(),
                    node_id: node_id.clone(),
                });
                out.push(Effect::RemoveRequest {
                    channel_id: ch(),
                    node_id,
                });
            }
        }
        ChannelOp::Leave => {
            if let Some(node_id) = subject(&e.node_id).filter(|_| channel_id != GENERAL_CHANNEL) {
                out.push(Effect::RemoveMember {
                    channel_id: ch(),
                    node_id: node_id.clone(),
                });
                out.push(Effect::RemoveRequest {
                    channel_id: ch(),
                    node_id,
                });
            }
        }
        ChannelOp::Request => {
            if let Some(node_id) = subject(&e.node_id) {
                out.push(Effect::AddRequest {
                    channel_id: ch(),
                    node_id,
                });
            }
        }
        ChannelOp::Approve => {
            if let Some(node_id) = subject(&e.target_node_id) {
                out.push(Effect::RemoveRequest {
                    channel_id: ch(),
                    node_id: node_id.clone(),
                });
                out.push(Effect::AddMember {
                    channel_id: ch(),
                    node_id,
                });
            }
        }
        ChannelOp::Create | ChannelOp::Rename => {}
    }
    out
}
