//! Running a parsed slash command: local ones answer at once from the cache,
//! the rest become [`Request`]s whose answers [`super::events`] handles.

use super::{App, ChannelKey, Effect, Modal, NoticeKind};
use crate::commands::{self, Command};
use crate::event::Request;
use crate::model::Access;
use crate::text::{sanitize_line, short_id};

/// What to say when a command needs a circle and there is none.
const NO_CIRCLE: &str =
    "No active circle. Create one with /circle create <name> or join one with /join <code>.";

impl App {
    /// Runs a command; returns the effects (requests) it needs.
    pub(super) fn run(&mut self, cmd: Command) -> Vec<Effect> {
        let circle = self.active.as_ref().map(|k| k.circle.clone());
        let request = |r: Request| vec![Effect::Request(r)];
        match cmd {
            Command::Help(None) => self.modal = Some(Modal::help()),
            Command::Help(Some(topic)) => {
                for line in commands::help_lines(Some(&topic)) {
                    self.notice(NoticeKind::Info, line);
                }
            }
            Command::Quit => return vec![Effect::Quit],
            Command::Settings => self.open_settings(),
            Command::Invite => return self.open_invite(),
            Command::Join(code) => return request(Request::JoinCircle { code }),
            Command::CircleCreate(name) => return request(Request::CreateCircle { name }),
            Command::Debug => return request(Request::Debug),
            Command::Search { query, all: true } => return self.start_search(query, None),
            Command::Circles => self.list_circles(),
            Command::Channels => self.list_channels(),
            Command::Name(None) => {
                let text = match &self.node {
                    Some(n) => format!(
                        "Your display name is {} (node {}). Change it with /name <new name>.",
                        show_name(&n.display_name),
                        short_id(&n.node_id)
                    ),
                    None => "Not connected to felundd yet.".to_string(),
                };
                self.notice(NoticeKind::Info, text);
            }
            Command::Name(Some(name)) => return request(Request::SetDisplayName { name }),
            Command::CircleSwitch(query) => match self.cache.find_circle(&query) {
                Some(c) => {
                    let id = c.id.clone();
                    return self.switch_to_circle(&id);
                }
                None => self.notice(
                    NoticeKind::Error,
                    format!(
                        "No circle matches '{}'; /circles lists them.",
                        sanitize_line(&query)
                    ),
                ),
            },
            other => {
                let Some(circle) = circle else {
                    self.notice(NoticeKind::Error, NO_CIRCLE);
                    return Vec::new();
                };
                return self.run_in_circle(other, circle);
            }
        }
        Vec::new()
    }

    /// Commands that act on the active circle.
    fn run_in_circle(&mut self, cmd: Command, circle: String) -> Vec<Effect> {
        let request = |r: Request| vec![Effect::Request(r)];
        match cmd {
            Command::CircleName(name) => request(Request::RenameCircle { circle, name }),
            Command::CircleLeave => {
                let label = self
                    .cache
                    .circle(&circle)
                    .map(|c| c.label())
                    .unwrap_or_default();
                self.modal = Some(Modal::Confirm {
                    prompt: format!(
                        "Leave circle '{label}'? This node forgets its secret, channels, peers and messages."
                    ),
                    on_yes: Request::LeaveCircle { circle, label },
                });
                Vec::new()
            }
            Command::ChannelCreate { name, access, key } => request(Request::CreateChannel {
                circle,
                channel: name,
                access,
                key,
            }),
            Command::ChannelJoin { name, key } => request(Request::JoinChannel {
                circle,
                channel: name,
                key,
            }),
            Command::ChannelLeave(name) => request(Request::LeaveChannel {
                circle,
                channel: name,
            }),
            Command::ChannelApprove { name, node_id } => request(Request::Approve {
                circle,
                channel: name,
                node_id,
            }),
            Command::ChannelSwitch(name) => {
                match self.switch_if_known(ChannelKey::new(&circle, &name)) {
                    Some(fx) => fx,
                    None => {
                        self.notice(
                            NoticeKind::Error,
                            format!(
                                "No channel #{} in this circle; /channels lists them, /channel create {0} makes it.",
                                sanitize_line(&name)
                            ),
                        );
                        Vec::new()
                    }
                }
            }
            Command::Who(channel) => request(Request::Who { circle, channel }),
            Command::Search { query, .. } => self.start_search(query, Some(circle)),
            _ => Vec::new(),
        }
    }

    /// `/circles`: from the cache.
    fn list_circles(&mut self) {
        if self.cache.circles.is_empty() {
            self.notice(NoticeKind::Info, NO_CIRCLE);
            return;
        }
        let me = self.my_id().to_string();
        let active = self.active.as_ref().map(|k| k.circle.clone());
        let lines: Vec<String> = self
            .cache
            .circles
            .iter()
            .map(|c| {
                let mark = if Some(&c.id) == active.as_ref() {
                    "●"
                } else {
                    "○"
                };
                let peers = self.cache.peer_count(&c.id, &me);
                format!(
                    "{mark} {} [{}] — {} member{}, {peers} peer{}",
                    c.label(),
                    short_id(&c.id),
                    c.member_count,
                    if c.member_count == 1 { "" } else { "s" },
                    if peers == 1 { "" } else { "s" }
                )
            })
            .collect();
        self.notice(NoticeKind::Info, format!("{} circle(s):", lines.len()));
        for l in lines {
            self.notice(NoticeKind::Info, l);
        }
    }

    /// `/channels`: from the cache.
    fn list_channels(&mut self) {
        let Some(active) = self.active.clone() else {
            self.notice(NoticeKind::Error, NO_CIRCLE);
            return;
        };
        let lines: Vec<String> = self
            .cache
            .channels_of(&active.circle)
            .iter()
            .map(|c| {
                let status = if c.joined {
                    "joined"
                } else if c.requested {
                    "requested"
                } else {
                    "not joined"
                };
                let mut line = format!(
                    "{} #{} — {}, {status}, {} member{}",
                    if c.id == active.channel { "→" } else { " " },
                    sanitize_line(&c.id),
                    c.access.as_str(),
                    c.member_count,
                    if c.member_count == 1 { "" } else { "s" }
                );
                if !c.pending.is_empty() {
                    let who: Vec<String> = c
                        .pending
                        .iter()
                        .map(|n| self.cache.name_of(n, short_id(n)))
                        .collect();
                    line.push_str(&format!(" (asking to join: {})", who.join(", ")));
                }
                if c.access == Access::Invite && !c.joined && !c.requested {
                    line.push_str(" — /channel join asks the members");
                }
                line
            })
            .collect();
        for l in lines {
            self.notice(NoticeKind::Info, l);
        }
    }
}

/// A display name for messages, `(none)` when empty.
pub(super) fn show_name(name: &str) -> String {
    let n = sanitize_line(name);
    if n.is_empty() {
        "(none)".into()
    } else {
        format!("'{n}'")
    }
}
