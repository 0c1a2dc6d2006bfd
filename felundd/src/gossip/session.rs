//! One whole gossip session in either role: handshake, the sync flavour both sides
//! speak, then a live link (felundd peers) or the anchor exchange (reference peers).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;

use super::conn::ConnError;
use super::handshake::{self, Session};
use super::{anchor, ext_sync, link, ref_sync, Gossip, GossipError};
use crate::counters::Counters;
use crate::model::Circle;
use crate::node::now_ts;
use crate::node::receive::Received;
use crate::node::SyncOutcome;
use felund_wire::handshake::HandshakeError;

/// Time allowed to open a TCP connection to a peer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Dials `addr` and syncs `circle` with whoever answers there. Returns the peer's
/// node id.
pub async fn initiate(g: &Gossip, addr: &str, circle: Circle) -> Result<String, GossipError> {
    let circle_id = circle.circle_id.clone();
    let result = initiate_inner(g, addr, circle).await;
    if let Err(e) = &result {
        if !matches!(e, GossipError::Handshake(HandshakeError::SelfConnection)) {
            let error = e.to_string();
            g.node()
                .counters()
                .gossip_attempt(addr, Some(&error), now_ts());
        }
        g.node().report_sync(SyncOutcome {
            circle_id,
            addr: addr.to_string(),
            error: Some(e.to_string()),
        });
    }
    count(g, result)
}

/// Serves an accepted connection from `ip`; sets `authenticated` once the peer
/// has passed the handshake (until then the server may evict it under load).
pub async fn respond(
    g: &Gossip,
    stream: TcpStream,
    ip: IpAddr,
    authenticated: &AtomicBool,
) -> Result<(), GossipError> {
    count(g, respond_inner(g, stream, ip, authenticated).await)
}

fn count<T>(g: &Gossip, r: Result<T, GossipError>) -> Result<T, GossipError> {
    let c = g.node().counters();
    Counters::add(
        if r.is_ok() {
            &c.sessions_ok
        } else {
            &c.sessions_failed
        },
        1,
    );
    r
}

async fn initiate_inner(g: &Gossip, addr: &str, circle: Circle) -> Result<String, GossipError> {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(r) => r.map_err(ConnError::from)?,
        Err(_) => return Err(ConnError::Timeout(CONNECT_TIMEOUT).into()),
    };
    let _ = stream.set_nodelay(true);
    // Subscribe before syncing so nothing stored meanwhile escapes a live link.
    let bus = g.node().subscribe_wire();
    let mut s = handshake::initiate(g, stream, circle, addr).await?;
    let peer = s.peer_node_id.clone();
    sync_and_record(g, &mut s).await?;
    g.node().counters().gossip_attempt(addr, None, now_ts());
    g.node().report_sync(SyncOutcome {
        circle_id: s.circle.circle_id.clone(),
        addr: addr.to_string(),
        error: None,
    });
    if s.ext {
        link::after_sync(g, s, bus).await?;
    } else {
        if s.peer_can_anchor {
            anchor::as_initiator(g, &mut s).await?;
        }
        s.writer.shutdown().await;
    }
    Ok(peer)
}

async fn respond_inner(
    g: &Gossip,
    stream: TcpStream,
    ip: IpAddr,
    authenticated: &AtomicBool,
) -> Result<(), GossipError> {
    let _ = stream.set_nodelay(true);
    let bus = g.node().subscribe_wire();
    let mut s = handshake::respond(g, stream, ip).await?;
    authenticated.store(true, Ordering::Relaxed);
    sync_and_record(g, &mut s).await?;
    if s.ext {
        link::after_sync(g, s, bus).await
    } else {
        if g.config().anchor {
            anchor::as_responder(g, &mut s).await?;
        }
        s.writer.shutdown().await;
        Ok(())
    }
}

/// Runs the sync, then records the peer as a member of the circle at the address the
/// session established. Only now: a whole encrypted exchange has shown that the peer
/// holds the secret, so a node that merely got through HELLO_AUTH (a relayed token) or
/// was only named by a PEERS frame or a relay is never listed as a member.
async fn sync_and_record(g: &Gossip, s: &mut Session) -> Result<Received, GossipError> {
    let received = sync(g, s).await?;
    g.node()
        .counters()
        .last_session_ok
        .store(now_ts(), std::sync::atomic::Ordering::Relaxed);
    g.node()
        .record_peer(
            &s.circle.circle_id,
            &s.peer_node_id,
            s.peer_addr.as_deref(),
            now_ts(),
        )
        .await?;
    Ok(received)
}

/// Runs the sync both sides speak; a protocol error is told to the peer in an
/// ERROR frame before it is returned.
async fn sync(g: &Gossip, s: &mut Session) -> Result<Received, GossipError> {
    let result = if s.ext {
        ext_sync::run(g, s).await
    } else {
        ref_sync::run(g, s).await
    };
    match result {
        Ok(r) => {
            if r.stored > 0 || r.rejected > 0 {
                tracing::debug!(peer = %s.peer_node_id, stored = r.stored, rejected = r.rejected, "synced");
            }
            Ok(r)
        }
        Err(e) => {
            if let Some(reply) = e.reply() {
                s.writer.write_error(&reply).await;
            }
            Err(e)
        }
    }
}
