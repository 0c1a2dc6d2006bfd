//! Authoring and listing messages.

use std::future::Future;
use std::pin::Pin;

use felund_wire::ids::{normalize_channel_id, CONTROL_CHANNEL, GENERAL_CHANNEL};
use felund_wire::limits::MAX_TEXT_BYTES;
use felund_wire::WireMessage;

use super::{ingest, now_ts, random_hex, random_nonce12, Node, Retention};
use crate::error::{NodeError, NodeResult};
use crate::events::NodeEvent;
use crate::model::{Circle, StoredMessage, ANON};
use crate::store::channels as channel_sql;
use crate::store::messages::{self as message_sql, PageCursor, PageFrom};
use crate::store::StoreResult;

use felund_proto::limits::{
    LIST_MESSAGES_DEFAULT_PAGE as DEFAULT_PAGE, LIST_MESSAGES_MAX_PAGE as MAX_PAGE,
    SEARCH_MAX_RESULTS,
};

/// One page of a channel's history.
#[derive(Debug, Clone)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<StoredMessage>,
    /// Cursor for the page before this one, if there is one.
    pub next_before: Option<String>,
    /// Cursor for the page after this one, if anything newer is stored.
    pub next_after: Option<String>,
}

/// Which page of a channel `list_messages` reads, as the API asks for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageRequest<'a> {
    /// A `next_before` cursor: the page before it.
    pub before: &'a str,
    /// A `next_after` cursor: the page after it.
    pub after: &'a str,
    /// Page forwards from the first message.
    pub from_start: bool,
}

impl PageRequest<'_> {
    /// The store's view of the request; an error for a foreign cursor or for both
    /// directions at once.
    fn page_from(&self) -> NodeResult<PageFrom> {
        let forwards = self.from_start || !self.after.is_empty();
        if forwards && !self.before.is_empty() {
            return Err(NodeError::InvalidArgument(
                "a page reads either before a cursor or after one, not both".into(),
            ));
        }
        let decode = |s: &str| -> NodeResult<Option<PageCursor>> {
            if s.is_empty() {
                return Ok(None);
            }
            PageCursor::decode(s).map(Some).ok_or_else(|| {
                NodeError::InvalidArgument(format!("'{s}' is not a cursor from a previous page"))
            })
        };
        Ok(if forwards {
            PageFrom::After(decode(self.after)?)
        } else {
            PageFrom::Before(decode(self.before)?)
        })
    }
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

/// Where a send goes: a resolved circle and a channel this node may post in.
#[derive(Debug, Clone)]
pub struct SendTarget {
    circle: Circle,
    channel_id: String,
}

/// The commit of a queued send: the events to publish (`None`: already held).
type Commit = StoreResult<Option<Vec<NodeEvent>>>;

/// A message authored and queued on the store's writer, not yet committed. Sends
/// queued one after another commit in that order.
pub struct QueuedSend {
    commit: Pin<Box<dyn Future<Output = Commit> + Send>>,
    outcome: Option<Commit>,
    wire: WireMessage,
    received_ts: i64,
}

impl QueuedSend {
    /// Waits until the write has committed (or failed). Cancel-safe: waiting again
    /// after an interrupted wait resumes it.
    pub async fn committed(&mut self) {
        if self.outcome.is_none() {
            self.outcome = Some(self.commit.as_mut().await);
        }
    }
}

/// Refuses an empty or oversized chat text.
fn check_text(text: &str) -> NodeResult<()> {
    if text.trim().is_empty() {
        return Err(NodeError::InvalidArgument("message text is empty".into()));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(NodeError::InvalidArgument(format!(
            "message is {} bytes; the limit is {MAX_TEXT_BYTES} (what every felund relay and peer accepts)",
            text.len()
        )));
    }
    Ok(())
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
        let queued = self.queue_authored(circle, channel_id, text);
        self.finish_send(queued).await
    }

    /// Authors a message and queues its write at once (see [`QueuedSend`]).
    fn queue_authored(&self, circle: &Circle, channel_id: &str, text: String) -> QueuedSend {
        let sent_ms = self.next_send_ms();
        let msg_id =
            felund_wire::ids::msg_id(self.node_id(), sent_ms.div_euclid(1000), &random_hex(8));
        let display_name = self.display_name();
        let wire = WireMessage::new_authored_at(
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
            sent_ms,
            text,
            random_nonce12(),
        );
        let for_store = wire.clone();
        let received_ts = now_ts();
        let commit = self
            .store()
            .write_repeatable(move |conn| ingest::ingest(conn, &for_store, received_ts));
        QueuedSend {
            commit: Box::pin(commit),
            outcome: None,
            wire,
            received_ts,
        }
    }

    /// Waits for a queued send to commit, then publishes its events. Returns the
    /// stored message.
    pub async fn finish_send(&self, mut queued: QueuedSend) -> NodeResult<StoredMessage> {
        queued.committed().await;
        let QueuedSend {
            outcome,
            wire,
            received_ts,
            ..
        } = queued;
        let events = outcome
            .unwrap_or(Err(crate::store::StoreError::Closed))?
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
        crate::memory::note_work(1);
        self.publish(events);
        self.publish_wire(vec![wire], None);
        Ok(stored)
    }

    /// Resolves where chat messages for `circle`/`channel` go, checking that this
    /// node may post there.
    pub async fn send_target(&self, circle: &str, channel: &str) -> NodeResult<SendTarget> {
        let circle = self.resolve_circle(circle).await?;
        let channel_id = channel_arg(channel)?;
        self.check_can_post(&circle, &channel_id).await?;
        Ok(SendTarget { circle, channel_id })
    }

    /// Checks `text` and queues it as a chat message to `target`; the send commits
    /// after every send queued before it. Finish it with [`Node::finish_send`].
    pub fn queue_send(&self, target: &SendTarget, text: &str) -> NodeResult<QueuedSend> {
        check_text(text)?;
        Ok(self.queue_authored(&target.circle, &target.channel_id, text.to_string()))
    }

    /// Stores messages received from a peer or relay (`source`, for not echoing them
    /// back), each already verified against its circle's secret. Publishes events
    /// and returns how many were new.
    pub async fn ingest_verified(
        &self,
        msgs: Vec<WireMessage>,
        source: Option<String>,
    ) -> NodeResult<usize> {
        self.queue_ingest(msgs, source).await
    }

    /// [`Node::ingest_verified`], with the write queued on the store before this
    /// returns: batches queued one after another commit in that order, so a sync can
    /// verify its next batch while this one commits. The future publishes the
    /// batch's events once it has committed; await such futures in the order queued.
    ///
    /// Chat that retention would prune is left out: older than the age window (see
    /// [`Retention::keeps`]) or than the count cap keeps (see [`ingest::CountFloors`]).
    pub fn queue_ingest(
        &self,
        mut msgs: Vec<WireMessage>,
        source: Option<String>,
    ) -> impl Future<Output = NodeResult<usize>> + Send + 'static {
        let node = self.clone();
        let received_ts = now_ts();
        let retention = self.settings().retention;
        let cutoff = retention.cutoff_ts(received_ts);
        msgs.retain(|m| Retention::keeps(cutoff, &m.channel_id, m.created_ts));
        let count = msgs.len();
        let commit = (count > 0).then(|| {
            self.store().write_repeatable(move |conn| {
                let mut memo = ingest::Memo::default();
                let mut floors = ingest::CountFloors::new(retention.max_per_circle);
                let mut new = Vec::new();
                let mut events = Vec::new();
                for m in &msgs {
                    if floors.beyond(conn, m)? {
                        continue;
                    }
                    if let Some(e) = ingest::ingest_with(conn, m, received_ts, &mut memo)? {
                        events.extend(e);
                        new.push(m.clone());
                    }
                }
                Ok((new, events))
            })
        });
        async move {
            let Some(commit) = commit else {
                return Ok(0);
            };
            let (new, events) = commit.await?;
            let stored = new.len();
            crate::memory::note_work(count as u64);
            node.publish(events);
            node.publish_wire(new, source);
            Ok(stored)
        }
    }

    /// Sends a chat message. Returns once it is committed.
    pub async fn send_message(
        &self,
        circle: &str,
        channel: &str,
        text: &str,
    ) -> NodeResult<StoredMessage> {
        let target = self.send_target(circle, channel).await?;
        let queued = self.queue_send(&target, text)?;
        self.finish_send(queued).await
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
            n => n.min(SEARCH_MAX_RESULTS),
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

    /// A page of a channel's messages, oldest first: backwards from `before` (the
    /// newest page when empty), or forwards from `after` (from the first message
    /// with `from_start`).
    pub async fn list_messages(
        &self,
        circle: &str,
        channel: &str,
        limit: u32,
        request: PageRequest<'_>,
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
        let from = request.page_from()?;
        let cid = circle.circle_id;
        self.store()
            .read(move |conn| {
                let messages = message_sql::page(conn, &cid, &channel_id, limit, &from)?;
                let cursor_if = |m: Option<&StoredMessage>, older: bool| match m {
                    Some(m) => {
                        let c = PageCursor::of(m);
                        let more = message_sql::has_beyond(conn, &cid, &channel_id, &c, older)?;
                        Ok::<_, crate::store::StoreError>(more.then(|| c.encode()))
                    }
                    None => Ok(None),
                };
                Ok(MessagePage {
                    next_before: cursor_if(messages.first(), true)?,
                    next_after: cursor_if(messages.last(), false)?,
                    messages,
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
