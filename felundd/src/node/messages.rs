//! Authoring and listing messages.

use felund_wire::ids::{normalize_channel_id, CONTROL_CHANNEL, GENERAL_CHANNEL};
use felund_wire::limits::MAX_TEXT_BYTES;
use felund_wire::WireMessage;

use super::{ingest, now_ts, random_hex, random_nonce12, Node};
use crate::error::{NodeError, NodeResult};
use crate::events::NodeEvent;
use crate::model::{Circle, StoredMessage, ANON};
use crate::store::channels as channel_sql;
use crate::store::messages::{self as message_sql, PageCursor};

/// Default and maximum page sizes for `list_messages`.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 1000;

/// One page of a channel's history.
#[derive(Debug, Clone)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<StoredMessage>,
    /// Cursor for the page before this one, if there is one.
    pub next_before: Option<String>,
}

/// Normalises a channel argument; empty means `general`.
pub(super) fn channel_arg(channel: &str) -> NodeResult<String> {
    if channel.trim().is_empty() {
        return Ok(GENERAL_CHANNEL.to_string());
    }
    normalize_channel_id(channel).map_err(|e| {
        NodeError::InvalidArgument(format!("bad channel name '{}': {e}", channel.trim()))
    })
}

impl Node {
    /// Authors a message in `circle`/`channel_id` (no permission checks: callers check),
    /// stores it and publishes its events. Returns the stored message.
    pub(super) async fn author(
        &self,
        circle: &Circle,
        channel_id: &str,
        text: String,
    ) -> NodeResult<StoredMessage> {
        let created_ts = now_ts();
        let msg_id = felund_wire::ids::msg_id(self.node_id(), created_ts, &random_hex(8));
        let display_name = self.display_name();
        let wire = WireMessage::new_authored(
            &circle.secret,
            msg_id,
            circle.circle_id.clone(),
            channel_id.to_string(),
            self.node_id().to_string(),
            if display_name.is_empty() {
                ANON.to_string()
            } else {
                display_name
            },
            created_ts,
            text,
            random_nonce12(),
        );
        let for_store = wire.clone();
        let received_ts = now_ts();
        let events = self
            .store()
            .write(move |conn| ingest::ingest(conn, &for_store, received_ts))
            .await?
            .unwrap_or_default();
        let stored = events
            .iter()
            .find_map(|e| match e {
                NodeEvent::Message(m) => Some(m.clone()),
                _ => None,
            })
            .unwrap_or_else(|| StoredMessage {
                seq: 0,
                received_ts,
                wire: wire.clone(),
            });
        self.publish(events);
        self.publish_wire(vec![wire], None);
        Ok(stored)
    }

    /// Stores messages received from a peer or relay (`source`, for not echoing them
    /// back), each already verified against its circle's secret. Publishes events
    /// and returns how many were new.
    pub async fn ingest_verified(
        &self,
        msgs: Vec<WireMessage>,
        source: Option<String>,
    ) -> NodeResult<usize> {
        if msgs.is_empty() {
            return Ok(0);
        }
        let received_ts = now_ts();
        let (new, events) = self
            .store()
            .write(move |conn| {
                let mut new = Vec::new();
                let mut events = Vec::new();
                for m in msgs {
                    if let Some(e) = ingest::ingest(conn, &m, received_ts)? {
                        events.extend(e);
                        new.push(m);
                    }
                }
                Ok((new, events))
            })
            .await?;
        let count = new.len();
        self.publish(events);
        self.publish_wire(new, source);
        Ok(count)
    }

    /// Sends a chat message. Returns once it is committed.
    pub async fn send_message(
        &self,
        circle: &str,
        channel: &str,
        text: &str,
    ) -> NodeResult<StoredMessage> {
        let circle = self.resolve_circle(circle).await?;
        let channel_id = channel_arg(channel)?;
        if text.trim().is_empty() {
            return Err(NodeError::InvalidArgument("message text is empty".into()));
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(NodeError::InvalidArgument(format!(
                "message is {} bytes; the limit is {MAX_TEXT_BYTES} (what every felund relay and peer accepts)",
                text.len()
            )));
        }
        self.check_can_post(&circle, &channel_id).await?;
        self.author(&circle, &channel_id, text.to_string()).await
    }

    /// A node may post where the channel's member set is empty or contains it
    /// (reference rule); `general` always exists.
    async fn check_can_post(&self, circle: &Circle, channel_id: &str) -> NodeResult<()> {
        if channel_id == GENERAL_CHANNEL {
            return Ok(());
        }
        let (cid, ch) = (circle.circle_id.clone(), channel_id.to_string());
        let channel = self
            .store()
            .read(move |conn| channel_sql::get(conn, &cid, &ch))
            .await?;
        match channel {
            None => Err(super::channels::no_such_channel(circle, channel_id)),
            Some(c) if c.members.is_empty() || c.members.iter().any(|m| m == self.node_id()) => {
                Ok(())
            }
            Some(_) => Err(NodeError::FailedPrecondition(format!(
                "you are not a member of #{channel_id}; join it first"
            ))),
        }
    }

    /// Chat messages matching `query`, newest first (in one circle/channel if given).
    pub async fn search_messages(
        &self,
        query: &str,
        circle: &str,
        channel: &str,
        limit: u32,
    ) -> NodeResult<Vec<StoredMessage>> {
        let fts = message_sql::fts_query(query)
            .ok_or_else(|| NodeError::InvalidArgument("nothing to search for".into()))?;
        let circle = if circle.trim().is_empty() {
            None
        } else {
            Some(self.resolve_circle(circle).await?)
        };
        let channel_id = if channel.trim().is_empty() {
            None
        } else {
            Some(channel_arg(channel)?)
        };
        if let (Some(c), Some(ch)) = (&circle, &channel_id) {
            self.check_known_channel(c, ch).await?;
        }
        let circle_id = circle.map(|c| c.circle_id);
        let limit = match limit {
            0 => DEFAULT_PAGE,
            n => n.min(500),
        };
        Ok(self
            .store()
            .read(move |conn| {
                message_sql::search(
                    conn,
                    &fts,
                    circle_id.as_deref(),
                    channel_id.as_deref(),
                    limit,
                )
            })
            .await?)
    }

    /// A page of a channel's messages, oldest first.
    pub async fn list_messages(
        &self,
        circle: &str,
        channel: &str,
        limit: u32,
        before: &str,
    ) -> NodeResult<MessagePage> {
        let circle = self.resolve_circle(circle).await?;
        let channel_id = channel_arg(channel)?;
        if channel_id == CONTROL_CHANNEL {
            return Err(NodeError::InvalidArgument(
                "the control channel is not a chat channel".into(),
            ));
        }
        self.check_known_channel(&circle, &channel_id).await?;
        let limit = match limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let before = if before.is_empty() {
            None
        } else {
            Some(PageCursor::decode(before).ok_or_else(|| {
                NodeError::InvalidArgument(format!(
                    "'{before}' is not a cursor from a previous page"
                ))
            })?)
        };
        let cid = circle.circle_id;
        self.store()
            .read(move |conn| {
                let messages = message_sql::page(conn, &cid, &channel_id, limit, before.as_ref())?;
                let next_before = match messages.first() {
                    Some(first) => {
                        let c = PageCursor {
                            created_ts: first.wire.created_ts,
                            seq: first.seq,
                        };
                        message_sql::has_older(conn, &cid, &channel_id, &c)?.then(|| c.encode())
                    }
                    None => None,
                };
                Ok(MessagePage {
                    messages,
                    next_before,
                })
            })
            .await
            .map_err(NodeError::from)
    }

    /// Chat messages stored after `seq` (in one circle, or all), in storage order, at
    /// most `limit`: what a client resuming a stream has missed.
    pub async fn messages_stored_after(
        &self,
        seq: i64,
        circle_id: Option<String>,
        limit: usize,
    ) -> NodeResult<Vec<StoredMessage>> {
        Ok(self
            .store()
            .read(move |conn| message_sql::stored_after(conn, seq, circle_id.as_deref(), limit))
            .await?)
    }
}
