//! Showing what other peers wrote, safely. Names and message texts come from other
//! nodes, so every client passes them through [`defuse`] before printing: a peer
//! must not be able to move the cursor, recolour the terminal or reorder text on
//! the reader's screen.

/// Characters that reorder text (bidirectional controls).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Text from a peer made safe to print, keeping line breaks and tabs: bidi controls
/// and the byte-order mark are dropped; carriage returns and other control
/// characters (escape sequences included) become U+FFFD so their presence stays
/// visible.
pub fn defuse(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '\u{FEFF}' && !is_bidi_control(*c))
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// [`defuse`] for one-line fields (names): line breaks and tabs become spaces and
/// the ends are trimmed.
pub fn defuse_line(text: &str) -> String {
    defuse(text).replace(['\n', '\t'], " ").trim().to_string()
}

/// The first 8 characters of an id, as shown to people.
pub fn short_id(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(i, _)| &id[..i])
}

/// A duration in seconds for people: `42s`, `5m 3s`, `2h 5m`, `3d 4h`.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defuse_neutralises_escapes_and_drops_bidi_controls() {
        assert_eq!(defuse("a\x1b[31mb\r\n\tc"), "a\u{FFFD}[31mb\u{FFFD}\n\tc");
        assert_eq!(defuse("x\u{202E}y\u{2066}z"), "xyz");
        assert_eq!(defuse("\u{FEFF}hi\u{7f}"), "hi\u{FFFD}");
        assert_eq!(defuse_line(" a\nb\tc "), "a b c");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(303), "5m 3s");
        assert_eq!(duration(7_500), "2h 5m");
        assert_eq!(duration(273_600), "3d 4h");
    }
}
