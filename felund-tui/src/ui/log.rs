//! The message log: timestamps, coloured authors, own messages, highlighted
//! @mentions, day dividers and notices, wrapped to the log's width and scrolled.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{theme, wrap::wrap};
use crate::app::{App, Conn, Entry, NoticeKind};
use crate::model::ChatMessage;
use crate::text::{self, sanitize, sanitize_line};
use crate::zone::DisplayZone;

/// Continuation lines of a message start under the author (after `HH:MM `).
const MESSAGE_INDENT: usize = 6;

/// A centred divider such as `──── Tue 7 May 2024 ────`.
fn divider(label: &str, width: usize) -> Line<'static> {
    let label = format!(" {label} ");
    let lw = text::width(&label);
    if lw + 2 > width {
        return Line::styled(text::truncate(label.trim(), width), theme::dim());
    }
    let left = (width - lw) / 2;
    let right = width - lw - left;
    Line::styled(
        format!("{}{label}{}", "─".repeat(left), "─".repeat(right)),
        theme::dim(),
    )
}

/// The spans of one message's text: @mentions styled, the rest in `base`.
fn body_spans(text_in: &str, base: Style, my_names: &[String]) -> Vec<Span<'static>> {
    let clean = sanitize(text_in);
    let mut spans = Vec::new();
    let mut pos = 0;
    for r in text::mention_spans(&clean) {
        if r.start > pos {
            spans.push(Span::styled(clean[pos..r.start].to_string(), base));
        }
        let token = &clean[r.clone()];
        let style = if text::is_my_mention(token, my_names) {
            theme::my_mention()
        } else {
            base.patch(theme::mention())
        };
        spans.push(Span::styled(token.to_string(), style));
        pos = r.end;
    }
    if pos < clean.len() {
        spans.push(Span::styled(clean[pos..].to_string(), base));
    }
    spans
}

/// The wrapped lines of one message.
fn message_lines(
    app: &App,
    m: &ChatMessage,
    width: usize,
    my_names: &[String],
) -> Vec<Line<'static>> {
    let own = m.own || (!m.author.is_empty() && m.author == app.my_id());
    let mentioned = !own && text::mentions_me(&m.text, my_names);
    let base = if mentioned {
        Style::new().bg(theme::MENTION_BG)
    } else {
        Style::new()
    };
    let name = app.cache.author_of(m);
    let name_style = if own {
        theme::own_author()
    } else {
        theme::author(&m.author)
    };
    let mut spans = vec![
        Span::styled(
            format!("{} ", app.zone.time(m.created_ts)),
            base.patch(theme::time()),
        ),
        Span::styled(name, base.patch(name_style)),
        Span::styled(": ", base),
    ];
    spans.extend(body_spans(&m.text, base, my_names));
    let mut lines = wrap(&spans, width, MESSAGE_INDENT);
    if mentioned {
        // Fill the highlighted lines to the full width.
        for l in &mut lines {
            let used = super::wrap::line_width(l);
            if used < width {
                l.spans.push(Span::styled(" ".repeat(width - used), base));
            }
        }
    }
    lines
}

/// The lines above the first entry: where history starts, or hints.
fn top_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let log = app.active_log();
    let mut out = Vec::new();
    let hint = |t: &str| wrap(&[Span::styled(t.to_string(), theme::dim())], width, 2);
    if let Some(k) = &app.active {
        let top = if log.loading && log.loaded {
            Some("loading older messages…".to_string())
        } else if log.loading {
            Some("loading…".to_string())
        } else if log.older.is_some() {
            Some("PgUp for older messages".to_string())
        } else if log.loaded && log.message_count() > 0 {
            Some(format!("beginning of #{}", sanitize_line(&k.channel)))
        } else {
            None
        };
        if let Some(t) = top {
            out.push(Line::styled(
                text::truncate(&format!("  {t}"), width),
                theme::dim(),
            ));
        }
        if log.loaded && log.message_count() == 0 {
            out.extend(hint(&format!(
                "  No messages in #{} yet. Say hello!",
                sanitize_line(&k.channel)
            )));
        }
    } else if matches!(app.conn, Conn::Online) && app.cache.circles.is_empty() {
        out.extend(hint(
            "  You are in no circle yet: /circle create <name> or /join <code>.",
        ));
    }
    out
}

/// The lines of entry `i` of the active log, with a day divider before it when
/// it is the first message of a day.
fn entry_lines(app: &App, i: usize, width: usize, my_names: &[String]) -> Vec<Line<'static>> {
    let entries = &app.active_log().entries;
    let Some(entry) = entries.get(i) else {
        return Vec::new();
    };
    match entry {
        Entry::Message(m) => {
            let mut out = Vec::new();
            let day = app.zone.day(m.created_ts);
            let prev_day = entries[..i].iter().rev().find_map(|e| match e {
                Entry::Message(p) => Some(app.zone.day(p.created_ts)),
                Entry::Notice { .. } => None,
            });
            if let Some(d) = day {
                if prev_day != Some(day) {
                    out.push(divider(&DisplayZone::day_label(d), width));
                }
            }
            out.extend(message_lines(app, m, width, my_names));
            out
        }
        Entry::Notice { kind, text } => {
            let (mark, style) = match kind {
                NoticeKind::Info => ("  ", theme::info()),
                NoticeKind::Error => ("! ", theme::error()),
                NoticeKind::Event => ("* ", theme::event()),
            };
            let span = Span::styled(format!("{mark}{}", sanitize(text)), style);
            wrap(&[span], width, 4)
        }
    }
}

/// The last `needed` lines of the active log at `width` (all of them when
/// there are fewer), oldest first. Only the entries needed are wrapped, so
/// drawing stays cheap however much history is loaded.
pub fn tail_lines(app: &App, width: u16, needed: usize) -> Vec<Line<'static>> {
    let width = usize::from(width);
    if width == 0 {
        return Vec::new();
    }
    let my_names = app.my_names();
    let mut chunks: Vec<Vec<Line<'static>>> = Vec::new();
    let mut count = 0;
    for i in (0..app.active_log().entries.len()).rev() {
        if count >= needed {
            break;
        }
        let lines = entry_lines(app, i, width, &my_names);
        count += lines.len();
        chunks.push(lines);
    }
    if count < needed {
        chunks.push(top_lines(app, width));
    }
    let mut out: Vec<Line<'static>> = chunks.into_iter().rev().flatten().collect();
    if out.len() > needed {
        out.drain(..out.len() - needed);
    }
    out
}

/// Every line of the active log at `width`, oldest first, including the line
/// about older history at the top.
pub fn build_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    tail_lines(app, width, usize::MAX)
}

/// Draws the log: the newest lines at the bottom, or scrolled up by `app.scroll`.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let h = usize::from(area.height);
    let lines = tail_lines(app, area.width, app.scroll.saturating_add(h));
    // Fewer lines than asked for: the view is at the top of what is loaded.
    let scroll = app.scroll.min(lines.len().saturating_sub(h));
    let end = lines.len() - scroll;
    let start = end.saturating_sub(h);
    let visible: Vec<Line<'static>> = lines[start..end].to_vec();
    frame.render_widget(Paragraph::new(visible), area);
}
