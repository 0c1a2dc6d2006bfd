//! Drives the handshake machines of [`felund_wire::handshake`] over a TCP connection,
//! in both roles, and turns the result into a [`Session`] ready for sync.
//!
//! Every session is encrypted under the session key (the machines refuse anything else),
//! and with felundd peers both sides swap transcript proofs before any other frame. The
//! peer is recorded as a member only after the sync has run on top of this (see
//! `session`), so a peer that authenticated but cannot read or write the session never is.

use std::net::IpAddr;
use std::sync::Arc;

use felund_wire::ext::MAX_EXT_LINE;
use felund_wire::handshake::{Established, HandshakeError, Initiator, LocalNode, Responder};
use felund_wire::limits::{MAX_ENCRYPTED_LINE, MAX_PLAIN_LINE, MAX_REFERENCE_READ_LINE};
use felund_wire::Frame;
use rand::RngCore;

pub use felund_wire::handshake::Role;

use super::conn::{split, ConnError, FrameReader, FrameWriter};
use super::{Gossip, GossipError, HANDSHAKE_TIMEOUT, READ_TIMEOUT};
use crate::model::Circle;
use crate::store::circles as circle_sql;

/// An authenticated, encrypted connection, ready for sync.
pub struct Session {
    /// Frames in.
    pub reader: FrameReader,
    /// Frames out.
    pub writer: FrameWriter,
    /// The circle being synced.
    pub circle: Circle,
    /// The other node's id.
    pub peer_node_id: String,
    /// Where the other node can be dialled: the address we dialled, or the address it came
    /// from with the port it advertised. Recorded once the session has proved itself.
    pub peer_addr: Option<String>,
    /// Both sides speak the felundd extensions.
    pub ext: bool,
    /// The other side offers the anchor role.
    pub peer_can_anchor: bool,
    /// Our role.
    pub role: Role,
}

impl Session {
    /// Arms the session cipher and the line limits of the sync that follows, then (felundd
    /// peers) swaps transcript proofs: nothing else is sent before the peer's proof holds.
    async fn open(
        mut reader: FrameReader,
        mut writer: FrameWriter,
        circle: Circle,
        est: Established,
        peer_addr: Option<String>,
    ) -> Result<Self, GossipError> {
        let cipher = Arc::new(est.cipher());
        reader.set_cipher(Arc::clone(&cipher));
        writer.set_cipher(cipher);
        let (read_max, send_max) = if est.ext {
            (MAX_EXT_LINE, MAX_EXT_LINE)
        } else {
            (MAX_REFERENCE_READ_LINE, MAX_ENCRYPTED_LINE)
        };
        reader.set_max_line(read_max);
        writer.set_max_line(send_max);
        if let Some(proof) = est.proof_frame() {
            writer.write_frame(&proof).await?;
            est.check_proof(reader.read_frame().await?)?;
        }
        // The handshake's short timeout ends here; sync frames get the reference's.
        reader.set_timeout(READ_TIMEOUT);
        Ok(Self {
            reader,
            writer,
            circle,
            peer_node_id: est.peer_node_id.clone(),
            peer_addr,
            ext: est.ext,
            peer_can_anchor: est.peer_can_anchor,
            role: est.role,
        })
    }

    /// Longest line the other side accepts from us.
    pub fn max_send_line(&self) -> usize {
        if self.ext {
            MAX_EXT_LINE
        } else {
            MAX_ENCRYPTED_LINE
        }
    }
}

impl Gossip {
    /// What we say about ourselves in HELLO and WELCOME.
    fn local_node(&self) -> LocalNode {
        LocalNode {
            node_id: self.node().node_id().to_string(),
            listen_addr: self.config().advertise_addr.clone(),
            can_anchor: self.config().anchor,
            announce_ext: true,
        }
    }

    fn refuses(&self, node_id: &str) -> bool {
        self.config().refused.contains(node_id)
    }
}

fn random16() -> [u8; 16] {
    let mut n = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut n);
    n
}

/// Reads the frame a handshake step expects; a line that is not a frame is that step's
/// protocol error.
async fn read_step(reader: &mut FrameReader, expected: &'static str) -> Result<Frame, GossipError> {
    match reader.read_frame().await {
        Ok(f) => Ok(f),
        Err(ConnError::BadFrame(_)) => Err(HandshakeError::Unexpected {
            expected,
            got: "a malformed frame",
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Runs the initiator side on a fresh connection to `addr`, a peer of `circle`.
pub async fn initiate(
    g: &Gossip,
    stream: tokio::net::TcpStream,
    circle: Circle,
    addr: &str,
) -> Result<Session, GossipError> {
    let (mut reader, mut writer) = split(
        stream,
        MAX_PLAIN_LINE,
        HANDSHAKE_TIMEOUT,
        Arc::clone(g.node().counters()),
    );
    let (init, hello) = Initiator::start(g.local_node(), circle.secret.clone(), random16());
    writer.write_frame(&hello).await?;
    let (init, auth) = init.on_challenge(read_step(&mut reader, "CHALLENGE").await?)?;
    writer.write_frame(&auth).await?;
    let est = init.on_welcome(read_step(&mut reader, "WELCOME").await?)?;
    if g.refuses(&est.peer_node_id) {
        return Err(GossipError::Refused(format!(
            "{} is refused by local policy",
            est.peer_node_id
        )));
    }
    Session::open(reader, writer, circle, est, Some(addr.to_string())).await
}

/// Runs the responder side on an accepted connection from `observed_ip`. Protocol
/// violations are answered with an `ERROR` frame before the error is returned.
pub async fn respond(
    g: &Gossip,
    stream: tokio::net::TcpStream,
    observed_ip: IpAddr,
) -> Result<Session, GossipError> {
    let (mut reader, mut writer) = split(
        stream,
        MAX_PLAIN_LINE,
        HANDSHAKE_TIMEOUT,
        Arc::clone(g.node().counters()),
    );
    match respond_steps(g, &mut reader, &mut writer).await {
        Ok((circle, est)) => {
            let addr = est.peer_listen_port.map(|port| match observed_ip {
                IpAddr::V4(v4) => format!("{v4}:{port}"),
                IpAddr::V6(v6) => format!("[{v6}]:{port}"),
            });
            Session::open(reader, writer, circle, est, addr).await
        }
        Err(e) => {
            if let Some(reply) = e.reply() {
                writer.write_error(&reply).await;
            }
            Err(e)
        }
    }
}

async fn respond_steps(
    g: &Gossip,
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
) -> Result<(Circle, Established), GossipError> {
    let got =
        Responder::new(g.local_node(), random16()).on_hello(read_step(reader, "HELLO").await?)?;
    if g.refuses(&got.hello().node_id) {
        return Err(GossipError::Protocol("Refused".into()));
    }
    let cid = got.hello().circle_id.clone();
    let circle = g
        .node()
        .store()
        .read(move |conn| circle_sql::get(conn, &cid))
        .await
        .map_err(|e| GossipError::Node(e.into()))?;
    let (awaiting, challenge) = got.challenge(circle.as_ref().map(|c| c.secret.clone()))?;
    writer.write_frame(&challenge).await?;
    let (welcome, est) = awaiting.on_hello_auth(read_step(reader, "HELLO_AUTH").await?)?;
    writer.write_frame(&welcome).await?;
    // `challenge` succeeded, so the circle was found.
    let circle = circle.ok_or(GossipError::Handshake(HandshakeError::UnknownCircle))?;
    Ok((circle, est))
}
