//! Writing results: the `--json` shape of every API type, and the stdout writer.
//!
//! JSON objects use the proto's field names. Enums become lower-case words
//! (`"public"`, `"member_joined"`, ...). Nested messages stay nested (e.g.
//! `{"circle": {...}, "invite_code": "..."}`), except in `watch` events, where the
//! payload's fields sit beside the `"event"` key.

use std::fmt::Display;
use std::io::{self, Write};

use felund_client::api::{self, channel_event, circle_event, event};
use serde::Serialize;

/// Where results go: stdout, as text lines or as JSON lines.
pub struct Out {
    json: bool,
}

impl Out {
    /// A writer for text (`json == false`) or JSON lines.
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Print one line of text.
    pub fn line(&self, text: impl Display) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{text}")?;
        stdout.flush()
    }

    /// Print a note for the person at the terminal on stderr (in both modes, so that
    /// stdout stays one shape for scripts).
    pub fn note(&self, text: impl Display) {
        let _ = writeln!(io::stderr().lock(), "note: {text}");
    }

    /// Notes that the daemon stored a shorter name than the one typed.
    pub fn note_if_shortened(&self, typed: &str, stored: &str) {
        if typed.trim() != stored && typed.trim().starts_with(stored) {
            self.note(format!(
                "the name is too long for the network; shortened to \"{}\"",
                crate::human::clean_line(stored)
            ));
        }
    }

    /// Print one value as a line of JSON.
    pub fn json(&self, value: &impl Serialize) -> anyhow::Result<()> {
        let text = serde_json::to_string(value)?;
        Ok(self.line(text)?)
    }
}

/// Lower-case name of a channel access mode.
pub fn access_mode_name(mode: api::AccessMode) -> &'static str {
    match mode {
        api::AccessMode::Unspecified => "unspecified",
        api::AccessMode::Public => "public",
        api::AccessMode::Key => "key",
        api::AccessMode::Invite => "invite",
    }
}

/// Lower-case name of a channel event kind.
pub fn channel_event_kind_name(kind: channel_event::Kind) -> &'static str {
    match kind {
        channel_event::Kind::Unspecified => "unspecified",
        channel_event::Kind::Created => "created",
        channel_event::Kind::MemberJoined => "member_joined",
        channel_event::Kind::MemberLeft => "member_left",
        channel_event::Kind::Requested => "requested",
        channel_event::Kind::Approved => "approved",
    }
}

/// Lower-case name of a circle event kind.
pub fn circle_event_kind_name(kind: circle_event::Kind) -> &'static str {
    match kind {
        circle_event::Kind::Unspecified => "unspecified",
        circle_event::Kind::Joined => "joined",
        circle_event::Kind::Left => "left",
        circle_event::Kind::Renamed => "renamed",
    }
}

/// JSON of [`api::NodeInfo`].
#[derive(Serialize)]
pub struct NodeInfoJson<'a> {
    node_id: &'a str,
    display_name: &'a str,
    listen_addr: &'a str,
    advertise_addr: &'a str,
    version: &'a str,
    uptime_s: u64,
    circle_count: u64,
    message_count: u64,
    peer_count: u64,
    dial_candidate_count: u64,
    subscriber_count: u64,
    state_dir: &'a str,
    socket_path: &'a str,
    relay_url: &'a str,
    anchor: bool,
    gossip_sessions_ok: u64,
    gossip_sessions_failed: u64,
    gossip_bytes_in: u64,
    gossip_bytes_out: u64,
    live_links: u64,
    relay_ok: bool,
    relay_last_success: i64,
    relay_last_attempt: i64,
    relay_last_error: &'a str,
    relay_push_connected: bool,
    datachannel_enabled: bool,
    datachannel_failed: u64,
    datachannel_peers: Vec<DataChannelPeerJson<'a>>,
}

/// JSON of [`api::DataChannelPeer`]: a browser connected over a WebRTC DataChannel.
#[derive(Serialize)]
pub struct DataChannelPeerJson<'a> {
    node_id: &'a str,
    display_name: &'a str,
    circle_id: &'a str,
    relay_url: &'a str,
    remote_addr: &'a str,
    since: i64,
    messages_in: u64,
    messages_out: u64,
}

/// JSON of a [`api::NodeInfo`].
pub fn node_info(n: &api::NodeInfo) -> NodeInfoJson<'_> {
    NodeInfoJson {
        node_id: &n.node_id,
        display_name: &n.display_name,
        listen_addr: &n.listen_addr,
        advertise_addr: &n.advertise_addr,
        version: &n.version,
        uptime_s: n.uptime_s,
        circle_count: n.circle_count,
        message_count: n.message_count,
        peer_count: n.peer_count,
        dial_candidate_count: n.dial_candidate_count,
        subscriber_count: n.subscriber_count,
        state_dir: &n.state_dir,
        socket_path: &n.socket_path,
        relay_url: &n.relay_url,
        anchor: n.anchor,
        gossip_sessions_ok: n.gossip_sessions_ok,
        gossip_sessions_failed: n.gossip_sessions_failed,
        gossip_bytes_in: n.gossip_bytes_in,
        gossip_bytes_out: n.gossip_bytes_out,
        live_links: n.live_links,
        relay_ok: n.relay_ok,
        relay_last_success: n.relay_last_success,
        relay_last_attempt: n.relay_last_attempt,
        relay_last_error: &n.relay_last_error,
        relay_push_connected: n.relay_push_connected,
        datachannel_enabled: n.datachannel_enabled,
        datachannel_failed: n.datachannel_failed,
        datachannel_peers: n
            .datachannel_peers
            .iter()
            .map(|p| DataChannelPeerJson {
                node_id: &p.node_id,
                display_name: &p.display_name,
                circle_id: &p.circle_id,
                relay_url: &p.relay_url,
                remote_addr: &p.remote_addr,
                since: p.since,
                messages_in: p.messages_in,
                messages_out: p.messages_out,
            })
            .collect(),
    }
}

/// JSON of [`api::Circle`].
#[derive(Serialize)]
pub struct CircleJson<'a> {
    circle_id: &'a str,
    name: &'a str,
    message_count: u64,
    member_count: u64,
    peer_count: u64,
    last_message_ts: i64,
    last_sync_ts: i64,
}

/// JSON of a [`api::Circle`].
pub fn circle(c: &api::Circle) -> CircleJson<'_> {
    CircleJson {
        circle_id: &c.circle_id,
        name: &c.name,
        message_count: c.message_count,
        member_count: c.member_count,
        peer_count: c.peer_count,
        last_message_ts: c.last_message_ts,
        last_sync_ts: c.last_sync_ts,
    }
}

/// JSON of [`api::CreateCircleResponse`].
#[derive(Serialize)]
pub struct CreatedCircleJson<'a> {
    circle: Option<CircleJson<'a>>,
    invite_code: &'a str,
}

/// JSON of a [`api::CreateCircleResponse`].
pub fn created_circle(r: &api::CreateCircleResponse) -> CreatedCircleJson<'_> {
    CreatedCircleJson {
        circle: r.circle.as_ref().map(circle),
        invite_code: &r.invite_code,
    }
}

/// JSON of [`api::JoinCircleResponse`].
#[derive(Serialize)]
pub struct JoinedCircleJson<'a> {
    circle: Option<CircleJson<'a>>,
    newly_joined: bool,
    peer: &'a str,
    peer_reached: bool,
    peer_error: &'a str,
}

/// JSON of a [`api::JoinCircleResponse`].
pub fn joined_circle(r: &api::JoinCircleResponse) -> JoinedCircleJson<'_> {
    JoinedCircleJson {
        circle: r.circle.as_ref().map(circle),
        newly_joined: r.newly_joined,
        peer: &r.peer,
        peer_reached: r.peer_reached,
        peer_error: &r.peer_error,
    }
}

/// JSON of [`api::LeaveCircleResponse`].
#[derive(Serialize)]
pub struct LeftCircleJson<'a> {
    circle_id: &'a str,
}

/// JSON of a [`api::LeaveCircleResponse`].
pub fn left_circle(r: &api::LeaveCircleResponse) -> LeftCircleJson<'_> {
    LeftCircleJson {
        circle_id: &r.circle_id,
    }
}

/// JSON of [`api::InviteCode`].
#[derive(Serialize)]
pub struct InviteCodeJson<'a> {
    circle_id: &'a str,
    code: &'a str,
    peer: &'a str,
}

/// JSON of an [`api::InviteCode`].
pub fn invite_code(c: &api::InviteCode) -> InviteCodeJson<'_> {
    InviteCodeJson {
        circle_id: &c.circle_id,
        code: &c.code,
        peer: &c.peer,
    }
}

/// JSON of [`api::Channel`].
#[derive(Serialize)]
pub struct ChannelJson<'a> {
    circle_id: &'a str,
    channel_id: &'a str,
    access_mode: &'static str,
    created_by: &'a str,
    created_ts: i64,
    joined: bool,
    requested: bool,
    member_count: u64,
    pending_requests: &'a [String],
    read_seq: u64,
    unread_count: u64,
    unread_mentions: u64,
}

/// JSON of an [`api::Channel`].
pub fn channel(c: &api::Channel) -> ChannelJson<'_> {
    ChannelJson {
        circle_id: &c.circle_id,
        channel_id: &c.channel_id,
        access_mode: access_mode_name(c.access_mode()),
        created_by: &c.created_by,
        created_ts: c.created_ts,
        joined: c.joined,
        requested: c.requested,
        member_count: c.member_count,
        pending_requests: &c.pending_requests,
        read_seq: c.read_seq,
        unread_count: c.unread_count,
        unread_mentions: c.unread_mentions,
    }
}

/// JSON of [`api::JoinChannelResponse`].
#[derive(Serialize)]
pub struct JoinedChannelJson<'a> {
    channel: Option<ChannelJson<'a>>,
    requested: bool,
}

/// JSON of an [`api::JoinChannelResponse`].
pub fn joined_channel(r: &api::JoinChannelResponse) -> JoinedChannelJson<'_> {
    JoinedChannelJson {
        channel: r.channel.as_ref().map(channel),
        requested: r.requested,
    }
}

/// JSON of [`api::Member`].
#[derive(Serialize)]
pub struct MemberJson<'a> {
    node_id: &'a str,
    display_name: &'a str,
    is_self: bool,
}

/// JSON of an [`api::Member`].
pub fn member(m: &api::Member) -> MemberJson<'_> {
    MemberJson {
        node_id: &m.node_id,
        display_name: &m.display_name,
        is_self: m.is_self,
    }
}

/// JSON of [`api::Message`]: exactly its eight fields.
#[derive(Serialize)]
pub struct MessageJson<'a> {
    msg_id: &'a str,
    circle_id: &'a str,
    channel_id: &'a str,
    author_node_id: &'a str,
    display_name: &'a str,
    created_ts: i64,
    text: &'a str,
    own: bool,
}

/// JSON of an [`api::Message`].
pub fn message(m: &api::Message) -> MessageJson<'_> {
    MessageJson {
        msg_id: &m.msg_id,
        circle_id: &m.circle_id,
        channel_id: &m.channel_id,
        author_node_id: &m.author_node_id,
        display_name: &m.display_name,
        created_ts: m.created_ts,
        text: &m.text,
        own: m.own,
    }
}

/// JSON of [`api::Peer`].
#[derive(Serialize)]
pub struct PeerJson<'a> {
    node_id: &'a str,
    circle_id: &'a str,
    addr: &'a str,
    last_seen: i64,
    display_name: &'a str,
    transport: &'a str,
}

/// JSON of an [`api::Peer`].
pub fn peer(p: &api::Peer) -> PeerJson<'_> {
    PeerJson {
        node_id: &p.node_id,
        circle_id: &p.circle_id,
        addr: &p.addr,
        last_seen: p.last_seen,
        display_name: &p.display_name,
        transport: &p.transport,
    }
}

/// JSON of a `watch` event: `{"event": "<kind>", ...payload fields}`.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventJson<'a> {
    /// A new message.
    Message(MessageJson<'a>),
    /// A channel change.
    Channel(ChannelEventJson<'a>),
    /// A circle joined, left or renamed.
    Circle(CircleEventJson<'a>),
    /// A peer seen.
    Peer(PeerJson<'a>),
    /// A node's new display name.
    DisplayName(DisplayNameEventJson<'a>),
    /// Events were dropped.
    Lagged(LaggedJson),
    /// A client of this node read a channel.
    Read(ReadEventJson<'a>),
}

/// Payload of a `"read"` event.
#[derive(Serialize)]
pub struct ReadEventJson<'a> {
    circle_id: &'a str,
    channel_id: &'a str,
    read_seq: u64,
}

/// Payload of a `"channel"` event.
#[derive(Serialize)]
pub struct ChannelEventJson<'a> {
    kind: &'static str,
    circle_id: &'a str,
    channel_id: &'a str,
    node_id: &'a str,
}

/// Payload of a `"circle"` event: its kind and the circle's fields.
#[derive(Serialize)]
pub struct CircleEventJson<'a> {
    kind: &'static str,
    #[serde(flatten)]
    circle: Option<CircleJson<'a>>,
}

/// Payload of a `"display_name"` event.
#[derive(Serialize)]
pub struct DisplayNameEventJson<'a> {
    node_id: &'a str,
    display_name: &'a str,
}

/// Payload of a `"lagged"` event.
#[derive(Serialize)]
pub struct LaggedJson {
    missed: u64,
}

/// JSON of an [`api::Event`]; `None` for an event of a kind this build does not know.
pub fn event(e: &api::Event) -> Option<EventJson<'_>> {
    Some(match e.kind.as_ref()? {
        event::Kind::Message(m) => EventJson::Message(message(m)),
        event::Kind::Channel(c) => EventJson::Channel(ChannelEventJson {
            kind: channel_event_kind_name(c.kind()),
            circle_id: &c.circle_id,
            channel_id: &c.channel_id,
            node_id: &c.node_id,
        }),
        event::Kind::Circle(c) => EventJson::Circle(CircleEventJson {
            kind: circle_event_kind_name(c.kind()),
            circle: c.circle.as_ref().map(circle),
        }),
        event::Kind::Peer(p) => {
            let payload = p.peer.as_ref()?;
            let mut json = peer(payload);
            if json.circle_id.is_empty() {
                json.circle_id = &p.circle_id;
            }
            EventJson::Peer(json)
        }
        event::Kind::DisplayName(d) => EventJson::DisplayName(DisplayNameEventJson {
            node_id: &d.node_id,
            display_name: &d.display_name,
        }),
        event::Kind::Lagged(l) => EventJson::Lagged(LaggedJson { missed: l.missed }),
        event::Kind::Read(r) => EventJson::Read(ReadEventJson {
            circle_id: &r.circle_id,
            channel_id: &r.channel_id,
            read_seq: r.read_seq,
        }),
    })
}

#[cfg(test)]
mod tests;
