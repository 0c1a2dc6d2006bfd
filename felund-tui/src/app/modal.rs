//! Modal windows: help (F1), invite code (F2), settings (F3), the first-run
//! wizard, confirmations and `/search` results, with their key handling.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keys::edit;
use super::{App, Effect, NoticeKind, Search};
use crate::event::Request;
use crate::input::LineEditor;

/// What the wizard will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WizardMode {
    /// Create a new circle.
    Create,
    /// Join with an invite code.
    Join,
}

/// Which part of the wizard has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WizardFocus {
    /// The create/join choice.
    Mode,
    /// The display name field.
    Name,
    /// The circle name or invite code field.
    Value,
}

/// The first-run wizard: pick a name, then create a circle or join one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wizard {
    /// Create or join.
    pub mode: WizardMode,
    /// Focused part.
    pub focus: WizardFocus,
    /// Display name.
    pub name: LineEditor,
    /// Name of the circle to create.
    pub circle_name: LineEditor,
    /// Invite code to join with.
    pub code: LineEditor,
    /// Why the last try failed.
    pub error: Option<String>,
    /// A request is under way.
    pub busy: bool,
    original_name: String,
}

/// The settings window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Display name field.
    pub name: LineEditor,
    /// Relay URL field.
    pub relay: LineEditor,
    /// Focused field: 0 name, 1 relay.
    pub focus: usize,
    /// Why saving cannot proceed.
    pub error: Option<String>,
    original: (String, String),
}

/// An open modal window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modal {
    /// Keys and commands.
    Help {
        /// Lines scrolled past.
        scroll: u16,
    },
    /// Invite code of a circle.
    Invite {
        /// Circle label.
        circle: String,
        /// The code, once fetched.
        code: Option<String>,
        /// Whether it was sent to the clipboard.
        copied: bool,
    },
    /// Display name and relay URL.
    Settings(Settings),
    /// First run: create or join a circle.
    Wizard(Wizard),
    /// A yes/no question before something that cannot be undone.
    Confirm {
        /// The question.
        prompt: String,
        /// What to do on yes.
        on_yes: Request,
    },
    /// `/search` results.
    Search(Search),
}

impl Modal {
    /// The help window, at the top.
    pub fn help() -> Self {
        Modal::Help { scroll: 0 }
    }

    /// The invite window for a circle.
    pub fn invite(circle: &str, code: Option<String>) -> Self {
        Modal::Invite {
            circle: circle.to_string(),
            code,
            copied: false,
        }
    }

    /// The settings window with the current values.
    pub fn settings(name: &str, relay: &str) -> Self {
        Modal::Settings(Settings {
            name: LineEditor::with_text(name),
            relay: LineEditor::with_text(relay),
            focus: 0,
            error: None,
            original: (name.to_string(), relay.to_string()),
        })
    }

    /// The first-run wizard.
    pub fn wizard(name: &str) -> Self {
        Modal::Wizard(Wizard {
            mode: WizardMode::Create,
            focus: WizardFocus::Value,
            name: LineEditor::with_text(name),
            circle_name: LineEditor::new(),
            code: LineEditor::new(),
            error: None,
            busy: false,
            original_name: name.to_string(),
        })
    }

    /// The text field with the focus, if any.
    pub fn editor_mut(&mut self) -> Option<&mut LineEditor> {
        match self {
            Modal::Settings(s) => Some(if s.focus == 0 {
                &mut s.name
            } else {
                &mut s.relay
            }),
            Modal::Wizard(w) => match (w.focus, w.mode) {
                (WizardFocus::Name, _) => Some(&mut w.name),
                (WizardFocus::Value, WizardMode::Create) => Some(&mut w.circle_name),
                (WizardFocus::Value, WizardMode::Join) => Some(&mut w.code),
                (WizardFocus::Mode, _) => None,
            },
            _ => None,
        }
    }
}

impl App {
    /// A key while a modal is open.
    pub(super) fn on_modal_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(mut modal) = self.modal.take() else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        let keep = match &mut modal {
            Modal::Help { scroll } => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::F(1) | KeyCode::Char('q') => false,
                KeyCode::Up => {
                    *scroll = scroll.saturating_sub(1);
                    true
                }
                KeyCode::Down => {
                    *scroll = scroll.saturating_add(1);
                    true
                }
                KeyCode::PageUp => {
                    *scroll = scroll.saturating_sub(10);
                    true
                }
                KeyCode::PageDown => {
                    *scroll = scroll.saturating_add(10);
                    true
                }
                KeyCode::Home => {
                    *scroll = 0;
                    true
                }
                _ => true,
            },
            Modal::Invite { code, copied, .. } => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::F(2) | KeyCode::Char('q') => false,
                KeyCode::Char('c') | KeyCode::Char('y') => {
                    if let Some(code) = code {
                        effects.push(Effect::Copy(code.clone()));
                        *copied = true;
                    }
                    true
                }
                _ => true,
            },
            Modal::Confirm { on_yes, .. } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    effects.push(Effect::Request(on_yes.clone()));
                    false
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => false,
                _ => true,
            },
            Modal::Settings(s) => self.settings_key(s, key, &mut effects),
            Modal::Wizard(w) => self.wizard_key(w, key, &mut effects),
            Modal::Search(s) => self.search_key(s, key, &mut effects),
        };
        if keep && self.modal.is_none() {
            self.modal = Some(modal);
        }
        effects
    }

    /// A key in the settings window; returns whether it stays open.
    fn settings_key(&mut self, s: &mut Settings, key: KeyEvent, fx: &mut Vec<Effect>) -> bool {
        match key.code {
            KeyCode::Esc | KeyCode::F(3) => false,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                s.focus = 1 - s.focus.min(1);
                true
            }
            KeyCode::Enter => {
                let name = s.name.text().trim().to_string();
                let relay = s.relay.text().trim().trim_end_matches('/').to_string();
                if name.is_empty() {
                    s.error = Some("The display name cannot be empty.".into());
                    return true;
                }
                if !relay.is_empty()
                    && !relay.starts_with("http://")
                    && !relay.starts_with("https://")
                {
                    s.error = Some("The relay URL must start with http:// or https:// (or be empty to turn relay sync off).".into());
                    return true;
                }
                if name != s.original.0 {
                    fx.push(Effect::Request(Request::SetDisplayName { name }));
                }
                if relay != s.original.1 {
                    fx.push(Effect::Request(Request::SetRelay { url: relay }));
                }
                if fx.is_empty() {
                    self.notice(NoticeKind::Info, "Settings unchanged.");
                }
                false
            }
            _ => {
                s.error = None;
                let editor = if s.focus == 0 {
                    &mut s.name
                } else {
                    &mut s.relay
                };
                edit(editor, key);
                true
            }
        }
    }

    /// A key in the wizard; returns whether it stays open.
    fn wizard_key(&mut self, w: &mut Wizard, key: KeyEvent, fx: &mut Vec<Effect>) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let toggle = |w: &mut Wizard| {
            w.mode = match w.mode {
                WizardMode::Create => WizardMode::Join,
                WizardMode::Join => WizardMode::Create,
            };
            w.error = None;
        };
        match key.code {
            KeyCode::Esc => {
                self.wizard_dismissed = true;
                self.notice(
                    NoticeKind::Info,
                    "No circle yet. Create one with /circle create <name> or join one with /join <code>.",
                );
                return false;
            }
            KeyCode::Char('t') if ctrl => toggle(w),
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if w.focus == WizardFocus::Mode => {
                toggle(w)
            }
            KeyCode::Tab | KeyCode::Down => {
                w.focus = match w.focus {
                    WizardFocus::Mode => WizardFocus::Name,
                    WizardFocus::Name => WizardFocus::Value,
                    WizardFocus::Value => WizardFocus::Mode,
                }
            }
            KeyCode::BackTab | KeyCode::Up => {
                w.focus = match w.focus {
                    WizardFocus::Mode => WizardFocus::Value,
                    WizardFocus::Name => WizardFocus::Mode,
                    WizardFocus::Value => WizardFocus::Name,
                }
            }
            KeyCode::Enter if !w.busy => self.wizard_submit(w, fx),
            _ => {
                if let Some(editor) = match (w.focus, w.mode) {
                    (WizardFocus::Name, _) => Some(&mut w.name),
                    (WizardFocus::Value, WizardMode::Create) => Some(&mut w.circle_name),
                    (WizardFocus::Value, WizardMode::Join) => Some(&mut w.code),
                    (WizardFocus::Mode, _) => None,
                } {
                    w.error = None;
                    edit(editor, key);
                }
            }
        }
        true
    }

    /// Enter in the wizard: the requests for it (it stays open until they answer).
    fn wizard_submit(&mut self, w: &mut Wizard, fx: &mut Vec<Effect>) {
        let name = w.name.text().trim().to_string();
        let request = match w.mode {
            WizardMode::Create => Request::CreateCircle {
                name: w.circle_name.text().trim().to_string(),
            },
            WizardMode::Join => {
                let code = w.code.text().trim().to_string();
                if code.is_empty() {
                    w.error = Some(
                        "Paste the invite code someone gave you (it starts with felund1.).".into(),
                    );
                    w.focus = WizardFocus::Value;
                    return;
                }
                Request::JoinCircle { code }
            }
        };
        if !name.is_empty() && name != w.original_name {
            fx.push(Effect::Request(Request::SetDisplayName {
                name: name.clone(),
            }));
            w.original_name = name;
        }
        fx.push(Effect::Request(request));
        w.busy = true;
        w.error = None;
    }
}
