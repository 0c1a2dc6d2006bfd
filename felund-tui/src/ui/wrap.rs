//! Word wrapping of styled text into lines that fit a width, measured in
//! terminal cells per grapheme cluster (wide CJK characters and emoji count as
//! two), with a hanging indent for continuation lines.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use crate::text::grapheme_width;

/// One grapheme with its style and width.
#[derive(Clone)]
struct Cell<'a> {
    g: &'a str,
    style: Style,
    width: usize,
}

/// Wraps `spans` to lines at most `width` cells wide. Lines after the first
/// start with `indent` spaces (reduced on narrow widths). Breaks go after
/// spaces where possible; words longer than a line are cut. `\n` in the text
/// starts a new line. Never returns an empty list, except for `width == 0`.
pub fn wrap(spans: &[Span<'_>], width: usize, indent: usize) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let indent = if indent * 2 > width { 0 } else { indent };
    let mut lines: Vec<Vec<Cell<'_>>> = vec![Vec::new()];
    let mut used = 0;
    // Whether the current line began at a soft break (its leading spaces go).
    let mut soft = false;
    let avail = |n: usize| if n == 0 { width } else { width - indent };
    for span in spans {
        for g in span.content.graphemes(true) {
            if g == "\n" || g == "\r\n" {
                lines.push(Vec::new());
                used = 0;
                soft = false;
                continue;
            }
            if soft && used == 0 && g.trim().is_empty() {
                continue;
            }
            let cell = Cell {
                g,
                style: span.style,
                width: grapheme_width(g),
            };
            let line_no = lines.len() - 1;
            // A grapheme wider than a whole line still goes on its own line.
            if used == 0 || used + cell.width <= avail(line_no) {
                used += cell.width;
                push(&mut lines, cell);
                continue;
            }
            // Does not fit: break the line.
            soft = true;
            if g.trim().is_empty() {
                lines.push(Vec::new());
                used = 0;
                continue;
            }
            let current = lines.last_mut().map(std::mem::take).unwrap_or_default();
            let cut = current.iter().rposition(|c| c.g.trim().is_empty());
            let (keep, carry) = match cut {
                Some(i) if i > 0 => {
                    let mut keep = current;
                    let carry = keep.split_off(i + 1);
                    (keep, carry)
                }
                _ => (current, Vec::new()),
            };
            if let Some(last) = lines.last_mut() {
                *last = keep;
            }
            used = carry.iter().map(|c| c.width).sum::<usize>() + cell.width;
            let mut next = carry;
            next.push(cell);
            lines.push(next);
        }
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, cells)| to_line(&cells, if i == 0 { 0 } else { indent }))
        .collect()
}

/// Appends a cell to the last line.
fn push<'a>(lines: &mut [Vec<Cell<'a>>], cell: Cell<'a>) {
    if let Some(last) = lines.last_mut() {
        last.push(cell);
    }
}

/// Joins cells into spans (one per run of equal style), after `indent` spaces;
/// trailing spaces are dropped.
fn to_line(cells: &[Cell<'_>], indent: usize) -> Line<'static> {
    let end = cells
        .iter()
        .rposition(|c| !c.g.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut spans: Vec<Span<'static>> = Vec::new();
    if indent > 0 {
        spans.push(Span::raw(" ".repeat(indent)));
    }
    let mut run = String::new();
    let mut style = None;
    for c in &cells[..end] {
        if style != Some(c.style) {
            if let Some(s) = style {
                spans.push(Span::styled(std::mem::take(&mut run), s));
            }
            style = Some(c.style);
        }
        run.push_str(c.g);
    }
    if let Some(s) = style {
        spans.push(Span::styled(run, s));
    }
    Line::from(spans)
}

/// Display width of a line in cells.
pub fn line_width(line: &Line<'_>) -> usize {
    line.spans
        .iter()
        .map(|s| crate::text::width(&s.content))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wraps_at_spaces_with_indent() {
        let lines = wrap(&[Span::raw("aaa bbb ccc ddd")], 8, 2);
        assert_eq!(plain(&lines), ["aaa bbb", "  ccc", "  ddd"]);
        assert!(lines.iter().all(|l| line_width(l) <= 8));
    }

    #[test]
    fn long_words_and_wide_characters_are_cut() {
        let lines = wrap(&[Span::raw("abcdefghij")], 4, 0);
        assert_eq!(plain(&lines), ["abcd", "efgh", "ij"]);
        let lines = wrap(&[Span::raw("日本語のテキスト")], 5, 0);
        assert_eq!(plain(&lines), ["日本", "語の", "テキ", "スト"]);
        let lines = wrap(&[Span::raw("👍🏽👨‍👩‍👧x")], 3, 0);
        assert!(
            lines.iter().all(|l| line_width(l) <= 3),
            "{:?}",
            plain(&lines)
        );
    }

    #[test]
    fn newlines_styles_and_tiny_widths() {
        let bold = Style::new().bold();
        let lines = wrap(&[Span::styled("ab", bold), Span::raw(" c\nd")], 10, 0);
        assert_eq!(plain(&lines), ["ab c", "d"]);
        assert_eq!(lines[0].spans[0].style, bold);
        assert!(wrap(&[Span::raw("x")], 0, 0).is_empty());
        assert_eq!(plain(&wrap(&[Span::raw("日日")], 1, 0)), ["日", "日"]);
    }
}
