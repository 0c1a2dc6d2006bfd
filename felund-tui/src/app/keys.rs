//! Keys on the main screen (the input line, scrolling, switching channels) and
//! the dispatch of keys to an open modal.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::{App, ChannelKey, Effect, Modal, NoticeKind};
use crate::commands;
use crate::event::Request;

/// Every key binding, for the help screen: (keys, what they do).
pub const KEY_HELP: &[(&str, &str)] = &[
    ("F1", "Help (this screen)"),
    ("F2", "Invite code of the active circle"),
    ("F3", "Settings: display name, relay URL"),
    ("Ctrl+Q", "Quit (felundd keeps running)"),
    ("Esc", "Close a window / back to the newest messages"),
    ("Enter", "Send the message or run the /command"),
    (
        "PgUp / PgDn",
        "Scroll the log (older history loads on demand)",
    ),
    ("Ctrl+Home / Ctrl+End", "Oldest loaded / newest messages"),
    ("Up / Down", "Previous / next line you typed"),
    ("Tab / Shift+Tab", "Complete /commands, #channels, @names"),
    ("Ctrl+N / Ctrl+P", "Next / previous channel (all circles)"),
    ("Alt+Down / Alt+Up", "Next / previous channel (all circles)"),
    ("Ctrl+A / Ctrl+E", "Start / end of the line"),
    (
        "Ctrl+W / Ctrl+U / Ctrl+K",
        "Delete word / to start / to end",
    ),
    ("//text", "Send a message that starts with '/'"),
];

impl App {
    /// Handles a key press.
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('q' | 'c')) {
            return vec![Effect::Quit];
        }
        if self.modal.is_some() {
            return self.on_modal_key(key);
        }
        self.on_main_key(key)
    }

    /// Handles a paste: into the open modal's field, else the input line.
    pub(super) fn on_paste(&mut self, text: &str) {
        let text = text.trim_end_matches(['\n', '\r']);
        match self.modal.as_mut() {
            Some(modal) => {
                if let Some(editor) = modal.editor_mut() {
                    editor.insert_str(text.trim());
                }
            }
            None => self.input.insert_str(text),
        }
    }

    /// A key when no modal is open.
    fn on_main_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::F(1) => self.modal = Some(Modal::help()),
            KeyCode::F(2) => return self.open_invite(),
            KeyCode::F(3) => self.open_settings(),
            KeyCode::Esc => {
                self.scroll = 0;
                self.new_below = 0;
            }
            KeyCode::Enter => return self.submit(),
            KeyCode::PageUp => return self.scroll_up(self.page()),
            KeyCode::PageDown => self.scroll_down(self.page()),
            KeyCode::Home if ctrl => return self.scroll_up(usize::MAX / 2),
            KeyCode::End if ctrl => self.scroll_down(usize::MAX),
            KeyCode::Up if alt => return self.cycle_channel(-1),
            KeyCode::Down if alt => return self.cycle_channel(1),
            KeyCode::Char('n') if ctrl => return self.cycle_channel(1),
            KeyCode::Char('p') if ctrl => return self.cycle_channel(-1),
            KeyCode::Up => self.input.history_prev(),
            KeyCode::Down => self.input.history_next(),
            KeyCode::Tab => {
                let src = self.completion_sources();
                self.input.complete(&src, false);
            }
            KeyCode::BackTab => {
                let src = self.completion_sources();
                self.input.complete(&src, true);
            }
            _ => edit(&mut self.input, key),
        }
        Vec::new()
    }

    /// Lines moved by PgUp/PgDn.
    fn page(&self) -> usize {
        self.log_height().saturating_sub(1).max(1)
    }

    /// Scrolls towards older lines; at the top of what is loaded, asks for the
    /// page before it.
    fn scroll_up(&mut self, lines: usize) -> Vec<Effect> {
        let max = self.log_line_count().saturating_sub(self.log_height());
        self.scroll = self.scroll.saturating_add(lines).min(max);
        let Some(key) = self.active.clone() else {
            return Vec::new();
        };
        if self.scroll < max {
            return Vec::new();
        }
        let log = self.cache.log_mut(&key);
        match (&log.older, log.loading) {
            (Some(cursor), false) => {
                let before = Some(cursor.clone());
                log.loading = true;
                vec![Effect::Request(Request::LoadMessages {
                    circle: key.circle,
                    channel: key.channel,
                    before,
                })]
            }
            _ => Vec::new(),
        }
    }

    /// Scrolls towards newer lines.
    fn scroll_down(&mut self, lines: usize) {
        self.scroll = self.scroll.saturating_sub(lines);
        if self.scroll == 0 {
            self.new_below = 0;
        }
    }

    /// Ctrl+N/Ctrl+P, Alt+Down/Alt+Up: the next or previous channel.
    fn cycle_channel(&mut self, step: isize) -> Vec<Effect> {
        let order = self.cache.navigation_order();
        if order.is_empty() {
            return Vec::new();
        }
        let n = order.len() as isize;
        let pos = self
            .active
            .as_ref()
            .and_then(|a| order.iter().position(|k| k == a))
            .map_or(0, |p| p as isize);
        let next = (pos + step).rem_euclid(n) as usize;
        self.switch_to(order[next].clone())
    }

    /// F2 or `/invite`: opens the invite modal and asks for the code.
    pub(super) fn open_invite(&mut self) -> Vec<Effect> {
        let Some(circle) = self.active_circle().cloned() else {
            self.notice(
                NoticeKind::Error,
                "No circle yet: create one with /circle create <name> or join one with /join <code>.",
            );
            return Vec::new();
        };
        self.modal = Some(Modal::invite(&circle.label(), None));
        vec![Effect::Request(Request::Invite { circle: circle.id })]
    }

    /// F3 or `/settings`.
    pub(super) fn open_settings(&mut self) {
        let (name, relay) = self
            .node
            .as_ref()
            .map(|n| (n.display_name.clone(), n.relay_url.clone()))
            .unwrap_or_default();
        self.modal = Some(Modal::settings(&name, &relay));
    }

    /// Enter: runs a command or sends a message.
    fn submit(&mut self) -> Vec<Effect> {
        let line = self.input.submit();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Vec::new();
        }
        if commands::is_command(trimmed) {
            return match commands::parse(trimmed) {
                Ok(cmd) => self.run(cmd),
                Err(e) => {
                    self.notice(NoticeKind::Error, e.message);
                    Vec::new()
                }
            };
        }
        // `//text` sends `/text`.
        let text = trimmed.strip_prefix('/').filter(|t| t.starts_with('/'));
        let text = text.unwrap_or(trimmed).to_string();
        let Some(key) = self.active.clone() else {
            self.notice(
                NoticeKind::Error,
                "Not sent: you are in no circle yet. Create one with /circle create <name> or join one with /join <code>.",
            );
            return Vec::new();
        };
        self.scroll = 0;
        self.new_below = 0;
        vec![Effect::Request(Request::Send {
            circle: key.circle,
            channel: key.channel,
            text,
        })]
    }

    /// Sets the active channel to `key` if it exists in the cache.
    pub(super) fn switch_if_known(&mut self, key: ChannelKey) -> Option<Vec<Effect>> {
        self.cache.channel(&key.circle, &key.channel)?;
        Some(self.switch_to(key))
    }
}

/// Line-editing keys shared by the input line and modal fields.
pub(super) fn edit(editor: &mut crate::input::LineEditor, key: KeyEvent) {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Left if ctrl || alt => editor.word_left(),
        KeyCode::Right if ctrl || alt => editor.word_right(),
        KeyCode::Left => editor.left(),
        KeyCode::Right => editor.right(),
        KeyCode::Home => editor.home(),
        KeyCode::End => editor.end(),
        KeyCode::Backspace if ctrl || alt => editor.delete_word(),
        KeyCode::Backspace => editor.backspace(),
        KeyCode::Delete => editor.delete(),
        KeyCode::Char('a') if ctrl => editor.home(),
        KeyCode::Char('e') if ctrl => editor.end(),
        KeyCode::Char('b') if ctrl => editor.left(),
        KeyCode::Char('f') if ctrl => editor.right(),
        KeyCode::Char('w') if ctrl => editor.delete_word(),
        KeyCode::Char('h') if ctrl => editor.backspace(),
        KeyCode::Char('u') if ctrl => editor.kill_to_start(),
        KeyCode::Char('k') if ctrl => editor.kill_to_end(),
        KeyCode::Char('d') if ctrl => editor.delete(),
        KeyCode::Char(c) if !ctrl && !alt => editor.insert_char(c),
        _ => {}
    }
}
