//! Circle operations: create, join, leave, rename, invite codes, listings, members,
//! peers and the display name.

use felund_wire::control::{circle_name_text, ChannelEvent};
use felund_wire::frame::parse_host_port;
use felund_wire::ids::{local_name, CONTROL_CHANNEL};
use felund_wire::invite::{encode_invite, is_relay_url, parse_invite};
use felund_wire::CircleSecret;
use rand::RngCore;
use std::time::Duration;
use tokio::sync::broadcast;

use super::{channels::ensure_general, now_ts, Node};
use crate::counters::DataChannelPeer;
use crate::error::{NodeError, NodeResult};
use crate::events::{CircleChange, NodeEvent};
use crate::model::{Circle, CircleSummary, Member, Peer};
use crate::store::{
    candidates as candidate_sql, channels as channel_sql, circles as circle_sql, meta,
    peers as peer_sql,
};

/// What `join_circle` did.
#[derive(Debug, Clone)]
pub struct JoinOutcome {
    /// The circle joined.
    pub circle: CircleSummary,
    /// False if this node was already a member.
    pub newly_joined: bool,
    /// The code's bootstrap peer (may be empty).
    pub peer: String,
    /// For a newly joined circle whose code names a `host:port` and when asked to wait:
    /// whether that peer was reached (`Err` says why not). `None` otherwise.
    pub bootstrap: Option<Result<(), String>>,
}

impl Node {
    /// Creates a circle with a fresh 32-byte secret. Returns it and its invite code.
    pub async fn create_circle(&self, name: &str) -> NodeResult<(CircleSummary, String)> {
        let name = name.trim();
        if !name.is_empty() {
            // Refuse a bad name before the circle exists, not after.
            local_name(name)
                .map_err(|e| NodeError::InvalidArgument(format!("circle name refused: {e}")))?;
        }
        let mut secret = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let secret = CircleSecret::from_bytes(secret);
        let circle = Circle {
            circle_id: secret.circle_id(),
            secret,
            name: String::new(),
            joined_ts: now_ts(),
            bootstrap_peer: String::new(),
        };
        self.add_circle(circle.clone(), true).await?;
        if !name.is_empty() {
            self.rename_circle(&circle.circle_id, name).await?;
        }
        let summary = self.circle_summary(&circle.circle_id).await?;
        let code = encode_invite(&circle.secret, &self.settings().advertise_addr);
        Ok((summary, code))
    }

    /// Stores a new circle with this node as member of it and of `general`;
    /// `created` (rather than joined) circles have nothing to sync yet. Returns false if
    /// it was already known.
    async fn add_circle(&self, circle: Circle, created: bool) -> NodeResult<bool> {
        let me = self.node_id().to_string();
        let (added, summary) = self
            .store()
            .write(move |conn| {
                let added = circle_sql::insert(conn, &circle)?;
                if added && created {
                    circle_sql::mark_synced(conn, &circle.circle_id, circle.joined_ts)?;
                }
                circle_sql::add_member(conn, &circle.circle_id, &me)?;
                ensure_general(conn, &circle.circle_id, &me)?;
                Ok((added, circle_sql::summary(conn, circle)?))
            })
            .await?;
        if added {
            self.publish(vec![NodeEvent::Circle {
                change: CircleChange::Joined,
                circle: summary,
            }]);
        }
        Ok(added)
    }

    /// Joins a circle from an invite code.
    pub async fn join_circle(&self, code: &str) -> NodeResult<JoinOutcome> {
        let invite = parse_invite(code)
            .map_err(|e| NodeError::InvalidArgument(format!("invalid invite code: {e}")))?;
        let peer = invite.peer.as_code_peer();
        let circle = Circle {
            circle_id: invite.circle_id(),
            secret: invite.secret,
            name: String::new(),
            joined_ts: now_ts(),
            bootstrap_peer: peer.clone(),
        };
        let newly_joined = self.add_circle(circle.clone(), false).await?;
        Ok(JoinOutcome {
            circle: self.circle_summary(&circle.circle_id).await?,
            newly_joined,
            peer,
            bootstrap: None,
        })
    }

    /// Joins a circle and, when the code names a `host:port`, waits up to `wait` for the
    /// first attempt to sync with it (gossip bootstraps a fresh join at once), so the
    /// person joining learns whether the peer was reached.
    pub async fn join_circle_and_wait(
        &self,
        code: &str,
        wait: Duration,
    ) -> NodeResult<JoinOutcome> {
        let mut outcomes = self.subscribe_sync_outcomes();
        let mut joined = self.join_circle(code).await?;
        let dialable = parse_host_port(&joined.peer).is_some() && !is_relay_url(&joined.peer);
        if !joined.newly_joined || !dialable {
            return Ok(joined);
        }
        let (cid, addr) = (joined.circle.circle.circle_id.clone(), joined.peer.clone());
        let first = async {
            loop {
                match outcomes.recv().await {
                    Ok(o) if o.circle_id == cid && o.addr == addr => return o.error,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => {
                        return Some("the node is shutting down".to_string())
                    }
                }
            }
        };
        joined.bootstrap = Some(match tokio::time::timeout(wait, first).await {
            Ok(None) => Ok(()),
            Ok(Some(e)) => Err(e),
            Err(_) => Err(format!("no answer within {} s", wait.as_secs())),
        });
        if joined.bootstrap == Some(Ok(())) {
            joined.circle = self.circle_summary(&cid).await?;
        }
        Ok(joined)
    }

    /// Leaves a circle, forgetting its secret, channels and messages.
    pub async fn leave_circle(&self, selector: &str) -> NodeResult<String> {
        let circle = self.resolve_circle(selector).await?;
        let circle_id = circle.circle_id.clone();
        let summary = self
            .store()
            .write(move |conn| {
                let cid = circle.circle_id.clone();
                let summary = circle_sql::summary(conn, circle)?;
                circle_sql::delete(conn, &cid)?;
                Ok(summary)
            })
            .await?;
        self.publish(vec![NodeEvent::Circle {
            change: CircleChange::Left,
            circle: summary,
        }]);
        Ok(circle_id)
    }

    /// Names a circle and announces it with a CIRCLE_NAME_EVT.
    pub async fn rename_circle(&self, selector: &str, name: &str) -> NodeResult<CircleSummary> {
        let circle = self.resolve_circle(selector).await?;
        let name = local_name(name)
            .map_err(|e| NodeError::InvalidArgument(format!("circle name refused: {e}")))?;
        self.author(
            &circle,
            CONTROL_CHANNEL,
            circle_name_text(&circle.circle_id, &name),
        )
        .await?;
        self.circle_summary(&circle.circle_id).await
    }

    /// The invite code for a circle, naming this node's advertised address.
    pub async fn invite_code(&self, selector: &str) -> NodeResult<(String, String)> {
        let circle = self.resolve_circle(selector).await?;
        let code = encode_invite(&circle.secret, &self.settings().advertise_addr);
        Ok((circle.circle_id, code))
    }

    /// One circle with counts.
    pub async fn circle_summary(&self, circle_id: &str) -> NodeResult<CircleSummary> {
        let cid = circle_id.to_string();
        self.store()
            .read(move |conn| {
                let circle = circle_sql::get(conn, &cid)?;
                circle.map(|c| circle_sql::summary(conn, c)).transpose()
            })
            .await?
            .ok_or_else(|| NodeError::NotFound(format!("no circle {circle_id}")))
    }

    /// Every circle with counts.
    pub async fn list_circles(&self) -> NodeResult<Vec<CircleSummary>> {
        Ok(self
            .store()
            .read(|conn| {
                circle_sql::list(conn)?
                    .into_iter()
                    .map(|c| circle_sql::summary(conn, c))
                    .collect()
            })
            .await?)
    }

    /// Members of a circle, or of one of its channels.
    pub async fn members(&self, selector: &str, channel: &str) -> NodeResult<Vec<Member>> {
        let circle = self.resolve_circle(selector).await?;
        let channel_id = if channel.trim().is_empty() {
            None
        } else {
            Some(super::messages::channel_arg(channel)?)
        };
        let cid = circle.circle_id.clone();
        let asked = channel_id.clone().unwrap_or_default();
        let ids = self
            .store()
            .read(move |conn| {
                let ids = match &channel_id {
                    None => Some(circle_sql::members(conn, &cid)?),
                    Some(ch) => channel_sql::get(conn, &cid, ch)?.map(|c| {
                        // A channel nobody joined explicitly is open to the whole circle.
                        c.members
                    }),
                };
                let Some(ids) = ids else { return Ok(None) };
                ids.into_iter()
                    .map(|id| {
                        let display_name = peer_sql::display_name(conn, &id)?;
                        Ok(Member {
                            node_id: id,
                            display_name,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            })
            .await?;
        ids.ok_or_else(|| super::channels::no_such_channel(&circle, &asked))
    }

    /// Known peers of one circle (or all, with an empty selector).
    pub async fn list_peers(&self, selector: &str) -> NodeResult<Vec<Peer>> {
        let cid = if selector.trim().is_empty() {
            None
        } else {
            Some(self.resolve_circle(selector).await?.circle_id)
        };
        let me = self.node_id().to_string();
        let peers = self
            .store()
            .read(move |conn| peer_sql::list(conn, cid.as_deref()))
            .await?;
        Ok(peers.into_iter().filter(|p| p.node_id != me).collect())
    }

    /// Browsers connected over a DataChannel now (of circle `circle_id`, or all), with the
    /// display names this node knows for them.
    pub async fn datachannel_peers(
        &self,
        circle_id: Option<&str>,
    ) -> NodeResult<Vec<DataChannelPeer>> {
        let mut peers = self.counters().snapshot().datachannel;
        peers.retain(|p| circle_id.is_none_or(|c| p.circle_id == c));
        let named = self
            .store()
            .read(move |conn| {
                for p in &mut peers {
                    p.display_name = peer_sql::display_name(conn, &p.node_id)?;
                }
                Ok(peers)
            })
            .await?;
        Ok(named)
    }

    /// Records a node that has just completed an encrypted session in a circle as a
    /// member and, with an address, as a peer (ignoring ourselves); publishes a peer
    /// event when the record changed. Nothing else may make a node a peer.
    pub async fn record_peer(
        &self,
        circle_id: &str,
        node_id: &str,
        addr: Option<&str>,
        last_seen: i64,
    ) -> NodeResult<()> {
        if node_id == self.node_id() {
            return Ok(());
        }
        let (cid, nid, a) = (
            circle_id.to_string(),
            node_id.to_string(),
            addr.map(str::to_string),
        );
        // The peer's name rides along when its record changed (for the event).
        let changed = self
            .store()
            .write(move |conn| {
                if peer_sql::record_verified(conn, &cid, &nid, a.as_deref(), last_seen)? {
                    peer_sql::display_name(conn, &nid).map(Some)
                } else {
                    Ok(None)
                }
            })
            .await?;
        if let (Some(display_name), Some(addr)) = (changed, addr) {
            self.publish(vec![NodeEvent::Peer(Peer {
                node_id: node_id.to_string(),
                circle_id: circle_id.to_string(),
                addr: addr.to_string(),
                last_seen,
                display_name,
            })]);
        }
        Ok(())
    }

    /// Takes addresses someone named as peers of a circle (a PEERS frame, a relay) as
    /// dial candidates: they are dialled, but become peers only through
    /// [`Self::record_peer`]. Ourselves and peers already known at that address are
    /// skipped; the candidate table bounds the rest. Returns how many were added.
    pub async fn add_candidates(
        &self,
        circle_id: &str,
        source: candidate_sql::Source,
        named: Vec<(String, String)>,
    ) -> NodeResult<usize> {
        let me = self.node_id().to_string();
        let cid = circle_id.to_string();
        let added = self
            .store()
            .write(move |conn| {
                let now = now_ts();
                let mut added = 0;
                for (node_id, addr) in named
                    .iter()
                    .take(candidate_sql::MAX_CANDIDATES_PER_CIRCLE * 4)
                {
                    if *node_id == me || peer_sql::is_verified_at(conn, &cid, node_id, addr)? {
                        continue;
                    }
                    if candidate_sql::add(conn, &cid, node_id, addr, source, now)? {
                        added += 1;
                    }
                }
                Ok(added)
            })
            .await?;
        Ok(added)
    }

    /// Notes that a circle synced through a relay just now (sessions note it themselves).
    pub async fn mark_synced(&self, circle_id: &str) -> NodeResult<()> {
        let cid = circle_id.to_string();
        self.store()
            .write(move |conn| circle_sql::mark_synced(conn, &cid, now_ts()))
            .await?;
        Ok(())
    }

    /// Counts a failed session with the candidate at `addr`, if it is one.
    pub async fn candidate_failed(&self, circle_id: &str, addr: &str) -> NodeResult<()> {
        let (cid, a) = (circle_id.to_string(), addr.to_string());
        self.store()
            .write(move |conn| candidate_sql::record_failure(conn, &cid, &a, now_ts()))
            .await?;
        Ok(())
    }

    /// Announces in every circle that this node serves as an anchor (ANCHOR_ANNOUNCE).
    pub async fn announce_anchor(&self) -> NodeResult<()> {
        for circle in self.store().read(circle_sql::list).await? {
            let text = felund_wire::control::AnchorAnnounce {
                node_id: self.node_id().to_string(),
                can_anchor: true,
                public_reachable: false,
                is_mobile: false,
                announced_at: now_ts(),
            }
            .to_text();
            self.author(&circle, CONTROL_CHANNEL, text).await?;
        }
        Ok(())
    }

    /// Sets this node's display name and announces it in every circle.
    pub async fn set_display_name(&self, name: &str) -> NodeResult<()> {
        let name = local_name(name)
            .map_err(|e| NodeError::InvalidArgument(format!("display name refused: {e}")))?;
        let (me, for_write) = (self.node_id().to_string(), name.clone());
        self.store()
            .write(move |conn| {
                meta::set(conn, meta::DISPLAY_NAME, &for_write)?;
                peer_sql::set_display_name(conn, &me, &for_write, now_ts())?;
                Ok(())
            })
            .await?;
        if let Ok(mut n) = self.inner.display_name.write() {
            *n = name.clone();
        }
        for circle in self.store().read(circle_sql::list).await? {
            let evt = ChannelEvent::rename(&circle.circle_id, self.node_id(), &name, now_ts());
            self.author(&circle, CONTROL_CHANNEL, evt.to_text()).await?;
        }
        self.publish(vec![NodeEvent::DisplayName {
            node_id: self.node_id().to_string(),
            name,
        }]);
        Ok(())
    }
}
