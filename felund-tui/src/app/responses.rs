//! Answers to requests: what each successful [`Response`] changes and says,
//! and where a failure is reported.

use super::exec::show_name;
use super::{App, ChannelKey, Effect, Modal, NoticeKind};
use crate::event::{NodeChange, Request, Response};
use crate::text::{sanitize_line, short_id};

impl App {
    /// A request succeeded.
    pub(super) fn on_response(&mut self, resp: Response) -> Vec<Effect> {
        match resp {
            Response::Messages {
                circle,
                channel,
                messages,
                next_before,
                older,
            } => {
                let key = ChannelKey::new(&circle, &channel);
                let gap = self
                    .cache
                    .log_mut(&key)
                    .merge_page(messages, next_before, older);
                if let Some(before) = gap {
                    // Still short of what was held before the outage: fetch on.
                    return vec![Effect::Request(Request::LoadMessages {
                        circle,
                        channel,
                        before: Some(before),
                    })];
                }
                if older && self.active.as_ref() == Some(&key) {
                    // Stay at the top of what was shown before, now above the new page.
                    self.clamp_scroll();
                }
                Vec::new()
            }
            Response::Sent(m) => {
                self.add_message(m);
                Vec::new()
            }
            Response::CircleCreated { circle, code } => {
                let id = circle.id.clone();
                let label = circle.label();
                self.cache.upsert_circle(circle);
                let mut fx = refresh_circle(&id);
                fx.extend(self.switch_to_circle(&id));
                self.modal = Some(Modal::invite(&label, Some(code)));
                self.notice(
                    NoticeKind::Info,
                    format!("Circle '{label}' created. Share its invite code (F2) with friends."),
                );
                fx
            }
            Response::CircleJoined {
                circle,
                newly_joined,
                peer,
                peer_error,
            } => {
                let id = circle.id.clone();
                let label = circle.label();
                self.upsert_circle_keep_counts(circle);
                let mut fx = refresh_circle(&id);
                fx.extend(self.switch_to_circle(&id));
                if let Some(Modal::Wizard(_)) = self.modal {
                    self.modal = None;
                }
                let text = if newly_joined {
                    let via = if !peer_error.is_empty() {
                        format!(
                            " Could not reach {} ({}); felundd keeps trying. If that peer is rarely online, set a relay in /settings.",
                            sanitize_line(&peer),
                            sanitize_line(&peer_error)
                        )
                    } else if peer.is_empty() {
                        String::new()
                    } else {
                        format!(" Syncing with {}…", sanitize_line(&peer))
                    };
                    format!("Joined circle '{label}'.{via}")
                } else {
                    format!("You are already in circle '{label}'.")
                };
                self.notice(NoticeKind::Info, text);
                fx
            }
            Response::CircleLeft { circle, label } => {
                let was_active = self.active.as_ref().is_some_and(|k| k.circle == circle);
                self.cache.remove_circle(&circle);
                let fx = if was_active {
                    self.leave_active_circle()
                } else {
                    Vec::new()
                };
                self.notice(NoticeKind::Info, format!("Left circle '{label}'."));
                fx
            }
            Response::CircleRenamed(c) => {
                let label = c.label();
                self.upsert_circle_keep_counts(c);
                self.notice(NoticeKind::Info, format!("Circle renamed to '{label}'."));
                Vec::new()
            }
            Response::Invite { code, .. } => {
                if let Some(Modal::Invite { code: slot, .. }) = self.modal.as_mut() {
                    *slot = Some(code);
                } else {
                    self.notice(NoticeKind::Info, format!("Invite code: {code}"));
                }
                Vec::new()
            }
            other => self.on_channel_response(other),
        }
    }

    /// Answers about channels, members, the node and searches.
    fn on_channel_response(&mut self, resp: Response) -> Vec<Effect> {
        match resp {
            Response::Channels { circle, channels } => self.cache.set_channels(&circle, channels),
            Response::ChannelCreated(ch) => {
                let key = ChannelKey::new(&ch.circle_id, &ch.id);
                let text = format!(
                    "Created #{} ({}).",
                    sanitize_line(&ch.id),
                    ch.access.as_str()
                );
                self.cache.upsert_channel(ch);
                let fx = self.switch_to(key);
                self.notice(NoticeKind::Info, text);
                return fx;
            }
            Response::ChannelJoined { channel, requested } => {
                let key = ChannelKey::new(&channel.circle_id, &channel.id);
                let name = format!("#{}", sanitize_line(&channel.id));
                self.cache.upsert_channel(channel);
                if requested {
                    self.notice(
                        NoticeKind::Info,
                        format!("Asked to join {name}: it is invite-only, so a member must approve the request."),
                    );
                    return Vec::new();
                }
                let fx = self.switch_to(key);
                self.notice(NoticeKind::Info, format!("Joined {name}."));
                return fx;
            }
            Response::Marked(ch) => self.cache.upsert_channel(ch),
            Response::ChannelLeft(ch) => {
                let key = ChannelKey::new(&ch.circle_id, &ch.id);
                let name = format!("#{}", sanitize_line(&ch.id));
                let circle = ch.circle_id.clone();
                self.cache.upsert_channel(ch);
                let fx = if self.active.as_ref() == Some(&key) {
                    self.switch_to_circle(&circle)
                } else {
                    Vec::new()
                };
                self.notice(NoticeKind::Info, format!("Left {name}."));
                return fx;
            }
            Response::Approved { channel, node_id } => {
                let who = self.cache.name_of(&node_id, short_id(&node_id));
                let name = format!("#{}", sanitize_line(&channel.id));
                self.cache.upsert_channel(channel);
                self.notice(NoticeKind::Info, format!("Approved {who} into {name}."));
            }
            Response::Who {
                circle,
                channel,
                members,
            } => self.show_who(&circle, channel.as_deref(), members),
            Response::Members { circle, members } => self.cache.set_members(&circle, members),
            Response::Node { node, change } => self.on_node(node, change),
            Response::SearchResults {
                query,
                circle,
                messages,
            } => self.on_search_results(&query, circle.as_deref(), messages),
            _ => {}
        }
        Vec::new()
    }

    /// `/who` answer.
    fn show_who(
        &mut self,
        circle: &str,
        channel: Option<&str>,
        members: Vec<crate::model::Member>,
    ) {
        let place = match channel {
            Some(ch) => format!("#{}", sanitize_line(ch)),
            None => self.cache.circle(circle).map_or_else(
                || "this circle".into(),
                |c| format!("circle '{}'", c.label()),
            ),
        };
        self.notice(
            NoticeKind::Info,
            format!("{place} — {} member(s):", members.len()),
        );
        for m in members {
            let name = self.cache.name_of(&m.node_id, &m.display_name);
            let tag = if m.is_self { " (you)" } else { "" };
            self.notice(
                NoticeKind::Info,
                format!("  {name} [{}]{tag}", short_id(&m.node_id)),
            );
        }
    }

    /// Node info after `/name`, settings or `/debug`.
    fn on_node(&mut self, node: crate::model::NodeView, change: NodeChange) {
        match change {
            NodeChange::Name => self.notice(
                NoticeKind::Info,
                format!("Display name set to {}.", show_name(&node.display_name)),
            ),
            NodeChange::Relay if node.relay_url.is_empty() => {
                self.notice(NoticeKind::Info, "Relay sync is off.")
            }
            NodeChange::Relay => self.notice(
                NoticeKind::Info,
                format!("Relay set to {}.", sanitize_line(&node.relay_url)),
            ),
            NodeChange::Debug => {
                for line in super::debug::debug_lines(&node, self.zone) {
                    self.notice(NoticeKind::Info, line);
                }
            }
        }
        if !node.display_name.is_empty() {
            self.cache
                .names
                .insert(node.node_id.clone(), node.display_name.clone());
        }
        self.node = Some(node);
    }

    /// A request failed: say so where it matters.
    pub(super) fn on_failed(&mut self, request: Request, error: &str) {
        let error = sanitize_line(error);
        if let Some(Modal::Wizard(w)) = self.modal.as_mut() {
            if matches!(
                request,
                Request::CreateCircle { .. } | Request::JoinCircle { .. }
            ) {
                w.busy = false;
                w.error = Some(error);
                return;
            }
        }
        let what = match &request {
            Request::LoadMessages {
                circle, channel, ..
            } => {
                self.cache
                    .log_mut(&ChannelKey::new(circle, channel))
                    .loading = false;
                "Could not load messages".to_string()
            }
            Request::Send { text, .. } => {
                if self.input.text().is_empty() {
                    self.input.set_text(text);
                }
                "Not sent (your text is back in the input line)".to_string()
            }
            Request::Invite { .. } => {
                if let Some(Modal::Invite { .. }) = self.modal {
                    self.modal = None;
                }
                "No invite code".to_string()
            }
            Request::Search { query, circle } => {
                self.on_search_failed(query, circle.as_deref());
                "/search failed".to_string()
            }
            Request::RefreshMembers { .. } | Request::ListChannels { .. } => return,
            other => format!("{} failed", request_name(other)),
        };
        self.notice(NoticeKind::Error, format!("{what}: {error}"));
    }
}

/// Requests that list a circle's channels and members (after joining it).
pub(super) fn refresh_circle(id: &str) -> Vec<Effect> {
    vec![
        Effect::Request(Request::ListChannels { circle: id.into() }),
        Effect::Request(Request::RefreshMembers { circle: id.into() }),
    ]
}

/// A short name for a request, for error messages.
fn request_name(r: &Request) -> &'static str {
    match r {
        Request::LoadMessages { .. } => "Loading messages",
        Request::Send { .. } => "Sending",
        Request::CreateCircle { .. } => "/circle create",
        Request::JoinCircle { .. } => "/join",
        Request::LeaveCircle { .. } => "/circle leave",
        Request::RenameCircle { .. } => "/circle name",
        Request::Invite { .. } => "/invite",
        Request::ListChannels { .. } => "Listing channels",
        Request::CreateChannel { .. } => "/channel create",
        Request::JoinChannel { .. } => "/channel join",
        Request::LeaveChannel { .. } => "/channel leave",
        Request::Approve { .. } => "/channel approve",
        Request::Who { .. } => "/who",
        Request::RefreshMembers { .. } => "Listing members",
        Request::SetDisplayName { .. } => "Setting the display name",
        Request::SetRelay { .. } => "Setting the relay",
        Request::Debug => "/debug",
        Request::Search { .. } => "/search",
        Request::MarkRead { .. } => "Marking read",
    }
}
