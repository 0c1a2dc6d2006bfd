//! Offers both ways, and the discovery they rest on: which nodes at this relay are browsers
//! of our circles (asked every [`DISCOVER_EVERY`], and again — at most every
//! [`REDISCOVER_AFTER`] — when an unknown node offers), answers to their offers (an offer that
//! comes too soon to ask again is held for one more look, see [`super::super::held`]), and
//! our offers to the browsers with larger ids.

use std::collections::HashMap;

use felund_wire::datachannel::signal::{
    description_payload, parse_description, session_id, we_offer, SignalKind,
};
use felund_wire::ids::circle_hint;
use tokio::time::Instant;

use super::super::peer::Peer;
use super::super::signal::Signal;
#[cfg(doc)]
use super::DISCOVER_EVERY;
use super::{Link, REDISCOVER_AFTER, RETRY, STALE_OFFER_S};

impl Link {
    /// Whether `s` is a fresh offer to us that we answer (the smaller id offers), by the
    /// relay's clock `server_time`.
    fn offer_is_for_us(&self, s: &Signal, server_time: i64) -> bool {
        let own = self.node.node_id();
        s.created_at >= server_time - STALE_OFFER_S
            && we_offer(&s.from_node, own)
            && s.session_id == session_id(own, &s.from_node)
    }

    /// Whether the relay may be asked for its browsers again.
    fn may_discover_again(&self) -> bool {
        self.last_discovery
            .is_none_or(|t| t.elapsed() >= REDISCOVER_AFTER)
    }

    pub(super) async fn on_offer(&mut self, s: &Signal, server_time: i64) {
        if !self.offer_is_for_us(s, server_time) {
            return;
        }
        self.held.forget(&s.session_id);
        if !self.known.contains_key(&s.from_node) {
            if !self.may_discover_again() {
                self.held.hold(s.clone(), server_time);
                return;
            }
            self.discover().await;
        }
        self.answer_offer(s).await;
    }

    /// Held offers get their one more look once the relay may be asked again.
    pub(super) async fn look_at_held_offers(&mut self) {
        if self.held.is_empty() || !self.may_discover_again() {
            return;
        }
        self.discover().await;
        for (s, server_time) in self.held.take() {
            if self.offer_is_for_us(&s, server_time) {
                self.answer_offer(&s).await;
            }
        }
    }

    /// Answers offer `s` if its sender is a browser of one of our circles.
    async fn answer_offer(&mut self, s: &Signal) {
        let Some(circle_ids) = self.known.get(&s.from_node).cloned() else {
            tracing::debug!(peer = %s.from_node, "ignoring an offer from a node registered in none of our circles");
            return;
        };
        let sdp = match parse_description(SignalKind::Offer, &s.payload) {
            Ok(sdp) => sdp,
            Err(e) => return tracing::debug!(peer = %s.from_node, "ignoring offer: {e}"),
        };
        // The browser offers again only after dropping its own session: a new offer
        // replaces whatever we hold for the pair.
        if let Some(old) = self.sessions.remove(&s.session_id) {
            old.task.abort();
        }
        if self.posting_paused() {
            return;
        }
        let Some((spec, permit)) = self.spec(&s.from_node, &circle_ids) else {
            return;
        };
        let hint = circle_hint(&spec.circles[0].circle_id);
        let (peer, answer) = match Peer::answer(spec.clone(), &sdp).await {
            Ok(x) => x,
            Err(e) => return tracing::debug!(peer = %s.from_node, "cannot answer: {e}"),
        };
        let payload = description_payload(SignalKind::Answer, &answer);
        match self
            .signals
            .post(
                &s.from_node,
                &s.session_id,
                &hint,
                SignalKind::Answer,
                &payload,
            )
            .await
        {
            Ok(_) => {
                self.signal_served();
                self.launch(spec, peer, permit, false, 0)
            }
            Err(e) => self.signal_failed("answer", e),
        }
    }

    /// Asks the relay which browsers are in each of our circles there.
    async fn discover(&mut self) {
        self.last_discovery = Some(Instant::now());
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        for client in &self.clients {
            let cid = client.circle().circle_id.clone();
            match client.browser_peers().await {
                Ok(peers) => {
                    for p in peers {
                        found.entry(p).or_default().push(cid.clone());
                    }
                }
                Err(e) => {
                    tracing::debug!(relay = %self.url, circle = %cid, "browser discovery failed: {e}");
                    // Keep what we knew of this circle until the relay answers again.
                    for (p, cs) in &self.known {
                        if cs.contains(&cid) {
                            found.entry(p.clone()).or_default().push(cid.clone());
                        }
                    }
                }
            }
        }
        // Backoff is kept only for browsers still registered: many short-lived node ids
        // must not grow it without end.
        self.retry.retain(|p, _| found.contains_key(p));
        self.known = found;
    }

    pub(super) async fn discover_and_offer(&mut self) {
        if self.signalling_paused() || self.clients.is_empty() {
            return;
        }
        self.discover().await;
        let own = self.node.node_id().to_string();
        let now = Instant::now();
        let mut targets: Vec<(String, Vec<String>)> = self
            .known
            .iter()
            .filter(|(p, _)| we_offer(&own, p))
            .filter(|(p, _)| !self.sessions.contains_key(&session_id(&own, p)))
            .filter(|(p, _)| self.retry.get(*p).is_none_or(|(at, _)| now >= *at))
            .map(|(p, cs)| (p.clone(), cs.clone()))
            .collect();
        targets.sort();
        for (peer, circles) in targets {
            if self.posting_paused() {
                return;
            }
            self.offer(&peer, &circles).await;
        }
    }

    async fn offer(&mut self, peer_id: &str, circle_ids: &[String]) {
        let Some((spec, permit)) = self.spec(peer_id, circle_ids) else {
            return;
        };
        let hint = circle_hint(&spec.circles[0].circle_id);
        let (peer, offer) = match Peer::offer(spec.clone()).await {
            Ok(x) => x,
            Err(e) => return tracing::warn!("cannot make a WebRTC offer: {e}"),
        };
        let payload = description_payload(SignalKind::Offer, &offer);
        match self
            .signals
            .post(
                peer_id,
                &spec.session_id,
                &hint,
                SignalKind::Offer,
                &payload,
            )
            .await
        {
            Ok(server_time) => {
                self.signal_served();
                self.launch(spec, peer, permit, true, server_time)
            }
            Err(e) => {
                let failures = self.retry.get(peer_id).map_or(0, |r| r.1) + 1;
                self.retry.insert(
                    peer_id.to_string(),
                    (Instant::now() + RETRY.delay(failures), failures),
                );
                self.signal_failed("offer", e);
            }
        }
    }
}
