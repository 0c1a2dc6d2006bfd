//! The app's state and its `update` function, Elm style: every input (a key, a
//! paste, a resize, something from the daemon) is an [`Action`]; [`App::update`]
//! changes the state and returns [`Effect`]s (requests for the daemon, quitting,
//! copying) for `main` to carry out. Nothing here does I/O, so all of it can be
//! driven and checked in tests.

pub mod cache;
mod debug;
mod events;
mod exec;
mod keys;
pub mod modal;
mod responses;
pub mod search;

use crossterm::event::KeyEvent;

use crate::event::{AppEvent, Request};
use crate::input::{CompletionSources, LineEditor};
use crate::model::{CircleView, NodeView};
use crate::text;
use crate::zone::DisplayZone;

pub use cache::{Cache, ChannelKey, ChannelLog, Entry, NoticeKind};
pub use keys::KEY_HELP;
pub use modal::Modal;
pub use search::Search;

/// Something that happened, for [`App::update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A key was pressed.
    Key(KeyEvent),
    /// Text was pasted (bracketed paste).
    Paste(String),
    /// The terminal now has this size (columns, rows).
    Resize(u16, u16),
    /// The client tasks reported something (boxed: events can be large).
    Client(Box<AppEvent>),
}

impl From<AppEvent> for Action {
    fn from(ev: AppEvent) -> Self {
        Action::Client(Box::new(ev))
    }
}

/// Something for `main` to do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send this request to the daemon.
    Request(Request),
    /// Copy this text to the clipboard (OSC 52).
    Copy(String),
    /// Leave the program.
    Quit,
}

/// State of the connection to felundd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Trying to connect; `error` is why the last attempt failed.
    Connecting {
        /// Attempts so far.
        attempt: u32,
        /// Why the last attempt failed.
        error: Option<String>,
    },
    /// Connected and listening to events.
    Online,
    /// The connection was lost; reconnecting.
    Offline {
        /// Why it was lost.
        reason: String,
    },
}

/// The whole state of the TUI.
#[derive(Debug, Clone)]
pub struct App {
    /// Connection state.
    pub conn: Conn,
    /// This node, once connected.
    pub node: Option<NodeView>,
    /// Circles, channels, logs, names.
    pub cache: Cache,
    /// The channel shown.
    pub active: Option<ChannelKey>,
    /// The input line.
    pub input: LineEditor,
    /// The open modal, if any.
    pub modal: Option<Modal>,
    /// How many log lines the view is scrolled up from the newest (0 = live).
    pub scroll: usize,
    /// Messages that arrived below the view while scrolled up.
    pub new_below: usize,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// Time zone for timestamps.
    pub zone: DisplayZone,
    /// The socket path, for messages.
    pub socket: String,
    /// Notices shown while no channel is active (before the first circle).
    pub lobby: ChannelLog,
    /// Whether the first-run wizard was closed by the user.
    wizard_dismissed: bool,
    /// Whether a connection ever succeeded.
    ever_connected: bool,
    /// The last connect error shown, so retries don't repeat it.
    last_connect_error: Option<String>,
}

impl App {
    /// A new app, not yet connected.
    pub fn new(socket: impl Into<String>, zone: DisplayZone) -> Self {
        Self {
            conn: Conn::Connecting {
                attempt: 0,
                error: None,
            },
            node: None,
            cache: Cache::default(),
            active: None,
            input: LineEditor::new(),
            modal: None,
            scroll: 0,
            new_below: 0,
            size: (80, 24),
            zone,
            socket: socket.into(),
            lobby: ChannelLog::default(),
            wizard_dismissed: false,
            ever_connected: false,
            last_connect_error: None,
        }
    }

    /// Applies one action and returns what `main` should do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = self.update_inner(action);
        effects.extend(self.mark_read_if_seen());
        effects
    }

    /// When the newest message of the shown channel is on screen and the daemon does
    /// not know it was read: tell it (every client of the node shares the marker).
    fn mark_read_if_seen(&mut self) -> Vec<Effect> {
        let Some(key) = self.active.clone() else {
            return Vec::new();
        };
        if self.scroll > 0 || !matches!(self.conn, Conn::Online) {
            return Vec::new();
        }
        let log = self.cache.log_mut(&key);
        let newest = log.newest_seq();
        if newest <= log.read_seq {
            return Vec::new();
        }
        log.read_seq = newest;
        log.unread = 0;
        log.mentions = 0;
        vec![Effect::Request(Request::MarkRead {
            circle: key.circle,
            channel: key.channel,
            seq: newest,
        })]
    }

    fn update_inner(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Paste(text) => {
                self.on_paste(&text);
                Vec::new()
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.clamp_scroll();
                Vec::new()
            }
            Action::Client(ev) => self.on_client(*ev),
        }
    }

    /// The active circle.
    pub fn active_circle(&self) -> Option<&CircleView> {
        self.cache.circle(&self.active.as_ref()?.circle)
    }

    /// The log shown: the active channel's, or the lobby.
    pub fn active_log(&self) -> &ChannelLog {
        match &self.active {
            Some(k) => self.cache.log(k).unwrap_or(&self.lobby),
            None => &self.lobby,
        }
    }

    /// This node's id (empty before connecting).
    pub fn my_id(&self) -> &str {
        self.node.as_ref().map_or("", |n| n.node_id.as_str())
    }

    /// Names that count as "me" in @mentions: the display name (spaces as `_`
    /// too) and the short node id.
    pub fn my_names(&self) -> Vec<String> {
        let Some(n) = &self.node else {
            return Vec::new();
        };
        let mut names = vec![text::short_id(&n.node_id).to_string()];
        let name = text::sanitize_line(&n.display_name);
        if !name.is_empty() {
            names.push(name.replace(' ', "_"));
            names.push(name);
        }
        names
    }

    /// What Tab can complete: channels and people of the active circle, circles.
    pub fn completion_sources(&self) -> CompletionSources {
        let mut src = CompletionSources {
            circles: self.cache.circles.iter().map(CircleView::label).collect(),
            ..Default::default()
        };
        if let Some(k) = &self.active {
            src.channels = self
                .cache
                .channels_of(&k.circle)
                .iter()
                .map(|c| c.id.clone())
                .collect();
            let me = self.my_id();
            let mut names: Vec<String> = self
                .cache
                .members
                .get(&k.circle)
                .into_iter()
                .flatten()
                .filter(|m| m.node_id != me)
                .map(|m| self.cache.name_of(&m.node_id, &m.display_name))
                .collect();
            if let Some(log) = self.cache.log(k) {
                names.extend(log.entries.iter().filter_map(|e| match e {
                    Entry::Message(m) if m.author != me => {
                        Some(self.cache.name_of(&m.author, &m.display_name))
                    }
                    _ => None,
                }));
            }
            src.names = names;
        }
        src
    }

    /// Adds a notice to the log shown and scrolls to it.
    pub fn notice(&mut self, kind: NoticeKind, msg: impl Into<String>) {
        let msg = msg.into();
        match self.active.clone() {
            Some(k) => self.cache.log_mut(&k).push_notice(kind, msg),
            None => self.lobby.push_notice(kind, msg),
        }
        self.scroll = 0;
        self.new_below = 0;
    }

    /// Shows another channel: resets scrolling and unread counters, and asks for
    /// its newest page if it is not loaded.
    pub fn switch_to(&mut self, key: ChannelKey) -> Vec<Effect> {
        self.scroll = 0;
        self.new_below = 0;
        let log = self.cache.log_mut(&key);
        log.unread = 0;
        log.mentions = 0;
        let mut effects = Vec::new();
        if !log.loaded && !log.loading {
            log.loading = true;
            effects.push(Effect::Request(Request::LoadMessages {
                circle: key.circle.clone(),
                channel: key.channel.clone(),
                before: None,
            }));
        }
        self.active = Some(key);
        effects
    }

    /// Switches to `general` of a circle.
    pub fn switch_to_circle(&mut self, circle: &str) -> Vec<Effect> {
        self.switch_to(ChannelKey::new(circle, "general"))
    }

    /// After the active circle went away: shows another one, or the lobby and
    /// the wizard when none is left.
    fn leave_active_circle(&mut self) -> Vec<Effect> {
        match self.cache.circles.first().map(|c| c.id.clone()) {
            Some(id) => self.switch_to_circle(&id),
            None => {
                self.active = None;
                self.maybe_open_wizard();
                Vec::new()
            }
        }
    }

    /// Opens the first-run wizard when there is no circle (unless dismissed).
    fn maybe_open_wizard(&mut self) {
        if self.cache.circles.is_empty() && !self.wizard_dismissed && self.modal.is_none() {
            let name = self
                .node
                .as_ref()
                .map(|n| n.display_name.clone())
                .unwrap_or_default();
            self.modal = Some(Modal::wizard(&name));
        }
    }

    /// Number of log lines in the active view at the current width.
    pub fn log_line_count(&self) -> usize {
        let area = crate::ui::layout::areas(self.size);
        crate::ui::log::build_lines(self, area.log.width).len()
    }

    /// Height of the log area in lines.
    pub fn log_height(&self) -> usize {
        usize::from(crate::ui::layout::areas(self.size).log.height)
    }

    /// Keeps `scroll` within the loaded log.
    fn clamp_scroll(&mut self) {
        let max = self.log_line_count().saturating_sub(self.log_height());
        self.scroll = self.scroll.min(max);
        if self.scroll == 0 {
            self.new_below = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_go_to_the_lobby_before_any_circle() {
        let mut app = App::new("/s.sock", DisplayZone::utc());
        app.notice(NoticeKind::Info, "hello");
        assert_eq!(app.active_log().entries.len(), 1);
        assert!(app.my_names().is_empty());
    }
}
