//! WebRTC signalling through a relay (`/v1/signal`, unsigned, as the aiohttp relay serves it).

use serde::{Deserialize, Serialize};

/// The type of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// A DataChannel (or call) offer.
    Offer,
    /// Its answer.
    Answer,
    /// A trickled ICE candidate.
    Candidate,
    /// A call's media offer.
    MediaOffer,
    /// Its answer.
    MediaAnswer,
    /// A call's ICE candidate.
    MediaCandidate,
}

impl SignalKind {
    /// Every type, in the order a relay's errors list them.
    pub const ALL: [SignalKind; 6] = [
        SignalKind::Offer,
        SignalKind::Answer,
        SignalKind::Candidate,
        SignalKind::MediaOffer,
        SignalKind::MediaAnswer,
        SignalKind::MediaCandidate,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Offer => "offer",
            SignalKind::Answer => "answer",
            SignalKind::Candidate => "candidate",
            SignalKind::MediaOffer => "media-offer",
            SignalKind::MediaAnswer => "media-answer",
            SignalKind::MediaCandidate => "media-candidate",
        }
    }

    /// The type of a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether it is an ICE candidate (which lives shorter).
    pub fn is_candidate(self) -> bool {
        matches!(self, SignalKind::Candidate | SignalKind::MediaCandidate)
    }
}

/// `POST /v1/signal`: one signal for `to_node_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalPost {
    /// The session it belongs to (8–256 characters).
    pub session_id: String,
    /// The sender.
    pub from_node_id: String,
    /// The recipient.
    pub to_node_id: String,
    /// The circle's hint (relays check only its length).
    pub circle_hint: String,
    /// The type.
    #[serde(rename = "type")]
    pub kind: SignalKind,
    /// Opaque to the relay (JSON text for the web client).
    pub payload: String,
    /// Lifetime, seconds (a relay clamps it by type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<i64>,
}

/// `POST /v1/signal`'s answer (the signal's id is not returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalPostAnswer {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The relay's clock.
    pub server_time: i64,
}

/// `GET /v1/signal?to_node_id=&since_id=&session_id=`: unexpired signals for a node after
/// `since_id`, by id. `S` is the list, as in [`PullAnswer`](super::PullAnswer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalPollAnswer<S> {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The signals ([`SignalRecord`]s).
    pub signals: S,
    /// The relay's clock.
    pub server_time: i64,
}

/// One signal of a poll answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// Per-relay increasing id: the next poll's `since_id`.
    pub id: i64,
    /// The session.
    pub session_id: String,
    /// The sender.
    pub from_node: String,
    /// The recipient.
    pub to_node: String,
    /// The type, as posted.
    #[serde(rename = "type")]
    pub kind: String,
    /// The payload, as posted.
    pub payload: String,
    /// When it was stored.
    pub created_at: i64,
}
