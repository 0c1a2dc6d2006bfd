//! Text formatting for people: times, tables, message lines.
//!
//! Names and texts come from other peers, so everything shown is passed through
//! [`clean`], which defuses terminal control sequences.

use chrono::{Local, TimeZone};
use felund_client::api;

/// Peer text made safe to print (one place for all clients: felund-client).
pub use felund_client::text::{defuse as clean, defuse_line as clean_line, duration};

/// `value`, or `-` when it is empty.
pub fn or_dash(value: &str) -> String {
    if value.is_empty() {
        "-".to_string()
    } else {
        clean_line(value)
    }
}

/// A byte count for people: `300 B`, `1.2 kB`, `3.4 MB`, `1.0 GB` (powers of 1000).
pub fn bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

/// The first 8 characters of an id.
pub use felund_client::text::short_id as short;

/// Unix seconds as local `YYYY-MM-DD HH:MM`; `-` for 0 or an impossible time.
pub fn time(ts: i64) -> String {
    if ts <= 0 {
        return "-".to_string();
    }
    match Local.timestamp_opt(ts, 0).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => "-".to_string(),
    }
}

/// How people see circles: by name, or by a short id when unnamed. Built from a
/// `ListCircles` answer; `watch` keeps it current from circle events.
#[derive(Debug, Default)]
pub struct CircleNames(std::collections::HashMap<String, String>);

impl CircleNames {
    /// Names of `circles`.
    pub fn of(circles: &[api::Circle]) -> Self {
        let mut names = Self::default();
        for c in circles {
            names.learn(c);
        }
        names
    }

    /// Takes a circle's current name.
    pub fn learn(&mut self, c: &api::Circle) {
        self.0.insert(c.circle_id.clone(), c.name.clone());
    }

    /// The circle as people see it.
    pub fn label(&self, circle_id: &str) -> String {
        match self.0.get(circle_id).filter(|n| !n.trim().is_empty()) {
            Some(name) => clean_line(name),
            None => clean_line(short(circle_id)),
        }
    }
}

/// The name to show for a message's author: its display name, else a short id.
pub fn author(m: &api::Message) -> String {
    if m.display_name.trim().is_empty() {
        short(&m.author_node_id).to_string()
    } else {
        clean_line(&m.display_name)
    }
}

/// `[YYYY-MM-DD HH:MM] name: text`, preceded by `context` (e.g. `#general `) if any.
/// Continuation lines of a multi-line text are indented to line up after the time.
pub fn message_line(m: &api::Message, context: &str) -> String {
    let stamp = format!("[{}] {context}", time(m.created_ts));
    let indent = " ".repeat(stamp.chars().count());
    let body = clean(&m.text).replace('\n', &format!("\n{indent}"));
    format!("{stamp}{}: {body}", author(m))
}

/// `key : value` lines with the colons aligned, each line starting with a space
/// (the reference CLI's style).
pub fn key_values(pairs: &[(&str, String)]) -> Vec<String> {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!(" {k:<width$} : {v}"))
        .collect()
}

/// Rows as columns separated by two spaces, padded to the widest cell; the last
/// column is not padded. The first row is usually a header.
pub fn table(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count();
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_defuses_escapes() {
        assert_eq!(clean("a\x1b[31mb\r\n\tc"), "a\u{FFFD}[31mb\u{FFFD}\n\tc");
        assert_eq!(clean("x\u{202E}y"), "xy");
        assert_eq!(clean_line("a\nb"), "a b");
    }

    #[test]
    fn short_ids() {
        assert_eq!(short("0123456789abcdef"), "01234567");
        assert_eq!(short("abc"), "abc");
        assert_eq!(short("ééééééééé"), "éééééééé");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(303), "5m 3s");
        assert_eq!(duration(7_500), "2h 5m");
        assert_eq!(duration(3 * 86_400 + 4 * 3_600 + 5), "3d 4h");
    }

    #[test]
    fn times() {
        assert_eq!(time(0), "-");
        let t = time(1_700_000_000);
        assert_eq!(t.len(), "2023-11-14 22:13".len(), "{t}");
        assert!(t.starts_with("2023-11-1"), "{t}");
    }

    #[test]
    fn message_lines() {
        let m = api::Message {
            author_node_id: "0123456789ab".into(),
            created_ts: 1_700_000_000,
            text: "one\ntwo".into(),
            ..Default::default()
        };
        let line = message_line(&m, "");
        assert!(line.starts_with('['), "{line}");
        assert!(line.contains("] 01234567: one\n"), "{line}");
        assert!(
            line.ends_with(&format!("\n{}two", " ".repeat(19))),
            "{line:?}"
        );
        let named = api::Message {
            display_name: "alice".into(),
            ..m
        };
        assert!(message_line(&named, "#ops ").contains("] #ops alice: one"));
    }

    #[test]
    fn tables_align() {
        let rows = vec![
            vec!["A".to_string(), "BB".to_string(), "C".to_string()],
            vec!["long".to_string(), "x".to_string(), "y".to_string()],
        ];
        assert_eq!(table(&rows), vec!["A     BB  C", "long  x   y"]);
        assert_eq!(
            key_values(&[("id", "1".into()), ("name", "a".into())]),
            vec![" id   : 1", " name : a"]
        );
    }
}
