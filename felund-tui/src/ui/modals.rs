//! Modal windows drawn over the main screen: help, invite code, settings, the
//! first-run wizard and confirmations (`/search` results: [`super::search`]).

use ratatui::layout::{Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::input::render_field;
use super::{theme, wrap::wrap};
use crate::app::modal::{Settings, Wizard, WizardFocus, WizardMode};
use crate::app::{App, Modal, KEY_HELP};
use crate::commands;
use crate::input::LineEditor;
use crate::text::{sanitize_line, short_id};

/// A `w`×`h` rectangle centred in `area` (shrunk to fit).
pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The inside of a box drawn by [`frame_box`] over `rect`.
pub(super) fn box_inner(rect: Rect) -> Rect {
    let inner = Block::new().borders(Borders::ALL).inner(rect);
    if inner.width > 6 {
        inner.inner(Margin::new(1, 0))
    } else {
        inner
    }
}

/// Clears `rect`, draws a titled border and returns the inside.
pub(super) fn frame_box(frame: &mut Frame<'_>, rect: Rect, title: &str) -> Rect {
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme::title())
        .title(Span::styled(format!(" {title} "), theme::title()));
    frame.render_widget(block, rect);
    box_inner(rect)
}

/// Draws the open modal.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(modal) = &app.modal else { return };
    if area.width < 4 || area.height < 3 {
        return;
    }
    match modal {
        Modal::Help { scroll } => render_help(frame, area, *scroll),
        Modal::Invite {
            circle,
            code,
            copied,
        } => render_invite(frame, area, circle, code.as_deref(), *copied),
        Modal::Settings(s) => render_settings(frame, area, app, s),
        Modal::Wizard(w) => render_wizard(frame, area, w),
        Modal::Search(s) => super::search::render(frame, area, app, s),
        Modal::Confirm { prompt, .. } => {
            let rect = centered(area, 64, 7);
            let inner = frame_box(frame, rect, "Are you sure?");
            let mut lines = wrap(
                &[Span::raw(sanitize_line(prompt))],
                usize::from(inner.width),
                0,
            );
            lines.push(Line::raw(""));
            lines.push(Line::styled("y: yes  ·  n or Esc: no", theme::dim()));
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

/// The help window's lines.
pub fn help_lines(width: u16) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled("Keys", theme::title())];
    for (keys, what) in KEY_HELP {
        lines.extend(pair(keys, what, width));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Commands", theme::title()));
    for l in commands::help_lines(None) {
        lines.push(Line::raw(format!("  {l}")));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Sidebar", theme::title()));
    for (mark, what) in [
        ("● / ○", "the active circle / another circle"),
        ("#name ←", "the channel shown"),
        (
            "#name +",
            "a channel you have not joined (/channel join <name>)",
        ),
        ("#name …", "an invite-only channel you asked to join"),
        ("3 / @3", "unread messages / unread, one mentioning you"),
    ] {
        lines.extend(pair(mark, what, width));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "  @name mentions someone; Tab completes it. /help <command> explains one.",
        theme::dim(),
    ));
    lines
}

/// One "key — what it does" entry of the help: side by side in a column that fits
/// `width`, or, on narrow screens, the key on its own line and the text below it.
fn pair(key: &str, what: &str, width: u16) -> Vec<Line<'static>> {
    let column = (usize::from(width) * 2 / 5).clamp(8, 28);
    let key_w = crate::text::width(key);
    if usize::from(width) >= 60 || key_w + 3 <= column {
        let pad = column.max(key_w + 1);
        return vec![Line::from(vec![
            Span::styled(format!("  {key:<pad$}"), theme::active()),
            Span::raw(what.to_string()),
        ])];
    }
    vec![
        Line::styled(format!("  {key}"), theme::active()),
        Line::raw(format!("      {what}")),
    ]
}

/// F1.
fn render_help(frame: &mut Frame<'_>, area: Rect, scroll: u16) {
    let rect = centered(area, 104, area.height.saturating_sub(2).max(3));
    let title = if rect.width >= 56 {
        "felund-tui help — Esc closes, ↑↓ PgUp PgDn scroll"
    } else {
        "Help — Esc closes, ↑↓ scroll"
    };
    let inner = frame_box(frame, rect, title);
    let lines: Vec<Line<'static>> = help_lines(inner.width)
        .into_iter()
        .flat_map(|l| {
            let style = l.style;
            let spans: Vec<Span<'static>> =
                l.spans.into_iter().map(|s| s.patch_style(style)).collect();
            wrap(&spans, usize::from(inner.width), 4)
        })
        .collect();
    let max = (lines.len() as u16).saturating_sub(inner.height);
    frame.render_widget(Paragraph::new(lines).scroll((scroll.min(max), 0)), inner);
}

/// F2.
fn render_invite(
    frame: &mut Frame<'_>,
    area: Rect,
    circle: &str,
    code: Option<&str>,
    copied: bool,
) {
    let want_w = code.map_or(60, |c| (c.chars().count() as u16).saturating_add(4).max(60));
    let rect = centered(area, want_w, 11);
    let inner = frame_box(
        frame,
        rect,
        &format!("Invite code — {}", sanitize_line(circle)),
    );
    let w = usize::from(inner.width);
    let mut lines = vec![
        Line::raw("Give this code to the people you want in the circle:"),
        Line::raw(""),
    ];
    match code {
        Some(c) => {
            // Codes have no spaces: cut them by characters to fit.
            let chars: Vec<char> = c.chars().collect();
            for chunk in chars.chunks(w.max(1)) {
                lines.push(Line::styled(
                    chunk.iter().collect::<String>(),
                    theme::active(),
                ));
            }
        }
        None => lines.push(Line::styled("fetching…", theme::dim())),
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Whoever has it can read and post in the circle.",
        theme::dim(),
    ));
    lines.push(Line::styled(
        if copied {
            "Sent to the clipboard (if your terminal allows OSC 52). Esc: close"
        } else {
            "c: copy to clipboard  ·  Esc: close  ·  or select it with the mouse"
        },
        theme::dim(),
    ));
    let wrapped: Vec<Line<'static>> = lines
        .into_iter()
        .flat_map(|l| {
            let style = l.style;
            let spans: Vec<Span<'static>> =
                l.spans.into_iter().map(|s| s.patch_style(style)).collect();
            wrap(&spans, w, 0)
        })
        .collect();
    frame.render_widget(Paragraph::new(wrapped), inner);
}

/// A label line followed by a field line, from `y`; returns the next free row.
fn labelled_field(
    frame: &mut Frame<'_>,
    inner: Rect,
    y: u16,
    label: &str,
    editor: &LineEditor,
    focused: bool,
) -> u16 {
    if y >= inner.bottom() {
        return y;
    }
    frame.render_widget(
        Paragraph::new(Span::styled(
            label.to_string(),
            if focused {
                theme::title()
            } else {
                theme::dim()
            },
        )),
        Rect::new(inner.x, y, inner.width, 1),
    );
    if y + 1 < inner.bottom() {
        let style = if focused {
            theme::field_focused()
        } else {
            theme::field()
        };
        render_field(
            frame,
            Rect::new(inner.x, y + 1, inner.width, 1),
            editor,
            style,
            focused,
        );
    }
    y + 3
}

/// F3.
fn render_settings(frame: &mut Frame<'_>, area: Rect, app: &App, s: &Settings) {
    let rect = centered(area, 72, 13);
    let inner = frame_box(frame, rect, "Settings");
    let node = app
        .node
        .as_ref()
        .map_or("-".to_string(), |n| short_id(&n.node_id).to_string());
    frame.render_widget(
        Paragraph::new(Span::styled(format!("Node {node}"), theme::dim())),
        Rect::new(inner.x, inner.y, inner.width, 1.min(inner.height)),
    );
    let y = labelled_field(
        frame,
        inner,
        inner.y + 2,
        "Display name",
        &s.name,
        s.focus == 0,
    );
    let y = labelled_field(
        frame,
        inner,
        y,
        "Relay URL (http:// or https://; empty turns relay sync off)",
        &s.relay,
        s.focus == 1,
    );
    let footer = match &s.error {
        Some(e) => Span::styled(e.clone(), theme::error()),
        None => Span::styled(
            "Tab: next field  ·  Enter: save  ·  Esc: cancel",
            theme::dim(),
        ),
    };
    if y < inner.bottom() {
        let h = inner.bottom() - y;
        frame.render_widget(
            Paragraph::new(wrap(&[footer], usize::from(inner.width), 0)),
            Rect::new(inner.x, y, inner.width, h),
        );
    }
}

/// The first-run wizard.
fn render_wizard(frame: &mut Frame<'_>, area: Rect, w: &Wizard) {
    let rect = centered(area, 72, 16);
    let inner = frame_box(frame, rect, "Welcome to felund");
    let width = usize::from(inner.width);
    let intro = wrap(
        &[Span::raw(
            "You are in no circle yet. Start a new one, or join one with an invite code.",
        )],
        width,
        0,
    );
    let intro_h = (intro.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(intro),
        Rect::new(inner.x, inner.y, inner.width, intro_h),
    );
    let mut y = inner.y + intro_h + 1;
    if y < inner.bottom() {
        let pick = |mode: WizardMode, label: &str| {
            let style = if w.mode == mode {
                theme::selected()
            } else {
                theme::field()
            };
            Span::styled(format!(" {label} "), style)
        };
        let marker = if w.focus == WizardFocus::Mode {
            "▶ "
        } else {
            "  "
        };
        let row = Line::from(vec![
            Span::styled(marker, theme::title()),
            pick(WizardMode::Create, "Create a new circle"),
            Span::raw("  "),
            pick(WizardMode::Join, "Join with an invite code"),
        ]);
        frame.render_widget(Paragraph::new(row), Rect::new(inner.x, y, inner.width, 1));
        y += 2;
    }
    y = labelled_field(
        frame,
        inner,
        y,
        "Your display name",
        &w.name,
        w.focus == WizardFocus::Name,
    );
    let (label, editor) = match w.mode {
        WizardMode::Create => ("Circle name (optional)", &w.circle_name),
        WizardMode::Join => ("Invite code (felund1.…)", &w.code),
    };
    y = labelled_field(
        frame,
        inner,
        y,
        label,
        editor,
        w.focus == WizardFocus::Value,
    );
    let footer = if let Some(e) = &w.error {
        Span::styled(sanitize_line(e), theme::error())
    } else if w.busy {
        Span::styled("Working…", theme::dim())
    } else {
        Span::styled(
            "Tab: next field  ·  Ctrl+T: create/join  ·  Enter: go  ·  Esc: later",
            theme::dim(),
        )
    };
    if y < inner.bottom() {
        let h = inner.bottom() - y;
        frame.render_widget(
            Paragraph::new(wrap(&[footer], width, 0)),
            Rect::new(inner.x, y, inner.width, h),
        );
    }
}
