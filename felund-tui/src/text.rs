//! Text helpers that do not depend on the terminal: sanitising text that came from
//! peers, display widths, truncation, stable per-author colours, @mentions and
//! the words a search matched.
//!
//! Everything a peer can write (message texts, display names, circle and channel
//! names) goes through [`sanitize`] or [`sanitize_line`] before it is shown, so a
//! peer cannot move the cursor, recolour the screen or flip the reading direction.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Text from a peer made safe to display, keeping line breaks: felund-client's
/// [`defuse`](felund_client::text::defuse), with tabs expanded for the layout.
pub fn sanitize(text: &str) -> String {
    felund_client::text::defuse(text).replace('\t', "    ")
}

/// [`sanitize`] for one-line fields (names): line breaks become spaces and the
/// result is trimmed.
pub fn sanitize_line(text: &str) -> String {
    felund_client::text::defuse_line(text)
}

/// Display width of one grapheme cluster in terminal cells.
pub fn grapheme_width(g: &str) -> usize {
    if g.len() == 1 {
        // ASCII: control characters are sanitised away before display.
        1
    } else {
        g.width()
    }
}

/// Display width of `s` in terminal cells, counted per grapheme cluster (as the
/// terminal backend lays it out).
pub fn width(s: &str) -> usize {
    s.graphemes(true).map(grapheme_width).sum()
}

/// `s` cut to at most `max` cells; a cut string ends with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = grapheme_width(g);
        if used + w + 1 > max {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    out
}

/// `s` padded with spaces (or truncated) to exactly `cells` cells.
pub fn fit(s: &str, cells: usize) -> String {
    let mut out = truncate(s, cells);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', cells.saturating_sub(w)));
    out
}

/// The first 8 characters of an id (one definition for every client).
pub use felund_client::text::short_id;

/// A stable index in `0..n` for a node id (FNV-1a), so an author keeps the same
/// colour across runs, screens and machines. `n` must be non-zero.
pub fn colour_index(node_id: &str, n: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node_id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % n.max(1) as u64) as usize
}

/// Whether `c` may be part of an @mention token.
fn is_mention_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// The @mention tokens of `text`: byte ranges of `@name` (including the `@`),
/// where the `@` does not follow a word character (so e-mail addresses are no
/// mentions) and the name is at least one character long.
pub fn mention_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut prev: Option<char> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '@' && !prev.is_some_and(is_mention_char) {
            let start = i;
            let mut end = i + 1;
            while let Some(&(j, d)) = iter.peek() {
                if !is_mention_char(d) {
                    break;
                }
                end = j + d.len_utf8();
                prev = Some(d);
                iter.next();
            }
            if end > start + 1 {
                spans.push(start..end);
                continue;
            }
        }
        prev = Some(c);
    }
    spans
}

/// Whether the mention token `@name` (with its `@`) names one of `my_names`
/// (compared case-insensitively).
pub fn is_my_mention(token: &str, my_names: &[String]) -> bool {
    let name = token.trim_start_matches('@').to_lowercase();
    !name.is_empty() && my_names.iter().any(|n| n.to_lowercase() == name)
}

/// Whether `text` mentions one of `my_names`.
pub fn mentions_me(text: &str, my_names: &[String]) -> bool {
    mention_spans(text)
        .into_iter()
        .any(|r| is_my_mention(&text[r], my_names))
}

/// A word of a search query as the daemon matches it: lower-cased letters and
/// digits, whole or (typed with a trailing `*`) as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    /// The word, lower-cased.
    pub word: String,
    /// Whether longer words starting with it match too.
    pub prefix: bool,
}

/// The terms of a search query. Like the daemon's tokenizer, anything that is
/// not a letter or digit separates words, so `it's` is `it` and `s`.
pub fn search_terms(query: &str) -> Vec<SearchTerm> {
    let mut terms = Vec::new();
    for typed in query.split_whitespace() {
        let (typed, prefix) = match typed.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (typed, false),
        };
        let parts: Vec<&str> = typed
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .collect();
        let last = parts.len().saturating_sub(1);
        terms.extend(parts.iter().enumerate().map(|(i, p)| SearchTerm {
            word: p.to_lowercase(),
            prefix: prefix && i == last,
        }));
    }
    terms
}

/// Byte ranges of the words of `text` that match one of `terms`, compared
/// case-insensitively (for highlighting; unlike the daemon, accents count).
pub fn search_matches(text: &str, terms: &[SearchTerm]) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        let Some(s) = start.take() else { continue };
        let word = text[s..i].to_lowercase();
        let hit = terms.iter().any(|t| {
            if t.prefix {
                word.starts_with(&t.word)
            } else {
                word == t.word
            }
        });
        if hit {
            found.push(s..i);
        }
    }
    found
}

/// A channel name as the daemon normalises it: trimmed, lower-cased, without a
/// leading `#`; empty means `general`.
pub fn normalize_channel(name: &str) -> String {
    let n = name.trim().trim_start_matches('#').trim().to_lowercase();
    if n.is_empty() {
        "general".to_string()
    } else {
        n
    }
}

/// A byte count for people: `512 B`, `3.4 KiB`, `12.0 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

pub use felund_client::text::duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_defuses_escapes_and_bidi() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\u{FFFD}[31mb");
        assert_eq!(sanitize("x\u{202E}y\u{2066}z"), "xyz");
        assert_eq!(sanitize("l1\nl2\tz\r"), "l1\nl2    z\u{FFFD}");
        assert_eq!(sanitize("\u{FEFF}hi\u{7f}"), "hi\u{FFFD}");
        assert_eq!(sanitize_line(" a\nb "), "a b");
    }

    #[test]
    fn widths_count_wide_and_combining_characters() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(width("👍"), 2);
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("abcd", 0), "");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(width(&fit("日本語", 5)), 5);
    }

    #[test]
    fn colour_index_is_stable_and_in_range() {
        let a = colour_index("a3f8b2c1d4", 10);
        assert_eq!(a, colour_index("a3f8b2c1d4", 10));
        assert!(a < 10);
        assert_eq!(colour_index("", 1), 0);
        // Different ids usually differ.
        let spread: std::collections::HashSet<_> = (0..50)
            .map(|i| colour_index(&format!("node{i}"), 10))
            .collect();
        assert!(spread.len() > 5);
    }

    #[test]
    fn mentions_are_found_and_matched() {
        let t = "hi @alice and @Bob-2, mail bob@example.com, lone @ here";
        let found: Vec<&str> = mention_spans(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(found, ["@alice", "@Bob-2"]);
        let me = vec!["bob-2".to_string()];
        assert!(mentions_me(t, &me));
        assert!(!mentions_me("hi @bob", &me));
        assert!(is_my_mention("@ALICE", &["alice".into()]));
        let uni = "→@ünï ok";
        let found: Vec<&str> = mention_spans(uni).into_iter().map(|r| &uni[r]).collect();
        assert_eq!(found, ["@ünï"]);
    }

    #[test]
    fn search_words_are_found_like_the_daemon_finds_them() {
        let terms = search_terms("Deploy it's fri* ?! 日本*");
        let words: Vec<(&str, bool)> = terms.iter().map(|t| (t.word.as_str(), t.prefix)).collect();
        assert_eq!(
            words,
            [
                ("deploy", false),
                ("it", false),
                ("s", false),
                ("fri", true),
                ("日本", true)
            ]
        );
        let text = "DEPLOYED? deploy on Friday — it's 日本語 ok, fr";
        let hits: Vec<&str> = search_matches(text, &terms)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(hits, ["deploy", "Friday", "it", "s", "日本語"]);
        assert!(search_terms(" ... * ").is_empty());
        assert!(search_matches("anything", &[]).is_empty());
    }

    #[test]
    fn helpers_for_people() {
        assert_eq!(short_id("0123456789"), "01234567");
        assert_eq!(short_id("ab"), "ab");
        assert_eq!(normalize_channel(" #Random "), "random");
        assert_eq!(normalize_channel("#"), "general");
        assert_eq!(bytes(10), "10 B");
        assert_eq!(bytes(3 * 1024 + 400), "3.4 KiB");
        assert_eq!(duration(3_700), "1h 1m");
        assert_eq!(duration(42), "42s");
    }
}
