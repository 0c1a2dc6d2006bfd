//! Conversions between core types and the API's protobuf types. This is the only
//! module that knows both.

use felund_proto::v1 as api;
use felund_wire::control::AccessMode;
use tonic::Status;

use crate::counters::DataChannelPeer;
use crate::error::NodeError;
use crate::events::{ChannelChange, CircleChange, NodeEvent};
use crate::model::{Channel, CircleSummary, Member, Peer, StoredMessage};
use crate::node::NodeInfo;

impl From<NodeError> for Status {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::NotFound(m) => Status::not_found(m),
            NodeError::InvalidArgument(m) => Status::invalid_argument(m),
            NodeError::AlreadyExists(m) => Status::already_exists(m),
            NodeError::PermissionDenied(m) => Status::permission_denied(m),
            NodeError::FailedPrecondition(m) => Status::failed_precondition(m),
            NodeError::Store(e) => {
                tracing::error!("store error: {e}");
                Status::internal(format!("felundd could not complete the request: {e}"))
            }
        }
    }
}

pub(super) fn node_info(i: NodeInfo) -> api::NodeInfo {
    api::NodeInfo {
        node_id: i.node_id,
        display_name: i.display_name,
        listen_addr: i.settings.listen_addr,
        advertise_addr: i.settings.advertise_addr,
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_s: i.uptime_s,
        circle_count: i.circle_count,
        message_count: i.message_count,
        peer_count: i.peer_count,
        dial_candidate_count: i.dial_candidate_count,
        last_seq: i.last_seq.max(0) as u64,
        gossip_last_sync: i.counters.last_session_ok,
        unreachable_peers: i
            .unreachable
            .iter()
            .map(|u| api::UnreachablePeer {
                addr: u.addr.clone(),
                node_id: u.node_id.clone(),
                display_name: u.display_name.clone(),
                error: u.what.error.clone(),
                since: u.what.since,
            })
            .collect(),
        state_dir: i.settings.state_dir.display().to_string(),
        socket_path: i.settings.socket_path.display().to_string(),
        relay_url: i.relay_url.unwrap_or_default(),
        relay_ok: i.counters.relay.ok,
        relay_last_success: i.counters.relay.last_success,
        relay_last_attempt: i.counters.relay.last_attempt,
        relay_last_error: i.counters.relay.last_error.clone(),
        relay_push_connected: i.counters.relay.push_connected,
        config: i
            .settings
            .config
            .iter()
            .map(|(key, value, source)| api::ConfigEntry {
                key: key.clone(),
                value: value.clone(),
                source: source.clone(),
            })
            .collect(),
        anchor: i.settings.anchor,
        subscriber_count: i.subscriber_count,
        gossip_sessions_ok: i.counters.sessions_ok,
        gossip_sessions_failed: i.counters.sessions_failed,
        gossip_bytes_in: i.counters.bytes_in,
        gossip_bytes_out: i.counters.bytes_out,
        live_links: i.counters.live_links,
        datachannel_enabled: i.settings.webrtc_ip.is_some(),
        datachannel_peers: i
            .counters
            .datachannel
            .iter()
            .map(datachannel_peer)
            .collect(),
        datachannel_failed: i.counters.datachannel_failed,
    }
}

pub(super) fn circle(s: CircleSummary) -> api::Circle {
    api::Circle {
        circle_id: s.circle.circle_id,
        name: s.circle.name,
        message_count: s.message_count,
        member_count: s.member_count,
        peer_count: s.peer_count,
        last_message_ts: s.last_message_ts,
        last_sync_ts: s.last_sync_ts,
    }
}

pub(super) fn access_mode(m: AccessMode) -> api::AccessMode {
    match m {
        AccessMode::Public => api::AccessMode::Public,
        AccessMode::Key => api::AccessMode::Key,
        AccessMode::Invite => api::AccessMode::Invite,
    }
}

pub(super) fn access_mode_from_api(raw: i32) -> Result<AccessMode, Status> {
    match api::AccessMode::try_from(raw) {
        Ok(api::AccessMode::Unspecified | api::AccessMode::Public) => Ok(AccessMode::Public),
        Ok(api::AccessMode::Key) => Ok(AccessMode::Key),
        Ok(api::AccessMode::Invite) => Ok(AccessMode::Invite),
        Err(_) => Err(Status::invalid_argument(format!(
            "unknown access mode {raw}"
        ))),
    }
}

pub(super) fn channel(c: Channel, me: &str) -> api::Channel {
    api::Channel {
        joined: c.members.iter().any(|m| m == me),
        requested: c.requests.iter().any(|m| m == me),
        member_count: c.members.len() as u64,
        circle_id: c.circle_id,
        channel_id: c.channel_id,
        access_mode: access_mode(c.access_mode) as i32,
        created_by: c.created_by,
        created_ts: c.created_ts,
        pending_requests: c.requests,
        read_seq: c.reading.read_seq.max(0) as u64,
        unread_count: c.reading.unread,
        unread_mentions: c.reading.mentions,
    }
}

pub(super) fn member(m: Member, me: &str) -> api::Member {
    api::Member {
        is_self: m.node_id == me,
        node_id: m.node_id,
        display_name: m.display_name,
    }
}

pub(super) fn message(m: StoredMessage, me: &str) -> api::Message {
    message_ref(&m, me)
}

/// [`message`] from a borrowed (e.g. shared) message: copies only what the API shows
/// (not the envelope or the MAC).
pub(super) fn message_ref(m: &StoredMessage, me: &str) -> api::Message {
    let w = &m.wire;
    api::Message {
        own: w.author_node_id == me,
        msg_id: w.msg_id.clone(),
        circle_id: w.circle_id.clone(),
        channel_id: w.channel_id.clone(),
        author_node_id: w.author_node_id.clone(),
        display_name: w.display_name.clone(),
        created_ts: w.created_ts,
        text: w.text.clone(),
        seq: m.seq.max(0) as u64,
        order_ms: w.order_ms(),
    }
}

/// [`event`] from a shared event (the bus hands them out as `Arc`s).
pub(super) fn event_ref(e: &NodeEvent, me: &str) -> api::Event {
    match e {
        NodeEvent::Message(m) => api::Event {
            kind: Some(api::event::Kind::Message(message_ref(m, me))),
        },
        other => event(other.clone(), me),
    }
}

pub(super) fn peer(p: Peer) -> api::Peer {
    api::Peer {
        node_id: p.node_id,
        circle_id: p.circle_id,
        addr: p.addr,
        last_seen: p.last_seen,
        display_name: p.display_name,
        transport: "tcp".into(),
    }
}

/// A browser connected over a DataChannel.
pub(super) fn datachannel_peer(p: &DataChannelPeer) -> api::DataChannelPeer {
    api::DataChannelPeer {
        node_id: p.node_id.clone(),
        circle_id: p.circle_id.clone(),
        relay_url: p.relay_url.clone(),
        remote_addr: p.remote_addr.clone(),
        since: p.since,
        messages_in: p.messages_in,
        messages_out: p.messages_out,
        display_name: p.display_name.clone(),
    }
}

/// A browser connected over a DataChannel, as a peer of its circle (`transport`
/// "datachannel"; seen now).
pub(super) fn datachannel_as_peer(p: DataChannelPeer, now: i64) -> api::Peer {
    api::Peer {
        node_id: p.node_id,
        circle_id: p.circle_id,
        addr: p.remote_addr,
        last_seen: now,
        display_name: p.display_name,
        transport: "datachannel".into(),
    }
}

pub(super) fn event(e: NodeEvent, me: &str) -> api::Event {
    use api::event::Kind;
    let kind = match e {
        NodeEvent::Missed { count } => return lagged(count),
        NodeEvent::Message(m) => Kind::Message(message(m, me)),
        NodeEvent::Channel {
            change,
            circle_id,
            channel_id,
            node_id,
        } => Kind::Channel(api::ChannelEvent {
            kind: match change {
                ChannelChange::Created => api::channel_event::Kind::Created,
                ChannelChange::MemberJoined => api::channel_event::Kind::MemberJoined,
                ChannelChange::MemberLeft => api::channel_event::Kind::MemberLeft,
                ChannelChange::Requested => api::channel_event::Kind::Requested,
                ChannelChange::Approved => api::channel_event::Kind::Approved,
            } as i32,
            circle_id,
            channel_id,
            node_id: node_id.unwrap_or_default(),
        }),
        NodeEvent::Circle { change, circle: c } => Kind::Circle(api::CircleEvent {
            kind: match change {
                CircleChange::Joined => api::circle_event::Kind::Joined,
                CircleChange::Left => api::circle_event::Kind::Left,
                CircleChange::Renamed => api::circle_event::Kind::Renamed,
            } as i32,
            circle: Some(circle(c)),
        }),
        NodeEvent::Peer(p) => Kind::Peer(api::PeerEvent {
            circle_id: p.circle_id.clone(),
            peer: Some(peer(p)),
        }),
        NodeEvent::DisplayName { node_id, name } => Kind::DisplayName(api::DisplayNameEvent {
            node_id,
            display_name: name,
        }),
        NodeEvent::Read {
            circle_id,
            channel_id,
            read_seq,
        } => Kind::Read(api::ReadEvent {
            circle_id,
            channel_id,
            read_seq: read_seq.max(0) as u64,
        }),
    };
    api::Event { kind: Some(kind) }
}

pub(super) fn lagged(missed: u64) -> api::Event {
    api::Event {
        kind: Some(api::event::Kind::Lagged(api::Lagged { missed })),
    }
}

pub(super) fn import_report(r: crate::node::import::ImportReport) -> api::ImportStateResponse {
    api::ImportStateResponse {
        adopted_node_id: r.adopted_node_id.unwrap_or_default(),
        circles: r.circles,
        messages: r.messages,
        beyond_retention: r.beyond_retention,
        peers: r.peers,
        channels: r.channels,
        warnings: r.warnings,
    }
}
