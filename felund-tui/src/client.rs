//! The client tasks: the only part of the TUI that talks gRPC to felundd.
//!
//! [`spawn`] starts a supervisor that connects (retrying with backoff while the
//! daemon is not running), subscribes to live events, lists everything, and
//! then serves [`Request`]s in order on a worker task. Everything it learns goes
//! back to the app as [`AppEvent`]s on a channel. When the connection or the
//! event stream is lost it says so and reconnects by itself.

use std::path::PathBuf;
use std::time::Duration;

mod rpc;

use felund_client::api::{self, event};
use felund_client::retry::Backoff;
use felund_client::{connect, ApiClient};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::event::{AppEvent, Request};
use crate::text::sanitize_line;
use rpc::{live_event, perform, snapshot};

/// Delays between reconnection attempts: 250 ms, doubling up to 5 s.
const RECONNECT: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
/// How long one request may take before it is reported as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Handle to the client tasks: queue requests for the daemon.
#[derive(Debug, Clone)]
pub struct Client {
    tx: UnboundedSender<Request>,
}

impl Client {
    /// Queues a request; its result arrives as an [`AppEvent`]. Requests are
    /// performed in the order they were queued.
    pub fn send(&self, request: Request) {
        // The supervisor only stops when the app's receiver is gone.
        let _ = self.tx.send(request);
    }
}

/// Starts the client tasks for the daemon at `socket`; events go to `events`.
/// They stop once `events` is closed (the app quit).
pub fn spawn(socket: PathBuf, events: UnboundedSender<AppEvent>) -> Client {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(supervise(socket, rx, events));
    Client { tx }
}

/// A status's message as one line for people.
fn status_text(status: &tonic::Status) -> String {
    let message = sanitize_line(status.message());
    if message.is_empty() {
        status.code().description().to_string()
    } else {
        message
    }
}

/// Connect, serve, reconnect: until the app goes away.
async fn supervise(
    socket: PathBuf,
    mut requests: UnboundedReceiver<Request>,
    events: UnboundedSender<AppEvent>,
) {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let mut delay = RECONNECT.delay(attempt);
        match connect(&socket).await {
            Ok(client) => {
                attempt = 0;
                delay = RECONNECT.delay(1);
                match session(client, &mut requests, &events).await {
                    None => return,
                    Some(reason) => {
                        if events.send(AppEvent::Disconnected { reason }).is_err() {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                let ev = AppEvent::ConnectFailed {
                    error: e.to_string(),
                    attempt,
                    retry_in_ms: delay.as_millis() as u64,
                };
                if events.send(ev).is_err() {
                    return;
                }
            }
        }
        // Wait before the next attempt; requests meanwhile fail at once.
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                r = requests.recv() => {
                    let Some(request) = r else { return };
                    let error = "not connected to felundd (reconnecting)".to_string();
                    if events.send(AppEvent::Failed { request, error }).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// One connection: subscribe, list, then forward events and requests until the
/// stream ends. Returns why it ended, or `None` when the app went away.
async fn session(
    mut client: ApiClient,
    requests: &mut UnboundedReceiver<Request>,
    events: &UnboundedSender<AppEvent>,
) -> Option<String> {
    // Subscribe first, so nothing that happens while listing is missed.
    let subscribed = client
        .subscribe(api::SubscribeRequest {
            circle: String::new(),
            // A reconnect re-lists everything, and the open channel pages back to what
            // it held; nothing needs replaying.
            after_seq: 0,
        })
        .await;
    let mut stream = match subscribed {
        Ok(r) => r.into_inner(),
        Err(s) => return Some(status_text(&s)),
    };
    let listed = match snapshot(&mut client).await {
        Ok(s) => s,
        Err(s) => return Some(status_text(&s)),
    };
    events.send(AppEvent::Connected(Box::new(listed))).ok()?;
    // Requests run one after another on a worker, so their order is kept
    // while the event stream keeps flowing.
    let (work_tx, mut work_rx) = mpsc::unbounded_channel::<Request>();
    let worker_client = client.clone();
    let worker_events = events.clone();
    tokio::spawn(async move {
        let mut c = worker_client;
        while let Some(request) = work_rx.recv().await {
            let result =
                tokio::time::timeout(REQUEST_TIMEOUT, perform(&mut c, request.clone())).await;
            let ev = match result {
                Ok(Ok(resp)) => AppEvent::Done(resp),
                Ok(Err(s)) => AppEvent::Failed {
                    request,
                    error: status_text(&s),
                },
                Err(_) => AppEvent::Failed {
                    request,
                    error: format!(
                        "felundd did not answer within {}s",
                        REQUEST_TIMEOUT.as_secs()
                    ),
                },
            };
            if worker_events.send(ev).is_err() {
                return;
            }
        }
    });
    loop {
        tokio::select! {
            next = stream.message() => match next {
                Ok(Some(ev)) => match ev.kind {
                    Some(event::Kind::Lagged(l)) => {
                        let mut c = client.clone();
                        let events = events.clone();
                        tokio::spawn(async move {
                            if let Ok(snapshot) = snapshot(&mut c).await {
                                let _ = events.send(AppEvent::Resynced {
                                    snapshot: Box::new(snapshot),
                                    missed: l.missed,
                                });
                            }
                        });
                    }
                    Some(kind) => {
                        if let Some(live) = live_event(kind) {
                            events.send(AppEvent::Live(live)).ok()?;
                        }
                    }
                    None => {}
                },
                Ok(None) => return Some("felundd closed the event stream; it may be restarting".into()),
                Err(s) => return Some(status_text(&s)),
            },
            r = requests.recv() => {
                let request = r?;
                // The worker only ends when this sender is dropped.
                let _ = work_tx.send(request);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ChannelChange, LiveEvent};
    use felund_client::api::channel_event;

    #[test]
    fn live_events_convert() {
        let ev = live_event(event::Kind::Channel(api::ChannelEvent {
            kind: channel_event::Kind::Requested as i32,
            circle_id: "c".into(),
            channel_id: "ops".into(),
            node_id: "n".into(),
        }));
        assert_eq!(
            ev,
            Some(LiveEvent::Channel {
                change: ChannelChange::Requested,
                circle: "c".into(),
                channel: "ops".into(),
                node_id: "n".into()
            })
        );
        let peer = live_event(event::Kind::Peer(api::PeerEvent {
            circle_id: "c".into(),
            peer: Some(api::Peer {
                node_id: "n".into(),
                ..Default::default()
            }),
        }));
        assert!(matches!(peer, Some(LiveEvent::Peer(p)) if p.circle_id == "c"));
        assert_eq!(
            live_event(event::Kind::Lagged(api::Lagged { missed: 1 })),
            None
        );
        assert_eq!(
            status_text(&tonic::Status::not_found("no\ncircle")),
            "no circle"
        );
        assert_eq!(
            status_text(&tonic::Status::unavailable("")),
            tonic::Code::Unavailable.description()
        );
    }

    #[tokio::test]
    async fn a_missing_daemon_is_reported_and_retried() {
        let dir = std::env::temp_dir().join(format!("felund-tui-test-{}", std::process::id()));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let client = spawn(dir.join("nope.sock"), tx);
        let first = rx.recv().await;
        assert!(
            matches!(&first, Some(AppEvent::ConnectFailed { error, attempt: 1, .. }) if error.contains("felundd is not running")),
            "{first:?}"
        );
        client.send(Request::Debug);
        let mut saw_failed = false;
        let mut saw_second = false;
        while !(saw_failed && saw_second) {
            match rx.recv().await {
                Some(AppEvent::Failed {
                    request: Request::Debug,
                    ..
                }) => saw_failed = true,
                Some(AppEvent::ConnectFailed { attempt: 2, .. }) => saw_second = true,
                Some(_) => {}
                None => panic!("client tasks ended"),
            }
        }
    }
}
