//! Where each part of the screen goes, for any terminal size (down to 1×1).

use ratatui::layout::Rect;

/// The screen's regions. Parts that do not fit are `None` or zero-sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Header line (node, circle, channel, peers, quit hint).
    pub header: Rect,
    /// Circles and channels; `None` on narrow terminals.
    pub sidebar: Option<Rect>,
    /// The column between sidebar and log.
    pub divider: Option<Rect>,
    /// The message log.
    pub log: Rect,
    /// Status line above the input; `None` on short terminals.
    pub status: Option<Rect>,
    /// The input line.
    pub input: Rect,
}

/// Width of the sidebar for a terminal width, if there is room for one: below 50
/// columns the log needs them all (Ctrl+N/P and /circles still switch channels).
fn sidebar_width(w: u16) -> Option<u16> {
    match w {
        0..=49 => None,
        50..=69 => Some(16),
        _ => Some((w / 4).clamp(18, 26)),
    }
}

/// The regions for a terminal of `w` columns and `h` rows.
pub fn areas((w, h): (u16, u16)) -> Areas {
    let header_h = u16::from(h >= 3);
    let status_h = u16::from(h >= 6);
    let input_h = u16::from(h >= 1);
    let body_h = h.saturating_sub(header_h + status_h + input_h);
    let header = Rect::new(0, 0, w, header_h);
    let body_y = header_h;
    let (sidebar, divider, log) = match sidebar_width(w) {
        Some(sw) if body_h > 0 => (
            Some(Rect::new(0, body_y, sw, body_h)),
            Some(Rect::new(sw, body_y, 1, body_h)),
            Rect::new(sw + 1, body_y, w - sw - 1, body_h),
        ),
        _ => (None, None, Rect::new(0, body_y, w, body_h)),
    };
    let status = (status_h > 0).then(|| Rect::new(0, body_y + body_h, w, 1));
    let input = Rect::new(0, body_y + body_h + status_h, w, input_h);
    Areas {
        header,
        sidebar,
        divider,
        log,
        status,
        input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_tile_the_screen_at_any_size() {
        for (w, h) in [
            (120, 40),
            (80, 24),
            (50, 10),
            (30, 5),
            (10, 3),
            (1, 1),
            (0, 0),
        ] {
            let a = areas((w, h));
            let rows =
                a.header.height + a.log.height + a.status.map_or(0, |s| s.height) + a.input.height;
            assert_eq!(rows, h, "{w}x{h}");
            let cols = a.sidebar.map_or(0, |s| s.width + 1) + a.log.width;
            assert_eq!(cols, w, "{w}x{h}");
        }
        assert!(areas((120, 40)).sidebar.is_some());
        assert!(areas((40, 12)).sidebar.is_none());
        assert!(areas((30, 20)).sidebar.is_none());
    }
}
