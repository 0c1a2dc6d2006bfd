//! The gossip handshake (PROTOCOL.md §6) in both roles: HELLO → CHALLENGE →
//! HELLO_AUTH → WELCOME, then session encryption when the HELLO carried a nonce.
//! felundd extensions are offered with an extra HELLO/WELCOME key.

use std::net::IpAddr;
use std::sync::Arc;

use felund_wire::ext::{ext_announcement, peer_ext_version, EXT_VERSION, MAX_EXT_LINE};
use felund_wire::frame::{parse_host_port, Hello, Welcome};
use felund_wire::handshake::{hello_auth_token, parse_nonce16, verify_hello_auth};
use felund_wire::limits::{MAX_ENCRYPTED_LINE, MAX_PLAIN_LINE, MAX_REFERENCE_READ_LINE};
use felund_wire::session::{session_key, SessionCipher};
use felund_wire::Frame;
use rand::RngCore;
use serde_json::Map;
use tokio::net::TcpStream;

use super::conn::{split, FrameReader, FrameWriter};
use super::{Gossip, GossipError, HANDSHAKE_TIMEOUT};
use crate::model::Circle;
use crate::node::now_ts;
use crate::store::circles as circle_sql;

/// Which side of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We connected.
    Initiator,
    /// They connected.
    Responder,
}

/// An authenticated connection, ready for sync.
pub struct Session {
    /// Frames in.
    pub reader: FrameReader,
    /// Frames out.
    pub writer: FrameWriter,
    /// The circle being synced.
    pub circle: Circle,
    /// The other node's id.
    pub peer_node_id: String,
    /// Both sides speak the felundd extensions.
    pub ext: bool,
    /// The other side offers the anchor role.
    pub peer_can_anchor: bool,
    /// Frames are encrypted.
    pub encrypted: bool,
    /// Our role.
    pub role: Role,
}

impl Session {
    /// Longest line the other side accepts from us.
    pub fn max_send_line(&self) -> usize {
        match (self.ext, self.encrypted) {
            (true, _) => MAX_EXT_LINE,
            (false, true) => MAX_ENCRYPTED_LINE,
            (false, false) => MAX_PLAIN_LINE,
        }
    }

    fn arm(&mut self, cipher: Option<Arc<SessionCipher>>) {
        if let Some(c) = cipher {
            self.reader.set_cipher(Arc::clone(&c));
            self.writer.set_cipher(c);
        }
        let read_max = if self.ext {
            MAX_EXT_LINE
        } else {
            MAX_REFERENCE_READ_LINE
        };
        self.reader.set_max_line(read_max);
        self.writer.set_max_line(self.max_send_line());
    }
}

fn our_extensions() -> Map<String, serde_json::Value> {
    let (k, v) = ext_announcement();
    let mut m = Map::new();
    m.insert(k, v);
    m
}

fn random16() -> [u8; 16] {
    let mut n = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut n);
    n
}

/// Runs the initiator side on a fresh connection to a peer of `circle`.
pub async fn initiate(
    g: &Gossip,
    stream: TcpStream,
    circle: Circle,
) -> Result<Session, GossipError> {
    let (mut reader, mut writer) = split(
        stream,
        MAX_PLAIN_LINE,
        HANDSHAKE_TIMEOUT,
        Arc::clone(g.node().counters()),
    );
    let node = g.node();
    let client_nonce = random16();
    writer
        .write_frame(&Frame::Hello(Hello {
            node_id: node.node_id().to_string(),
            circle_id: circle.circle_id.clone(),
            listen_addr: Some(g.config().advertise_addr.clone()),
            nonce: Some(hex::encode(client_nonce)),
            can_anchor: Some(g.config().anchor),
            extensions: our_extensions(),
        }))
        .await?;
    let server_nonce_hex = match reader.read_frame().await? {
        Frame::Challenge { nonce } => nonce,
        Frame::Error { err } => return Err(GossipError::Refused(err)),
        other => {
            return Err(GossipError::Protocol(format!(
                "expected CHALLENGE, got {}",
                other.type_name()
            )))
        }
    };
    let server_nonce = parse_nonce16(&server_nonce_hex)
        .ok_or_else(|| GossipError::Protocol("CHALLENGE nonce is not 32 hex characters".into()))?;
    let token = hello_auth_token(
        &circle.secret,
        node.node_id(),
        &circle.circle_id,
        &server_nonce_hex,
    );
    writer.write_frame(&Frame::HelloAuth { token }).await?;
    let welcome = match reader.read_frame().await? {
        Frame::Welcome(w) => w,
        Frame::Error { err } => return Err(GossipError::Refused(err)),
        other => {
            return Err(GossipError::Protocol(format!(
                "expected WELCOME, got {}",
                other.type_name()
            )))
        }
    };
    if welcome.node_id == node.node_id() {
        return Err(GossipError::SelfConnection);
    }
    if g.config().refused.contains(&welcome.node_id) {
        return Err(GossipError::Refused(format!(
            "{} is refused by local policy",
            welcome.node_id
        )));
    }
    let cipher = welcome.enc_ready.then(|| {
        Arc::new(SessionCipher::new(session_key(
            &circle.secret,
            &client_nonce,
            &server_nonce,
        )))
    });
    let mut session = Session {
        reader,
        writer,
        circle,
        peer_node_id: welcome.node_id.clone(),
        ext: peer_ext_version(&welcome.extensions) == Some(EXT_VERSION),
        peer_can_anchor: welcome.can_anchor,
        encrypted: welcome.enc_ready,
        role: Role::Initiator,
    };
    session.arm(cipher);
    Ok(session)
}

/// Runs the responder side on an accepted connection from `observed_ip`. Protocol
/// violations are answered with an `ERROR` frame before the error is returned.
pub async fn respond(
    g: &Gossip,
    stream: TcpStream,
    observed_ip: IpAddr,
) -> Result<Session, GossipError> {
    let (mut reader, mut writer) = split(
        stream,
        MAX_PLAIN_LINE,
        HANDSHAKE_TIMEOUT,
        Arc::clone(g.node().counters()),
    );
    match respond_inner(g, &mut reader, &mut writer, observed_ip).await {
        Ok((circle, hello, cipher, enc)) => {
            let mut session = Session {
                reader,
                writer,
                circle,
                peer_node_id: hello.node_id.clone(),
                ext: peer_ext_version(&hello.extensions) == Some(EXT_VERSION),
                peer_can_anchor: hello.can_anchor.unwrap_or(false),
                encrypted: enc,
                role: Role::Responder,
            };
            session.arm(cipher);
            Ok(session)
        }
        Err(e) => {
            if let GossipError::Protocol(msg) = &e {
                writer.write_error(msg).await;
            }
            Err(e)
        }
    }
}

type Accepted = (Circle, Hello, Option<Arc<SessionCipher>>, bool);

async fn respond_inner(
    g: &Gossip,
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    observed_ip: IpAddr,
) -> Result<Accepted, GossipError> {
    let node = g.node();
    let hello = match reader.read_frame().await {
        Ok(Frame::Hello(h)) => h,
        Ok(_) | Err(super::conn::ConnError::BadFrame(_)) => {
            return Err(GossipError::Protocol("Expected HELLO".into()))
        }
        Err(e) => return Err(e.into()),
    };
    let cid = hello.circle_id.clone();
    let circle = node
        .store()
        .read(move |conn| circle_sql::get(conn, &cid))
        .await
        .map_err(|e| GossipError::Node(e.into()))?
        .ok_or_else(|| GossipError::Protocol("Unknown circle_id".into()))?;
    let client_nonce = match hello.nonce.as_deref() {
        None => None,
        Some(n) => Some(parse_nonce16(n).ok_or_else(|| GossipError::Protocol("Bad nonce".into()))?),
    };
    if hello.node_id.is_empty() || hello.node_id.len() > 128 {
        return Err(GossipError::Protocol("Bad node_id".into()));
    }
    if g.config().refused.contains(&hello.node_id) {
        return Err(GossipError::Protocol("Refused".into()));
    }
    let server_nonce = random16();
    let server_nonce_hex = hex::encode(server_nonce);
    writer
        .write_frame(&Frame::Challenge {
            nonce: server_nonce_hex.clone(),
        })
        .await?;
    let token = match reader.read_frame().await {
        Ok(Frame::HelloAuth { token }) => token,
        Ok(_) | Err(super::conn::ConnError::BadFrame(_)) => {
            return Err(GossipError::Protocol("Expected HELLO_AUTH".into()))
        }
        Err(e) => return Err(e.into()),
    };
    if !verify_hello_auth(
        &circle.secret,
        &hello.node_id,
        &circle.circle_id,
        &server_nonce_hex,
        &token,
    ) {
        return Err(GossipError::Protocol("Auth failed".into()));
    }
    if hello.node_id == node.node_id() {
        return Err(GossipError::SelfConnection);
    }
    // The initiator is a member; it is reachable at the address we saw it come from,
    // on the port it advertises.
    let addr = hello
        .listen_addr
        .as_deref()
        .and_then(parse_host_port)
        .map(|(_, port)| match observed_ip {
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        });
    g.node()
        .record_peer(&circle.circle_id, &hello.node_id, addr.as_deref(), now_ts())
        .await
        .map_err(GossipError::Node)?;
    writer
        .write_frame(&Frame::Welcome(Welcome {
            node_id: node.node_id().to_string(),
            enc_ready: client_nonce.is_some(),
            can_anchor: g.config().anchor,
            extensions: our_extensions(),
        }))
        .await?;
    let cipher = client_nonce.map(|cn| {
        Arc::new(SessionCipher::new(session_key(
            &circle.secret,
            &cn,
            &server_nonce,
        )))
    });
    let enc = cipher.is_some();
    Ok((circle, hello, cipher, enc))
}
