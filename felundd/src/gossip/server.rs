//! Accepting gossip connections, at most [`MAX_INBOUND`] at a time: one more is
//! closed at once rather than queued, so a flood of idle sockets cannot starve the
//! node (each served one is bounded by the handshake and read timeouts).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::{session, Gossip, GossipError, MAX_INBOUND};

/// Serves `listener` forever.
pub async fn serve(g: Gossip, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_INBOUND));
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accepting a gossip connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%from, "too many gossip connections; refusing one");
            drop(stream);
            continue;
        };
        let g = g.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match session::respond(&g, stream, from.ip()).await {
                Ok(()) => {}
                Err(GossipError::Conn(e)) => tracing::debug!(%from, "gossip connection ended: {e}"),
                Err(e) => tracing::info!(%from, "gossip session failed: {e}"),
            }
        });
    }
}
