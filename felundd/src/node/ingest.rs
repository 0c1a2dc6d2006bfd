//! The one path by which a verified message enters the store, whether this node
//! authored it or a peer sent it: insert (first copy wins), learn the author's
//! display name (newest wins), and apply control events. Runs inside a store write;
//! returns the events to publish once the write has committed.

use std::collections::{HashMap, HashSet};

use felund_wire::control::{self, AccessMode, ControlEvent, Effect};
use felund_wire::ids::CONTROL_CHANNEL;
use felund_wire::WireMessage;
use rusqlite::Connection;

use crate::events::{ChannelChange, CircleChange, NodeEvent};
use crate::limits::INGEST_MEMO;
use crate::store::channels::{self as channel_sql, NodeSet};
use crate::store::{
    anchors as anchor_sql, circles as circle_sql, messages as message_sql, peers as peer_sql,
    StoreResult,
};

/// What one store write has already recorded about the authors of the messages it
/// stores, so a batch from the same few authors (a catch-up, an import) does not
/// repeat the same two statements per message. Bounded by [`INGEST_MEMO`] entries.
#[derive(Debug, Default)]
pub struct Memo {
    /// (circle, author) pairs recorded as members.
    members: HashSet<(String, String)>,
    /// Per author: the display name last applied and the newest `created_ts` it was
    /// applied with (a newer one may still win over a name stored meanwhile).
    names: HashMap<String, (String, i64)>,
}

impl Memo {
    fn bound(&mut self) {
        if self.members.len() + self.names.len() > INGEST_MEMO {
            self.members.clear();
            self.names.clear();
        }
    }
}

/// The count cap of retention (`--max-messages-per-circle`) at ingest: per circle, the
/// oldest chat message the cap keeps (`created_ts`, ties by `msg_id`, as the prune orders
/// them), looked up once per store write. Received chat older than that is not stored — pruning would only remove it
/// again, and a peer holding more history would hand it back as new every time.
#[derive(Debug)]
pub struct CountFloors {
    cap: u64,
    floors: HashMap<String, Option<(i64, String)>>,
}

impl CountFloors {
    /// Floors for a cap of `cap` chat messages per circle (0: no cap).
    pub fn new(cap: u64) -> Self {
        Self {
            cap,
            floors: HashMap::new(),
        }
    }

    /// Whether `msg` is chat older than every message its circle keeps under the cap.
    pub fn beyond(&mut self, conn: &Connection, msg: &WireMessage) -> StoreResult<bool> {
        if self.cap == 0 || msg.channel_id == CONTROL_CHANNEL {
            return Ok(false);
        }
        if !self.floors.contains_key(&msg.circle_id) {
            let floor = message_sql::count_floor(conn, &msg.circle_id, self.cap)?;
            self.floors.insert(msg.circle_id.clone(), floor);
        }
        Ok(self.floors[&msg.circle_id]
            .as_ref()
            .is_some_and(|(ts, id)| (msg.created_ts, msg.msg_id.as_str()) < (*ts, id.as_str())))
    }
}

/// Stores `msg` (already verified against its circle's secret) and applies what it
/// carries. Returns `None` when the msg_id was already held, else the events to
/// publish.
pub fn ingest(
    conn: &Connection,
    msg: &WireMessage,
    received_ts: i64,
) -> StoreResult<Option<Vec<NodeEvent>>> {
    ingest_with(conn, msg, received_ts, &mut Memo::default())
}

/// [`ingest`] for one of many messages stored in the same write (`memo` lives as
/// long as that write).
pub fn ingest_with(
    conn: &Connection,
    msg: &WireMessage,
    received_ts: i64,
    memo: &mut Memo,
) -> StoreResult<Option<Vec<NodeEvent>>> {
    let Some(stored) = message_sql::insert(conn, msg, received_ts)? else {
        return Ok(None);
    };
    memo.bound();
    let mut events = Vec::new();
    let name = felund_wire::ids::truncate_display_name(&msg.display_name);
    // Setting a name again with the same or an older timestamp changes nothing.
    let name_known = memo
        .names
        .get(&msg.author_node_id)
        .is_some_and(|(n, ts)| *n == name && *ts >= msg.created_ts);
    if !name.is_empty() && !name_known {
        if peer_sql::set_display_name(conn, &msg.author_node_id, &name, msg.created_ts)? {
            events.push(NodeEvent::DisplayName {
                node_id: msg.author_node_id.clone(),
                name: name.clone(),
            });
        }
        memo.names
            .insert(msg.author_node_id.clone(), (name, msg.created_ts));
    }
    let member = (msg.circle_id.clone(), msg.author_node_id.clone());
    if !memo.members.contains(&member) {
        circle_sql::add_member(conn, &msg.circle_id, &msg.author_node_id)?;
        memo.members.insert(member);
    }
    if msg.channel_id == CONTROL_CHANNEL {
        if let Some(evt) = control::parse_control(&msg.text) {
            apply(conn, &msg.circle_id, msg.created_ts, &evt, &mut events)?;
        }
    } else {
        events.push(NodeEvent::Message(stored));
    }
    Ok(Some(events))
}

/// Applies one control event's effects in `circle_id` (the carrying message's
/// circle, never the one named inside the event).
fn apply(
    conn: &Connection,
    circle_id: &str,
    ts: i64,
    evt: &ControlEvent,
    events: &mut Vec<NodeEvent>,
) -> StoreResult<()> {
    for effect in control::effects(evt) {
        apply_effect(conn, circle_id, ts, effect, events)?;
    }
    Ok(())
}

fn channel_event(
    change: ChannelChange,
    circle_id: &str,
    channel_id: &str,
    node_id: Option<&str>,
) -> NodeEvent {
    NodeEvent::Channel {
        change,
        circle_id: circle_id.to_string(),
        channel_id: channel_id.to_string(),
        node_id: node_id.map(str::to_string),
    }
}

fn ensure_channel(
    conn: &Connection,
    circle_id: &str,
    channel_id: &str,
    ts: i64,
    events: &mut Vec<NodeEvent>,
) -> StoreResult<()> {
    if channel_sql::create(conn, circle_id, channel_id, AccessMode::Public, "", ts, "")? {
        events.push(channel_event(
            ChannelChange::Created,
            circle_id,
            channel_id,
            None,
        ));
    }
    Ok(())
}

fn apply_effect(
    conn: &Connection,
    circle_id: &str,
    ts: i64,
    effect: Effect,
    events: &mut Vec<NodeEvent>,
) -> StoreResult<()> {
    match effect {
        Effect::CreateChannel {
            channel_id,
            access_mode,
            created_by,
            created_ts,
            key_hash,
        } => {
            let key_hash = key_hash.unwrap_or_default();
            if channel_sql::create(
                conn,
                circle_id,
                &channel_id,
                access_mode,
                &created_by,
                created_ts,
                &key_hash,
            )? {
                events.push(channel_event(
                    ChannelChange::Created,
                    circle_id,
                    &channel_id,
                    Some(&created_by),
                ));
            }
        }
        Effect::EnsureChannel { channel_id } => {
            ensure_channel(conn, circle_id, &channel_id, ts, events)?
        }
        Effect::AddMember {
            channel_id,
            node_id,
        } => {
            if channel_sql::add(conn, NodeSet::Members, circle_id, &channel_id, &node_id)? {
                let was_requested =
                    channel_sql::remove(conn, NodeSet::Requests, circle_id, &channel_id, &node_id)?;
                let change = if was_requested {
                    ChannelChange::Approved
                } else {
                    ChannelChange::MemberJoined
                };
                events.push(channel_event(
                    change,
                    circle_id,
                    &channel_id,
                    Some(&node_id),
                ));
            }
        }
        Effect::RemoveMember {
            channel_id,
            node_id,
        } => {
            if channel_sql::remove(conn, NodeSet::Members, circle_id, &channel_id, &node_id)? {
                events.push(channel_event(
                    ChannelChange::MemberLeft,
                    circle_id,
                    &channel_id,
                    Some(&node_id),
                ));
            }
        }
        Effect::AddRequest {
            channel_id,
            node_id,
        } => {
            // Requests only mean something for invite-only channels.
            let invite_only = channel_sql::get(conn, circle_id, &channel_id)?
                .is_some_and(|c| c.access_mode == AccessMode::Invite);
            if invite_only
                && channel_sql::add(conn, NodeSet::Requests, circle_id, &channel_id, &node_id)?
            {
                events.push(channel_event(
                    ChannelChange::Requested,
                    circle_id,
                    &channel_id,
                    Some(&node_id),
                ));
            }
        }
        Effect::RemoveRequest {
            channel_id,
            node_id,
        } => {
            channel_sql::remove(conn, NodeSet::Requests, circle_id, &channel_id, &node_id)?;
        }
        Effect::SetDisplayName { node_id, name } => {
            if peer_sql::set_display_name(conn, &node_id, &name, ts)? {
                events.push(NodeEvent::DisplayName { node_id, name });
            }
        }
        Effect::SetCircleName { name } => {
            if circle_sql::set_name(conn, circle_id, &name, ts)? {
                if let Some(circle) = circle_sql::get(conn, circle_id)? {
                    events.push(NodeEvent::Circle {
                        change: CircleChange::Renamed,
                        circle: circle_sql::summary(conn, circle)?,
                    });
                }
            }
        }
        Effect::RecordAnchor(a) => {
            anchor_sql::record(conn, circle_id, &a, crate::node::now_ts())?;
        }
    }
    Ok(())
}
