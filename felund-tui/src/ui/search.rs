//! The `/search` results window: a summary, then one line per match, newest
//! first (date and time, `#channel`, author, text), with the matched words
//! highlighted and the selected match marked. A long text is cut around its
//! first match so that the match stays in view.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_segmentation::UnicodeSegmentation;

use super::modals::{box_inner, centered, frame_box};
use super::{theme, wrap::wrap};
use crate::app::{App, Search};
use crate::event::SEARCH_LIMIT;
use crate::model::ChatMessage;
use crate::text::{self, grapheme_width, sanitize_line, short_id, SearchTerm};

/// The widest the window gets.
const MAX_WIDTH: u16 = 120;
/// Lines of the window besides the list: the summary and the key hints.
const CHROME: u16 = 2;
/// Cells of text kept before the first match when the start of a text is cut.
const CONTEXT: usize = 12;

/// The window's rectangle in `area`.
fn window(area: Rect) -> Rect {
    centered(area, MAX_WIDTH, area.height.saturating_sub(2).max(3))
}

/// How many matches the window lists at once on a terminal of this size (for
/// the app, to keep the selection in view).
pub fn list_rows((w, h): (u16, u16)) -> usize {
    let inner = box_inner(window(Rect::new(0, 0, w, h)));
    usize::from(inner.height.saturating_sub(CHROME))
}

/// What was searched: a circle's name, or every circle.
fn place(app: &App, circle: Option<&str>) -> String {
    match circle {
        Some(id) => circle_label(app, id),
        None => "all circles".to_string(),
    }
}

/// A circle's name, or its short id when it is not (or no longer) known.
fn circle_label(app: &App, id: &str) -> String {
    app.cache
        .circle(id)
        .map_or_else(|| short_id(id).to_string(), |c| c.label())
}

/// Draws the window.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, s: &Search) {
    let place = place(app, s.circle.as_deref());
    let inner = frame_box(frame, window(area), &format!("Search — {place}"));
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let row = |y: u16| Rect::new(inner.x, y, inner.width, 1);
    frame.render_widget(Paragraph::new(summary(s, width)), row(inner.y));
    if inner.height >= CHROME {
        let keys = if s.count() > 0 {
            "↑↓ PgUp PgDn: select  ·  Enter: go to its channel  ·  Esc: close"
        } else {
            "Esc: close"
        };
        let footer = Line::styled(text::truncate(keys, width), theme::dim());
        frame.render_widget(Paragraph::new(footer), row(inner.bottom() - 1));
    }
    let list = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(CHROME),
    );
    if list.height == 0 {
        return;
    }
    let lines = match &s.results {
        None => Vec::new(),
        Some(found) if found.is_empty() => {
            let mut hints = vec!["Every word must match; word* also matches longer words."];
            if s.circle.is_some() {
                hints.push("/search -a <words> searches every circle.");
            }
            hints
                .into_iter()
                .flat_map(|h| wrap(&[Span::styled(h, theme::dim())], width, 0))
                .collect()
        }
        Some(found) => {
            let rows = usize::from(list.height);
            let scroll = s
                .scroll
                .min(found.len().saturating_sub(rows))
                .min(s.selected)
                .max((s.selected + 1).saturating_sub(rows));
            let terms = text::search_terms(&s.query);
            let all = s.circle.is_none();
            found
                .iter()
                .enumerate()
                .skip(scroll)
                .take(rows)
                .map(|(i, m)| result_line(app, m, &terms, all, i == s.selected, width))
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines), list);
}

/// The line above the list: how many matched, or that the search runs.
fn summary(s: &Search, width: usize) -> Line<'static> {
    let query = text::truncate(&sanitize_line(&s.query), width / 2);
    let (before, after) = match s.count() {
        _ if s.results.is_none() => ("Searching for ".to_string(), "…".to_string()),
        0 => ("No messages match ".to_string(), ".".to_string()),
        n if n >= SEARCH_LIMIT as usize => (
            format!("The newest {n} messages matching "),
            " (there may be more: add words)".to_string(),
        ),
        1 => ("1 message matches ".to_string(), ".".to_string()),
        n => (
            format!("{n} messages match "),
            ", newest first.".to_string(),
        ),
    };
    Line::from(fit_spans(
        vec![
            Span::raw(before),
            Span::styled(format!("“{query}”"), theme::active()),
            Span::raw(after),
        ],
        width,
    ))
}

/// One match: marker, date and time, circle (when searching all), channel,
/// author and text, fitted to `width`.
fn result_line(
    app: &App,
    m: &ChatMessage,
    terms: &[SearchTerm],
    all: bool,
    selected: bool,
    width: usize,
) -> Line<'static> {
    let mut spans = vec![
        Span::styled(if selected { "▶ " } else { "  " }, theme::title()),
        Span::styled(format!("{} ", app.zone.stamp(m.created_ts)), theme::time()),
    ];
    if all {
        let label = circle_label(app, &m.circle_id);
        spans.push(Span::styled(format!("{label} "), theme::dim()));
    }
    spans.push(Span::styled(
        format!("#{} ", sanitize_line(&m.channel_id)),
        theme::channel(),
    ));
    let own = m.own || (!m.author.is_empty() && m.author == app.my_id());
    let author_style = if own {
        theme::own_author()
    } else {
        theme::author(&m.author)
    };
    spans.push(Span::styled(app.cache.author_of(m), author_style));
    spans.push(Span::raw(": "));
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    let body = sanitize_line(&m.text);
    spans.extend(body_spans(&body, terms, width.saturating_sub(used)));
    let mut spans = fit_spans(spans, width);
    if selected {
        let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used))));
        for s in &mut spans {
            if s.style.bg.is_none() {
                s.style = s.style.patch(theme::selected_row());
            }
        }
    }
    Line::from(spans)
}

/// A text's spans with the matched words highlighted; when the first match
/// would not fit in `avail` cells, the start is cut (shown as `…`) to a little
/// before it.
fn body_spans(body: &str, terms: &[SearchTerm], avail: usize) -> Vec<Span<'static>> {
    let hits = text::search_matches(body, terms);
    let mut spans = Vec::new();
    let mut pos = 0;
    if let Some(first) = hits.first() {
        if text::width(&body[..first.end]) + 1 > avail {
            pos = cut_before(body, first.start, CONTEXT.min(avail / 3));
            spans.push(Span::styled("…", theme::dim()));
        }
    }
    let start = pos;
    for r in hits.into_iter().filter(|r| r.start >= start) {
        if r.start > pos {
            spans.push(Span::raw(body[pos..r.start].to_string()));
        }
        spans.push(Span::styled(body[r.clone()].to_string(), theme::found()));
        pos = r.end;
    }
    if pos < body.len() {
        spans.push(Span::raw(body[pos..].to_string()));
    }
    spans
}

/// The byte offset at most `context` cells before byte `at` (on a grapheme
/// boundary).
fn cut_before(s: &str, at: usize, context: usize) -> usize {
    let mut start = at;
    let mut used = 0;
    for (i, g) in s[..at].grapheme_indices(true).rev() {
        used += grapheme_width(g);
        if used > context {
            break;
        }
        start = i;
    }
    start
}

/// `spans` cut to at most `max` cells; a cut line ends with `…`.
fn fit_spans(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    if total <= max {
        return spans;
    }
    let budget = max.saturating_sub(1);
    let mut out = Vec::new();
    let mut used = 0;
    'spans: for s in spans {
        let mut kept = String::new();
        for g in s.content.graphemes(true) {
            let w = grapheme_width(g);
            if used + w > budget {
                if !kept.is_empty() {
                    out.push(Span::styled(kept, s.style));
                }
                break 'spans;
            }
            kept.push_str(g);
            used += w;
        }
        out.push(Span::styled(kept, s.style));
    }
    if max > 0 {
        out.push(Span::styled("…", theme::dim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(spans: &[Span<'_>]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let terms = text::search_terms("needle");
        let body = format!("{} the needle is here", "hay ".repeat(30));
        let spans = body_spans(&body, &terms, 40);
        let shown = plain(&spans);
        assert!(shown.starts_with('…'), "{shown}");
        assert!(shown.contains("the needle is here"), "{shown}");
        assert!(text::width(&plain(&fit_spans(spans, 40))) <= 40);
        let spans = body_spans("a needle early", &terms, 40);
        assert_eq!(plain(&spans), "a needle early");
        assert_eq!(spans[1].style, theme::found());
    }

    #[test]
    fn fitting_counts_wide_characters() {
        let spans = vec![Span::raw("日本語"), Span::raw("👍🏽 ok")];
        let fitted = fit_spans(spans.clone(), 7);
        assert_eq!(plain(&fitted), "日本語…");
        assert_eq!(plain(&fit_spans(spans.clone(), 11)), "日本語👍🏽 ok");
        assert_eq!(plain(&fit_spans(spans, 0)), "");
        assert_eq!(cut_before("ab日本x", 8, 3), 5);
        assert_eq!(cut_before("ab日本x", 8, 4), 2);
        assert_eq!(cut_before("ab日本x", 8, 0), 8);
    }
}
