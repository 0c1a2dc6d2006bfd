//! The DataChannel transport's pure parts (docs/protocol.md §13): what browsers (the reference
//! web client) and felundd say to each other over one WebRTC DataChannel, and how they find
//! each other through a relay's `/v1/signal`.
//!
//! - [`frame`]: the four text frames (`HELLO`, `AUTH`, `MSGS_SEND`, `MSG_NEW`), read
//!   strictly and bounded, and MSGS_SEND batches cut into frames a browser accepts.
//! - [`handshake`]: HELLO/AUTH as a sans-I/O machine. Both sides run the same steps (there
//!   are no roles); nothing but HELLO and AUTH leaves before the peer's AUTH verified, and
//!   no message frame of an unverified peer is ever handed out.
//! - [`signal`]: who offers to whom, the pair's session id, and the JSON payloads of
//!   `offer`/`answer`/`candidate` signals.
//!
//! No I/O, clock or randomness: nonces are parameters, like everywhere in this crate.

pub mod frame;
pub mod handshake;
pub mod signal;

pub use frame::{msgs_send_frames, DcFrame, FrameError};
pub use handshake::{dc_auth, CircleKey, DcError, DcHandshake, DcStep, Verified};
