//! The initiator's side: HELLO out, CHALLENGE in, HELLO_AUTH out, WELCOME in.

use crate::frame::Hello;
use crate::ids::CircleSecret;
use crate::Frame;

use super::{
    check_node_id, hello_auth_token, parse_nonce16, unexpected, Established, HandshakeError,
    LocalNode, Role, Transcript,
};

/// The initiator after sending HELLO, waiting for CHALLENGE.
#[derive(Debug)]
pub struct Initiator {
    local: LocalNode,
    circle_id: String,
    secret: CircleSecret,
    client_nonce: [u8; 16],
}

/// The initiator after sending HELLO_AUTH, waiting for WELCOME.
#[derive(Debug)]
pub struct AwaitingWelcome {
    inner: Initiator,
    server_nonce: [u8; 16],
    server_nonce_hex: String,
}

impl Initiator {
    /// Starts a handshake for the circle of `secret`; returns the state and the HELLO to
    /// send. `client_nonce` must be fresh random bytes.
    pub fn start(local: LocalNode, secret: CircleSecret, client_nonce: [u8; 16]) -> (Self, Frame) {
        let circle_id = secret.circle_id();
        let hello = Frame::Hello(Hello {
            node_id: local.node_id.clone(),
            circle_id: circle_id.clone(),
            listen_addr: Some(local.listen_addr.clone()),
            nonce: Some(hex::encode(client_nonce)),
            can_anchor: Some(local.can_anchor),
            extensions: local.extensions(),
        });
        let state = Self {
            local,
            circle_id,
            secret,
            client_nonce,
        };
        (state, hello)
    }

    /// Takes the CHALLENGE; returns the next state and the HELLO_AUTH to send.
    pub fn on_challenge(self, frame: Frame) -> Result<(AwaitingWelcome, Frame), HandshakeError> {
        let server_nonce_hex = match frame {
            Frame::Challenge { nonce } => nonce,
            other => return Err(unexpected("CHALLENGE", other)),
        };
        let server_nonce = parse_nonce16(&server_nonce_hex).ok_or(HandshakeError::BadNonce)?;
        let token = hello_auth_token(
            &self.secret,
            &self.local.node_id,
            &self.circle_id,
            &server_nonce_hex,
        );
        let next = AwaitingWelcome {
            inner: self,
            server_nonce,
            server_nonce_hex,
        };
        Ok((next, Frame::HelloAuth { token }))
    }
}

impl AwaitingWelcome {
    /// Takes the WELCOME. Refuses a responder that declines encryption, has a bad node id or
    /// is ourselves.
    pub fn on_welcome(self, frame: Frame) -> Result<Established, HandshakeError> {
        let welcome = match frame {
            Frame::Welcome(w) => w,
            other => return Err(unexpected("WELCOME", other)),
        };
        check_node_id(&welcome.node_id)?;
        let i = self.inner;
        if welcome.node_id == i.local.node_id {
            return Err(HandshakeError::SelfConnection);
        }
        if !welcome.enc_ready {
            return Err(HandshakeError::PlaintextDeclined);
        }
        let transcript = Transcript {
            circle_id: i.circle_id.clone(),
            initiator_id: i.local.node_id.clone(),
            responder_id: welcome.node_id.clone(),
            client_nonce_hex: hex::encode(i.client_nonce),
            server_nonce_hex: self.server_nonce_hex,
        };
        let ext = i.local.ext_with(&welcome.extensions);
        let mut est = Established::new(
            Role::Initiator,
            i.secret,
            &i.client_nonce,
            &self.server_nonce,
            transcript,
        );
        est.peer_can_anchor = welcome.can_anchor;
        est.ext = ext;
        Ok(est)
    }
}
