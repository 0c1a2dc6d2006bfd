//! Channels and members: `channels`, `channel create|join|leave|approve`, `who`.

use felund_client::{api, ApiClient};

use crate::cli::Access;
use crate::human::{clean_line, or_dash, table};
use crate::output::{self, access_mode_name, Out};

/// The API's access mode for a `--access` value.
fn access_mode(access: Access) -> api::AccessMode {
    match access {
        Access::Public => api::AccessMode::Public,
        Access::Key => api::AccessMode::Key,
        Access::Invite => api::AccessMode::Invite,
    }
}

/// `#name` of a channel, for text output.
fn hash(channel_id: &str) -> String {
    format!("#{}", clean_line(channel_id))
}

/// `channels --circle-id C`: ListChannels.
pub async fn list(client: &mut ApiClient, out: &Out, circle: String) -> anyhow::Result<()> {
    let channels = client
        .list_channels(api::ListChannelsRequest { circle })
        .await?
        .into_inner()
        .channels;
    if out.is_json() {
        for c in &channels {
            out.json(&output::channel(c))?;
        }
        return Ok(());
    }
    let mut rows = vec![[
        "CHANNEL",
        "ACCESS",
        "STATUS",
        "MEMBERS",
        "UNREAD",
        "PENDING REQUESTS",
    ]
    .map(String::from)
    .to_vec()];
    rows.extend(channels.iter().map(|c| {
        let status = if c.joined {
            "joined"
        } else if c.requested {
            "requested"
        } else {
            "-"
        };
        let pending = c
            .pending_requests
            .iter()
            .map(|n| clean_line(n))
            .collect::<Vec<_>>()
            .join(",");
        vec![
            hash(&c.channel_id),
            access_mode_name(c.access_mode()).to_string(),
            status.to_string(),
            c.member_count.to_string(),
            match (c.unread_count, c.unread_mentions) {
                (0, _) => "-".to_string(),
                (n, 0) => n.to_string(),
                (n, m) => format!("{n} (@{m})"),
            },
            or_dash(&pending),
        ]
    }));
    for line in table(&rows) {
        out.line(line)?;
    }
    Ok(())
}

/// `read --circle-id C [--channel CH]`: marks the channel read up to its newest message
/// (MarkRead), for every client of this node.
pub async fn read(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
) -> anyhow::Result<()> {
    let newest = client
        .list_messages(api::ListMessagesRequest {
            circle: circle.clone(),
            channel: channel.clone(),
            limit: 1,
            ..Default::default()
        })
        .await?
        .into_inner()
        .messages;
    let seq = newest.last().map_or(0, |m| m.seq);
    let ch = client
        .mark_read(api::MarkReadRequest {
            circle,
            channel,
            seq,
        })
        .await?
        .into_inner();
    if out.is_json() {
        return out.json(&output::channel(&ch));
    }
    Ok(out.line(format!("#{} read.", clean_line(&ch.channel_id)))?)
}

/// `channel create NAME --circle-id C [--access A] [--key K]`: CreateChannel.
pub async fn create(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
    access: Access,
    key: Option<String>,
) -> anyhow::Result<()> {
    let req = api::CreateChannelRequest {
        circle,
        channel,
        access_mode: access_mode(access) as i32,
        key: key.unwrap_or_default(),
    };
    let created = client.create_channel(req).await?.into_inner();
    if out.is_json() {
        return out.json(&output::channel(&created));
    }
    Ok(out.line(format!(
        "Created {} ({}) in circle {}.",
        hash(&created.channel_id),
        access_mode_name(created.access_mode()),
        clean_line(&created.circle_id)
    ))?)
}

/// `channel join NAME --circle-id C [--key K]`: JoinChannel.
pub async fn join(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
    key: Option<String>,
) -> anyhow::Result<()> {
    let req = api::JoinChannelRequest {
        circle,
        channel: channel.clone(),
        key: key.unwrap_or_default(),
    };
    let joined = client.join_channel(req).await?.into_inner();
    if out.is_json() {
        return out.json(&output::joined_channel(&joined));
    }
    let name = joined
        .channel
        .as_ref()
        .map_or_else(|| hash(&channel), |c| hash(&c.channel_id));
    if joined.requested {
        out.line(format!(
            "Asked to join {name}: it is invite-only, so a member must approve the request."
        ))?;
    } else {
        out.line(format!("Joined {name}."))?;
    }
    Ok(())
}

/// `channel leave NAME --circle-id C`: LeaveChannel.
pub async fn leave(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
) -> anyhow::Result<()> {
    let left = client
        .leave_channel(api::LeaveChannelRequest { circle, channel })
        .await?
        .into_inner();
    if out.is_json() {
        return out.json(&output::channel(&left));
    }
    Ok(out.line(format!("Left {}.", hash(&left.channel_id)))?)
}

/// `channel approve NAME NODE_ID --circle-id C`: ApproveChannelRequest.
pub async fn approve(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
    node_id: String,
) -> anyhow::Result<()> {
    let req = api::ApproveChannelRequestRequest {
        circle,
        channel,
        node_id: node_id.clone(),
    };
    let approved = client.approve_channel_request(req).await?.into_inner();
    if out.is_json() {
        return out.json(&output::channel(&approved));
    }
    Ok(out.line(format!(
        "Approved {} into {}.",
        clean_line(&node_id),
        hash(&approved.channel_id)
    ))?)
}

/// `who --circle-id C [--channel CH]`: ListMembers.
pub async fn who(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: Option<String>,
) -> anyhow::Result<()> {
    let req = api::ListMembersRequest {
        circle,
        channel: channel.unwrap_or_default(),
    };
    let members = client.list_members(req).await?.into_inner().members;
    if out.is_json() {
        for m in &members {
            out.json(&output::member(m))?;
        }
        return Ok(());
    }
    let mut rows = vec![["NAME", "NODE", ""].map(String::from).to_vec()];
    rows.extend(members.iter().map(|m| {
        vec![
            or_dash(&m.display_name),
            clean_line(&m.node_id),
            if m.is_self { "(you)" } else { "" }.to_string(),
        ]
    }));
    for line in table(&rows) {
        out.line(line.trim_end())?;
    }
    Ok(())
}
