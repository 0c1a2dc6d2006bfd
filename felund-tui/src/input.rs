//! The input line: a small line editor with history and Tab completion. Pure:
//! it knows nothing about keys or the screen; [`crate::app`] maps keys to these
//! methods and [`crate::ui`] draws [`LineEditor::text`] with the cursor.
//!
//! The cursor is a byte offset that always sits on a grapheme boundary, so an
//! emoji or a letter with combining accents moves and deletes as one character.

use unicode_segmentation::UnicodeSegmentation;

use crate::commands::{spec, COMMANDS};

/// At most this many lines are remembered in the history.
const HISTORY_LIMIT: usize = 500;

/// What Tab can complete besides commands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletionSources {
    /// Channel names of the active circle (without `#`).
    pub channels: Vec<String>,
    /// Display names of people in the active circle.
    pub names: Vec<String>,
    /// Circle names.
    pub circles: Vec<String>,
}

/// The cycle of candidates after a Tab.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Completion {
    /// Byte offset where the completed word starts.
    start: usize,
    /// Candidates, in order.
    candidates: Vec<String>,
    /// The candidate currently inserted.
    index: usize,
}

/// A single-line text editor with history and completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    text: String,
    cursor: usize,
    history: Vec<String>,
    /// Position in `history` while browsing it with Up/Down.
    browsing: Option<usize>,
    /// The line being typed before browsing started.
    draft: String,
    completion: Option<Completion>,
}

impl LineEditor {
    /// An empty editor.
    pub fn new() -> Self {
        Self::default()
    }

    /// An editor holding `text`, cursor at the end.
    pub fn with_text(text: &str) -> Self {
        let mut e = Self::new();
        e.set_text(text);
        e
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a byte offset into [`text`](Self::text).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The remembered lines, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Replaces the text; the cursor goes to the end.
    pub fn set_text(&mut self, text: &str) {
        self.text = text.replace(['\n', '\r'], " ");
        self.cursor = self.text.len();
        self.completion = None;
    }

    /// Empties the line (history is kept).
    pub fn clear(&mut self) {
        self.set_text("");
        self.browsing = None;
    }

    /// Inserts one character at the cursor.
    pub fn insert_char(&mut self, c: char) {
        let c = if c == '\n' || c == '\r' { ' ' } else { c };
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        self.edited();
    }

    /// Inserts a string (e.g. a paste) at the cursor; line breaks become spaces.
    pub fn insert_str(&mut self, s: &str) {
        let s: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        self.text.insert_str(self.cursor, &s);
        self.cursor += s.len();
        self.edited();
    }

    /// Byte offset of the grapheme boundary before the cursor.
    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    /// Byte offset of the grapheme boundary after the cursor.
    fn next_boundary(&self) -> usize {
        self.text[self.cursor..]
            .graphemes(true)
            .next()
            .map_or(self.cursor, |g| self.cursor + g.len())
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        let start = self.prev_boundary();
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.edited();
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        let end = self.next_boundary();
        self.text.replace_range(self.cursor..end, "");
        self.edited();
    }

    /// Moves the cursor one character left.
    pub fn left(&mut self) {
        self.cursor = self.prev_boundary();
        self.completion = None;
    }

    /// Moves the cursor one character right.
    pub fn right(&mut self) {
        self.cursor = self.next_boundary();
        self.completion = None;
    }

    /// Moves the cursor to the start of the line.
    pub fn home(&mut self) {
        self.cursor = 0;
        self.completion = None;
    }

    /// Moves the cursor to the end of the line.
    pub fn end(&mut self) {
        self.cursor = self.text.len();
        self.completion = None;
    }

    /// Byte offset of the start of the word before the cursor.
    fn word_start(&self) -> usize {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8())
    }

    /// Moves the cursor to the start of the previous word.
    pub fn word_left(&mut self) {
        self.cursor = self.word_start();
        self.completion = None;
    }

    /// Moves the cursor past the end of the next word.
    pub fn word_right(&mut self) {
        let after = &self.text[self.cursor..];
        let skip_space = after.len() - after.trim_start().len();
        let word = after[skip_space..]
            .find(char::is_whitespace)
            .unwrap_or(after.len() - skip_space);
        self.cursor += skip_space + word;
        self.completion = None;
    }

    /// Deletes the word before the cursor (Ctrl+W).
    pub fn delete_word(&mut self) {
        let start = self.word_start();
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.edited();
    }

    /// Deletes from the start of the line to the cursor (Ctrl+U).
    pub fn kill_to_start(&mut self) {
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
        self.edited();
    }

    /// Deletes from the cursor to the end of the line (Ctrl+K).
    pub fn kill_to_end(&mut self) {
        self.text.truncate(self.cursor);
        self.edited();
    }

    /// After any edit: completion and history browsing start over.
    fn edited(&mut self) {
        self.completion = None;
        self.browsing = None;
    }

    /// Takes the line for sending: returns it, remembers it in the history (unless
    /// blank or equal to the last entry) and empties the editor.
    pub fn submit(&mut self) -> String {
        let line = std::mem::take(&mut self.text);
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY_LIMIT {
                self.history.remove(0);
            }
        }
        self.clear();
        line
    }

    /// Up: the previous history line (the line being typed is kept as a draft).
    pub fn history_prev(&mut self) {
        let next = match self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.draft = self.text.clone();
                self.history.len() - 1
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.browsing = Some(next);
        let line = self.history[next].clone();
        self.set_text(&line);
    }

    /// Down: the next history line, and after the newest one the draft.
    pub fn history_next(&mut self) {
        let Some(i) = self.browsing else { return };
        if i + 1 < self.history.len() {
            self.browsing = Some(i + 1);
            let line = self.history[i + 1].clone();
            self.set_text(&line);
        } else {
            self.browsing = None;
            let draft = std::mem::take(&mut self.draft);
            self.set_text(&draft);
        }
    }

    /// Tab (or Shift+Tab with `backwards`): completes the word before the cursor,
    /// and on repeated presses cycles through the candidates. Returns whether
    /// anything was completed.
    pub fn complete(&mut self, sources: &CompletionSources, backwards: bool) -> bool {
        if let Some(mut c) = self.completion.take() {
            let n = c.candidates.len();
            c.index = if backwards {
                (c.index + n - 1) % n
            } else {
                (c.index + 1) % n
            };
            let word = c.candidates[c.index].clone();
            self.replace_word(c.start, &word);
            self.completion = Some(c);
            return true;
        }
        let (start, candidates) = candidates(&self.text[..self.cursor], sources);
        match candidates.len() {
            0 => false,
            1 => {
                let mut word = candidates[0].clone();
                if !self.text[self.cursor..].starts_with(' ') {
                    word.push(' ');
                }
                self.replace_word(start, &word);
                true
            }
            _ => {
                let index = if backwards { candidates.len() - 1 } else { 0 };
                let word = candidates[index].clone();
                self.replace_word(start, &word);
                self.completion = Some(Completion {
                    start,
                    candidates,
                    index,
                });
                true
            }
        }
    }

    /// Replaces `text[start..cursor]` with `word`; the cursor goes after it.
    fn replace_word(&mut self, start: usize, word: &str) {
        self.text.replace_range(start..self.cursor, word);
        self.cursor = start + word.len();
        self.browsing = None;
    }
}

/// Candidates whose lower-cased form starts with `prefix` (case-insensitive),
/// sorted and without duplicates.
fn matching<I: IntoIterator<Item = String>>(prefix: &str, items: I) -> Vec<String> {
    let p = prefix.to_lowercase();
    let mut out: Vec<String> = items
        .into_iter()
        .filter(|s| !s.is_empty() && s.to_lowercase().starts_with(&p) && s.to_lowercase() != p)
        .collect();
    out.sort_by_key(|s| s.to_lowercase());
    out.dedup();
    out
}

/// What could replace the last word of `before` (the text before the cursor):
/// the byte offset where that word starts, and the candidates.
pub fn candidates(before: &str, sources: &CompletionSources) -> (usize, Vec<String>) {
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let previous: Vec<&str> = before[..start].split_whitespace().collect();
    let channels = || sources.channels.iter().cloned();
    let list = if let Some(name) = word.strip_prefix('@') {
        matching(name, sources.names.iter().map(|n| n.replace(' ', "_")))
            .into_iter()
            .map(|n| format!("@{n}"))
            .collect()
    } else if let Some(ch) = word.strip_prefix('#') {
        matching(ch, channels())
            .into_iter()
            .map(|c| format!("#{c}"))
            .collect()
    } else if previous.is_empty() && word.starts_with('/') {
        matching(word, COMMANDS.iter().map(|c| c.name.to_string()))
    } else if previous.first().is_some_and(|w| w.starts_with('/')) {
        argument_candidates(&previous, word, sources)
    } else {
        Vec::new()
    };
    (start, list)
}

/// Candidates for an argument of a command: `previous` are the words before it.
fn argument_candidates(previous: &[&str], word: &str, src: &CompletionSources) -> Vec<String> {
    let cmd = previous[0].to_lowercase();
    let sub = previous
        .get(1)
        .map(|s| s.to_lowercase())
        .unwrap_or_default();
    match (cmd.as_str(), previous.len()) {
        ("/help", 1) => matching(word, COMMANDS.iter().map(|c| c.name[1..].to_string())),
        ("/who", 1) => matching(word, src.channels.iter().cloned()),
        (_, 1) => spec(&cmd).map_or_else(Vec::new, |s| {
            matching(word, s.subcommands.iter().map(|w| (*w).to_string()))
        }),
        ("/channel", 2) if ["switch", "join", "leave", "approve"].contains(&sub.as_str()) => {
            matching(word, src.channels.iter().cloned())
        }
        ("/channel", 3) if sub == "create" => matching(
            word,
            ["public", "key", "invite"].iter().map(|w| (*w).to_string()),
        ),
        ("/circle", 2) if sub == "switch" => matching(word, src.circles.iter().cloned()),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineEditor {
        let mut e = LineEditor::new();
        s.chars().for_each(|c| e.insert_char(c));
        e
    }

    #[test]
    fn editing_moves_by_graphemes() {
        let mut e = typed("a👍🏽e\u{301}");
        e.backspace();
        assert_eq!(e.text(), "a👍🏽");
        e.left();
        assert_eq!(e.cursor(), 1);
        e.insert_str("日\n本");
        assert_eq!(e.text(), "a日 本👍🏽");
        e.home();
        e.delete();
        assert_eq!(e.text(), "日 本👍🏽");
        e.end();
        e.delete_word();
        assert_eq!(e.text(), "日 ");
        e.set_text("one two three");
        e.word_left();
        e.kill_to_end();
        assert_eq!(e.text(), "one two ");
        e.home();
        e.word_right();
        e.kill_to_start();
        assert_eq!(e.text(), " two ");
    }

    #[test]
    fn history_keeps_the_draft() {
        let mut e = LineEditor::new();
        e.set_text("first");
        e.submit();
        e.set_text("second");
        assert_eq!(e.submit(), "second");
        e.set_text("second");
        e.submit(); // not repeated
        assert_eq!(e.history(), ["first", "second"]);
        e.set_text("draft");
        e.history_prev();
        assert_eq!(e.text(), "second");
        e.history_prev();
        e.history_prev();
        assert_eq!(e.text(), "first");
        e.history_next();
        assert_eq!(e.text(), "second");
        e.history_next();
        assert_eq!(e.text(), "draft");
        e.history_next();
        assert_eq!(e.text(), "draft");
    }
}
