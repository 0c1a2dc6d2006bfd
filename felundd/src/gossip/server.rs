//! Accepting gossip connections, at most [`MAX_INBOUND`] at a time.
//!
//! A flood of idle sockets must not lock honest peers out: when every slot is taken,
//! the oldest connection that has not yet passed the handshake (and has had at
//! least [`EVICT_AFTER`] to do so) is dropped to make room. An authenticated session
//! is never evicted, and every unauthenticated one is bounded by the handshake
//! timeout anyway.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::{session, Gossip, GossipError, MAX_INBOUND};

/// How long a connection may sit before the handshake before it can be evicted.
const EVICT_AFTER: Duration = Duration::from_millis(500);
/// How long a new connection waits for an evicted slot to free up.
const SLOT_WAIT: Duration = Duration::from_secs(1);

/// One served connection.
struct Inbound {
    id: u64,
    started: Instant,
    authenticated: Arc<AtomicBool>,
    abort: AbortHandle,
}

#[derive(Default)]
struct Table {
    next_id: AtomicU64,
    live: Mutex<Vec<Inbound>>,
}

impl Table {
    /// Aborts the oldest unauthenticated connection older than [`EVICT_AFTER`].
    fn evict_one(&self) -> bool {
        let Ok(mut live) = self.live.lock() else {
            return false;
        };
        let now = Instant::now();
        let victim = live
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !c.authenticated.load(Ordering::Relaxed) && now - c.started >= EVICT_AFTER
            })
            .min_by_key(|(_, c)| c.started)
            .map(|(i, _)| i);
        match victim {
            Some(i) => {
                live.swap_remove(i).abort.abort();
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        if let Ok(mut live) = self.live.lock() {
            live.retain(|c| c.id != id);
        }
    }
}

/// Serves `listener` forever.
pub async fn serve(g: Gossip, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_INBOUND));
    let table = Arc::new(Table::default());
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accepting a gossip connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => match make_room(&table, &slots).await {
                Some(p) => p,
                None => {
                    tracing::debug!(%from, "all gossip slots busy with authenticated peers; refusing one");
                    drop(stream);
                    continue;
                }
            },
        };
        spawn_session(&g, &table, permit, stream, from);
    }
}

async fn make_room(table: &Table, slots: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    if !table.evict_one() {
        return None;
    }
    tokio::time::timeout(SLOT_WAIT, Arc::clone(slots).acquire_owned())
        .await
        .ok()?
        .ok()
}

fn spawn_session(
    g: &Gossip,
    table: &Arc<Table>,
    permit: OwnedSemaphorePermit,
    stream: TcpStream,
    from: SocketAddr,
) {
    let id = table.next_id.fetch_add(1, Ordering::Relaxed);
    let authenticated = Arc::new(AtomicBool::new(false));
    let (g2, t2, auth2) = (g.clone(), Arc::clone(table), Arc::clone(&authenticated));
    // Registered before the task can finish, so its own removal always finds it.
    let Ok(mut live) = table.live.lock() else {
        return;
    };
    let task = tokio::spawn(async move {
        let _permit = permit;
        match session::respond(&g2, stream, from.ip(), &auth2).await {
            Ok(()) => {}
            Err(GossipError::Conn(e)) => tracing::debug!(%from, "gossip connection ended: {e}"),
            Err(e) => tracing::info!(%from, "gossip session failed: {e}"),
        }
        t2.remove(id);
    });
    live.push(Inbound {
        id,
        started: Instant::now(),
        authenticated,
        abort: task.abort_handle(),
    });
}
