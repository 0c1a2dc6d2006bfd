//! What the client tasks report: connection changes, live events and the
//! answers to requests.

use super::exec::show_name;
use super::responses::refresh_circle;
use super::{App, ChannelKey, Conn, Effect, Modal, NoticeKind};
use crate::event::{AppEvent, ChannelChange, CircleChange, LiveEvent, Request};
use crate::model::{ChatMessage, Snapshot};
use crate::text::{self, sanitize_line, short_id};

impl App {
    /// Handles one report from the client tasks.
    pub(super) fn on_client(&mut self, ev: AppEvent) -> Vec<Effect> {
        match ev {
            AppEvent::ConnectFailed { error, attempt, .. } => {
                self.conn = Conn::Connecting {
                    attempt,
                    error: Some(error.clone()),
                };
                if self.last_connect_error.as_ref() != Some(&error) {
                    self.notice(
                        NoticeKind::Error,
                        format!("{error}. Retrying until it is up…"),
                    );
                    self.last_connect_error = Some(error);
                }
                Vec::new()
            }
            AppEvent::Connected(snap) => {
                let text = if self.ever_connected {
                    "Reconnected to felundd.".to_string()
                } else {
                    format!(
                        "Connected to felundd at {} as {} (node {}). F1 for help.",
                        self.socket,
                        show_name(&snap.node.display_name),
                        short_id(&snap.node.node_id)
                    )
                };
                self.conn = Conn::Online;
                self.ever_connected = true;
                self.last_connect_error = None;
                let fx = self.apply_snapshot(*snap);
                self.notice(NoticeKind::Info, text);
                fx
            }
            AppEvent::Resynced { snapshot, missed } => {
                let fx = self.apply_snapshot(*snapshot);
                self.notice(
                    NoticeKind::Error,
                    format!("Missed {missed} live events (this window fell behind); reloaded."),
                );
                fx
            }
            AppEvent::Disconnected { reason } => {
                self.conn = Conn::Offline {
                    reason: reason.clone(),
                };
                for log in self.cache.logs.values_mut() {
                    log.loading = false;
                }
                self.notice(
                    NoticeKind::Error,
                    format!("Lost the connection to felundd ({reason}). Reconnecting…"),
                );
                Vec::new()
            }
            AppEvent::Live(live) => self.on_live(live),
            AppEvent::Done(resp) => self.on_response(resp),
            AppEvent::Failed { request, error } => {
                self.on_failed(request, &error);
                Vec::new()
            }
        }
    }

    /// Takes a fresh listing; keeps the active channel when it still exists and
    /// reloads it.
    fn apply_snapshot(&mut self, snap: Snapshot) -> Vec<Effect> {
        self.cache.apply_snapshot(&snap);
        self.node = Some(snap.node);
        let keep = self
            .active
            .clone()
            .filter(|k| self.cache.channel(&k.circle, &k.channel).is_some());
        let target = keep.or_else(|| {
            self.cache
                .circles
                .first()
                .map(|c| ChannelKey::new(&c.id, "general"))
        });
        match target {
            Some(k) => {
                if let Some(Modal::Wizard(_)) = self.modal {
                    self.modal = None;
                }
                self.switch_to(k)
            }
            None => {
                self.active = None;
                self.maybe_open_wizard();
                Vec::new()
            }
        }
    }

    /// A live event from `Subscribe`.
    fn on_live(&mut self, live: LiveEvent) -> Vec<Effect> {
        match live {
            LiveEvent::Message(m) => {
                if !m.display_name.is_empty() {
                    self.cache
                        .names
                        .insert(m.author.clone(), m.display_name.clone());
                }
                self.add_message(m);
                Vec::new()
            }
            LiveEvent::Channel {
                change,
                circle,
                channel,
                node_id,
            } => self.on_channel_event(change, circle, channel, node_id),
            LiveEvent::Read {
                circle,
                channel,
                read_seq,
            } => {
                let names = self.my_names();
                self.cache
                    .log_mut(&ChannelKey::new(&circle, &channel))
                    .read_up_to(read_seq, |m| text::mentions_me(&m.text, &names));
                Vec::new()
            }
            LiveEvent::Circle { change, circle } => match change {
                CircleChange::Left => {
                    let was_active = self.active.as_ref().is_some_and(|k| k.circle == circle.id);
                    self.cache.remove_circle(&circle.id);
                    if was_active {
                        return self.leave_active_circle();
                    }
                    Vec::new()
                }
                CircleChange::Renamed => {
                    // A first name (e.g. right after creating) is no news.
                    let old = self.cache.circle(&circle.id).map(|c| c.name.clone());
                    let new = circle.label();
                    let in_active = self.active.as_ref().is_some_and(|k| k.circle == circle.id);
                    let news = old.is_some_and(|o| !o.is_empty() && o != circle.name);
                    self.upsert_circle_keep_counts(circle);
                    if in_active && news {
                        self.notice(
                            NoticeKind::Event,
                            format!("The circle is now named '{new}'."),
                        );
                    }
                    Vec::new()
                }
                CircleChange::Joined | CircleChange::Other => {
                    let id = circle.id.clone();
                    let known = self.cache.circle(&id).is_some();
                    self.upsert_circle_keep_counts(circle);
                    let mut fx = refresh_circle(&id);
                    if !known && self.active.is_none() {
                        fx.extend(self.switch_to_circle(&id));
                    }
                    fx
                }
            },
            LiveEvent::Peer(p) => {
                self.cache.add_peer(p);
                Vec::new()
            }
            LiveEvent::DisplayName { node_id, name } => {
                let old = self.cache.name_of(&node_id, "");
                self.cache.names.insert(node_id.clone(), name.clone());
                if node_id == self.my_id() {
                    if let Some(n) = self.node.as_mut() {
                        n.display_name = name;
                    }
                } else if self.in_active_circle(&node_id) && old != sanitize_line(&name) {
                    self.notice(
                        NoticeKind::Event,
                        format!(
                            "{old} is now known as {}.",
                            self.cache.name_of(&node_id, "")
                        ),
                    );
                }
                Vec::new()
            }
        }
    }

    /// Whether a node is a member of the active circle.
    fn in_active_circle(&self, node_id: &str) -> bool {
        let Some(k) = &self.active else { return false };
        self.cache
            .members
            .get(&k.circle)
            .is_some_and(|ms| ms.iter().any(|m| m.node_id == node_id))
    }

    /// Updates a circle from an event, which may lack the counters.
    pub(super) fn upsert_circle_keep_counts(&mut self, mut c: crate::model::CircleView) {
        if let Some(old) = self.cache.circle(&c.id) {
            c.member_count = c.member_count.max(old.member_count);
            c.peer_count = c.peer_count.max(old.peer_count);
        }
        self.cache.upsert_circle(c);
    }

    /// A channel event: re-list the circle's channels (and members), and say
    /// what happened when it is about the active circle.
    fn on_channel_event(
        &mut self,
        change: ChannelChange,
        circle: String,
        channel: String,
        node_id: String,
    ) -> Vec<Effect> {
        let mut fx = vec![Effect::Request(Request::ListChannels {
            circle: circle.clone(),
        })];
        if matches!(
            change,
            ChannelChange::Joined | ChannelChange::Left | ChannelChange::Approved
        ) {
            fx.push(Effect::Request(Request::RefreshMembers {
                circle: circle.clone(),
            }));
        }
        let in_active = self.active.as_ref().is_some_and(|k| k.circle == circle);
        let who = if node_id == self.my_id() {
            "You".to_string()
        } else {
            self.cache.name_of(&node_id, "")
        };
        let ch = format!("#{}", sanitize_line(&channel));
        let text = match change {
            ChannelChange::Created => Some(format!("{ch} was created.")),
            ChannelChange::Requested => Some(format!(
                "{who} asks to join {ch}; let them in with /channel approve {} {}",
                sanitize_line(&channel),
                sanitize_line(&node_id)
            )),
            ChannelChange::Approved => Some(format!("{who} can now read and post in {ch}.")),
            _ => None,
        };
        if let (true, Some(text)) = (in_active, text) {
            if node_id != self.my_id() || change == ChannelChange::Approved {
                self.notice(NoticeKind::Event, text);
            }
        }
        fx
    }

    /// Adds a message to its channel's log; counts it as unread when that
    /// channel is not shown, and keeps a scrolled-up view where it is.
    pub(super) fn add_message(&mut self, m: ChatMessage) {
        let key = ChannelKey::new(&m.circle_id, &m.channel_id);
        let is_active = self.active.as_ref() == Some(&key);
        let mention = !m.own && text::mentions_me(&m.text, &self.my_names());
        let own = m.own;
        let before = if is_active && self.scroll > 0 {
            self.log_line_count()
        } else {
            0
        };
        if !self.cache.log_mut(&key).push_message(m) {
            return;
        }
        if is_active {
            if self.scroll > 0 {
                let added = self.log_line_count().saturating_sub(before);
                self.scroll += added;
                self.new_below += 1;
            }
        } else if !own {
            let log = self.cache.log_mut(&key);
            log.unread += 1;
            if mention {
                log.mentions += 1;
            }
        }
    }
}
