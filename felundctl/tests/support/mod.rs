//! A scripted stand-in for felundd: serves the felund.v1 API on a Unix socket in
//! a temp dir, with canned answers, so the binary's output and exit codes can be
//! checked without the real daemon.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use felund_client::api::{self, felund_server::Felund, felund_server::FelundServer};
use tokio::sync::oneshot;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

/// The one circle the mock knows.
pub const CIRCLE_ID: &str = "c0ffee00112233445566778";

type Reply<T> = Result<Response<T>, Status>;

/// What the mock has been sent.
#[derive(Default)]
pub struct Seen {
    /// Texts of SendMessage requests, in order.
    pub sent: Vec<String>,
}

#[derive(Clone, Default)]
struct Mock {
    seen: Arc<Mutex<Seen>>,
}

fn circle(name: &str) -> api::Circle {
    api::Circle {
        circle_id: CIRCLE_ID.into(),
        name: name.into(),
        message_count: 2,
        member_count: 2,
        peer_count: 1,
        last_message_ts: 1_700_000_100,
    }
}

/// Resolve a circle selector the way the daemon documents: id, prefix or name.
fn resolve(sel: &str) -> Result<String, Status> {
    if !sel.is_empty() && (CIRCLE_ID.starts_with(sel) || sel == "friends") {
        Ok(CIRCLE_ID.into())
    } else {
        Err(Status::not_found(format!("no circle matches {sel:?}")))
    }
}

fn channel(name: &str, mode: api::AccessMode) -> api::Channel {
    api::Channel {
        circle_id: CIRCLE_ID.into(),
        channel_id: name.trim_start_matches('#').into(),
        access_mode: mode as i32,
        created_by: "n-self".into(),
        created_ts: 1_700_000_000,
        joined: mode != api::AccessMode::Invite,
        requested: mode == api::AccessMode::Invite,
        member_count: 1,
        pending_requests: vec![],
    }
}

pub fn message(id: &str, text: &str, ts: i64) -> api::Message {
    api::Message {
        msg_id: id.into(),
        circle_id: CIRCLE_ID.into(),
        channel_id: "general".into(),
        author_node_id: "n-alice-0123456789".into(),
        display_name: "alice".into(),
        created_ts: ts,
        text: text.into(),
        own: false,
    }
}

fn node_info(name: &str) -> api::NodeInfo {
    api::NodeInfo {
        node_id: "n-self".into(),
        display_name: name.into(),
        listen_addr: "127.0.0.1:9999".into(),
        advertise_addr: "127.0.0.1:9999".into(),
        version: "0.0.0-mock".into(),
        uptime_s: 3_725,
        circle_count: 1,
        message_count: 2,
        peer_count: 1,
        subscriber_count: 0,
        state_dir: "/tmp/state".into(),
        socket_path: "/tmp/state/felundd.sock".into(),
        relay_url: String::new(),
        anchor: false,
    }
}

/// One event of every kind, in a fixed order.
pub fn all_events() -> Vec<api::Event> {
    use api::event::Kind;
    let kinds = vec![
        Kind::Message(message("m9", "live", 1_700_000_200)),
        Kind::Channel(api::ChannelEvent {
            kind: api::channel_event::Kind::Created as i32,
            circle_id: CIRCLE_ID.into(),
            channel_id: "ops".into(),
            node_id: "n-bob".into(),
        }),
        Kind::Circle(api::CircleEvent {
            kind: api::circle_event::Kind::Renamed as i32,
            circle: Some(circle("pals")),
        }),
        Kind::Peer(api::PeerEvent {
            circle_id: CIRCLE_ID.into(),
            peer: Some(api::Peer {
                node_id: "n-bob".into(),
                circle_id: CIRCLE_ID.into(),
                addr: "127.0.0.2:9999".into(),
                last_seen: 1_700_000_300,
                display_name: "bob".into(),
            }),
        }),
        Kind::DisplayName(api::DisplayNameEvent {
            node_id: "n-bob".into(),
            display_name: "robert".into(),
        }),
        Kind::Lagged(api::Lagged { missed: 4 }),
    ];
    kinds
        .into_iter()
        .map(|k| api::Event { kind: Some(k) })
        .collect()
}

#[tonic::async_trait]
impl Felund for Mock {
    async fn get_node_info(&self, _: Request<api::GetNodeInfoRequest>) -> Reply<api::NodeInfo> {
        Ok(Response::new(node_info("me")))
    }
    async fn set_display_name(
        &self,
        r: Request<api::SetDisplayNameRequest>,
    ) -> Reply<api::NodeInfo> {
        let name = r.into_inner().display_name;
        if name.trim().is_empty() {
            return Err(Status::invalid_argument("display name must not be empty"));
        }
        Ok(Response::new(node_info(&name)))
    }
    async fn create_circle(
        &self,
        r: Request<api::CreateCircleRequest>,
    ) -> Reply<api::CreateCircleResponse> {
        Ok(Response::new(api::CreateCircleResponse {
            circle: Some(circle(&r.into_inner().name)),
            invite_code: "felund1mockcode".into(),
        }))
    }
    async fn join_circle(
        &self,
        r: Request<api::JoinCircleRequest>,
    ) -> Reply<api::JoinCircleResponse> {
        if r.into_inner().code != "felund1mockcode" {
            return Err(Status::invalid_argument(
                "invalid invite code: bad checksum",
            ));
        }
        Ok(Response::new(api::JoinCircleResponse {
            circle: Some(circle("friends")),
            newly_joined: true,
            peer: "127.0.0.1:9999".into(),
        }))
    }
    async fn leave_circle(
        &self,
        r: Request<api::LeaveCircleRequest>,
    ) -> Reply<api::LeaveCircleResponse> {
        let circle_id = resolve(&r.into_inner().circle)?;
        Ok(Response::new(api::LeaveCircleResponse { circle_id }))
    }
    async fn rename_circle(&self, r: Request<api::RenameCircleRequest>) -> Reply<api::Circle> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        Ok(Response::new(circle(&r.name)))
    }
    async fn get_invite_code(
        &self,
        r: Request<api::GetInviteCodeRequest>,
    ) -> Reply<api::InviteCode> {
        let circle_id = resolve(&r.into_inner().circle)?;
        Ok(Response::new(api::InviteCode {
            circle_id,
            code: "felund1mockcode".into(),
            peer: "127.0.0.1:9999".into(),
        }))
    }
    async fn list_circles(
        &self,
        _: Request<api::ListCirclesRequest>,
    ) -> Reply<api::ListCirclesResponse> {
        Ok(Response::new(api::ListCirclesResponse {
            circles: vec![circle("friends")],
        }))
    }
    async fn list_channels(
        &self,
        r: Request<api::ListChannelsRequest>,
    ) -> Reply<api::ListChannelsResponse> {
        resolve(&r.into_inner().circle)?;
        let mut ops = channel("ops", api::AccessMode::Invite);
        ops.pending_requests = vec!["n-bob".into()];
        Ok(Response::new(api::ListChannelsResponse {
            channels: vec![channel("general", api::AccessMode::Public), ops],
        }))
    }
    async fn create_channel(&self, r: Request<api::CreateChannelRequest>) -> Reply<api::Channel> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        let mut c = channel(&r.channel, r.access_mode());
        c.joined = true;
        c.requested = false;
        Ok(Response::new(c))
    }
    async fn join_channel(
        &self,
        r: Request<api::JoinChannelRequest>,
    ) -> Reply<api::JoinChannelResponse> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        let mode = if r.channel == "ops" {
            api::AccessMode::Invite
        } else {
            api::AccessMode::Public
        };
        Ok(Response::new(api::JoinChannelResponse {
            channel: Some(channel(&r.channel, mode)),
            requested: mode == api::AccessMode::Invite,
        }))
    }
    async fn leave_channel(&self, r: Request<api::LeaveChannelRequest>) -> Reply<api::Channel> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        Ok(Response::new(channel(&r.channel, api::AccessMode::Public)))
    }
    async fn approve_channel_request(
        &self,
        r: Request<api::ApproveChannelRequestRequest>,
    ) -> Reply<api::Channel> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        Ok(Response::new(channel(&r.channel, api::AccessMode::Invite)))
    }
    async fn list_members(
        &self,
        r: Request<api::ListMembersRequest>,
    ) -> Reply<api::ListMembersResponse> {
        resolve(&r.into_inner().circle)?;
        let member = |id: &str, name: &str, me: bool| api::Member {
            node_id: id.into(),
            display_name: name.into(),
            is_self: me,
        };
        Ok(Response::new(api::ListMembersResponse {
            members: vec![
                member("n-self", "me", true),
                member("n-alice", "alice", false),
            ],
        }))
    }
    async fn send_message(&self, r: Request<api::SendMessageRequest>) -> Reply<api::Message> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        let mut seen = self.seen.lock().unwrap();
        seen.sent.push(r.text.clone());
        let mut m = message(&format!("m{}", seen.sent.len()), &r.text, 1_700_000_500);
        m.own = true;
        Ok(Response::new(m))
    }
    async fn list_messages(
        &self,
        r: Request<api::ListMessagesRequest>,
    ) -> Reply<api::ListMessagesResponse> {
        let r = r.into_inner();
        resolve(&r.circle)?;
        Ok(Response::new(api::ListMessagesResponse {
            messages: vec![
                message("m1", "hello", 1_700_000_000),
                message("m2", "two\nlines", 1_700_000_060),
            ],
            next_before: if r.limit == 2 {
                "cursor-1".into()
            } else {
                String::new()
            },
        }))
    }
    async fn list_peers(&self, _: Request<api::ListPeersRequest>) -> Reply<api::ListPeersResponse> {
        Ok(Response::new(api::ListPeersResponse { peers: vec![] }))
    }

    type SubscribeStream = Pin<Box<dyn Stream<Item = Result<api::Event, Status>> + Send>>;

    /// Every kind of event once; then the stream ends, except for the circle
    /// selector "forever", which keeps it open.
    async fn subscribe(&self, r: Request<api::SubscribeRequest>) -> Reply<Self::SubscribeStream> {
        let events = tokio_stream::iter(all_events().into_iter().map(Ok));
        if r.into_inner().circle == "forever" {
            Ok(Response::new(Box::pin(
                events.chain(tokio_stream::pending()),
            )))
        } else {
            Ok(Response::new(Box::pin(events)))
        }
    }
}

/// A running mock daemon; dies abruptly (connections cut) when dropped.
pub struct MockDaemon {
    /// Its socket path.
    pub socket: PathBuf,
    /// What it was sent.
    pub seen: Arc<Mutex<Seen>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl MockDaemon {
    /// Start serving on a fresh socket in a temp dir.
    pub fn start() -> MockDaemon {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("felundd.sock");
        let mock = Mock::default();
        let seen = mock.seen.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let path = socket.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::UnixListener::bind(&path).unwrap();
                ready_tx.send(()).unwrap();
                let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
                let server = tonic::transport::Server::builder()
                    .add_service(FelundServer::new(mock))
                    .serve_with_incoming(incoming);
                tokio::spawn(server);
                let _ = stopped.await;
            });
            // Dropping the runtime cancels the server and every connection at once,
            // like a daemon that dies.
        });
        ready_rx.recv().unwrap();
        MockDaemon {
            socket,
            seen,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for MockDaemon {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
