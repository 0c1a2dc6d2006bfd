//! The HTTP server loop, hardened against slow and numerous clients: at most a fixed number of
//! connections (below the open-file limit, see `server::connection_budget`); when full, the
//! oldest connection with no request in flight (a half-sent header, an idle keep-alive) is
//! closed to make room, so idle sockets cannot lock honest clients out; hyper's header read
//! timeout; a read/write inactivity timeout on every socket; and accept errors (such as
//! running out of file descriptors) back off instead of spinning.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use crate::config::Timeouts;
use crate::limits::MAX_ACCEPT_BACKOFF_MS;

/// Largest request head (request line and headers), bytes; more is answered 431. (hyper also
/// caps a request at 100 header lines.)
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// One open connection as the table sees it.
struct Entry {
    in_flight: Arc<AtomicUsize>,
    evict: Arc<Notify>,
}

/// The open connections, oldest first (ids increase).
struct Table {
    cap: usize,
    next_id: Mutex<u64>,
    open: Mutex<BTreeMap<u64, Entry>>,
}

/// A connection's place in the table; leaving it frees the place.
struct Slot {
    table: Arc<Table>,
    id: u64,
    in_flight: Arc<AtomicUsize>,
    evict: Arc<Notify>,
}

impl Table {
    fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            next_id: Mutex::new(0),
            open: Mutex::new(BTreeMap::new()),
        })
    }

    /// A place for a new connection; when full, evicts the oldest one with no request in
    /// flight. `None` when every open connection is busy.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.cap {
            let idle = open
                .iter()
                .find(|(_, e)| e.in_flight.load(Ordering::SeqCst) == 0)
                .map(|(id, _)| *id)?;
            if let Some(victim) = open.remove(&idle) {
                victim.evict.notify_one();
            }
        }
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        let (in_flight, evict) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        open.insert(
            id,
            Entry {
                in_flight: Arc::clone(&in_flight),
                evict: Arc::clone(&evict),
            },
        );
        Some(Slot {
            table: Arc::clone(self),
            id,
            in_flight,
            evict,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.id);
    }
}

/// Counts a request in flight while it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(counter))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Serves `app` on `listener` with at most `cap` connections until `shutdown` turns true, then
/// lets in-flight requests finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    cap: usize,
    timeouts: Timeouts,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let table = Table::new(cap);
    let mut connections = JoinSet::new();
    let mut backoff = Duration::from_millis(5);
    let stop = stopped(shutdown.clone());
    tokio::pin!(stop);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // EMFILE, ENFILE, ENOBUFS, ECONNABORTED…: wait and try again; spinning
                    // would only burn the CPU the open connections need to finish.
                    tracing::warn!(error = %err, backoff_ms = backoff.as_millis() as u64, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(MAX_ACCEPT_BACKOFF_MS));
                    continue;
                }
            },
        };
        backoff = Duration::from_millis(5);
        let Some(slot) = table.admit() else {
            tracing::debug!(%peer, "connection refused: every connection is busy");
            continue;
        };
        connections.spawn(connection(
            stream,
            peer,
            slot,
            app.clone(),
            timeouts,
            shutdown.clone(),
        ));
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One connection: HTTP/1.1 with upgrades (WebSockets), until it ends, is evicted or the relay
/// stops (then gracefully: the request in flight finishes).
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    app: Router,
    timeouts: Timeouts,
    shutdown: watch::Receiver<bool>,
) {
    // Small frames (pushes, JSON answers) go out at once instead of waiting for an ACK.
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(error = %err, "could not set TCP_NODELAY");
    }
    let mut io = TimeoutStream::new(stream);
    io.set_read_timeout(Some(timeouts.idle));
    io.set_write_timeout(Some(timeouts.idle));
    let io = TokioIo::new(Box::pin(io));
    let in_flight = Arc::clone(&slot.in_flight);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::new(&in_flight);
        let app = app.clone();
        async move {
            let response = app.oneshot(req.map(axum::body::Body::new)).await;
            drop(busy);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .max_header_size(MAX_HEAD_BYTES);
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let evict = Arc::clone(&slot.evict);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "connection ended");
            }
        }
        _ = evict.notified() => tracing::debug!(%peer, "idle connection evicted"),
        _ = stopped(shutdown) => {
            // A request in flight may finish; a connection between requests (or one still
            // sending its head, which hyper would wait for) is closed at once.
            if slot.in_flight.load(Ordering::SeqCst) > 0 {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
    drop(slot);
}
