//! The gossip handshake as a sans-I/O state machine, in both roles.
//!
//! HELLO → CHALLENGE → HELLO_AUTH → WELCOME, as the reference speaks it (docs/protocol.md §6),
//! with two rules of our own:
//!
//! - **Encryption is not optional.** A session that is not encrypted under the session key
//!   never carries circle data, so the initiator always sends a HELLO nonce and ends the
//!   session on `WELCOME {"enc_ready": false}`, and the responder refuses a HELLO without a
//!   valid nonce. Reference nodes always send a nonce, so no real peer is lost.
//! - **felundd peers prove the whole transcript** (extension v2, [`crate::ext`]): as the first
//!   encrypted frame each side sends `X_PROOF`, a MAC over both nonces, both node ids and its
//!   role ([`transcript_proof`]), and checks the other's. A HELLO_AUTH token relayed by
//!   someone in the middle is then useless even without encryption.
//!
//! The machines take decoded [`Frame`]s and return the frames to send and, at the end, an
//! [`Established`] session; they own no socket, clock, store or random source (nonces are
//! parameters). Each step consumes the previous state, so steps cannot run out of order.
//! felundd drives them over TCP; the fuzzer and the tests drive the same code.
//!
//! ```text
//! initiator                                   responder
//! Initiator::start ── HELLO ─────────────────► Responder::on_hello → HelloReceived
//!                                               (driver looks the circle up)
//!                  ◄─────────── CHALLENGE ──── HelloReceived::challenge → AwaitingAuth
//! Initiator::on_challenge ── HELLO_AUTH ─────► AwaitingAuth::on_hello_auth
//!                  ◄─────────── WELCOME ─────── → Established
//! AwaitingWelcome::on_welcome → Established
//!        (both: session cipher on; felundd peers then swap X_PROOF)
//! ```

mod initiator;
mod responder;
mod token;

pub use initiator::{AwaitingWelcome, Initiator};
pub use responder::{AwaitingAuth, HelloReceived, Responder};
pub use token::{
    hello_auth_token, parse_nonce16, transcript_proof, verify_hello_auth, verify_transcript_proof,
    Transcript,
};

use serde_json::{Map, Value};
use thiserror::Error;

use crate::ext::{ext_announcement, peer_ext_version, EXT_VERSION};
use crate::ids::CircleSecret;
use crate::limits::MAX_ID_BYTES;
use crate::session::{session_key, SessionCipher};
use crate::Frame;

/// Which side of the connection a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It connected.
    Initiator,
    /// It was connected to.
    Responder,
}

/// What a node says about itself in HELLO (initiator) or WELCOME (responder).
#[derive(Debug, Clone)]
pub struct LocalNode {
    /// Our node id.
    pub node_id: String,
    /// Our advertised `host:port` (sent in HELLO only).
    pub listen_addr: String,
    /// Whether we serve as an anchor.
    pub can_anchor: bool,
    /// Announce the felundd extensions (false only to play a reference node in tests).
    pub announce_ext: bool,
}

impl LocalNode {
    fn extensions(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if self.announce_ext {
            let (k, v) = ext_announcement();
            m.insert(k, v);
        }
        m
    }

    /// Whether both sides speak the extensions, given the peer's HELLO/WELCOME keys.
    fn ext_with(&self, peer: &Map<String, Value>) -> bool {
        self.announce_ext && peer_ext_version(peer) == Some(EXT_VERSION)
    }
}

/// Why a handshake ended. [`HandshakeError::reply`] is the `ERROR` text a responder sends.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    /// A frame other than the one this step needs.
    #[error("expected {expected}, got {got}")]
    Unexpected {
        /// The frame type this step needs.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
    /// The peer sent an `ERROR` frame.
    #[error("peer refused: {0}")]
    Refused(String),
    /// The HELLO names a circle we do not hold.
    #[error("unknown circle")]
    UnknownCircle,
    /// The HELLO carries no nonce: the initiator cannot (or will not) encrypt.
    #[error("the peer did not offer session encryption")]
    EncryptionRequired,
    /// A HELLO or CHALLENGE nonce that is not 32 hex digits.
    #[error("bad nonce")]
    BadNonce,
    /// An empty or over-long node id.
    #[error("bad node_id")]
    BadNodeId,
    /// The HELLO_AUTH token does not verify.
    #[error("auth failed")]
    AuthFailed,
    /// The responder accepted without session encryption.
    #[error("the peer declined session encryption (enc_ready: false)")]
    PlaintextDeclined,
    /// The other side has our own node id.
    #[error("connected to ourselves")]
    SelfConnection,
    /// A felundd peer's `X_PROOF` does not verify: it does not hold the secret, or someone
    /// in the middle changed the handshake.
    #[error("the peer's transcript proof does not verify")]
    BadProof,
}

impl HandshakeError {
    /// The `ERROR` frame text a responder answers with (the reference's wording where it has
    /// one); `None` when nothing should be sent.
    pub fn reply(&self) -> Option<&'static str> {
        Some(match self {
            HandshakeError::Unexpected {
                expected: "HELLO", ..
            } => "Expected HELLO",
            HandshakeError::Unexpected {
                expected: "HELLO_AUTH",
                ..
            } => "Expected HELLO_AUTH",
            HandshakeError::Unexpected { .. } => "Bad sync frames",
            HandshakeError::UnknownCircle => "Unknown circle_id",
            HandshakeError::EncryptionRequired => "Encryption required",
            HandshakeError::BadNonce => "Bad nonce",
            HandshakeError::BadNodeId => "Bad node_id",
            HandshakeError::AuthFailed => "Auth failed",
            HandshakeError::BadProof => "Auth failed",
            HandshakeError::Refused(_)
            | HandshakeError::PlaintextDeclined
            | HandshakeError::SelfConnection => return None,
        })
    }
}

/// A node id as received: non-empty and within [`MAX_ID_BYTES`].
fn check_node_id(id: &str) -> Result<(), HandshakeError> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(HandshakeError::BadNodeId);
    }
    Ok(())
}

/// The error for an unexpected frame (an `ERROR` frame becomes [`HandshakeError::Refused`]).
fn unexpected(expected: &'static str, got: Frame) -> HandshakeError {
    match got {
        Frame::Error { err } => HandshakeError::Refused(err),
        other => HandshakeError::Unexpected {
            expected,
            got: other.type_name(),
        },
    }
}

/// A completed handshake: who the peer is and the session key. Every frame after this one
/// travels under [`Established::cipher`]. With [`Established::ext`] both sides must first
/// swap [`Established::proof_frame`] and accept the other's with [`Established::check_proof`].
pub struct Established {
    /// Our role.
    pub role: Role,
    /// The circle of the session.
    pub circle_id: String,
    /// The peer's node id (validated: non-empty, bounded).
    pub peer_node_id: String,
    /// The port the initiator advertised in HELLO (responder side only; the address is the
    /// one the connection came from).
    pub peer_listen_port: Option<u16>,
    /// The peer offers the anchor role.
    pub peer_can_anchor: bool,
    /// Both sides speak the felundd extensions.
    pub ext: bool,
    secret: CircleSecret,
    key: [u8; 32],
    transcript: Transcript,
}

impl std::fmt::Debug for Established {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Established")
            .field("role", &self.role)
            .field("circle_id", &self.circle_id)
            .field("peer_node_id", &self.peer_node_id)
            .field("ext", &self.ext)
            .finish_non_exhaustive()
    }
}

impl Established {
    fn new(
        role: Role,
        secret: CircleSecret,
        client_nonce: &[u8; 16],
        server_nonce: &[u8; 16],
        transcript: Transcript,
    ) -> Self {
        let key = session_key(&secret, client_nonce, server_nonce);
        let peer_node_id = match role {
            Role::Initiator => transcript.responder_id.clone(),
            Role::Responder => transcript.initiator_id.clone(),
        };
        Self {
            role,
            circle_id: transcript.circle_id.clone(),
            peer_node_id,
            peer_listen_port: None,
            peer_can_anchor: false,
            ext: false,
            secret,
            key,
            transcript,
        }
    }

    /// The session cipher both directions use from now on.
    pub fn cipher(&self) -> SessionCipher {
        SessionCipher::new(self.key)
    }

    /// Our `X_PROOF`, to send as the first encrypted frame; `None` unless [`Self::ext`].
    pub fn proof_frame(&self) -> Option<Frame> {
        self.ext.then(|| Frame::XProof {
            proof: transcript_proof(&self.secret, self.role, &self.transcript),
        })
    }

    /// Checks the peer's first encrypted frame, which must be its `X_PROOF`.
    pub fn check_proof(&self, frame: Frame) -> Result<(), HandshakeError> {
        let peer_role = match self.role {
            Role::Initiator => Role::Responder,
            Role::Responder => Role::Initiator,
        };
        match frame {
            Frame::XProof { proof }
                if verify_transcript_proof(&self.secret, peer_role, &self.transcript, &proof) =>
            {
                Ok(())
            }
            Frame::XProof { .. } => Err(HandshakeError::BadProof),
            other => Err(unexpected("X_PROOF", other)),
        }
    }
}

#[cfg(test)]
mod tests;
