//! [`PgHub`]: WebSocket push across relay instances through PostgreSQL `LISTEN/NOTIFY`.
//!
//! Every message insert sends, inside its transaction, `NOTIFY felund_relay_push` with the
//! circle, the poster and the seq range it stored (see `queries::PushNote`). PostgreSQL
//! delivers a notification only if its transaction commits, to every listening session, in
//! commit order — which is seq order, because seqs are drawn under the clock-row lock. Each
//! instance's hub holds one `LISTEN` connection; for each notification it reads the rows on
//! that connection and hands them to its local subscribers. Pushes from this instance take the
//! same path (rather than a local shortcut), so every subscriber sees events in seq order and
//! its `seq > last_seq` filter never drops a message. Rows are read only for hints that have
//! subscribers on this instance, so posts to other circles cost an instance one notification.
//!
//! When the `LISTEN` connection fails (database restart, network), pushes may be missed: the
//! hub marks itself not live, ends every subscription ([`Rooms::interrupt`], so sockets are
//! closed with a reason and clients reconnect and catch up), and reconnects with backoff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::queries::PushNote;
use super::{map_err, PgStore, PUSH_CHANNEL};
use crate::hub::{Inbox, PushEvent, PushHub, PushedMessage, Rooms};
use crate::store::{StoreError, StoreResult};
use crate::ws::DB_UNAVAILABLE;

/// Longest pause between reconnection attempts of the `LISTEN` connection.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The push hub of a relay instance on PostgreSQL (see the module docs).
pub struct PgHub {
    rooms: Rooms,
    live: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for PgHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgHub")
            .field("live", &self.live.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl PgHub {
    /// Opens the `LISTEN` connection of `store`'s database and starts delivering; fails if the
    /// database cannot be reached.
    pub async fn start(store: &PgStore) -> StoreResult<Self> {
        let listen_pool = store.listener_pool();
        let listener = listen(&listen_pool).await?;
        let rooms = Rooms::default();
        let live = Arc::new(AtomicBool::new(true));
        let feed = Feed {
            listen_pool,
            rooms: rooms.clone(),
            live: Arc::clone(&live),
        };
        let task = tokio::spawn(feed.run(listener));
        Ok(Self { rooms, live, task })
    }
}

impl Drop for PgHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PushHub for PgHub {
    /// Nothing to do: the insert's `NOTIFY` brings the same messages back through the feed.
    fn publish(&self, _event: PushEvent) {}

    fn subscribe(&self, circle_hint: &str, node_id: &str) -> Inbox {
        self.rooms.join(circle_hint, node_id)
    }

    fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }
}

async fn listen(pool: &PgPool) -> StoreResult<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.map_err(map_err)?;
    // We reconnect ourselves, to know when the feed is back.
    listener.eager_reconnect(false);
    listener.listen(PUSH_CHANNEL).await.map_err(map_err)?;
    Ok(listener)
}

/// The background task's state.
struct Feed {
    listen_pool: PgPool,
    rooms: Rooms,
    live: Arc<AtomicBool>,
}

impl Feed {
    async fn run(self, first: PgListener) {
        let mut listener = Some(first);
        let mut backoff = Duration::from_millis(50);
        loop {
            let mut current = match listener.take() {
                Some(l) => l,
                None => match listen(&self.listen_pool).await {
                    Ok(l) => {
                        tracing::info!("push feed reconnected");
                        l
                    }
                    Err(err) => {
                        tracing::debug!(error = %err, "push feed still down");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                },
            };
            backoff = Duration::from_millis(50);
            self.live.store(true, Ordering::SeqCst);
            let err = self.deliver_until_error(&mut current).await;
            // Not live first, then tell subscribers: a session that subscribes after the
            // interruption was sent sees `is_live() == false` (see ws::session).
            self.live.store(false, Ordering::SeqCst);
            self.rooms.interrupt(DB_UNAVAILABLE);
            tracing::warn!(error = %err, "push feed lost; reconnecting");
            drop(current);
        }
    }

    async fn deliver_until_error(&self, listener: &mut PgListener) -> StoreError {
        loop {
            let note = match listener.try_recv().await {
                Ok(Some(note)) => note,
                Ok(None) => return StoreError::Unavailable("LISTEN connection lost".into()),
                Err(err) => return map_err(err),
            };
            if let Err(err) = self.deliver(listener, note.payload()).await {
                return err;
            }
        }
    }

    /// Reads the rows a notification names (on the `LISTEN` connection itself: notifications
    /// arriving meanwhile are buffered) and hands them to local subscribers of their hint, if
    /// there are any.
    async fn deliver(&self, listener: &mut PgListener, payload: &str) -> StoreResult<()> {
        let note: PushNote = match serde_json::from_str(payload) {
            Ok(note) => note,
            Err(err) => {
                tracing::warn!(error = %err, "ignoring malformed push notification");
                return Ok(());
            }
        };
        if !self.rooms.has_subscribers(&note.c) {
            return Ok(());
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, payload FROM relay_messages
             WHERE circle_hint = $1 AND seq BETWEEN $2 AND $3
             ORDER BY seq",
        )
        .bind(&note.c)
        .bind(note.lo)
        .bind(note.hi)
        .fetch_all(&mut *listener)
        .await
        .map_err(map_err)?;
        let messages: Vec<PushedMessage> = rows
            .into_iter()
            .filter_map(|(seq, text)| {
                RawValue::from_string(text)
                    .ok()
                    .map(|payload| PushedMessage { seq, payload })
            })
            .collect();
        self.rooms.deliver(PushEvent {
            circle_hint: note.c,
            sender_node: note.n,
            server_time: note.t,
            messages,
        });
        Ok(())
    }
}
