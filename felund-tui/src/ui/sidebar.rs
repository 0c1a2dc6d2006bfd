//! The left panel: circles, their channels, the active one marked, unread counts.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::theme;
use crate::app::App;
use crate::text::{fit, sanitize_line, width};

/// The sidebar's lines for a width, and the index of the active channel's line.
pub fn lines(app: &App, w: usize) -> (Vec<Line<'static>>, usize) {
    let mut out = vec![Line::styled(fit(" Circles", w), theme::title())];
    let mut active_line = 0;
    if app.cache.circles.is_empty() {
        out.push(Line::styled(fit(" (none yet)", w), theme::dim()));
    }
    for c in &app.cache.circles {
        let is_active_circle = app.active.as_ref().is_some_and(|k| k.circle == c.id);
        let (mark, style) = if is_active_circle {
            ("●", theme::active())
        } else {
            ("○", theme::info().remove_modifier(Modifier::ITALIC))
        };
        out.push(Line::styled(
            fit(&format!(" {mark} {}", c.label()), w),
            style,
        ));
        for ch in app.cache.channels_of(&c.id) {
            let is_active =
                is_active_circle && app.active.as_ref().is_some_and(|k| k.channel == ch.id);
            let log = app.cache.log(&crate::app::ChannelKey::new(&c.id, &ch.id));
            let (unread, mentions) = log.map_or((0, 0), |l| (l.unread, l.mentions));
            let badge = match (unread, mentions) {
                (0, _) => None,
                (n, 0) => Some((format!(" {n} "), theme::unread())),
                (n, _) => Some((format!(" @{n} "), theme::unread_mention())),
            };
            let arrow = if is_active { " ←" } else { "" };
            let status = if ch.joined || ch.id == "general" {
                ""
            } else if ch.requested {
                " …"
            } else {
                " +"
            };
            let name = format!("   #{}{status}{arrow}", sanitize_line(&ch.id));
            let badge_w = badge.as_ref().map_or(0, |(b, _)| width(b));
            let name_style = if is_active {
                theme::active()
            } else if ch.joined || ch.id == "general" {
                theme::info().remove_modifier(Modifier::ITALIC)
            } else {
                theme::dim()
            };
            let mut spans = vec![Span::styled(
                fit(&name, w.saturating_sub(badge_w)),
                name_style,
            )];
            if let Some((b, s)) = badge {
                if w > badge_w {
                    spans.push(Span::styled(b, s));
                }
            }
            if is_active {
                active_line = out.len();
            }
            out.push(Line::from(spans));
        }
    }
    (out, active_line)
}

/// Draws the sidebar, scrolled so the active channel is visible.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let (lines, active) = lines(app, usize::from(area.width));
    let h = usize::from(area.height);
    let offset = (active + 1).saturating_sub(h);
    let visible: Vec<Line<'static>> = lines.into_iter().skip(offset).take(h).collect();
    frame.render_widget(Paragraph::new(visible), area);
}
