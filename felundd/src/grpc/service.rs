//! The `felund.v1.Felund` service: each RPC unpacks its request, calls the node and
//! converts the answer. No logic of its own beyond that.

use std::pin::Pin;

use felund_proto::v1 as api;
use felund_proto::v1::felund_server::Felund;
use tokio::sync::watch;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::convert;
use crate::counters::Counters;
use crate::events::NodeEvent;
use crate::node::Node;

/// The gRPC face of a [`Node`].
#[derive(Clone)]
pub struct FelundService {
    node: Node,
    stopping: watch::Receiver<bool>,
}

impl FelundService {
    /// Serves `node`. When `stopping` turns true, every `Subscribe` stream ends, so
    /// graceful shutdown does not wait on clients that would listen forever.
    pub fn new(node: Node, stopping: watch::Receiver<bool>) -> Self {
        Self { node, stopping }
    }

    fn me(&self) -> &str {
        self.node.node_id()
    }

    /// The events replaying what was stored after `after_seq` (none when 0), and the
    /// last seq they cover. More than [`MAX_REPLAY`] missed messages end in a `Lagged`
    /// event, as for a subscriber that fell behind.
    async fn replay(
        &self,
        after_seq: u64,
        circle: Option<String>,
    ) -> Result<(Vec<api::Event>, i64), Status> {
        let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
        if after == 0 {
            return Ok((Vec::new(), 0));
        }
        let mut missed = self
            .node
            .messages_stored_after(after, circle, MAX_REPLAY + 1)
            .await?;
        let overflow = missed.len() > MAX_REPLAY;
        missed.truncate(MAX_REPLAY);
        let last = missed.last().map_or(after, |m| m.seq);
        let me = self.me();
        let mut events: Vec<api::Event> = missed
            .into_iter()
            .map(|m| convert::event(NodeEvent::Message(m), me))
            .collect();
        if overflow {
            events.push(convert::lagged(1));
        }
        Ok((events, last))
    }
}

/// Most messages one `Subscribe` replays after `after_seq`.
const MAX_REPLAY: usize = 10_000;

type Rpc<T> = Result<Response<T>, Status>;

/// How long `JoinCircle` waits for the first sync with the invite's peer: a reachable
/// peer answers in milliseconds; an unreachable one fails fast or hits the connect
/// timeout.
const JOIN_BOOTSTRAP_WAIT: std::time::Duration = std::time::Duration::from_secs(8);

/// Counts one attached `Subscribe` client for as long as it exists.
struct SubscriberGuard(std::sync::Arc<Counters>);

impl SubscriberGuard {
    fn new(counters: &std::sync::Arc<Counters>) -> Self {
        Counters::add(&counters.api_subscribers, 1);
        Self(std::sync::Arc::clone(counters))
    }
}

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        Counters::dec(&self.0.api_subscribers);
    }
}

/// The stream type of `Subscribe`.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<api::Event, Status>> + Send>>;

#[tonic::async_trait]
impl Felund for FelundService {
    async fn get_node_info(&self, _: Request<api::GetNodeInfoRequest>) -> Rpc<api::NodeInfo> {
        Ok(Response::new(convert::node_info(self.node.info().await?)))
    }

    async fn set_display_name(
        &self,
        req: Request<api::SetDisplayNameRequest>,
    ) -> Rpc<api::NodeInfo> {
        self.node
            .set_display_name(&req.into_inner().display_name)
            .await?;
        Ok(Response::new(convert::node_info(self.node.info().await?)))
    }

    async fn set_relay(&self, req: Request<api::SetRelayRequest>) -> Rpc<api::NodeInfo> {
        let url = req.into_inner().relay_url;
        self.node.set_relay_url(Some(&url)).await?;
        Ok(Response::new(convert::node_info(self.node.info().await?)))
    }

    async fn create_circle(
        &self,
        req: Request<api::CreateCircleRequest>,
    ) -> Rpc<api::CreateCircleResponse> {
        let (summary, code) = self.node.create_circle(&req.into_inner().name).await?;
        Ok(Response::new(api::CreateCircleResponse {
            circle: Some(convert::circle(summary)),
            invite_code: code,
        }))
    }

    async fn join_circle(
        &self,
        req: Request<api::JoinCircleRequest>,
    ) -> Rpc<api::JoinCircleResponse> {
        let out = self
            .node
            .join_circle_and_wait(&req.into_inner().code, JOIN_BOOTSTRAP_WAIT)
            .await?;
        let (peer_reached, peer_error) = match out.bootstrap {
            Some(Ok(())) => (true, String::new()),
            Some(Err(e)) => (false, e),
            None => (false, String::new()),
        };
        Ok(Response::new(api::JoinCircleResponse {
            circle: Some(convert::circle(out.circle)),
            newly_joined: out.newly_joined,
            peer: out.peer,
            peer_reached,
            peer_error,
        }))
    }

    async fn leave_circle(
        &self,
        req: Request<api::LeaveCircleRequest>,
    ) -> Rpc<api::LeaveCircleResponse> {
        let circle_id = self.node.leave_circle(&req.into_inner().circle).await?;
        Ok(Response::new(api::LeaveCircleResponse { circle_id }))
    }

    async fn rename_circle(&self, req: Request<api::RenameCircleRequest>) -> Rpc<api::Circle> {
        let r = req.into_inner();
        Ok(Response::new(convert::circle(
            self.node.rename_circle(&r.circle, &r.name).await?,
        )))
    }

    async fn get_invite_code(
        &self,
        req: Request<api::GetInviteCodeRequest>,
    ) -> Rpc<api::InviteCode> {
        let (circle_id, code) = self.node.invite_code(&req.into_inner().circle).await?;
        Ok(Response::new(api::InviteCode {
            circle_id,
            code,
            peer: self.node.settings().advertise_addr.clone(),
        }))
    }

    async fn list_circles(
        &self,
        _: Request<api::ListCirclesRequest>,
    ) -> Rpc<api::ListCirclesResponse> {
        let circles = self.node.list_circles().await?;
        Ok(Response::new(api::ListCirclesResponse {
            circles: circles.into_iter().map(convert::circle).collect(),
        }))
    }

    async fn list_channels(
        &self,
        req: Request<api::ListChannelsRequest>,
    ) -> Rpc<api::ListChannelsResponse> {
        let channels = self.node.list_channels(&req.into_inner().circle).await?;
        Ok(Response::new(api::ListChannelsResponse {
            channels: channels
                .into_iter()
                .map(|c| convert::channel(c, self.me()))
                .collect(),
        }))
    }

    async fn create_channel(&self, req: Request<api::CreateChannelRequest>) -> Rpc<api::Channel> {
        let r = req.into_inner();
        let mode = convert::access_mode_from_api(r.access_mode)?;
        let ch = self
            .node
            .create_channel(&r.circle, &r.channel, mode, &r.key)
            .await?;
        Ok(Response::new(convert::channel(ch, self.me())))
    }

    async fn join_channel(
        &self,
        req: Request<api::JoinChannelRequest>,
    ) -> Rpc<api::JoinChannelResponse> {
        let r = req.into_inner();
        let (ch, requested) = self
            .node
            .join_channel(&r.circle, &r.channel, &r.key)
            .await?;
        Ok(Response::new(api::JoinChannelResponse {
            channel: Some(convert::channel(ch, self.me())),
            requested,
        }))
    }

    async fn leave_channel(&self, req: Request<api::LeaveChannelRequest>) -> Rpc<api::Channel> {
        let r = req.into_inner();
        let ch = self.node.leave_channel(&r.circle, &r.channel).await?;
        Ok(Response::new(convert::channel(ch, self.me())))
    }

    async fn approve_channel_request(
        &self,
        req: Request<api::ApproveChannelRequestRequest>,
    ) -> Rpc<api::Channel> {
        let r = req.into_inner();
        let ch = self
            .node
            .approve_request(&r.circle, &r.channel, &r.node_id)
            .await?;
        Ok(Response::new(convert::channel(ch, self.me())))
    }

    async fn mark_read(&self, req: Request<api::MarkReadRequest>) -> Rpc<api::Channel> {
        let r = req.into_inner();
        let seq =
            i64::try_from(r.seq).map_err(|_| Status::invalid_argument("seq is out of range"))?;
        let ch = self.node.mark_read(&r.circle, &r.channel, seq).await?;
        Ok(Response::new(convert::channel(ch, self.me())))
    }

    async fn list_members(
        &self,
        req: Request<api::ListMembersRequest>,
    ) -> Rpc<api::ListMembersResponse> {
        let r = req.into_inner();
        let members = self.node.members(&r.circle, &r.channel).await?;
        Ok(Response::new(api::ListMembersResponse {
            members: members
                .into_iter()
                .map(|m| convert::member(m, self.me()))
                .collect(),
        }))
    }

    async fn send_message(&self, req: Request<api::SendMessageRequest>) -> Rpc<api::Message> {
        let r = req.into_inner();
        let m = self
            .node
            .send_message(&r.circle, &r.channel, &r.text)
            .await?;
        Ok(Response::new(convert::message(m, self.me())))
    }

    type SendMessagesStream = super::send_stream::SendStream;

    async fn send_messages(
        &self,
        req: Request<tonic::Streaming<api::SendMessageRequest>>,
    ) -> Rpc<Self::SendMessagesStream> {
        Ok(Response::new(super::send_stream::serve(
            self.node.clone(),
            req.into_inner(),
        )))
    }

    async fn list_messages(
        &self,
        req: Request<api::ListMessagesRequest>,
    ) -> Rpc<api::ListMessagesResponse> {
        let r = req.into_inner();
        let page = self
            .node
            .list_messages(
                &r.circle,
                &r.channel,
                r.limit,
                crate::node::PageRequest {
                    before: &r.before,
                    after: &r.after,
                    from_start: r.from_start,
                },
            )
            .await?;
        Ok(Response::new(api::ListMessagesResponse {
            messages: page
                .messages
                .into_iter()
                .map(|m| convert::message(m, self.me()))
                .collect(),
            next_before: page.next_before.unwrap_or_default(),
            next_after: page.next_after.unwrap_or_default(),
        }))
    }

    async fn list_peers(&self, req: Request<api::ListPeersRequest>) -> Rpc<api::ListPeersResponse> {
        let selector = req.into_inner().circle;
        let peers = self.node.list_peers(&selector).await?;
        // Browsers connected over a DataChannel are peers too, while connected.
        let circle = match selector.trim() {
            "" => None,
            s => Some(self.node.resolve_circle(s).await?.circle_id),
        };
        let browsers = self.node.datachannel_peers(circle.as_deref()).await?;
        let now = crate::node::now_ts();
        let mut out: Vec<api::Peer> = peers.into_iter().map(convert::peer).collect();
        out.extend(
            browsers
                .into_iter()
                .map(|p| convert::datachannel_as_peer(p, now)),
        );
        Ok(Response::new(api::ListPeersResponse { peers: out }))
    }

    async fn search_messages(
        &self,
        req: Request<api::SearchMessagesRequest>,
    ) -> Rpc<api::SearchMessagesResponse> {
        let r = req.into_inner();
        let found = self
            .node
            .search_messages(&r.query, &r.circle, &r.channel, r.limit)
            .await?;
        Ok(Response::new(api::SearchMessagesResponse {
            messages: found
                .into_iter()
                .map(|m| convert::message(m, self.me()))
                .collect(),
        }))
    }

    async fn import_state(
        &self,
        req: Request<api::ImportStateRequest>,
    ) -> Rpc<api::ImportStateResponse> {
        let report = self
            .node
            .import_reference_state(req.into_inner().state_json)
            .await?;
        Ok(Response::new(convert::import_report(report)))
    }

    type SubscribeStream = EventStream;

    async fn subscribe(&self, req: Request<api::SubscribeRequest>) -> Rpc<Self::SubscribeStream> {
        let req = req.into_inner();
        // Subscribe before resolving and replaying so nothing published meanwhile is
        // missed; replayed messages are dropped from the live part below.
        let rx = self.node.events().subscribe();
        let filter = if req.circle.trim().is_empty() {
            None
        } else {
            Some(self.node.resolve_circle(&req.circle).await?.circle_id)
        };
        let me = self.me().to_string();
        let (backlog, replayed_to) = self.replay(req.after_seq, filter.clone()).await?;
        let events = BroadcastStream::new(rx).filter_map(move |item| match item {
            Ok(event) if matches!(&*event, NodeEvent::Message(m) if m.seq <= replayed_to) => None,
            Ok(event) => {
                let wanted = match (&filter, event.circle_id()) {
                    (Some(f), Some(c)) => f == c,
                    _ => true,
                };
                wanted.then(|| Ok(convert::event_ref(&event, &me)))
            }
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "a subscriber lagged; told it to re-list");
                Some(Ok(convert::lagged(n)))
            }
        });
        // End the stream when the daemon stops: merge in a `None` sentinel.
        let stop = WatchStream::new(self.stopping.clone())
            .filter(|stopping| *stopping)
            .map(|_| None);
        let attached = SubscriberGuard::new(self.node.counters());
        let stream = tokio_stream::iter(backlog.into_iter().map(Ok))
            .chain(events)
            .map(Some)
            .merge(stop)
            .take_while(Option::is_some)
            .filter_map(move |item| {
                // Lives as long as the stream: counts this client while attached.
                let _ = &attached;
                item
            });
        Ok(Response::new(Box::pin(stream)))
    }
}
