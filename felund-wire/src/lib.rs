//! The felund wire protocol as pure code.
//!
//! Everything a node needs to speak to the felund network — identifiers, invite codes, the
//! message object and its MAC and envelope, gossip frames, the handshake, session encryption,
//! relay request signatures, the relay API's types and control events — with no I/O, no clock and no randomness:
//! every nonce and random value is a parameter. The contract is `docs/protocol.md`; section
//! numbers in the docs refer to it.
//!
//! Received data never makes this crate panic: every parser returns a `Result` or `Option`.
//! Secrets never appear in `Debug` output.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod addr;
mod mac;

pub mod api_sign;
pub mod control;
pub mod datachannel;
pub mod envelope;
pub mod ext;
pub mod frame;
pub mod handshake;
pub mod ids;
pub mod invite;
pub mod json;
pub mod limits;
pub mod message;
pub mod relay_api;
pub mod session;
pub mod sync;

pub use control::ControlEvent;
pub use envelope::Envelope;
pub use frame::Frame;
pub use ids::CircleSecret;
pub use invite::{Invite, InvitePeer};
pub use message::WireMessage;
