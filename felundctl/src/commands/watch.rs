//! `watch`: print live events until Ctrl-C (or SIGTERM), or until felundd ends the
//! stream. Both are a normal end (exit 0); a broken stream is an error — unless
//! `--follow` is given: then felundd going away (a restart, say) is waited out and the
//! stream resumes where it stopped, replaying what was stored meanwhile (felundd's
//! `after_seq`), so no message is missed or printed twice.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use felund_client::api::{self, channel_event, circle_event, event};
use felund_client::retry::Backoff;
use felund_client::{connect, ApiClient};
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::human::{clean_line, message_line, or_dash, short, CircleNames};
use crate::output::{self, Out};

/// Waits between reconnection attempts with `--follow`.
const RECONNECT: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));

/// Ctrl-C and SIGTERM: either ends `watch` normally.
struct Stop {
    interrupt: Signal,
    terminate: Signal,
}

impl Stop {
    async fn requested(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// How one subscription ended.
enum Ended {
    /// Ctrl-C or SIGTERM.
    Stopped,
    /// felundd ended the stream (it is stopping).
    Closed,
}

/// `watch [--circle-id C] [--follow]`: Subscribe.
pub async fn watch(
    client: &mut ApiClient,
    socket: &Path,
    out: &Out,
    circle: Option<String>,
    follow: bool,
) -> anyhow::Result<()> {
    // Handlers go in before subscribing, so an early Ctrl-C is a clean exit too.
    let mut stop = Stop {
        interrupt: signal(SignalKind::interrupt())?,
        terminate: signal(SignalKind::terminate())?,
    };
    let circle = circle.unwrap_or_default();
    if !follow {
        return match stream_once(client, out, &circle, 0, &mut stop, &mut 0).await? {
            Ended::Stopped => Ok(()),
            Ended::Closed => {
                say(out, "felundd closed the event stream.");
                Ok(())
            }
        };
    }
    // Everything stored from now on is printed exactly once, across reconnects.
    let mut last_seq = client
        .get_node_info(api::GetNodeInfoRequest {})
        .await?
        .into_inner()
        .last_seq;
    let mut current = client.clone();
    loop {
        let after = last_seq;
        match stream_once(&mut current, out, &circle, after, &mut stop, &mut last_seq).await {
            Ok(Ended::Stopped) => return Ok(()),
            Ok(Ended::Closed) => say(out, "felundd closed the event stream; reconnecting…"),
            Err(e) if is_lost(&e) => say(out, "lost felundd; reconnecting…"),
            Err(e) => return Err(e),
        }
        match reconnect(socket, &mut stop).await {
            Some(c) => current = c,
            None => return Ok(()),
        }
        say(out, "reconnected to felundd; resuming.");
    }
}

/// A note for people on stderr (text mode only: JSON consumers get events only).
fn say(out: &Out, text: &str) {
    if !out.is_json() {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

/// Whether `err` means felundd went away (rather than refused something).
fn is_lost(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<tonic::Status>().is_some_and(|s| {
            matches!(
                s.code(),
                tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
            )
        })
    })
}

/// Dials until felundd answers; `None` when stopped meanwhile.
async fn reconnect(socket: &Path, stop: &mut Stop) -> Option<ApiClient> {
    let mut failures = 0;
    loop {
        if let Ok(c) = connect(socket).await {
            return Some(c);
        }
        failures += 1;
        tokio::select! {
            () = tokio::time::sleep(RECONNECT.delay(failures)) => {}
            () = stop.requested() => return None,
        }
    }
}

/// Subscribes (replaying what was stored after `after_seq`, if not 0) and prints events
/// until the stream ends or a stop is requested; `last_seq` follows the messages
/// printed.
async fn stream_once(
    client: &mut ApiClient,
    out: &Out,
    circle: &str,
    after_seq: u64,
    stop: &mut Stop,
    last_seq: &mut u64,
) -> anyhow::Result<Ended> {
    let mut names = if out.is_json() {
        CircleNames::default()
    } else {
        super::circle_names(client).await?
    };
    let req = api::SubscribeRequest {
        circle: circle.to_string(),
        after_seq,
    };
    let mut stream = tokio::select! {
        r = client.subscribe(req) => r?.into_inner(),
        () = stop.requested() => return Ok(Ended::Stopped),
    };
    loop {
        let next = tokio::select! {
            next = stream.message() => next?,
            () = stop.requested() => return Ok(Ended::Stopped),
        };
        let Some(ev) = next else {
            return Ok(Ended::Closed);
        };
        match &ev.kind {
            Some(event::Kind::Message(m)) => *last_seq = (*last_seq).max(m.seq),
            Some(event::Kind::Circle(c)) => {
                if let Some(circle) = &c.circle {
                    names.learn(circle);
                }
            }
            _ => {}
        }
        if out.is_json() {
            if let Some(json) = output::event(&ev) {
                out.json(&json)?;
            }
        } else if let Some(line) = event_line(&ev, &names) {
            out.line(line)?;
        }
    }
}

/// One line of text for an event; `None` for a kind this build does not know.
fn event_line(ev: &api::Event, names: &CircleNames) -> Option<String> {
    Some(match ev.kind.as_ref()? {
        event::Kind::Message(m) => {
            let context = format!(
                "{} #{} ",
                names.label(&m.circle_id),
                clean_line(&m.channel_id)
            );
            message_line(m, &context)
        }
        event::Kind::Channel(c) => channel_line(c, names),
        event::Kind::Circle(c) => {
            let circle = c.circle.clone().unwrap_or_default();
            let id = clean_line(short(&circle.circle_id));
            match c.kind() {
                circle_event::Kind::Joined => {
                    format!("* joined circle {} ({id})", names.label(&circle.circle_id))
                }
                circle_event::Kind::Left => {
                    format!("* left circle {} ({id})", names.label(&circle.circle_id))
                }
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
                or_dash(&peer.display_name),
                clean_line(short(&peer.node_id)),
                or_dash(&peer.addr),
                names.label(circle_id)
            )
        }
        event::Kind::DisplayName(d) => format!(
            "* {} is now known as {}",
            clean_line(short(&d.node_id)),
            or_dash(&d.display_name)
        ),
        event::Kind::Read(r) => format!(
            "* #{} in circle {} was read (on this node)",
            clean_line(&r.channel_id),
            names.label(&r.circle_id)
        ),
        event::Kind::Lagged(l) => format!(
            "! {} events were missed (this watcher fell behind); re-list to catch up",
            l.missed
        ),
    })
}

/// Text for a channel event.
fn channel_line(c: &api::ChannelEvent, names: &CircleNames) -> String {
    let ch = format!("#{}", clean_line(&c.channel_id));
    let circle = names.label(&c.circle_id);
    let node = clean_line(short(&c.node_id));
    match c.kind() {
        channel_event::Kind::Created if c.node_id.is_empty() => {
            format!("* {ch} created in circle {circle}")
        }
        channel_event::Kind::Created => format!("* {ch} created in circle {circle} by {node}"),
        channel_event::Kind::MemberJoined => format!("* {node} joined {ch} in circle {circle}"),
        channel_event::Kind::MemberLeft => format!("* {node} left {ch} in circle {circle}"),
        channel_event::Kind::Requested => format!(
            "* {node} asks to join {ch} in circle {circle} (felundctl channel approve {} {} -c {})",
            clean_line(&c.channel_id),
            clean_line(&c.node_id),
            clean_line(short(&c.circle_id))
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
        let line = event_line(&msg, &CircleNames::default()).unwrap();
        assert!(line.ends_with("] 01234567 #general alice: hi"), "{line}");

        let req = api::Event {
            kind: Some(event::Kind::Channel(api::ChannelEvent {
                kind: channel_event::Kind::Requested as i32,
                circle_id: "c1".into(),
                channel_id: "ops".into(),
                node_id: "n1".into(),
            })),
        };
        let line = event_line(&req, &CircleNames::default()).unwrap();
        assert!(line.contains("channel approve ops n1 -c c1"), "{line}");

        let lagged = api::Event {
            kind: Some(event::Kind::Lagged(api::Lagged { missed: 3 })),
        };
        assert!(event_line(&lagged, &CircleNames::default())
            .unwrap()
            .starts_with("! 3 events"));
        assert!(event_line(&api::Event { kind: None }, &CircleNames::default()).is_none());
    }
}
