//! The header line: node, circle, channel, peer count, connection, quit hint.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::theme;
use crate::app::{App, Conn};
use crate::text::{sanitize_line, short_id, truncate, width};

/// The header's text pieces, left part (with styles) and right part. `compact` leaves
/// out the product and node names, so that a narrow header still shows where you are.
pub fn spans(app: &App, compact: bool) -> (Vec<Span<'static>>, String) {
    let mut left = vec![Span::raw(if compact { "" } else { " felund" })];
    let sep = || Span::raw(" │ ");
    if let (Some(n), false) = (&app.node, compact) {
        left.push(sep());
        let name = sanitize_line(&n.display_name);
        if name.is_empty() {
            left.push(Span::raw(format!("node {}", short_id(&n.node_id))));
        } else {
            left.push(Span::raw(format!("node {} ({name})", short_id(&n.node_id))));
        }
    }
    if let (Some(c), Some(k)) = (app.active_circle(), &app.active) {
        left.push(sep());
        left.push(Span::styled(c.label(), theme::active()));
        left.push(sep());
        left.push(Span::raw(format!("#{}", sanitize_line(&k.channel))));
        let peers = app.cache.peer_count(&c.id, app.my_id());
        left.push(sep());
        left.push(Span::raw(format!(
            "{peers} peer{}",
            if peers == 1 { "" } else { "s" }
        )));
    }
    match &app.conn {
        Conn::Online => {}
        Conn::Connecting { .. } => {
            left.push(sep());
            left.push(Span::styled("connecting…", theme::bad()));
        }
        Conn::Offline { .. } => {
            left.push(sep());
            left.push(Span::styled("offline, reconnecting…", theme::bad()));
        }
    }
    (left, "F1=help  ctrl+q=quit ".to_string())
}

/// Draws the header.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let w = usize::from(area.width);
    let (mut left, mut right) = spans(app, false);
    let left_w = |l: &[Span<'_>]| l.iter().map(|s| width(&s.content)).sum::<usize>();
    if left_w(&left) + width(&right) + 1 > w {
        left = spans(app, true).0;
        // The first separator now leads the line; drop it.
        if left.len() > 1 {
            left.drain(..2);
            left.insert(0, Span::raw(" "));
        }
        right = "ctrl+q=quit ".to_string();
    }
    if w < width(&right) + 12 || left_w(&left) + width(&right) + 1 > w {
        right.clear();
    }
    // One column always parts the two halves.
    let room = w.saturating_sub(width(&right) + usize::from(!right.is_empty()));
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for s in left {
        let sw = width(&s.content);
        if used + sw <= room {
            used += sw;
            line.push(s);
        } else {
            let cut = truncate(&s.content, room - used);
            used += width(&cut);
            line.push(Span::styled(cut, s.style));
            break;
        }
    }
    line.push(Span::raw(" ".repeat(w - used - width(&right))));
    line.push(Span::raw(right));
    frame.render_widget(
        Paragraph::new(Line::from(line)).style(theme::header()),
        area,
    );
}
