//! The relay HTTP API as one typed contract (the rendezvous, store-and-forward and
//! signalling API the reference relays serve, plus felund-relay's extensions): paths, header
//! names, limits, every request and answer body and the WebSocket push frame. felund-relay
//! writes the answers and frames and reads the requests with these types; felundd writes the
//! requests and reads the answers and frames.
//!
//! # Reading what a relay sends
//!
//! A relay is not trusted. The answer types are generic over how their lists are held, so a
//! reader picks the bounded, borrowed form ([`RawList`]: at most `MAX` items, each the raw
//! JSON text borrowed from the answer, a longer list an error rather than a truncation) and
//! never builds a `serde_json::Value` of a whole answer; the aliases [`PullPage`],
//! [`PeersPage`], [`SignalPollPage`] and [`PushedFrame`] are those readers, and a reader parses
//! each item on its own ([`PeerRecord`], [`SignalRecord`]), skipping one it cannot read.
//! Scalars that only inform (`stored`, `server_time`, `cursor`, `more`) are read leniently: a
//! value of the wrong type reads as absent, as the reference clients read it. Message objects
//! stay unparsed: the reader screens them by size ([`limits::MAX_OBJECT_BYTES`]) and verifies
//! them one at a time.
//!
//! # felund-relay's extensions
//!
//! Reference clients ignore them: a pull may carry `after_seq` ([`PullQuery`]); every pull
//! answer carries `cursor` (the seq of its last message, a valid `after_seq`) and `more`
//! ([`PullAnswer`]); every push frame carries `cursor` too ([`MessagesFrame`]).

mod answers;
mod bounded;
mod frames;
pub mod limits;
mod requests;
mod signal;

pub use answers::{
    Ack, ErrorAnswer, HealthAnswer, ObservedHost, PeerRecord, PeersAnswer, PeersPage, PullAnswer,
    PullPage, PushAnswer, ReadyAnswer, RegisterAnswer, UnregisterAnswer,
};
pub use bounded::{lenient, RawList};
pub use frames::{MessagesFrame, MessagesTag, PushedFrame, PONG};
pub use requests::{
    Capabilities, Endpoint, Family, Nat, PeersQuery, PullQuery, PushRequest, RegisterRequest,
    Transport, UnregisterRequest, WsQuery,
};
pub use signal::{
    SignalKind, SignalPollAnswer, SignalPollPage, SignalPollQuery, SignalPost, SignalPostAnswer,
    SignalRecord,
};

/// Paths after the API root (`…/v1`), which is also what a request signature covers.
pub mod paths {
    /// `GET`: liveness.
    pub const HEALTH: &str = "/health";
    /// `GET`: readiness (felund-relay).
    pub const READY: &str = "/ready";
    /// `POST`: presence; `DELETE`: remove it.
    pub const REGISTER: &str = "/register";
    /// `GET`: live peers of a circle.
    pub const PEERS: &str = "/peers";
    /// `POST`: store-and-forward push; `GET`: pull.
    pub const MESSAGES: &str = "/messages";
    /// `GET`: the WebSocket push feed.
    pub const WS: &str = "/relay/ws";
    /// `POST` and `GET`: WebRTC signalling.
    pub const SIGNAL: &str = "/signal";
}

/// The request-signing headers (lowercase: HTTP header names are case-insensitive, and this
/// is how HTTP/2 and the `http` crate write them).
pub mod headers {
    /// The node id whose key signs (also the web client's echo-suppression hint).
    pub const NODE: &str = "x-felund-node";
    /// Unix seconds when the request was signed.
    pub const TS: &str = "x-felund-ts";
    /// A fresh random nonce (32 hex characters from the reference clients).
    pub const NONCE: &str = "x-felund-nonce";
    /// Hex HMAC-SHA256 of the canonical string (see [`crate::api_sign`]).
    pub const SIGNATURE: &str = "x-felund-signature";
}

#[cfg(test)]
mod tests;
