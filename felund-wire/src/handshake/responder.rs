//! The responder's side: HELLO in, CHALLENGE out, HELLO_AUTH in, WELCOME out.

use crate::frame::{parse_host_port, Hello, Welcome};
use crate::ids::CircleSecret;
use crate::Frame;

use super::{
    check_node_id, parse_nonce16, unexpected, verify_hello_auth, Established, HandshakeError,
    LocalNode, Role, Transcript,
};

/// The responder before anything arrived.
#[derive(Debug)]
pub struct Responder {
    local: LocalNode,
    server_nonce: [u8; 16],
}

/// A valid HELLO was received; the driver looks up the circle it names
/// ([`HelloReceived::hello`]) and applies its own policy before answering.
#[derive(Debug)]
pub struct HelloReceived {
    local: LocalNode,
    server_nonce: [u8; 16],
    client_nonce: [u8; 16],
    hello: Hello,
}

/// The responder after sending CHALLENGE, waiting for HELLO_AUTH.
#[derive(Debug)]
pub struct AwaitingAuth {
    received: HelloReceived,
    secret: CircleSecret,
}

impl Responder {
    /// A responder that will challenge with `server_nonce` (fresh random bytes).
    pub fn new(local: LocalNode, server_nonce: [u8; 16]) -> Self {
        Self {
            local,
            server_nonce,
        }
    }

    /// Takes the first frame, which must be a HELLO with a bounded node id and a valid
    /// nonce (no nonce means no encryption, which we refuse).
    pub fn on_hello(self, frame: Frame) -> Result<HelloReceived, HandshakeError> {
        let hello = match frame {
            Frame::Hello(h) => h,
            other => return Err(unexpected("HELLO", other)),
        };
        check_node_id(&hello.node_id)?;
        let nonce = hello
            .nonce
            .as_deref()
            .ok_or(HandshakeError::EncryptionRequired)?;
        let client_nonce = parse_nonce16(nonce).ok_or(HandshakeError::BadNonce)?;
        Ok(HelloReceived {
            local: self.local,
            server_nonce: self.server_nonce,
            client_nonce,
            hello,
        })
    }
}

impl HelloReceived {
    /// The HELLO (the node id is bounded and the nonce valid; nothing else is checked).
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Answers with a CHALLENGE for the circle the HELLO names, given its secret as the
    /// driver found it (`None`: we do not hold that circle).
    pub fn challenge(
        self,
        secret: Option<CircleSecret>,
    ) -> Result<(AwaitingAuth, Frame), HandshakeError> {
        let secret = secret
            .filter(|s| s.circle_id() == self.hello.circle_id)
            .ok_or(HandshakeError::UnknownCircle)?;
        let challenge = Frame::Challenge {
            nonce: hex::encode(self.server_nonce),
        };
        Ok((
            AwaitingAuth {
                received: self,
                secret,
            },
            challenge,
        ))
    }
}

impl AwaitingAuth {
    /// Takes the HELLO_AUTH; returns the WELCOME to send and the session.
    pub fn on_hello_auth(self, frame: Frame) -> Result<(Frame, Established), HandshakeError> {
        let token = match frame {
            Frame::HelloAuth { token } => token,
            other => return Err(unexpected("HELLO_AUTH", other)),
        };
        let r = self.received;
        let server_nonce_hex = hex::encode(r.server_nonce);
        if !verify_hello_auth(
            &self.secret,
            &r.hello.node_id,
            &r.hello.circle_id,
            &server_nonce_hex,
            &token,
        ) {
            return Err(HandshakeError::AuthFailed);
        }
        if r.hello.node_id == r.local.node_id {
            return Err(HandshakeError::SelfConnection);
        }
        let welcome = Frame::Welcome(Welcome {
            node_id: r.local.node_id.clone(),
            enc_ready: true,
            can_anchor: r.local.can_anchor,
            extensions: r.local.extensions(),
        });
        let transcript = Transcript {
            circle_id: r.hello.circle_id.clone(),
            initiator_id: r.hello.node_id.clone(),
            responder_id: r.local.node_id.clone(),
            client_nonce_hex: hex::encode(r.client_nonce),
            server_nonce_hex,
        };
        let mut est = Established::new(
            Role::Responder,
            self.secret,
            &r.client_nonce,
            &r.server_nonce,
            transcript,
        );
        est.peer_listen_port = r
            .hello
            .listen_addr
            .as_deref()
            .and_then(parse_host_port)
            .map(|(_, port)| port);
        est.peer_can_anchor = r.hello.can_anchor.unwrap_or(false);
        est.ext = r.local.ext_with(&r.hello.extensions);
        Ok((welcome, est))
    }
}
