//! The app's own view types, and their conversion from the API's messages.
//!
//! The rest of the app never sees generated protobuf types: [`crate::client`]
//! converts every response and event with the `From` impls here. Texts and names
//! are kept as received; [`crate::text::sanitize`] runs at display time.

use felund_client::api;

/// This node, as `GetNodeInfo` (and `SetDisplayName`/`SetRelay`) describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeView {
    /// Full node id.
    pub node_id: String,
    /// Display name announced to peers.
    pub display_name: String,
    /// Gossip listen address, empty if none.
    pub listen_addr: String,
    /// Address written into invite codes.
    pub advertise_addr: String,
    /// Daemon version.
    pub version: String,
    /// Daemon uptime in seconds.
    pub uptime_s: u64,
    /// Relay URL, empty when relay sync is off.
    pub relay_url: String,
    /// Attached API clients.
    pub subscriber_count: u64,
    /// Gossip sessions completed since start.
    pub gossip_ok: u64,
    /// Gossip sessions failed since start.
    pub gossip_failed: u64,
    /// Gossip bytes read since start.
    pub gossip_bytes_in: u64,
    /// Gossip bytes written since start.
    pub gossip_bytes_out: u64,
    /// Live push links to other nodes.
    pub live_links: u64,
    /// Whether the last relay request succeeded.
    pub relay_ok: bool,
    /// Last relay success (Unix seconds, 0 = never).
    pub relay_last_success: i64,
    /// Last relay error, empty when fine.
    pub relay_last_error: String,
    /// Whether the relay's WebSocket push is connected.
    pub relay_push_connected: bool,
    /// Number of known peers over all circles.
    pub peer_count: u64,
    /// Number of stored messages.
    pub message_count: u64,
    /// Whether felundd connects to browsers directly over WebRTC DataChannels.
    pub datachannel_enabled: bool,
    /// Browsers connected over a DataChannel now: `(name or node id, address)`.
    pub datachannel_peers: Vec<(String, String)>,
}

impl From<api::NodeInfo> for NodeView {
    fn from(n: api::NodeInfo) -> Self {
        Self {
            node_id: n.node_id,
            display_name: n.display_name,
            listen_addr: n.listen_addr,
            advertise_addr: n.advertise_addr,
            version: n.version,
            uptime_s: n.uptime_s,
            relay_url: n.relay_url,
            subscriber_count: n.subscriber_count,
            gossip_ok: n.gossip_sessions_ok,
            gossip_failed: n.gossip_sessions_failed,
            gossip_bytes_in: n.gossip_bytes_in,
            gossip_bytes_out: n.gossip_bytes_out,
            live_links: n.live_links,
            relay_ok: n.relay_ok,
            relay_last_success: n.relay_last_success,
            relay_last_error: n.relay_last_error,
            relay_push_connected: n.relay_push_connected,
            peer_count: n.peer_count,
            message_count: n.message_count,
            datachannel_enabled: n.datachannel_enabled,
            datachannel_peers: n
                .datachannel_peers
                .into_iter()
                .map(|p| {
                    let name = match p.display_name.is_empty() {
                        true => p.node_id,
                        false => p.display_name,
                    };
                    (name, p.remote_addr)
                })
                .collect(),
        }
    }
}

/// A circle this node is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CircleView {
    /// Full circle id.
    pub id: String,
    /// Friendly name; may be empty.
    pub name: String,
    /// Members known to the circle.
    pub member_count: u64,
    /// Known peers of the circle.
    pub peer_count: u64,
}

impl CircleView {
    /// The name to show: the friendly name, else the short id.
    pub fn label(&self) -> String {
        let name = crate::text::sanitize_line(&self.name);
        if name.is_empty() {
            crate::text::short_id(&self.id).to_string()
        } else {
            name
        }
    }
}

impl From<api::Circle> for CircleView {
    fn from(c: api::Circle) -> Self {
        Self {
            id: c.circle_id,
            name: c.name,
            member_count: c.member_count,
            peer_count: c.peer_count,
        }
    }
}

/// Who may join a channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Access {
    /// Anyone in the circle.
    #[default]
    Public,
    /// Anyone who knows the channel's key.
    Key,
    /// Members approve each request.
    Invite,
}

impl Access {
    /// The word used in commands and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Key => "key",
            Access::Invite => "invite",
        }
    }

    /// Parses `public`, `key` or `invite` (case-insensitive).
    pub fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "public" => Some(Access::Public),
            "key" => Some(Access::Key),
            "invite" => Some(Access::Invite),
            _ => None,
        }
    }

    /// The API's access mode.
    pub fn to_api(self) -> api::AccessMode {
        match self {
            Access::Public => api::AccessMode::Public,
            Access::Key => api::AccessMode::Key,
            Access::Invite => api::AccessMode::Invite,
        }
    }
}

impl From<api::AccessMode> for Access {
    fn from(m: api::AccessMode) -> Self {
        match m {
            api::AccessMode::Key => Access::Key,
            api::AccessMode::Invite => Access::Invite,
            api::AccessMode::Public | api::AccessMode::Unspecified => Access::Public,
        }
    }
}

/// A channel of a circle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelView {
    /// The circle it belongs to.
    pub circle_id: String,
    /// Channel name (normalised by the daemon).
    pub id: String,
    /// Who may join.
    pub access: Access,
    /// Whether this node is a member.
    pub joined: bool,
    /// Whether this node asked to join (invite-only).
    pub requested: bool,
    /// Number of members.
    pub member_count: u64,
    /// Node ids waiting for approval.
    pub pending: Vec<String>,
    /// Node id of the creator.
    pub created_by: String,
    /// The daemon's read marker: the seq of the last message read (shared by every
    /// client of the node).
    pub read_seq: u64,
    /// Messages by others after it, and those that mention this node.
    pub unread: u64,
    /// See `unread`.
    pub mentions: u64,
}

impl From<api::Channel> for ChannelView {
    fn from(c: api::Channel) -> Self {
        Self {
            access: c.access_mode().into(),
            circle_id: c.circle_id,
            id: c.channel_id,
            joined: c.joined,
            requested: c.requested,
            member_count: c.member_count,
            pending: c.pending_requests,
            created_by: c.created_by,
            read_seq: c.read_seq,
            unread: c.unread_count,
            mentions: c.unread_mentions,
        }
    }
}

/// A chat message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatMessage {
    /// Message id (unique).
    pub id: String,
    /// Circle id.
    pub circle_id: String,
    /// Channel name.
    pub channel_id: String,
    /// Author's node id.
    pub author: String,
    /// Display name the author used when writing it.
    pub display_name: String,
    /// Unix seconds.
    pub created_ts: i64,
    /// The text, as written.
    pub text: String,
    /// Written by this node.
    pub own: bool,
    /// The daemon's storage order (for read markers).
    pub seq: u64,
    /// Where it sorts in its channel (with `id` as tie-break), as on every node.
    pub order_ms: i64,
}

impl From<api::Message> for ChatMessage {
    fn from(m: api::Message) -> Self {
        Self {
            id: m.msg_id,
            circle_id: m.circle_id,
            channel_id: m.channel_id,
            author: m.author_node_id,
            display_name: m.display_name,
            created_ts: m.created_ts,
            text: m.text,
            own: m.own,
            seq: m.seq,
            order_ms: m.order_ms,
        }
    }
}

/// A member of a circle or channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// Node id.
    pub node_id: String,
    /// Display name, may be empty.
    pub display_name: String,
    /// This node.
    pub is_self: bool,
}

impl From<api::Member> for Member {
    fn from(m: api::Member) -> Self {
        Self {
            node_id: m.node_id,
            display_name: m.display_name,
            is_self: m.is_self,
        }
    }
}

/// A known peer of a circle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerView {
    /// Node id.
    pub node_id: String,
    /// Circle id.
    pub circle_id: String,
    /// Address (`host:port`) or empty.
    pub addr: String,
    /// Display name, may be empty.
    pub display_name: String,
}

impl From<api::Peer> for PeerView {
    fn from(p: api::Peer) -> Self {
        Self {
            node_id: p.node_id,
            circle_id: p.circle_id,
            addr: p.addr,
            display_name: p.display_name,
        }
    }
}

/// Everything the app lists after connecting (and after a `Lagged` event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// This node.
    pub node: NodeView,
    /// Circles, in the daemon's order.
    pub circles: Vec<CircleView>,
    /// Channels of each circle.
    pub channels: Vec<(String, Vec<ChannelView>)>,
    /// Members of each circle.
    pub members: Vec<(String, Vec<Member>)>,
    /// Known peers of every circle.
    pub peers: Vec<PeerView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_fields() {
        let m = ChatMessage::from(api::Message {
            msg_id: "m1".into(),
            circle_id: "c".into(),
            channel_id: "general".into(),
            author_node_id: "n".into(),
            display_name: "alice".into(),
            created_ts: 5,
            text: "hi".into(),
            own: true,
            seq: 1,
            order_ms: 5_000,
        });
        assert_eq!((m.id.as_str(), m.author.as_str(), m.own), ("m1", "n", true));
        let ch = ChannelView::from(api::Channel {
            channel_id: "ops".into(),
            access_mode: api::AccessMode::Invite as i32,
            pending_requests: vec!["n2".into()],
            ..Default::default()
        });
        assert_eq!(ch.access, Access::Invite);
        assert_eq!(ch.pending, ["n2"]);
        assert_eq!(Access::parse("KEY"), Some(Access::Key));
        assert_eq!(Access::parse("x"), None);
        let c = CircleView {
            id: "0123456789".into(),
            ..Default::default()
        };
        assert_eq!(c.label(), "01234567");
    }
}
