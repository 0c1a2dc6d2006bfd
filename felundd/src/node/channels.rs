//! Channel operations. Access modes are enforced here, on the sending side, as in the
//! reference: a join without the right key or an approval is never sent.

use felund_wire::control::{channel_key_hash, AccessMode, ChannelEvent};
use felund_wire::ids::{CONTROL_CHANNEL, GENERAL_CHANNEL};
use rusqlite::Connection;

use super::messages::channel_arg;
use super::{now_ts, Node};
use crate::error::{NodeError, NodeResult};
use crate::model::{Channel, Circle};
use crate::store::channels::{self as channel_sql, NodeSet};
use crate::store::StoreResult;

/// Makes sure the circle has `general` and that `me` is in it.
pub(super) fn ensure_general(conn: &Connection, circle_id: &str, me: &str) -> StoreResult<()> {
    channel_sql::create(
        conn,
        circle_id,
        GENERAL_CHANNEL,
        AccessMode::Public,
        me,
        now_ts(),
        "",
    )?;
    channel_sql::add(conn, NodeSet::Members, circle_id, GENERAL_CHANNEL, me)?;
    Ok(())
}

/// The error for a channel a circle does not have, with the command that creates it.
pub(super) fn no_such_channel(circle: &Circle, channel_id: &str) -> NodeError {
    let circle_arg = if circle.name.is_empty() || circle.name.contains(char::is_whitespace) {
        circle.circle_id.chars().take(8).collect()
    } else {
        circle.name.clone()
    };
    NodeError::NotFound(format!(
        "no channel #{channel_id} in this circle (`felundctl channels --circle-id {circle_arg}` lists them; \
         `felundctl channel create {channel_id} --circle-id {circle_arg}` creates it)"
    ))
}

impl Node {
    /// Display names of `nodes` (`anon` when unknown).
    async fn display_names(
        &self,
        nodes: &[String],
    ) -> NodeResult<std::collections::HashMap<String, String>> {
        let nodes = nodes.to_vec();
        Ok(self
            .store()
            .read(move |conn| {
                nodes
                    .into_iter()
                    .map(|n| {
                        let name = crate::store::peers::display_name(conn, &n)?;
                        Ok((n, name))
                    })
                    .collect()
            })
            .await?)
    }

    /// Channels of a circle.
    pub async fn list_channels(&self, selector: &str) -> NodeResult<Vec<Channel>> {
        let circle = self.resolve_circle(selector).await?;
        Ok(self
            .store()
            .read(move |conn| channel_sql::list(conn, &circle.circle_id))
            .await?)
    }

    async fn channel(&self, circle: &Circle, channel_id: &str) -> NodeResult<Option<Channel>> {
        let (cid, ch) = (circle.circle_id.clone(), channel_id.to_string());
        Ok(self
            .store()
            .read(move |conn| channel_sql::get(conn, &cid, &ch))
            .await?)
    }

    async fn existing_channel(&self, circle: &Circle, channel_id: &str) -> NodeResult<Channel> {
        self.channel(circle, channel_id)
            .await?
            .ok_or_else(|| no_such_channel(circle, channel_id))
    }

    /// Refuses a channel the circle does not have (neither announced nor holding
    /// messages), so that a mistyped name is an error rather than an empty channel.
    pub(super) async fn check_known_channel(
        &self,
        circle: &Circle,
        channel_id: &str,
    ) -> NodeResult<()> {
        let (cid, ch) = (circle.circle_id.clone(), channel_id.to_string());
        if self
            .store()
            .read(move |conn| channel_sql::is_known(conn, &cid, &ch))
            .await?
        {
            Ok(())
        } else {
            Err(no_such_channel(circle, channel_id))
        }
    }

    async fn send_channel_event(&self, circle: &Circle, evt: ChannelEvent) -> NodeResult<()> {
        self.author(circle, CONTROL_CHANNEL, evt.to_text()).await?;
        Ok(())
    }

    /// Creates a channel; this node becomes its owner and first member.
    pub async fn create_channel(
        &self,
        selector: &str,
        channel: &str,
        mode: AccessMode,
        key: &str,
    ) -> NodeResult<Channel> {
        let circle = self.resolve_circle(selector).await?;
        let channel_id = channel_arg(channel)?;
        if self.channel(&circle, &channel_id).await?.is_some() {
            return Err(NodeError::AlreadyExists(format!(
                "#{channel_id} already exists; join it instead"
            )));
        }
        let key_hash = match mode {
            AccessMode::Key if key.is_empty() => {
                return Err(NodeError::InvalidArgument(
                    "a key-protected channel needs a key".into(),
                ))
            }
            AccessMode::Key => Some(channel_key_hash(&circle.circle_id, &channel_id, key)),
            _ => None,
        };
        let evt = ChannelEvent::create(
            &circle.circle_id,
            &channel_id,
            self.node_id(),
            now_ts(),
            mode,
            key_hash,
        );
        self.send_channel_event(&circle, evt).await?;
        self.existing_channel(&circle, &channel_id).await
    }

    /// Joins a channel. For an invite-only channel this records a request instead and
    /// returns `(channel, true)`.
    pub async fn join_channel(
        &self,
        selector: &str,
        channel: &str,
        key: &str,
    ) -> NodeResult<(Channel, bool)> {
        let circle = self.resolve_circle(selector).await?;
        let channel_id = channel_arg(channel)?;
        let ch = self.existing_channel(&circle, &channel_id).await?;
        let me = self.node_id().to_string();
        if ch.members.contains(&me) {
            return Ok((ch, false));
        }
        let ts = now_ts();
        let requested = match ch.access_mode {
            AccessMode::Public => {
                self.send_channel_event(
                    &circle,
                    ChannelEvent::join(&circle.circle_id, &channel_id, &me, ts),
                )
                .await?;
                false
            }
            AccessMode::Key => {
                if channel_key_hash(&circle.circle_id, &channel_id, key) != ch.key_hash {
                    return Err(NodeError::PermissionDenied(format!(
                        "wrong key for #{channel_id}"
                    )));
                }
                self.send_channel_event(
                    &circle,
                    ChannelEvent::join(&circle.circle_id, &channel_id, &me, ts),
                )
                .await?;
                false
            }
            AccessMode::Invite => {
                if !ch.requests.contains(&me) {
                    self.send_channel_event(
                        &circle,
                        ChannelEvent::request(&circle.circle_id, &channel_id, &me, ts),
                    )
                    .await?;
                }
                true
            }
        };
        Ok((
            self.existing_channel(&circle, &channel_id).await?,
            requested,
        ))
    }

    /// Leaves a channel (never `general`).
    pub async fn leave_channel(&self, selector: &str, channel: &str) -> NodeResult<Channel> {
        let circle = self.resolve_circle(selector).await?;
        let channel_id = channel_arg(channel)?;
        if channel_id == GENERAL_CHANNEL {
            return Err(NodeError::InvalidArgument("#general cannot be left".into()));
        }
        let ch = self.existing_channel(&circle, &channel_id).await?;
        let me = self.node_id().to_string();
        if ch.members.contains(&me) || ch.requests.contains(&me) {
            self.send_channel_event(
                &circle,
                ChannelEvent::leave(&circle.circle_id, &channel_id, &me, now_ts()),
            )
            .await?;
        }
        self.existing_channel(&circle, &channel_id).await
    }

    /// Approves a pending request; only the channel's creator may.
    pub async fn approve_request(
        &self,
        selector: &str,
        channel: &str,
        node_id: &str,
    ) -> NodeResult<Channel> {
        let circle = self.resolve_circle(selector).await?;
        let channel_id = channel_arg(channel)?;
        let ch = self.existing_channel(&circle, &channel_id).await?;
        if ch.created_by != self.node_id() {
            return Err(NodeError::PermissionDenied(format!(
                "only the owner of #{channel_id} can approve requests"
            )));
        }
        let names = self.display_names(&ch.requests).await?;
        let node_id = super::resolve_node(&ch.requests, node_id, |n| {
            names.get(n).cloned().unwrap_or_default()
        })
        .map_err(|e| match e {
            NodeError::NotFound(_) => NodeError::NotFound(format!(
                "no pending request from '{}' for #{channel_id}",
                node_id.trim()
            )),
            other => other,
        })?
        .to_string();
        let node_id = node_id.as_str();
        let evt = ChannelEvent::approve(
            &circle.circle_id,
            &channel_id,
            self.node_id(),
            node_id,
            now_ts(),
        );
        self.send_channel_event(&circle, evt).await?;
        self.existing_channel(&circle, &channel_id).await
    }

    /// Moves a channel's read marker forward to `seq` (for every client of this node)
    /// and tells the other clients. Returns the channel with its new unread counts.
    pub async fn mark_read(&self, selector: &str, channel: &str, seq: i64) -> NodeResult<Channel> {
        let circle = self.resolve_circle(selector).await?;
        let channel_id = channel_arg(channel)?;
        self.check_known_channel(&circle, &channel_id).await?;
        let (cid, ch) = (circle.circle_id.clone(), channel_id.clone());
        let moved = self
            .store()
            .write(move |conn| crate::store::read_markers::advance(conn, &cid, &ch, seq))
            .await?;
        if moved {
            self.publish(vec![crate::events::NodeEvent::Read {
                circle_id: circle.circle_id.clone(),
                channel_id: channel_id.clone(),
                read_seq: seq,
            }]);
        }
        match self.channel(&circle, &channel_id).await? {
            Some(c) => Ok(c),
            // Messages in a channel whose creation never reached us: describe it.
            None => Ok(Channel {
                circle_id: circle.circle_id.clone(),
                channel_id: channel_id.clone(),
                access_mode: felund_wire::control::AccessMode::Public,
                created_by: String::new(),
                created_ts: 0,
                key_hash: String::new(),
                members: Vec::new(),
                requests: Vec::new(),
                reading: {
                    let (cid, ch) = (circle.circle_id.clone(), channel_id.clone());
                    self.store()
                        .read(move |conn| crate::store::read_markers::reading(conn, &cid, &ch))
                        .await?
                },
            }),
        }
    }
}
