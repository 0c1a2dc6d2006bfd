//! Rendering: pure functions from [`App`] to a ratatui frame, one module per
//! part of the screen. Nothing here changes the app.

pub mod header;
pub mod input;
pub mod layout;
pub mod log;
pub mod modals;
pub mod search;
pub mod sidebar;
pub mod theme;
pub mod wrap;

use ratatui::widgets::{Block, Borders};
use ratatui::Frame;

use crate::app::App;

/// Draws the whole screen.
pub fn render(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let a = layout::areas((area.width, area.height));
    header::render(frame, a.header, app);
    if let Some(sb) = a.sidebar {
        sidebar::render(frame, sb, app);
    }
    if let Some(d) = a.divider {
        frame.render_widget(
            Block::new()
                .borders(Borders::LEFT)
                .border_style(theme::border()),
            d,
        );
    }
    log::render(frame, a.log, app);
    if let Some(s) = a.status {
        input::render_status(frame, s, app);
    }
    input::render(frame, a.input, app);
    if app.modal.is_some() {
        modals::render(frame, area, app);
    }
}
