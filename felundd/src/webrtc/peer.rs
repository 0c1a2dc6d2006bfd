//! One PeerConnection to one browser: a `str0m` `Rtc` (ICE, DTLS, SCTP; sans-I/O) driven
//! over its own UDP socket, with the felund protocol ([`super::channel`]) on its channel.
//!
//! The task owns everything of the connection and ends it on any of: the channel or the
//! connection closing, an AUTH that does not verify, no verified AUTH within
//! [`HANDSHAKE_TIMEOUT`] of the session's start (the browser's own limit is 15 s), nothing
//! heard from the browser for [`SILENCE_TIMEOUT`] (ICE consent checks arrive every few
//! seconds while it lives), or felundd shutting down, which closes the connection properly
//! so the browser notices at once.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use felund_wire::datachannel::signal::with_max_message_size;
use felund_wire::limits::DC_MAX_MESSAGE_SIZE;
use serde_json::Value;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId};
use str0m::crypto::CryptoProvider;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, watch};

use super::channel::{to_browser, Incoming, Proto};
use crate::counters::{Counters, DataChannelPeer};
use crate::limits::{DC_HISTORY_MESSAGES, DC_MAX_REMOTE_CANDIDATES};
use crate::model::Circle;
use crate::node::{now_ts, random_hex, receive, Node};
use crate::store::messages as message_sql;

/// From the session's start to a verified AUTH.
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Silence after which a browser is taken to be gone.
const SILENCE_TIMEOUT: Duration = Duration::from_secs(12);
/// Time allowed to send the close at shutdown.
const CLOSE_DRAIN: Duration = Duration::from_secs(1);
/// Largest UDP datagram read.
const DATAGRAM: usize = 2_048;
/// The label of the one channel an offerer opens.
const LABEL: &str = "felund-gossip";
/// Bytes buffered in SCTP before we stop writing and wait for it to drain.
const SCTP_HIGH_WATER: usize = 256 * 1024;

/// What the link tells a running peer.
#[derive(Debug)]
pub(super) enum PeerCmd {
    /// The browser's answer SDP (offerer only).
    Answer(String),
    /// One trickled candidate line (`candidate:…`).
    Candidate(String),
}

/// How a peer ended.
#[derive(Debug)]
pub(super) struct Ended {
    /// Its session id.
    pub session_id: String,
    /// Whether the browser had proved the secret.
    pub verified: bool,
    /// Why, in a few words.
    pub reason: String,
    /// Which session of the pair (set by the link: a replaced session's end is ignored).
    pub generation: u64,
}

/// Who the peer is and what it may authenticate in.
#[derive(Clone)]
pub(super) struct PeerSpec {
    /// The node.
    pub node: Node,
    /// The relay that signals for it.
    pub relay_url: String,
    /// The browser's node id.
    pub peer_id: String,
    /// The pair's session id.
    pub session_id: String,
    /// Circles it may belong to, the intended one first.
    pub circles: Vec<Circle>,
    /// Our host candidate address.
    pub ice_ip: IpAddr,
}

/// A connection being set up or running.
pub(super) struct Peer {
    spec: PeerSpec,
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    early_candidates: Vec<Candidate>,
    candidates: usize,
    proto: Proto,
    chan: Option<ChannelId>,
    started: Instant,
    last_heard: Instant,
    remote: Option<SocketAddr>,
    messages_in: u64,
    messages_out: u64,
}

fn crypto() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(str0m::crypto::from_feature_flags()))
        .clone()
}

/// A session leaves the status when it ends, however it ends (closed, failed, or aborted
/// because the browser offered again): a verified one is taken off the list of connected
/// browsers, an unverified one counts as a failed attempt.
impl Drop for Peer {
    fn drop(&mut self) {
        if self.proto.verified().is_some() {
            self.counters().datachannel_peer(&self.key(), None);
        } else {
            Counters::add(&self.counters().datachannel_failed, 1);
        }
    }
}

impl Peer {
    async fn new(spec: PeerSpec) -> Result<Self, String> {
        let socket = UdpSocket::bind((spec.ice_ip, 0))
            .await
            .map_err(|e| format!("cannot bind a UDP socket on {}: {e}", spec.ice_ip))?;
        let local = socket.local_addr().map_err(|e| e.to_string())?;
        let now = Instant::now();
        let mut rtc = Rtc::builder().set_crypto_provider(crypto()).build(now);
        let host = Candidate::host(local, "udp").map_err(|e| e.to_string())?;
        rtc.add_local_candidate(host);
        let proto = Proto::new(
            spec.node.node_id(),
            &spec.peer_id,
            &spec.circles,
            random_hex(felund_wire::limits::DC_NONCE_BYTES),
        )?;
        Ok(Self {
            spec,
            rtc,
            socket,
            local,
            pending: None,
            early_candidates: Vec::new(),
            candidates: 0,
            proto,
            chan: None,
            started: now,
            last_heard: now,
            remote: None,
            messages_in: 0,
            messages_out: 0,
        })
    }

    /// A connection that offers; returns it and the offer SDP to post (with our candidate
    /// in it, so one signal carries the whole attempt).
    pub(super) async fn offer(spec: PeerSpec) -> Result<(Self, String), String> {
        let mut peer = Self::new(spec).await?;
        let mut api = peer.rtc.sdp_api();
        api.add_channel_with_config(ChannelConfig {
            label: LABEL.into(),
            ordered: true,
            ..ChannelConfig::default()
        });
        let (offer, pending) = api.apply().ok_or("no offer to make")?;
        peer.pending = Some(pending);
        let sdp = with_max_message_size(&offer.to_sdp_string(), DC_MAX_MESSAGE_SIZE);
        Ok((peer, sdp))
    }

    /// A connection that answers `offer_sdp`; returns it and the answer SDP to post.
    pub(super) async fn answer(spec: PeerSpec, offer_sdp: &str) -> Result<(Self, String), String> {
        let mut peer = Self::new(spec).await?;
        let offer =
            SdpOffer::from_sdp_string(offer_sdp).map_err(|e| format!("bad offer SDP: {e}"))?;
        let answer = peer
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| format!("cannot accept the offer: {e}"))?;
        let sdp = with_max_message_size(&answer.to_sdp_string(), DC_MAX_MESSAGE_SIZE);
        Ok((peer, sdp))
    }

    /// Runs the connection until it ends.
    pub(super) async fn run(
        mut self,
        mut cmds: mpsc::Receiver<PeerCmd>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Ended {
        let mut bus = self.spec.node.subscribe_wire();
        let reason = match self.drive(&mut cmds, &mut shutdown, &mut bus).await {
            Ok(()) => "closed".to_string(),
            Err(e) => e,
        };
        self.close().await;
        // Counted when `self` drops (below), also for a session aborted when a new offer
        // replaces it.
        let verified = self.proto.verified().is_some();
        tracing::info!(peer = %self.spec.peer_id, verified, "DataChannel session ended: {reason}");
        Ended {
            session_id: self.spec.session_id.clone(),
            verified,
            reason,
            generation: 0,
        }
    }

    fn counters(&self) -> &Arc<Counters> {
        self.spec.node.counters()
    }

    fn key(&self) -> String {
        format!("{} {}", self.spec.relay_url, self.spec.session_id)
    }

    async fn drive(
        &mut self,
        cmds: &mut mpsc::Receiver<PeerCmd>,
        shutdown: &mut watch::Receiver<bool>,
        bus: &mut broadcast::Receiver<Arc<crate::node::NewWire>>,
    ) -> Result<(), String> {
        let mut buf = vec![0u8; DATAGRAM];
        loop {
            // What flush writes leaves only with the next pump; without it a frame would
            // wait for the connection's next timer (up to a second).
            let deadline = loop {
                let deadline = self.pump().await?;
                if !self.flush()? {
                    break deadline;
                }
            };
            let verified = self.proto.verified().is_some();
            let limit = if verified {
                self.last_heard + SILENCE_TIMEOUT
            } else {
                self.started + HANDSHAKE_TIMEOUT
            };
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => {
                    let (n, source) = r.map_err(|e| format!("UDP receive failed: {e}"))?;
                    self.receive(&buf[..n], source)?;
                }
                _ = tokio::time::sleep_until(deadline.into()) => {
                    self.input(Input::Timeout(Instant::now()))?;
                }
                _ = tokio::time::sleep_until(limit.into()) => {
                    return Err(if verified {
                        "the browser went silent".into()
                    } else {
                        "no verified AUTH in time".into()
                    });
                }
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.command(cmd)?,
                    None => return Ok(()),
                },
                m = bus.recv(), if verified => self.forward(m)?,
                _ = shutdown.changed() => return Err("felundd is shutting down".into()),
            }
        }
    }

    /// Feeds one datagram to the connection.
    fn receive(&mut self, data: &[u8], source: SocketAddr) -> Result<(), String> {
        let Ok(contents) = data.try_into() else {
            return Ok(()); // not STUN, DTLS or anything else WebRTC uses
        };
        self.last_heard = Instant::now();
        self.remote = Some(source);
        self.input(Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        ))
    }

    fn input(&mut self, input: Input) -> Result<(), String> {
        self.rtc
            .handle_input(input)
            .map_err(|e| format!("WebRTC error: {e}"))
    }

    /// Sends what the connection wants sent and handles its events; returns when it next
    /// wants to be woken.
    async fn pump(&mut self) -> Result<Instant, String> {
        loop {
            match self
                .rtc
                .poll_output()
                .map_err(|e| format!("WebRTC error: {e}"))?
            {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    // A lost datagram is recovered by ICE, DTLS or SCTP retransmission.
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Output::Event(e) => self.event(e).await?,
            }
        }
    }

    async fn event(&mut self, e: Event) -> Result<(), String> {
        match e {
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                Err("ICE disconnected".into())
            }
            Event::ChannelOpen(id, _label) => {
                self.chan = Some(id);
                if let Some(mut c) = self.rtc.channel(id) {
                    c.set_buffered_amount_low_threshold(SCTP_HIGH_WATER / 4);
                }
                self.proto.on_open();
                Ok(())
            }
            Event::ChannelClose(id) if Some(id) == self.chan => Err("channel closed".into()),
            Event::ChannelData(d) if Some(d.id) == self.chan && !d.binary => {
                let text = String::from_utf8_lossy(&d.data).into_owned();
                match self.proto.on_text(&text) {
                    Incoming::Nothing => Ok(()),
                    Incoming::Fail(why) => Err(why),
                    Incoming::Verified(v) => self.on_verified(v.circle).await,
                    Incoming::Messages(m) => self.store(m).await,
                }
            }
            _ => Ok(()),
        }
    }

    fn circle(&self) -> Option<&Circle> {
        self.proto
            .verified()
            .and_then(|v| self.spec.circles.get(v.circle))
    }

    /// The browser proved the secret: it is a peer now; send it the history.
    async fn on_verified(&mut self, index: usize) -> Result<(), String> {
        let circle = self.spec.circles[index].clone();
        let cid = circle.circle_id.clone();
        let mut history = self
            .spec
            .node
            .store()
            .read(move |conn| message_sql::newest(conn, &cid, DC_HISTORY_MESSAGES, true))
            .await
            .map_err(|e| format!("cannot read the history: {e}"))?;
        history.reverse();
        let encoded: Vec<String> = history
            .iter()
            .map(|m| to_browser(&m.wire, &circle))
            .collect();
        let (sent, fits) = self.proto.queue_history(&encoded);
        self.messages_out += sent as u64;
        tracing::info!(peer = %self.spec.peer_id, circle = %circle.circle_id, history = sent,
            "DataChannel peer verified");
        self.publish_status();
        if fits {
            Ok(())
        } else {
            Err("history larger than the send queue".into())
        }
    }

    fn publish_status(&self) {
        let Some(circle) = self.circle() else { return };
        let peer = DataChannelPeer {
            node_id: self.spec.peer_id.clone(),
            circle_id: circle.circle_id.clone(),
            relay_url: self.spec.relay_url.clone(),
            remote_addr: self.remote.map(|a| a.to_string()).unwrap_or_default(),
            since: self.counters().datachannel_since(&self.key(), now_ts()),
            messages_in: self.messages_in,
            messages_out: self.messages_out,
            display_name: String::new(),
        };
        self.counters().datachannel_peer(&self.key(), Some(peer));
    }

    /// Verifies and stores messages from the browser; they then reach every other path
    /// through the node's wire bus (with this peer as source, so not echoed back).
    async fn store(&mut self, values: Vec<Value>) -> Result<(), String> {
        let Some(circle) = self.circle().cloned() else {
            return Ok(());
        };
        match receive::relay_envelopes(&self.spec.node, &circle, values, &self.spec.peer_id).await {
            Ok(r) => {
                self.messages_in += r.stored as u64;
                if r.rejected > 0 {
                    tracing::debug!(peer = %self.spec.peer_id, rejected = r.rejected,
                        "dropped DataChannel messages that failed verification");
                }
                self.publish_status();
                Ok(())
            }
            Err(e) => Err(format!("cannot store messages: {e}")),
        }
    }

    /// A message newly stored here: MSG_NEW to the browser, unless it came from it.
    fn forward(
        &mut self,
        m: Result<Arc<crate::node::NewWire>, broadcast::error::RecvError>,
    ) -> Result<(), String> {
        let nw = match m {
            Ok(nw) => nw,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Missed messages would never reach the browser live: start over, and
                // the reconnect sends the history.
                return Err("fell behind the node's messages".into());
            }
            Err(broadcast::error::RecvError::Closed) => return Err("node stopped".into()),
        };
        let Some(circle) = self.circle() else {
            return Ok(());
        };
        if nw.wire.circle_id != circle.circle_id
            || nw.source.as_deref() == Some(self.spec.peer_id.as_str())
        {
            return Ok(());
        }
        let text = to_browser(&nw.wire, circle);
        self.messages_out += 1;
        if self.proto.queue_new(&text) {
            self.publish_status();
            Ok(())
        } else {
            Err("the browser reads too slowly".into())
        }
    }

    /// Writes queued frames while SCTP has room; returns whether it wrote any.
    fn flush(&mut self) -> Result<bool, String> {
        let Some(id) = self.chan else {
            return Ok(false);
        };
        let mut wrote = false;
        while let Some(frame) = self.proto.front() {
            let Some(mut chan) = self.rtc.channel(id) else {
                break;
            };
            if chan.buffered_amount() > SCTP_HIGH_WATER {
                break;
            }
            match chan.write(false, frame.as_bytes()) {
                Ok(true) => {
                    self.proto.pop();
                    wrote = true;
                }
                Ok(false) => break,
                Err(e) => return Err(format!("cannot write to the channel: {e}")),
            }
        }
        Ok(wrote)
    }

    fn command(&mut self, cmd: PeerCmd) -> Result<(), String> {
        match cmd {
            PeerCmd::Answer(sdp) => {
                let Some(pending) = self.pending.take() else {
                    return Ok(()); // an answer to an offer we did not make: ignored
                };
                let answer =
                    SdpAnswer::from_sdp_string(&sdp).map_err(|e| format!("bad answer SDP: {e}"))?;
                self.rtc
                    .sdp_api()
                    .accept_answer(pending, answer)
                    .map_err(|e| format!("cannot accept the answer: {e}"))?;
                for c in std::mem::take(&mut self.early_candidates) {
                    self.rtc.add_remote_candidate(c);
                }
                Ok(())
            }
            PeerCmd::Candidate(line) => {
                if self.candidates >= DC_MAX_REMOTE_CANDIDATES {
                    return Ok(());
                }
                // `.local` (mDNS) names and unknown transports do not parse: skipped, as
                // the browser's checks still reach us and we learn its address from them.
                let Ok(c) = Candidate::from_sdp_string(&line) else {
                    return Ok(());
                };
                self.candidates += 1;
                if self.pending.is_some() {
                    self.early_candidates.push(c);
                } else {
                    self.rtc.add_remote_candidate(c);
                }
                Ok(())
            }
        }
    }

    /// Closes the connection properly (SCTP shutdown, DTLS close_notify), briefly.
    async fn close(&mut self) {
        if self.rtc.close().is_err() {
            return;
        }
        let until = Instant::now() + CLOSE_DRAIN;
        while self.rtc.is_alive() && Instant::now() < until {
            match self.rtc.poll_output() {
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Ok(Output::Timeout(t)) => {
                    let t = t.min(until);
                    tokio::time::sleep_until(t.into()).await;
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
                Ok(Output::Event(_)) => {}
                Err(_) => return,
            }
        }
    }
}
