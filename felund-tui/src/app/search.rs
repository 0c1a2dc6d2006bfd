//! `/search`: the state of the results window, its keys, and what the daemon's
//! answer (or failure) changes. The window opens at once, says "searching…"
//! until the answer comes, then lists the matches newest first. Enter shows
//! the selected match's channel; Esc closes.

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, ChannelKey, Effect, Modal, NoticeKind};
use crate::event::Request;
use crate::model::ChatMessage;
use crate::text::sanitize_line;

/// The `/search` results window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The words searched for, as typed.
    pub query: String,
    /// The circle searched (id); `None` for every circle.
    pub circle: Option<String>,
    /// The matches, newest first; `None` while the daemon is searching.
    pub results: Option<Vec<ChatMessage>>,
    /// Index of the selected match.
    pub selected: usize,
    /// Index of the first match in view.
    pub scroll: usize,
}

impl Search {
    /// A window waiting for the answer to a search.
    pub fn new(query: &str, circle: Option<String>) -> Self {
        Self {
            query: query.to_string(),
            circle,
            results: None,
            selected: 0,
            scroll: 0,
        }
    }

    /// The window for a search that has been answered.
    pub fn with_results(query: &str, circle: Option<String>, results: Vec<ChatMessage>) -> Self {
        Self {
            results: Some(results),
            ..Self::new(query, circle)
        }
    }

    /// The number of matches (0 while searching).
    pub fn count(&self) -> usize {
        self.results.as_ref().map_or(0, Vec::len)
    }

    /// The selected match.
    pub fn selected_message(&self) -> Option<&ChatMessage> {
        self.results.as_ref()?.get(self.selected)
    }

    /// Moves the selection by `delta` (clamped to the list) and scrolls so
    /// that it stays among the `rows` matches in view.
    pub fn move_selection(&mut self, delta: isize, rows: usize) {
        let last = self.count().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        let rows = rows.max(1);
        if self.selected < self.scroll {
            self.scroll = self.selected;
        } else if self.selected >= self.scroll + rows {
            self.scroll = self.selected + 1 - rows;
        }
    }
}

impl App {
    /// `/search`: opens the results window and asks the daemon.
    pub(super) fn start_search(&mut self, query: String, circle: Option<String>) -> Vec<Effect> {
        self.modal = Some(Modal::Search(Search::new(&query, circle.clone())));
        vec![Effect::Request(Request::Search { query, circle })]
    }

    /// The daemon answered a search: fills the window if it still waits for
    /// this answer (a closed or newer search ignores it).
    pub(super) fn on_search_results(
        &mut self,
        query: &str,
        circle: Option<&str>,
        messages: Vec<ChatMessage>,
    ) {
        if let Some(Modal::Search(s)) = self.modal.as_mut() {
            if s.results.is_none() && s.query == query && s.circle.as_deref() == circle {
                *s = Search::with_results(query, s.circle.clone(), messages);
            }
        }
    }

    /// A search failed: closes the window that waited for it (the error goes
    /// to the log).
    pub(super) fn on_search_failed(&mut self, query: &str, circle: Option<&str>) {
        if let Some(Modal::Search(s)) = &self.modal {
            if s.results.is_none() && s.query == query && s.circle.as_deref() == circle {
                self.modal = None;
            }
        }
    }

    /// A key in the results window; returns whether it stays open.
    pub(super) fn search_key(
        &mut self,
        s: &mut Search,
        key: KeyEvent,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let rows = crate::ui::search::list_rows(self.size);
        let page = rows.saturating_sub(1).max(1) as isize;
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return false,
            KeyCode::Up => s.move_selection(-1, rows),
            KeyCode::Down => s.move_selection(1, rows),
            KeyCode::PageUp => s.move_selection(-page, rows),
            KeyCode::PageDown => s.move_selection(page, rows),
            KeyCode::Home => s.move_selection(isize::MIN, rows),
            KeyCode::End => s.move_selection(isize::MAX, rows),
            KeyCode::Enter => {
                if let Some(m) = s.selected_message() {
                    let key = ChannelKey::new(&m.circle_id, &m.channel_id);
                    match self.switch_if_known(key) {
                        Some(switched) => fx.extend(switched),
                        None => self.notice(
                            NoticeKind::Error,
                            format!(
                                "#{} is not among your channels any more.",
                                sanitize_line(&m.channel_id)
                            ),
                        ),
                    }
                }
                return false;
            }
            _ => {}
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_stays_in_the_list_and_in_view() {
        let found = (0..10)
            .map(|i| ChatMessage {
                id: format!("m{i}"),
                ..Default::default()
            })
            .collect();
        let mut s = Search::with_results("x", None, found);
        s.move_selection(-1, 4);
        assert_eq!((s.selected, s.scroll), (0, 0));
        s.move_selection(5, 4);
        assert_eq!((s.selected, s.scroll), (5, 2));
        s.move_selection(isize::MAX, 4);
        assert_eq!((s.selected, s.scroll), (9, 6));
        s.move_selection(-4, 4);
        assert_eq!((s.selected, s.scroll), (5, 5));
        s.move_selection(isize::MIN, 4);
        assert_eq!((s.selected, s.scroll), (0, 0));
        assert_eq!(s.selected_message().map(|m| m.id.as_str()), Some("m0"));
        let mut waiting = Search::new("x", None);
        waiting.move_selection(3, 4);
        assert_eq!((waiting.selected, waiting.count()), (0, 0));
        assert!(waiting.selected_message().is_none());
    }
}
