//! WebRTC signalling through a relay (`/v1/signal`, unsigned, as the aiohttp relay serves it).

use serde::{Deserialize, Serialize};

use super::bounded::{lenient, RawList};
use super::limits::SIGNAL_POLL_LIMIT;

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
    /// The relay's clock (read leniently).
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_time: Option<i64>,
}

/// `GET /v1/signal?…`: what is addressed to a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalPollQuery {
    /// The recipient (the poller itself: signals are not signed, anyone may poll).
    pub to_node_id: String,
    /// Signals with a larger id than this (the largest id seen so far; 0 at first).
    pub since_id: i64,
    /// Only this session's signals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// `GET /v1/signal`'s answer: unexpired signals for a node after `since_id`, by id, at most
/// [`SIGNAL_POLL_LIMIT`]. `S` is the list, as in [`PullAnswer`](super::PullAnswer): a relay
/// writes [`SignalRecord`]s, a reader holds a [`SignalPollPage`] and reads each record on its
/// own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalPollAnswer<S> {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The signals.
    pub signals: S,
    /// The relay's clock (read leniently).
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_time: Option<i64>,
}

/// A poll answer as a client reads it: at most [`SIGNAL_POLL_LIMIT`] signals, unparsed.
pub type SignalPollPage<'a> = SignalPollAnswer<RawList<'a, { SIGNAL_POLL_LIMIT as usize }>>;

/// One signal of a poll answer. Only `id` is required of a record a client reads, so that a
/// signal it cannot use (an unknown `type`, a field missing) still moves its `since_id` on;
/// the other fields read as empty when absent, and the client checks them before using them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// Per-relay increasing id: the next poll's `since_id`.
    pub id: i64,
    /// The session.
    #[serde(default)]
    pub session_id: String,
    /// The sender.
    #[serde(default)]
    pub from_node: String,
    /// The recipient.
    #[serde(default)]
    pub to_node: String,
    /// The type, as posted: [`SignalKind::parse`] tells a known one (relays store only
    /// those, but a client must not count on it).
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The payload, as posted.
    #[serde(default)]
    pub payload: String,
    /// When it was stored.
    #[serde(default)]
    pub created_at: i64,
}
