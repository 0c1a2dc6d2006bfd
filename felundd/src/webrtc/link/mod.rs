//! One relay's DataChannel signalling: discovery of browser peers in the circles that sync
//! through it, offers to the larger node ids, answers to offers from smaller ones, and the
//! sessions that result.
//!
//! The relay's `/v1/signal` is an unsigned mailbox anyone can post to, so the link trusts
//! none of it: it answers only offers from browsers registered (signed, so with the secret,
//! at relays that check) in one of our circles at this relay; a session is bounded in time
//! and count ([`DC_MAX_SESSIONS`] in all, [`DC_MAX_SESSIONS_PER_CIRCLE`] per circle); stale
//! offers and answers from an earlier attempt of the same pair are told apart by the relay's
//! clock; and the circle data itself waits for the peer's AUTH ([`super::channel`]).
//!
//! This module polls the mailbox and keeps the sessions; [`offers`] is discovery and the
//! offers both ways.

mod offers;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use felund_client::retry::Backoff;
use felund_wire::datachannel::signal::{
    parse_description, session_id, CandidatePayload, SignalKind,
};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::held::HeldOffers;
use super::peer::{Ended, Peer, PeerCmd, PeerSpec};
use super::signal::{Signal, SignalClient, SignalError};
#[cfg(doc)]
use crate::limits::DC_MAX_SESSIONS;
use crate::limits::DC_MAX_SESSIONS_PER_CIRCLE;
use crate::model::Circle;
use crate::node::Node;
use crate::relay::client::RelayClient;

/// Signal polls (the web client polls every 2 s; the Do advice is 0.5–1 s for an offerer).
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Browser discovery and offers (the web client's own round is 5 s).
const DISCOVER_EVERY: Duration = Duration::from_secs(5);
/// An offer older than this (by the relay's clock) is left alone: the browser drops an
/// unanswered session after 15 s, and a fresh page re-reads two minutes of old signals.
const STALE_OFFER_S: i64 = 10;
/// How soon an unknown node's offer may trigger a fresh discovery.
const REDISCOVER_AFTER: Duration = Duration::from_secs(2);
/// How long a relay without `/v1/signal` is left alone before asking again.
const NOT_SERVED_RECHECK: Duration = Duration::from_secs(60);
/// Waits before offering again to a browser whose last attempt failed: 5 s, doubling to a
/// minute (a browser in several circles that answers from another circle fails every time).
const RETRY: Backoff = Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
/// Wait before offering again after a verified session ended (a restart on either side).
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// Commands queued per session (one answer, a few candidates).
const CMD_QUEUE: usize = 32;

/// A session the link holds.
struct Session {
    peer: String,
    circle_id: String,
    offerer: bool,
    /// The relay's clock when our offer was stored (offerer only).
    offer_time: i64,
    generation: u64,
    tx: mpsc::Sender<PeerCmd>,
    task: JoinHandle<()>,
}

/// The signalling of one relay.
pub(super) struct Link {
    node: Node,
    url: String,
    ice_ip: IpAddr,
    signals: SignalClient,
    http: reqwest::Client,
    circles: watch::Receiver<Vec<Circle>>,
    clients: Vec<RelayClient>,
    permits: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
    cursor: i64,
    sessions: HashMap<String, Session>,
    generation: u64,
    /// Browsers registered at this relay, with the ids of our circles they are in.
    known: HashMap<String, Vec<String>>,
    last_discovery: Option<Instant>,
    /// Offers from unknown nodes that came too soon after a discovery to ask again.
    held: HeldOffers,
    retry: HashMap<String, (Instant, u32)>,
    /// The relay's rate limit: no signal request before then (kept, once passed, until a
    /// request succeeds, so a limit that goes on is logged once).
    rate_limited_until: Option<Instant>,
    not_served_until: Option<Instant>,
    ended_tx: mpsc::Sender<Ended>,
    ended_rx: mpsc::Receiver<Ended>,
}

/// What the link is given by the manager.
pub(super) struct LinkConfig {
    pub node: Node,
    pub url: String,
    pub ice_ip: IpAddr,
    pub http: reqwest::Client,
    pub circles: watch::Receiver<Vec<Circle>>,
    pub permits: Arc<Semaphore>,
    pub shutdown: watch::Receiver<bool>,
}

impl Link {
    pub(super) fn new(c: LinkConfig) -> Self {
        let (ended_tx, ended_rx) = mpsc::channel(64);
        Self {
            signals: SignalClient::new(c.http.clone(), &c.url, c.node.node_id()),
            node: c.node,
            url: c.url,
            ice_ip: c.ice_ip,
            http: c.http,
            circles: c.circles,
            clients: Vec::new(),
            permits: c.permits,
            shutdown: c.shutdown,
            cursor: 0,
            sessions: HashMap::new(),
            generation: 0,
            known: HashMap::new(),
            last_discovery: None,
            held: HeldOffers::default(),
            retry: HashMap::new(),
            rate_limited_until: None,
            not_served_until: None,
            ended_tx,
            ended_rx,
        }
    }

    /// Runs until shutdown (or the manager drops the circles), then waits for every session
    /// to close its connection.
    pub(super) async fn run(mut self) {
        self.refresh_clients();
        let mut poll = tokio::time::interval(POLL_EVERY);
        let mut discover = tokio::time::interval(DISCOVER_EVERY);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        discover.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = poll.tick() => {
                    self.poll().await;
                    self.look_at_held_offers().await;
                }
                _ = discover.tick() => self.discover_and_offer().await,
                Some(e) = self.ended_rx.recv() => self.ended(e),
                changed = self.circles.changed() => {
                    if changed.is_err() { break; }
                    self.refresh_clients();
                }
                _ = self.shutdown.changed() => break,
            }
        }
        for (_, s) in self.sessions.drain() {
            drop(s.tx);
            let _ = tokio::time::timeout(Duration::from_secs(2), s.task).await;
        }
    }

    fn refresh_clients(&mut self) {
        let circles = self.circles.borrow().clone();
        self.clients = circles
            .into_iter()
            .map(|c| RelayClient::new(self.http.clone(), &self.url, c, self.node.node_id()))
            .collect();
        let ids: Vec<String> = self.circle_ids();
        self.known.retain(|_, cs| {
            cs.retain(|c| ids.contains(c));
            !cs.is_empty()
        });
    }

    fn circle_ids(&self) -> Vec<String> {
        self.clients
            .iter()
            .map(|c| c.circle().circle_id.clone())
            .collect()
    }

    fn signalling_paused(&self) -> bool {
        self.not_served_until.is_some_and(|t| Instant::now() < t)
    }

    /// No signal request now: the relay lacks `/v1/signal` or asked us to wait.
    fn posting_paused(&self) -> bool {
        self.signalling_paused() || self.rate_limited_until.is_some_and(|t| Instant::now() < t)
    }

    /// A signal request succeeded: a rate limit or a missing endpoint is over.
    fn signal_served(&mut self) {
        if self.not_served_until.take().is_some() {
            tracing::info!(relay = %self.url, "the relay serves /v1/signal again");
        }
        if self.rate_limited_until.take().is_some() {
            tracing::info!(relay = %self.url, "the relay accepts signals again");
        }
    }

    /// A failed signal request: remembers a missing endpoint or a rate limit.
    fn signal_failed(&mut self, what: &str, e: SignalError) {
        match e {
            SignalError::NotServed => {
                if self.not_served_until.is_none() {
                    tracing::info!(relay = %self.url, "the relay serves no /v1/signal: browsers reach this node through the relay only");
                }
                self.not_served_until = Some(Instant::now() + NOT_SERVED_RECHECK);
            }
            SignalError::RateLimited(wait) => {
                if self.rate_limited_until.is_none() {
                    tracing::warn!(relay = %self.url, "the relay rate-limits signals: polls and posts wait as it asks ({wait:?} now)");
                } else {
                    tracing::debug!(relay = %self.url, "signal {what} rate-limited; waiting {wait:?}");
                }
                self.rate_limited_until = Some(Instant::now() + wait);
            }
            SignalError::Relay(e) => {
                tracing::debug!(relay = %self.url, "signal {what} failed: {e}")
            }
        }
    }

    async fn poll(&mut self) {
        // A rate limit holds polls back too: the relay asked for no requests until then.
        if self.posting_paused() || self.clients.is_empty() {
            return;
        }
        let polled = match self.signals.poll(self.cursor).await {
            Ok(p) => p,
            Err(e) => return self.signal_failed("poll", e),
        };
        self.signal_served();
        if polled.cut {
            tracing::debug!(relay = %self.url, signals = polled.signals.len(),
                "signal poll answer over the byte cap or a page: took the signals before the cut");
        }
        self.cursor = polled.last_id.unwrap_or(self.cursor).max(self.cursor);
        // Only the newest offer of each session in a batch counts: older ones are
        // attempts the browser has already given up.
        let mut newest_offer: HashMap<&str, i64> = HashMap::new();
        for s in polled
            .signals
            .iter()
            .filter(|s| s.kind == SignalKind::Offer)
        {
            newest_offer.insert(&s.session_id, s.id);
        }
        let newest: HashMap<String, i64> = newest_offer
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        for s in &polled.signals {
            match s.kind {
                SignalKind::Offer if newest.get(&s.session_id) == Some(&s.id) => {
                    self.on_offer(s, polled.server_time).await
                }
                SignalKind::Offer => {}
                SignalKind::Answer => self.on_answer(s).await,
                SignalKind::Candidate => self.on_candidate(s).await,
                // Calls' signals: polling keeps them out (`signal::parse_poll`).
                SignalKind::MediaOffer | SignalKind::MediaAnswer | SignalKind::MediaCandidate => {}
            }
        }
    }

    async fn on_answer(&mut self, s: &Signal) {
        let Some(session) = self.sessions.get(&s.session_id) else {
            return;
        };
        // An answer older than our offer belongs to an earlier attempt of the same pair.
        if !session.offerer || session.peer != s.from_node || s.created_at < session.offer_time {
            return;
        }
        match parse_description(SignalKind::Answer, &s.payload) {
            Ok(sdp) => {
                let _ = session.tx.send(PeerCmd::Answer(sdp)).await;
            }
            Err(e) => tracing::debug!(peer = %s.from_node, "ignoring answer: {e}"),
        }
    }

    async fn on_candidate(&mut self, s: &Signal) {
        let Some(session) = self.sessions.get(&s.session_id) else {
            return;
        };
        if session.peer != s.from_node {
            return;
        }
        if let Ok(c) = CandidatePayload::parse(&s.payload) {
            // A full queue means a flood of candidates: the rest are dropped.
            let _ = session.tx.try_send(PeerCmd::Candidate(c.candidate));
        }
    }

    /// The peer spec for a new session with `peer` in `circle_ids` (ours, in our order),
    /// within the session limits.
    fn spec(
        &mut self,
        peer: &str,
        circle_ids: &[String],
    ) -> Option<(PeerSpec, OwnedSemaphorePermit)> {
        let circles: Vec<Circle> = self
            .clients
            .iter()
            .map(|c| c.circle().clone())
            .filter(|c| circle_ids.contains(&c.circle_id))
            .collect();
        let first = circles.first()?;
        let in_circle = self
            .sessions
            .values()
            .filter(|s| s.circle_id == first.circle_id)
            .count();
        if in_circle >= DC_MAX_SESSIONS_PER_CIRCLE {
            tracing::debug!(circle = %first.circle_id, "DataChannel sessions of this circle at their limit");
            return None;
        }
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            tracing::debug!("DataChannel sessions at their limit");
            return None;
        };
        // Other circles follow, so a browser whose HELLO names one of them still verifies.
        let mut all = circles;
        all.extend(
            self.clients
                .iter()
                .map(|c| c.circle().clone())
                .filter(|c| !circle_ids.contains(&c.circle_id)),
        );
        Some((
            PeerSpec {
                node: self.node.clone(),
                relay_url: self.url.clone(),
                peer_id: peer.to_string(),
                session_id: session_id(self.node.node_id(), peer),
                circles: all,
                ice_ip: self.ice_ip,
            },
            permit,
        ))
    }

    fn launch(
        &mut self,
        spec: PeerSpec,
        peer: Peer,
        permit: OwnedSemaphorePermit,
        offerer: bool,
        offer_time: i64,
    ) {
        self.generation += 1;
        let generation = self.generation;
        let (tx, rx) = mpsc::channel(CMD_QUEUE);
        let ended = self.ended_tx.clone();
        let shutdown = self.shutdown.clone();
        let task = tokio::spawn(async move {
            let mut e = peer.run(rx, shutdown).await;
            drop(permit);
            e.generation = generation;
            let _ = ended.send(e).await;
        });
        self.sessions.insert(
            spec.session_id.clone(),
            Session {
                peer: spec.peer_id,
                circle_id: spec.circles[0].circle_id.clone(),
                offerer,
                offer_time,
                generation,
                tx,
                task,
            },
        );
    }

    fn ended(&mut self, e: Ended) {
        let Some(s) = self.sessions.get(&e.session_id) else {
            return;
        };
        if s.generation != e.generation {
            return; // a replaced session's late word
        }
        let peer = s.peer.clone();
        tracing::debug!(peer = %peer, reason = %e.reason, "DataChannel session removed");
        self.sessions.remove(&e.session_id);
        let now = Instant::now();
        if e.verified {
            self.retry.insert(peer, (now + RECONNECT_AFTER, 0));
        } else {
            let failures = self.retry.get(&peer).map_or(0, |r| r.1) + 1;
            self.retry
                .insert(peer, (now + RETRY.delay(failures), failures));
        }
    }
}
