//! felundd: the felund daemon as a library.
//!
//! Map (see ARCHITECTURE.md for the data flow and invariants):
//! - [`config`]: flags/env → [`node::NodeSettings`].
//! - [`store`]: the SQLite state file; one writer thread with group commit.
//! - [`node`]: the core — identity, circles, channels, messages, control events.
//! - [`events`]: the bus that fans committed changes out to subscribers.
//! - [`gossip`]: direct TCP sync with peers (reference-compatible + extensions).
//! - [`relay`]: relay/rendezvous client (presence, push, pull, WebSocket push).
//! - [`webrtc`]: browsers (the web client) over WebRTC DataChannels, signalled by relays.
//! - [`grpc`]: the `felund.v1` API on the Unix socket ([`socket`] binds it).
//! - [`daemon`]: wiring and lifecycle.
//! - [`limits`]: the daemon's resource bounds, one constant each.
//! - [`memory`]: returning memory to the system after bursts.
//!
//! The wire protocol itself lives in the `felund-wire` crate, re-exported as [`wire`].

pub mod config;
pub mod config_file;
pub mod counters;
pub mod daemon;
pub mod error;
pub mod events;
pub mod gossip;
pub mod grpc;
pub mod limits;
pub mod memory;
pub mod model;
pub mod node;
pub mod relay;
pub mod socket;
pub mod store;
pub mod systemd;
pub mod webrtc;

pub use felund_wire as wire;
