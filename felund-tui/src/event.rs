//! What flows between the app and the client tasks: [`Request`]s the app asks
//! [`crate::client`] to perform, and [`AppEvent`]s the client feeds back
//! (connection changes, live events from `Subscribe`, and request results).

use crate::model::{
    Access, ChannelView, ChatMessage, CircleView, Member, NodeView, PeerView, Snapshot,
};

/// At most this many results of a `/search` are asked for (the daemon allows 500).
pub const SEARCH_LIMIT: u32 = 200;

/// A piece of work for the daemon. Each maps to one RPC (or a short series).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A page of a channel's messages; `before` is the cursor of an older page.
    LoadMessages {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// Cursor from a previous page; `None` for the newest page.
        before: Option<String>,
    },
    /// Send a chat message.
    Send {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// The text.
        text: String,
    },
    /// Create a circle with a friendly name (may be empty).
    CreateCircle {
        /// The name.
        name: String,
    },
    /// Join a circle from an invite code.
    JoinCircle {
        /// The invite code.
        code: String,
    },
    /// Leave a circle.
    LeaveCircle {
        /// Circle id.
        circle: String,
        /// Its label when asked (the circle is gone from the cache by the time the answer
        /// comes, since the daemon's "left" event races the reply).
        label: String,
    },
    /// Rename a circle.
    RenameCircle {
        /// Circle id.
        circle: String,
        /// New name.
        name: String,
    },
    /// Get a circle's invite code.
    Invite {
        /// Circle id.
        circle: String,
    },
    /// Re-list a circle's channels.
    ListChannels {
        /// Circle id.
        circle: String,
    },
    /// Create a channel.
    CreateChannel {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// Access mode.
        access: Access,
        /// Key for key-protected channels.
        key: Option<String>,
    },
    /// Join a channel.
    JoinChannel {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// Key for key-protected channels.
        key: Option<String>,
    },
    /// Leave a channel.
    LeaveChannel {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
    },
    /// Approve a request to join an invite-only channel.
    Approve {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// The node asking.
        node_id: String,
    },
    /// List members for `/who` (shown in the log).
    Who {
        /// Circle id.
        circle: String,
        /// Channel name; `None` for the whole circle.
        channel: Option<String>,
    },
    /// Quietly re-list a circle's members (for names and completion).
    RefreshMembers {
        /// Circle id.
        circle: String,
    },
    /// Move a channel's read marker (shared by every client of the node).
    MarkRead {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// The seq of the last message read.
        seq: u64,
    },
    /// Set this node's display name.
    SetDisplayName {
        /// The new name.
        name: String,
    },
    /// Set (or, when empty, clear) the relay URL.
    SetRelay {
        /// The URL.
        url: String,
    },
    /// Node info for `/debug`.
    Debug,
    /// Full-text search of chat messages for `/search` (at most [`SEARCH_LIMIT`]).
    Search {
        /// The words as typed: all must match; a trailing `*` matches a prefix.
        query: String,
        /// Circle id; `None` searches every circle.
        circle: Option<String>,
    },
}

/// Why node info came back, so the app knows what to say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeChange {
    /// The display name was set.
    Name,
    /// The relay URL was set or cleared.
    Relay,
    /// `/debug` asked for it.
    Debug,
}

/// A successful result of a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A page of messages (oldest first).
    Messages {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// The messages.
        messages: Vec<ChatMessage>,
        /// Cursor of the page before this one, if there is one.
        next_before: Option<String>,
        /// Whether this was an older page (`before` was given).
        older: bool,
    },
    /// A message was sent (committed).
    Sent(ChatMessage),
    /// A circle was created.
    CircleCreated {
        /// The circle.
        circle: CircleView,
        /// Its invite code.
        code: String,
    },
    /// A circle was joined.
    CircleJoined {
        /// The circle.
        circle: CircleView,
        /// False when this node was in it already.
        newly_joined: bool,
        /// The bootstrap peer named by the code.
        peer: String,
        /// Why that peer could not be reached at once (empty: reached, or nothing to
        /// reach); felundd keeps trying.
        peer_error: String,
    },
    /// A circle was left.
    CircleLeft {
        /// Circle id.
        circle: String,
        /// Its label, from the request.
        label: String,
    },
    /// A circle was renamed.
    CircleRenamed(CircleView),
    /// A circle's invite code.
    Invite {
        /// Circle id.
        circle: String,
        /// The code.
        code: String,
    },
    /// A circle's channels.
    Channels {
        /// Circle id.
        circle: String,
        /// Its channels.
        channels: Vec<ChannelView>,
    },
    /// A channel was created.
    ChannelCreated(ChannelView),
    /// A channel was joined, or a request to join it recorded.
    ChannelJoined {
        /// The channel.
        channel: ChannelView,
        /// True when only a request was recorded (invite-only).
        requested: bool,
    },
    /// A channel was left.
    ChannelLeft(ChannelView),
    /// A read marker was moved (the channel as it stands now).
    Marked(ChannelView),
    /// A join request was approved.
    Approved {
        /// The channel.
        channel: ChannelView,
        /// The approved node.
        node_id: String,
    },
    /// Members for `/who`.
    Who {
        /// Circle id.
        circle: String,
        /// Channel, or `None` for the circle.
        channel: Option<String>,
        /// The members.
        members: Vec<Member>,
    },
    /// Members of a circle (quiet refresh).
    Members {
        /// Circle id.
        circle: String,
        /// The members.
        members: Vec<Member>,
    },
    /// Node info after a change or for `/debug`.
    Node {
        /// The node.
        node: NodeView,
        /// What it is for.
        change: NodeChange,
    },
    /// The answer to [`Request::Search`].
    SearchResults {
        /// The query, as asked.
        query: String,
        /// The circle searched, as asked.
        circle: Option<String>,
        /// The matching messages, newest first.
        messages: Vec<ChatMessage>,
    },
}

/// What changed about a channel (from a `ChannelEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelChange {
    /// Created.
    Created,
    /// A member joined.
    Joined,
    /// A member left.
    Left,
    /// A node asked to join.
    Requested,
    /// A request was approved.
    Approved,
    /// Something else.
    Other,
}

/// What changed about a circle (from a `CircleEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircleChange {
    /// This node joined or created it.
    Joined,
    /// This node left it.
    Left,
    /// It was renamed.
    Renamed,
    /// Something else.
    Other,
}

/// A live event from the daemon's `Subscribe` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A new chat message.
    Message(ChatMessage),
    /// A channel changed.
    Channel {
        /// What changed.
        change: ChannelChange,
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// The node concerned, if any.
        node_id: String,
    },
    /// A circle changed.
    Circle {
        /// What changed.
        change: CircleChange,
        /// The circle.
        circle: CircleView,
    },
    /// A peer was learned or updated.
    Peer(PeerView),
    /// A node's display name changed.
    DisplayName {
        /// The node.
        node_id: String,
        /// Its new name.
        name: String,
    },
    /// Some client of this node (maybe this one) read a channel up to `read_seq`.
    Read {
        /// Circle id.
        circle: String,
        /// Channel name.
        channel: String,
        /// The seq of the last message read.
        read_seq: u64,
    },
}

/// Everything the client tasks tell the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppEvent {
    /// Connecting failed; another attempt follows after `retry_in_ms`.
    ConnectFailed {
        /// The connect error, a sentence for people.
        error: String,
        /// Attempt number, from 1.
        attempt: u32,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// Connected (or reconnected) and listed everything.
    Connected(Box<Snapshot>),
    /// Re-listed everything after events were missed (`Lagged`).
    Resynced {
        /// The fresh listing.
        snapshot: Box<Snapshot>,
        /// How many events were missed.
        missed: u64,
    },
    /// The connection (or the event stream) was lost; reconnecting follows.
    Disconnected {
        /// Why, for people.
        reason: String,
    },
    /// A live event.
    Live(LiveEvent),
    /// A request succeeded.
    Done(Response),
    /// A request failed.
    Failed {
        /// The request.
        request: Request,
        /// Why, for people (one line).
        error: String,
    },
}
