//! Circles and peers: `invite`, `code`, `join`, `circles`, `leave`, `rename`, `peers`.

use felund_client::{api, ApiClient};

use crate::human::{clean_line, or_dash, table, time};
use crate::output::{self, Out};

/// A circle's id followed by ` (name)` when it has one.
fn circle_label(c: Option<&api::Circle>, fallback_id: &str) -> String {
    match c {
        Some(c) if !c.name.is_empty() => format!("{} ({})", c.circle_id, clean_line(&c.name)),
        Some(c) => c.circle_id.clone(),
        None => fallback_id.to_string(),
    }
}

/// `invite [--name N]`: CreateCircle.
pub async fn invite(client: &mut ApiClient, out: &Out, name: Option<String>) -> anyhow::Result<()> {
    let typed = name.unwrap_or_default();
    let req = api::CreateCircleRequest {
        name: typed.clone(),
    };
    let created = client.create_circle(req).await?.into_inner();
    if let Some(c) = &created.circle {
        out.note_if_shortened(&typed, &c.name);
    }
    if out.is_json() {
        return out.json(&output::created_circle(&created));
    }
    let circle = created.circle.unwrap_or_default();
    out.line("Circle created.")?;
    out.line(format!(" circle_id   : {}", circle.circle_id))?;
    if !circle.name.is_empty() {
        out.line(format!(" name        : {}", clean_line(&circle.name)))?;
    }
    out.line(format!(" felund_code : {}", created.invite_code))?;
    out.line("")?;
    out.line("Share this join command with a friend:")?;
    out.line(format!("  felundctl join {}", created.invite_code))?;
    out.line(
        "(or `felundctl join -` and paste the code, to keep it out of `ps` and shell history)",
    )?;
    Ok(())
}

/// `code --circle-id C`: GetInviteCode. Prints the bare code.
pub async fn code(client: &mut ApiClient, out: &Out, circle: String) -> anyhow::Result<()> {
    let code = client
        .get_invite_code(api::GetInviteCodeRequest { circle })
        .await?
        .into_inner();
    if out.is_json() {
        return out.json(&output::invite_code(&code));
    }
    Ok(out.line(&code.code)?)
}

/// `join CODE`: JoinCircle.
pub async fn join(client: &mut ApiClient, out: &Out, code: String) -> anyhow::Result<()> {
    let joined = client
        .join_circle(api::JoinCircleRequest { code })
        .await?
        .into_inner();
    if joined.newly_joined && !joined.peer_error.is_empty() {
        out.note(format!(
            "could not reach the peer at {} ({}). felundd keeps trying in the background \
             and syncs as soon as it answers; `felundctl circles` shows the circle as not yet \
             synced until then. If that peer is rarely online, use a relay: `felundctl relay URL`.",
            clean_line(&joined.peer),
            clean_line(&joined.peer_error)
        ));
    }
    if out.is_json() {
        return out.json(&output::joined_circle(&joined));
    }
    let label = circle_label(joined.circle.as_ref(), "");
    if !joined.newly_joined {
        return Ok(out.line(format!("Already in circle {label}."))?);
    }
    out.line(format!("Joined circle {label}."))?;
    if !joined.peer.is_empty() {
        let reached = if joined.peer_reached {
            " (reached, synced)"
        } else {
            ""
        };
        out.line(format!(
            " bootstrap peer : {}{reached}",
            clean_line(&joined.peer)
        ))?;
    }
    Ok(())
}

/// `circles`: ListCircles.
pub async fn list(client: &mut ApiClient, out: &Out) -> anyhow::Result<()> {
    let circles = client
        .list_circles(api::ListCirclesRequest {})
        .await?
        .into_inner()
        .circles;
    if out.is_json() {
        for c in &circles {
            out.json(&output::circle(c))?;
        }
        return Ok(());
    }
    if circles.is_empty() {
        return Ok(out.line(
            "No circles yet: create one with `felundctl invite` or join with `felundctl join CODE`.",
        )?);
    }
    let mut rows = vec![[
        "CIRCLE",
        "NAME",
        "MEMBERS",
        "PEERS",
        "MESSAGES",
        "LAST MESSAGE",
        "SYNCED",
    ]
    .map(String::from)
    .to_vec()];
    rows.extend(circles.iter().map(|c| {
        vec![
            c.circle_id.clone(),
            or_dash(&c.name),
            c.member_count.to_string(),
            c.peer_count.to_string(),
            c.message_count.to_string(),
            time(c.last_message_ts),
            if c.last_sync_ts == 0 {
                "not yet".to_string()
            } else {
                time(c.last_sync_ts)
            },
        ]
    }));
    for line in table(&rows) {
        out.line(line)?;
    }
    Ok(())
}

/// `leave --circle-id C`: LeaveCircle.
pub async fn leave(client: &mut ApiClient, out: &Out, circle: String) -> anyhow::Result<()> {
    let left = client
        .leave_circle(api::LeaveCircleRequest { circle })
        .await?
        .into_inner();
    if out.is_json() {
        return out.json(&output::left_circle(&left));
    }
    Ok(out.line(format!("Left circle {}.", left.circle_id))?)
}

/// `rename --circle-id C NAME`: RenameCircle.
pub async fn rename(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    name: String,
) -> anyhow::Result<()> {
    let renamed = client
        .rename_circle(api::RenameCircleRequest {
            circle,
            name: name.clone(),
        })
        .await?
        .into_inner();
    out.note_if_shortened(&name, &renamed.name);
    if out.is_json() {
        return out.json(&output::circle(&renamed));
    }
    Ok(out.line(format!(
        "Circle {} is now named {}.",
        renamed.circle_id,
        or_dash(&renamed.name)
    ))?)
}

/// `peers [--circle-id C]`: ListPeers.
pub async fn peers(
    client: &mut ApiClient,
    out: &Out,
    circle: Option<String>,
) -> anyhow::Result<()> {
    let req = api::ListPeersRequest {
        circle: circle.unwrap_or_default(),
    };
    let peers = client.list_peers(req).await?.into_inner().peers;
    if out.is_json() {
        for p in &peers {
            out.json(&output::peer(p))?;
        }
        return Ok(());
    }
    if peers.is_empty() {
        return Ok(out.line("No peers known yet.")?);
    }
    let names = super::circle_names(client).await?;
    let mut rows = vec![["NODE", "NAME", "VIA", "ADDRESS", "CIRCLE", "LAST SEEN"]
        .map(String::from)
        .to_vec()];
    rows.extend(peers.iter().map(|p| {
        vec![
            p.node_id.clone(),
            or_dash(&p.display_name),
            via(&p.transport).to_string(),
            or_dash(&p.addr),
            names.label(&p.circle_id),
            time(p.last_seen),
        ]
    }));
    for line in table(&rows) {
        out.line(line)?;
    }
    Ok(())
}

/// The peers table's word for how a peer is reached.
fn via(transport: &str) -> &'static str {
    match transport {
        "datachannel" => "webrtc",
        _ => "tcp",
    }
}
