//! The input line (with the cursor) and the status line above it.

use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_segmentation::UnicodeSegmentation;

use super::theme;
use crate::app::{App, Conn};
use crate::input::LineEditor;
use crate::text::{self, grapheme_width, sanitize_line};

/// The part of an editor's text that fits `width` cells with the cursor in
/// view, and the cursor's column within it.
pub fn visible(editor: &LineEditor, width: usize) -> (String, usize) {
    if width == 0 {
        return (String::new(), 0);
    }
    let text = editor.text();
    let before = &text[..editor.cursor()];
    // Leave one cell for the cursor at the end of the line.
    let mut start = 0;
    let mut col = text::width(before);
    if col + 1 > width {
        for (i, g) in before.grapheme_indices(true) {
            if col < width {
                break;
            }
            col -= grapheme_width(g);
            start = i + g.len();
        }
    }
    let mut shown = String::new();
    let mut used = 0;
    for g in text[start..].graphemes(true) {
        let w = grapheme_width(g);
        if used + w > width {
            break;
        }
        shown.push_str(g);
        used += w;
    }
    (shown, col)
}

/// Draws one text field at `area` and, when `focused`, puts the cursor in it.
pub fn render_field(
    frame: &mut Frame<'_>,
    area: Rect,
    editor: &LineEditor,
    style: Style,
    focused: bool,
) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let (shown, col) = visible(editor, usize::from(area.width));
    frame.render_widget(Paragraph::new(shown).style(style), area);
    if focused {
        let x = area.x + (col as u16).min(area.width.saturating_sub(1));
        frame.set_cursor_position(Position::new(x, area.y));
    }
}

/// Draws the input line: `> ` and the text, or a placeholder.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let prompt_w = 2.min(area.width);
    frame.render_widget(
        Paragraph::new(Span::styled("> ", theme::title())),
        Rect::new(area.x, area.y, prompt_w, 1),
    );
    let field = Rect::new(area.x + prompt_w, area.y, area.width - prompt_w, 1);
    let focused = app.modal.is_none();
    if app.input.text().is_empty() && focused {
        let hint = match &app.active {
            Some(k) => format!(
                "Message #{} (/help for commands)",
                sanitize_line(&k.channel)
            ),
            None => "Type /help for commands".to_string(),
        };
        frame.render_widget(
            Paragraph::new(text::truncate(&hint, usize::from(field.width))).style(theme::dim()),
            field,
        );
        if field.width > 0 {
            frame.set_cursor_position(Position::new(field.x, field.y));
        }
        return;
    }
    render_field(frame, field, &app.input, Style::new(), focused);
}

/// The status line's left text and style.
pub fn status_text(app: &App) -> (String, Style) {
    match &app.conn {
        Conn::Connecting { attempt, .. } => (
            format!(
                " ○ connecting to felundd at {} (attempt {attempt})…",
                app.socket
            ),
            theme::bad(),
        ),
        Conn::Offline { .. } => (
            " ○ connection to felundd lost; reconnecting…".to_string(),
            theme::bad(),
        ),
        Conn::Online if app.scroll > 0 => {
            let new = if app.new_below > 0 {
                format!(" · {} new below", app.new_below)
            } else {
                String::new()
            };
            (
                format!(" ↑ scrolled up{new} · PgDn/Esc to return"),
                theme::status().patch(theme::mention()),
            )
        }
        Conn::Online => {
            let detail = app
                .active
                .as_ref()
                .and_then(|k| app.cache.channel(&k.circle, &k.channel))
                .map(|c| {
                    format!(
                        " · #{} {} · {} member{}",
                        sanitize_line(&c.id),
                        c.access.as_str(),
                        c.member_count,
                        if c.member_count == 1 { "" } else { "s" }
                    )
                })
                .unwrap_or_default();
            (format!(" ● connected{detail}"), theme::good())
        }
    }
}

/// Draws the status line: connection or scroll state, and key hints.
pub fn render_status(frame: &mut Frame<'_>, area: Rect, app: &App) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let w = usize::from(area.width);
    let (left, style) = status_text(app);
    let mut right = "F1 help · F2 invite · F3 settings ".to_string();
    if text::width(&left) + text::width(&right) > w {
        right.clear();
    }
    let left = text::truncate(&left, w - text::width(&right));
    let pad = w - text::width(&left) - text::width(&right);
    let line = Line::from(vec![
        Span::styled(left, style),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, theme::dim()),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme::status()), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_scrolls_to_keep_the_cursor_visible() {
        let e = LineEditor::with_text("abcdefghij");
        assert_eq!(visible(&e, 20), ("abcdefghij".into(), 10));
        let (shown, col) = visible(&e, 5);
        assert_eq!((shown.as_str(), col), ("ghij", 4));
        let mut e = LineEditor::with_text("日本語テキスト");
        let (shown, col) = visible(&e, 6);
        assert!(text::width(&shown) <= 6 && col < 6, "{shown} {col}");
        e.home();
        assert_eq!(visible(&e, 6), ("日本語".into(), 0));
    }
}
