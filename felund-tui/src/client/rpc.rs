//! The RPCs behind each [`Request`], the listing after connecting, and the
//! conversion of live events into the app's types.

use felund_client::api::{self, channel_event, circle_event, event};
use felund_client::ApiClient;

use crate::event::{
    ChannelChange, CircleChange, LiveEvent, NodeChange, Request, Response, SEARCH_LIMIT,
};
use crate::model::{ChannelView, CircleView, Snapshot};

/// Messages per page of history.
const PAGE: u32 = 100;

/// Lists everything the app shows: node, circles, their channels and members,
/// and known peers.
pub(super) async fn snapshot(c: &mut ApiClient) -> Result<Snapshot, tonic::Status> {
    let node = c
        .get_node_info(api::GetNodeInfoRequest {})
        .await?
        .into_inner();
    let circles = c
        .list_circles(api::ListCirclesRequest {})
        .await?
        .into_inner()
        .circles;
    let mut snap = Snapshot {
        node: node.into(),
        ..Default::default()
    };
    for circle in circles {
        let id = circle.circle_id.clone();
        snap.channels
            .push((id.clone(), list_channels(c, &id).await?));
        let members = c
            .list_members(api::ListMembersRequest {
                circle: id.clone(),
                channel: String::new(),
            })
            .await?
            .into_inner()
            .members;
        snap.members
            .push((id, members.into_iter().map(Into::into).collect()));
        snap.circles.push(circle.into());
    }
    snap.peers = c
        .list_peers(api::ListPeersRequest {
            circle: String::new(),
        })
        .await?
        .into_inner()
        .peers
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(snap)
}

/// A circle's channels, each tagged with the circle id.
async fn list_channels(c: &mut ApiClient, circle: &str) -> Result<Vec<ChannelView>, tonic::Status> {
    let channels = c
        .list_channels(api::ListChannelsRequest {
            circle: circle.to_string(),
        })
        .await?
        .into_inner()
        .channels;
    Ok(channels
        .into_iter()
        .map(|ch| channel_in(ch, circle))
        .collect())
}

/// A channel view, with its circle id filled in when the daemon left it out.
fn channel_in(ch: api::Channel, circle: &str) -> ChannelView {
    let mut v = ChannelView::from(ch);
    if v.circle_id.is_empty() {
        v.circle_id = circle.to_string();
    }
    v
}

/// Performs one request.
pub(super) async fn perform(
    c: &mut ApiClient,
    request: Request,
) -> Result<Response, tonic::Status> {
    Ok(match request {
        Request::LoadMessages {
            circle,
            channel,
            before,
        } => {
            let older = before.is_some();
            let page = c
                .list_messages(api::ListMessagesRequest {
                    circle: circle.clone(),
                    channel: channel.clone(),
                    limit: PAGE,
                    before: before.unwrap_or_default(),
                    ..Default::default()
                })
                .await?
                .into_inner();
            Response::Messages {
                circle,
                channel,
                messages: page.messages.into_iter().map(Into::into).collect(),
                next_before: Some(page.next_before).filter(|s| !s.is_empty()),
                older,
            }
        }
        Request::Send {
            circle,
            channel,
            text,
        } => {
            let req = api::SendMessageRequest {
                circle,
                channel,
                text,
            };
            Response::Sent(c.send_message(req).await?.into_inner().into())
        }
        Request::CreateCircle { name } => {
            let r = c
                .create_circle(api::CreateCircleRequest { name })
                .await?
                .into_inner();
            Response::CircleCreated {
                circle: r.circle.unwrap_or_default().into(),
                code: r.invite_code,
            }
        }
        Request::JoinCircle { code } => {
            let r = c
                .join_circle(api::JoinCircleRequest { code })
                .await?
                .into_inner();
            Response::CircleJoined {
                circle: r.circle.unwrap_or_default().into(),
                newly_joined: r.newly_joined,
                peer: r.peer,
                peer_error: r.peer_error,
            }
        }
        Request::LeaveCircle { circle, label } => {
            let r = c
                .leave_circle(api::LeaveCircleRequest { circle })
                .await?
                .into_inner();
            Response::CircleLeft {
                circle: r.circle_id,
                label,
            }
        }
        Request::RenameCircle { circle, name } => {
            let r = c
                .rename_circle(api::RenameCircleRequest { circle, name })
                .await?
                .into_inner();
            Response::CircleRenamed(r.into())
        }
        Request::Invite { circle } => {
            let r = c
                .get_invite_code(api::GetInviteCodeRequest { circle })
                .await?
                .into_inner();
            Response::Invite {
                circle: r.circle_id,
                code: r.code,
            }
        }
        Request::ListChannels { circle } => Response::Channels {
            channels: list_channels(c, &circle).await?,
            circle,
        },
        Request::CreateChannel {
            circle,
            channel,
            access,
            key,
        } => create_channel(c, circle, channel, access, key).await?,
        Request::JoinChannel {
            circle,
            channel,
            key,
        } => join_channel(c, circle, channel, key).await?,
        Request::LeaveChannel { circle, channel } => {
            let req = api::LeaveChannelRequest {
                circle: circle.clone(),
                channel,
            };
            Response::ChannelLeft(channel_in(
                c.leave_channel(req).await?.into_inner(),
                &circle,
            ))
        }
        Request::Approve {
            circle,
            channel,
            node_id,
        } => approve(c, circle, channel, node_id).await?,
        Request::Who { circle, channel } => Response::Who {
            members: members(c, &circle, channel.as_deref()).await?,
            circle,
            channel,
        },
        Request::RefreshMembers { circle } => Response::Members {
            members: members(c, &circle, None).await?,
            circle,
        },
        Request::SetDisplayName { name } => {
            let req = api::SetDisplayNameRequest { display_name: name };
            Response::Node {
                node: c.set_display_name(req).await?.into_inner().into(),
                change: NodeChange::Name,
            }
        }
        Request::SetRelay { url } => {
            let req = api::SetRelayRequest { relay_url: url };
            Response::Node {
                node: c.set_relay(req).await?.into_inner().into(),
                change: NodeChange::Relay,
            }
        }
        Request::Debug => Response::Node {
            node: c
                .get_node_info(api::GetNodeInfoRequest {})
                .await?
                .into_inner()
                .into(),
            change: NodeChange::Debug,
        },
        Request::Search { query, circle } => search(c, query, circle).await?,
        Request::MarkRead {
            circle,
            channel,
            seq,
        } => {
            let req = api::MarkReadRequest {
                circle: circle.clone(),
                channel,
                seq,
            };
            Response::Marked(channel_in(c.mark_read(req).await?.into_inner(), &circle))
        }
    })
}

async fn create_channel(
    c: &mut ApiClient,
    circle: String,
    channel: String,
    access: crate::model::Access,
    key: Option<String>,
) -> Result<Response, tonic::Status> {
    let req = api::CreateChannelRequest {
        circle: circle.clone(),
        channel,
        access_mode: access.to_api() as i32,
        key: key.unwrap_or_default(),
    };
    Ok(Response::ChannelCreated(channel_in(
        c.create_channel(req).await?.into_inner(),
        &circle,
    )))
}

async fn join_channel(
    c: &mut ApiClient,
    circle: String,
    channel: String,
    key: Option<String>,
) -> Result<Response, tonic::Status> {
    let req = api::JoinChannelRequest {
        circle: circle.clone(),
        channel: channel.clone(),
        key: key.unwrap_or_default(),
    };
    let r = c.join_channel(req).await?.into_inner();
    let mut ch = channel_in(r.channel.unwrap_or_default(), &circle);
    if ch.id.is_empty() {
        ch.id = channel;
    }
    Ok(Response::ChannelJoined {
        channel: ch,
        requested: r.requested,
    })
}

async fn approve(
    c: &mut ApiClient,
    circle: String,
    channel: String,
    node_id: String,
) -> Result<Response, tonic::Status> {
    let req = api::ApproveChannelRequestRequest {
        circle: circle.clone(),
        channel,
        node_id: node_id.clone(),
    };
    let ch = c.approve_channel_request(req).await?.into_inner();
    Ok(Response::Approved {
        channel: channel_in(ch, &circle),
        node_id,
    })
}

/// Members of a circle, or of one of its channels.
async fn members(
    c: &mut ApiClient,
    circle: &str,
    channel: Option<&str>,
) -> Result<Vec<crate::model::Member>, tonic::Status> {
    let req = api::ListMembersRequest {
        circle: circle.to_string(),
        channel: channel.unwrap_or_default().to_string(),
    };
    let members = c.list_members(req).await?.into_inner().members;
    Ok(members.into_iter().map(Into::into).collect())
}

async fn search(
    c: &mut ApiClient,
    query: String,
    circle: Option<String>,
) -> Result<Response, tonic::Status> {
    let req = api::SearchMessagesRequest {
        query: query.clone(),
        circle: circle.clone().unwrap_or_default(),
        channel: String::new(),
        limit: SEARCH_LIMIT,
    };
    let messages = c.search_messages(req).await?.into_inner().messages;
    Ok(Response::SearchResults {
        query,
        circle,
        messages: messages.into_iter().map(Into::into).collect(),
    })
}

/// The app's form of a live event (`Lagged` is handled by the session).
pub(super) fn live_event(kind: event::Kind) -> Option<LiveEvent> {
    Some(match kind {
        event::Kind::Message(m) => LiveEvent::Message(m.into()),
        event::Kind::Channel(c) => LiveEvent::Channel {
            change: match c.kind() {
                channel_event::Kind::Created => ChannelChange::Created,
                channel_event::Kind::MemberJoined => ChannelChange::Joined,
                channel_event::Kind::MemberLeft => ChannelChange::Left,
                channel_event::Kind::Requested => ChannelChange::Requested,
                channel_event::Kind::Approved => ChannelChange::Approved,
                channel_event::Kind::Unspecified => ChannelChange::Other,
            },
            circle: c.circle_id,
            channel: c.channel_id,
            node_id: c.node_id,
        },
        event::Kind::Circle(c) => LiveEvent::Circle {
            change: match c.kind() {
                circle_event::Kind::Joined => CircleChange::Joined,
                circle_event::Kind::Left => CircleChange::Left,
                circle_event::Kind::Renamed => CircleChange::Renamed,
                circle_event::Kind::Unspecified => CircleChange::Other,
            },
            circle: CircleView::from(c.circle.unwrap_or_default()),
        },
        event::Kind::Peer(p) => {
            let mut peer: crate::model::PeerView = p.peer.unwrap_or_default().into();
            if peer.circle_id.is_empty() {
                peer.circle_id = p.circle_id;
            }
            LiveEvent::Peer(peer)
        }
        event::Kind::DisplayName(d) => LiveEvent::DisplayName {
            node_id: d.node_id,
            name: d.display_name,
        },
        event::Kind::Read(r) => LiveEvent::Read {
            circle: r.circle_id,
            channel: r.channel_id,
            read_seq: r.read_seq,
        },
        event::Kind::Lagged(_) => return None,
    })
}
