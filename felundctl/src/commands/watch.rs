//! `watch`: print live events until Ctrl-C (or SIGTERM), or until felundd ends the
//! stream. Both are a normal end (exit 0); a broken stream is an error.

use std::io::Write;

use felund_client::api::{self, channel_event, circle_event, event};
use felund_client::ApiClient;
use tokio::signal::unix::{signal, SignalKind};

use crate::human::{clean_line, message_line, or_dash, short};
use crate::output::{self, Out};

/// `watch [--circle-id C]`: Subscribe.
pub async fn watch(
    client: &mut ApiClient,
    out: &Out,
    circle: Option<String>,
) -> anyhow::Result<()> {
    // Handlers go in before subscribing, so an early Ctrl-C is a clean exit too.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let req = api::SubscribeRequest {
        circle: circle.unwrap_or_default(),
    };
    let subscribe = client.subscribe(req);
    let mut stream = tokio::select! {
        r = subscribe => r?.into_inner(),
        _ = interrupt.recv() => return Ok(()),
        _ = terminate.recv() => return Ok(()),
    };
    loop {
        let next = tokio::select! {
            next = stream.message() => next?,
            _ = interrupt.recv() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
        };
        let Some(ev) = next else {
            if !out.is_json() {
                let _ = writeln!(std::io::stderr(), "felundd closed the event stream.");
            }
            return Ok(());
        };
        if out.is_json() {
            if let Some(json) = output::event(&ev) {
                out.json(&json)?;
            }
        } else if let Some(line) = event_line(&ev) {
            out.line(line)?;
        }
    }
}

/// One line of text for an event; `None` for a kind this build does not know.
fn event_line(ev: &api::Event) -> Option<String> {
    Some(match ev.kind.as_ref()? {
        event::Kind::Message(m) => {
            let context = format!(
                "{} #{} ",
                clean_line(short(&m.circle_id)),
                clean_line(&m.channel_id)
            );
            message_line(m, &context)
        }
        event::Kind::Channel(c) => channel_line(c),
        event::Kind::Circle(c) => {
            let circle = c.circle.clone().unwrap_or_default();
            let id = clean_line(&circle.circle_id);
            match c.kind() {
                circle_event::Kind::Joined => {
                    format!("* joined circle {id} ({})", or_dash(&circle.name))
                }
                circle_event::Kind::Left => format!("* left circle {id}"),
                circle_event::Kind::Renamed => {
                    format!("* circle {id} is now named {}", or_dash(&circle.name))
                }
                circle_event::Kind::Unspecified => format!("* circle {id} changed"),
            }
        }
        event::Kind::Peer(p) => {
            let peer = p.peer.clone().unwrap_or_default();
            let circle_id = if peer.circle_id.is_empty() {
                &p.circle_id
            } else {
                &peer.circle_id
            };
            format!(
                "* peer {} ({}) at {} in circle {}",
                clean_line(short(&peer.node_id)),
                or_dash(&peer.display_name),
                or_dash(&peer.addr),
                clean_line(short(circle_id))
            )
        }
        event::Kind::DisplayName(d) => format!(
            "* {} is now known as {}",
            clean_line(short(&d.node_id)),
            or_dash(&d.display_name)
        ),
        event::Kind::Lagged(l) => format!(
            "! {} events were missed (this watcher fell behind); re-list to catch up",
            l.missed
        ),
    })
}

/// Text for a channel event.
fn channel_line(c: &api::ChannelEvent) -> String {
    let ch = format!("#{}", clean_line(&c.channel_id));
    let circle = clean_line(short(&c.circle_id));
    let node = clean_line(short(&c.node_id));
    match c.kind() {
        channel_event::Kind::Created if c.node_id.is_empty() => {
            format!("* {ch} created in circle {circle}")
        }
        channel_event::Kind::Created => format!("* {ch} created in circle {circle} by {node}"),
        channel_event::Kind::MemberJoined => format!("* {node} joined {ch} in circle {circle}"),
        channel_event::Kind::MemberLeft => format!("* {node} left {ch} in circle {circle}"),
        channel_event::Kind::Requested => format!(
            "* {node} asks to join {ch} in circle {circle} (felundctl channel approve {} {} -c {circle})",
            clean_line(&c.channel_id),
            clean_line(&c.node_id)
        ),
        channel_event::Kind::Approved => {
            format!("* {node} was approved into {ch} in circle {circle}")
        }
        channel_event::Kind::Unspecified => format!("* {ch} changed in circle {circle}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_for_each_event_kind() {
        let msg = api::Event {
            kind: Some(event::Kind::Message(api::Message {
                circle_id: "0123456789abcdef".into(),
                channel_id: "general".into(),
                display_name: "alice".into(),
                text: "hi".into(),
                created_ts: 1_700_000_000,
                ..Default::default()
            })),
        };
        let line = event_line(&msg).unwrap();
        assert!(line.ends_with("] 01234567 #general alice: hi"), "{line}");

        let req = api::Event {
            kind: Some(event::Kind::Channel(api::ChannelEvent {
                kind: channel_event::Kind::Requested as i32,
                circle_id: "c1".into(),
                channel_id: "ops".into(),
                node_id: "n1".into(),
            })),
        };
        let line = event_line(&req).unwrap();
        assert!(line.contains("channel approve ops n1 -c c1"), "{line}");

        let lagged = api::Event {
            kind: Some(event::Kind::Lagged(api::Lagged { missed: 3 })),
        };
        assert!(event_line(&lagged).unwrap().starts_with("! 3 events"));
        assert!(event_line(&api::Event { kind: None }).is_none());
    }
}
