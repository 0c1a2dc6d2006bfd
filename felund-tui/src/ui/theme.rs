//! Colours and styles, in one place.

use ratatui::style::{Color, Modifier, Style};

/// Author colours for other people (256-colour palette; green is kept for "me").
const AUTHOR_COLOURS: [Color; 12] = [
    Color::Indexed(39),  // deep sky blue
    Color::Indexed(208), // orange
    Color::Indexed(170), // orchid
    Color::Indexed(214), // amber
    Color::Indexed(45),  // turquoise
    Color::Indexed(141), // light purple
    Color::Indexed(203), // coral
    Color::Indexed(117), // sky
    Color::Indexed(220), // gold
    Color::Indexed(177), // violet
    Color::Indexed(81),  // steel blue
    Color::Indexed(210), // salmon
];

/// The stable colour of an author (hash of the node id).
pub fn author(node_id: &str) -> Style {
    let i = crate::text::colour_index(node_id, AUTHOR_COLOURS.len());
    Style::new()
        .fg(AUTHOR_COLOURS[i])
        .add_modifier(Modifier::BOLD)
}

/// This node's own name in the log.
pub fn own_author() -> Style {
    Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
}

/// Timestamps.
pub fn time() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Background of a line that mentions me.
pub const MENTION_BG: Color = Color::Indexed(17);

/// An @mention of someone else.
pub fn mention() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

/// An @mention of me.
pub fn my_mention() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// Day dividers and other quiet lines.
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Informational notices.
pub fn info() -> Style {
    Style::new().fg(Color::Gray).add_modifier(Modifier::ITALIC)
}

/// Error notices.
pub fn error() -> Style {
    Style::new().fg(Color::LightRed)
}

/// Event notices (joins, renames).
pub fn event() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::ITALIC)
}

/// The header bar.
pub fn header() -> Style {
    Style::new().fg(Color::White).bg(Color::Indexed(24))
}

/// The status bar above the input.
pub fn status() -> Style {
    Style::new().fg(Color::Gray).bg(Color::Indexed(236))
}

/// Borders and separators.
pub fn border() -> Style {
    Style::new().fg(Color::Indexed(240))
}

/// The active circle/channel in the sidebar.
pub fn active() -> Style {
    Style::new().fg(Color::White).add_modifier(Modifier::BOLD)
}

/// Unread counters.
pub fn unread() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

/// Unread counters with a mention of me.
pub fn unread_mention() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// Good state (connected).
pub fn good() -> Style {
    Style::new().fg(Color::Green)
}

/// Bad state (offline).
pub fn bad() -> Style {
    Style::new()
        .fg(Color::LightRed)
        .add_modifier(Modifier::BOLD)
}

/// A focused text field in a modal.
pub fn field_focused() -> Style {
    Style::new().fg(Color::White).bg(Color::Indexed(238))
}

/// An unfocused text field in a modal.
pub fn field() -> Style {
    Style::new().fg(Color::Gray).bg(Color::Indexed(235))
}

/// A selected choice (wizard buttons).
pub fn selected() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

/// Titles and headings.
pub fn title() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

/// A channel name in `/search` results.
pub fn channel() -> Style {
    Style::new().fg(Color::Cyan)
}

/// A word a search matched.
pub fn found() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Indexed(214))
        .add_modifier(Modifier::BOLD)
}

/// Background of the selected row of a list.
pub fn selected_row() -> Style {
    Style::new().bg(Color::Indexed(238))
}
