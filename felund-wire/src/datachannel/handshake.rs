//! HELLO/AUTH on a DataChannel as a sans-I/O machine.
//!
//! Both sides run the same steps: when the channel opens each sends HELLO with a fresh
//! nonce; on the peer's HELLO each sends AUTH = hex HMAC-SHA256 under the raw circle secret
//! of `"dc-auth:" + own nonce + ":" + peer nonce`; the peer's AUTH must equal the same MAC
//! with the nonces swapped. The web client accepts message frames before any AUTH; we do
//! not: until the peer's AUTH verified, message frames are dropped, and the machine hands
//! out nothing but the HELLO and AUTH it sends.
//!
//! A browser in several circles answers an offer from the transport of its first circle,
//! whatever circle the offer meant, and names that circle in its HELLO. So the machine
//! holds every circle key the driver offers it ([`CircleKey`], the intended one first) and
//! answers in the circle the peer's HELLO names when it holds that one.

use crate::ids::{circle_hint, CircleSecret};
use crate::mac::{hex_eq, hmac_hex};
use thiserror::Error;

use super::frame::DcFrame;

/// A circle the channel may turn out to belong to.
#[derive(Debug, Clone)]
pub struct CircleKey {
    /// Its id.
    pub circle_id: String,
    /// Its hint (what HELLO names).
    pub hint: String,
    /// Its secret.
    pub secret: CircleSecret,
}

impl CircleKey {
    /// The key of the circle with `secret`.
    pub fn new(secret: CircleSecret) -> Self {
        let circle_id = secret.circle_id();
        Self {
            hint: circle_hint(&circle_id),
            circle_id,
            secret,
        }
    }
}

/// The AUTH value `sender` sends: hex HMAC-SHA256 under the raw secret of
/// `"dc-auth:{sender_nonce}:{receiver_nonce}"`, both nonces as their hex text.
pub fn dc_auth(secret: &CircleSecret, sender_nonce: &str, receiver_nonce: &str) -> String {
    hmac_hex(
        secret.as_bytes(),
        format!("dc-auth:{sender_nonce}:{receiver_nonce}").as_bytes(),
    )
}

/// Why a handshake failed; the driver closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DcError {
    /// The peer's AUTH does not prove the circle secret (or it is in another circle).
    #[error("the peer's AUTH does not verify (wrong secret or another circle)")]
    AuthFailed,
    /// HELLO names a node other than the one that signalled.
    #[error("HELLO names node {said:?}, but the signals came from another node")]
    WrongNode {
        /// What HELLO said (shortened).
        said: String,
    },
    /// A second HELLO with another nonce in the same handshake.
    #[error("the peer changed its HELLO nonce mid-handshake")]
    NonceChanged,
    /// The driver offered no circle key.
    #[error("no circle to authenticate in")]
    NoCircle,
}

/// The peer after its AUTH verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Index into the keys the machine was given: the circle the channel belongs to.
    pub circle: usize,
    /// The peer's node id (as HELLO said; equal to the signalling node's).
    pub peer_node_id: String,
}

/// What one step produced.
#[derive(Debug)]
pub enum DcStep {
    /// Still waiting; send these frames (texts) in order.
    Continue(DcHandshake, Vec<String>),
    /// The peer proved the secret: send these frames, then the channel is open for messages.
    Done(Verified, Vec<String>),
}

/// The handshake in progress.
#[derive(Debug)]
pub struct DcHandshake {
    my_nonce: String,
    expected_peer: String,
    keys: Vec<CircleKey>,
    /// The peer's nonce and the chosen key, once its HELLO arrived.
    peer: Option<(String, usize)>,
    /// An AUTH that came before HELLO, held until the nonce is known.
    early_auth: Option<String>,
    /// Message frames dropped because the peer was not verified yet.
    dropped: usize,
}

impl DcHandshake {
    /// Starts the handshake for the channel to `expected_peer` (the node that signalled),
    /// with `keys` (the intended circle first) and a fresh 32-hex `my_nonce`. Returns the
    /// machine and the HELLO to send when the channel opens.
    pub fn start(
        my_node_id: &str,
        expected_peer: &str,
        keys: Vec<CircleKey>,
        my_nonce: String,
    ) -> Result<(DcHandshake, String), DcError> {
        let hint = keys.first().ok_or(DcError::NoCircle)?.hint.clone();
        let hello = DcFrame::Hello {
            node_id: my_node_id.to_string(),
            circle_hint: hint,
            nonce: my_nonce.clone(),
        };
        Ok((
            DcHandshake {
                my_nonce,
                expected_peer: expected_peer.to_string(),
                keys,
                peer: None,
                early_auth: None,
                dropped: 0,
            },
            hello.to_text(),
        ))
    }

    /// Message frames dropped so far because they came before the peer's AUTH.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Takes one received frame.
    pub fn on_frame(mut self, frame: DcFrame) -> Result<DcStep, DcError> {
        match frame {
            DcFrame::Hello {
                node_id,
                circle_hint,
                nonce,
            } => {
                if node_id != self.expected_peer {
                    return Err(DcError::WrongNode {
                        said: node_id.chars().take(40).collect(),
                    });
                }
                if let Some((known, _)) = &self.peer {
                    // A repeated HELLO is harmless; a different nonce is an attack or a bug.
                    return if *known == nonce {
                        Ok(DcStep::Continue(self, Vec::new()))
                    } else {
                        Err(DcError::NonceChanged)
                    };
                }
                let circle = self
                    .keys
                    .iter()
                    .position(|k| k.hint == circle_hint)
                    .unwrap_or(0);
                let auth = dc_auth(&self.keys[circle].secret, &self.my_nonce, &nonce);
                self.peer = Some((nonce, circle));
                let send = vec![DcFrame::Auth { auth }.to_text()];
                match self.early_auth.take() {
                    Some(early) => self.check(&early, send),
                    None => Ok(DcStep::Continue(self, send)),
                }
            }
            DcFrame::Auth { auth } => {
                if self.peer.is_some() {
                    self.check(&auth, Vec::new())
                } else {
                    self.early_auth = Some(auth);
                    Ok(DcStep::Continue(self, Vec::new()))
                }
            }
            DcFrame::MsgsSend { .. } | DcFrame::MsgNew { .. } => {
                self.dropped += 1;
                Ok(DcStep::Continue(self, Vec::new()))
            }
        }
    }

    fn check(self, auth: &str, send: Vec<String>) -> Result<DcStep, DcError> {
        let Some((peer_nonce, circle)) = &self.peer else {
            return Err(DcError::AuthFailed);
        };
        let expected = dc_auth(&self.keys[*circle].secret, peer_nonce, &self.my_nonce);
        if !hex_eq(&expected, auth) {
            return Err(DcError::AuthFailed);
        }
        Ok(DcStep::Done(
            Verified {
                circle: *circle,
                peer_node_id: self.expected_peer,
            },
            send,
        ))
    }
}

#[cfg(test)]
mod tests;
