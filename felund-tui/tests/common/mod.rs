//! Helpers shared by the UI tests: a connected app with a circle or two, message
//! builders, key presses and rendering into a `TestBackend`.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use felund_tui::app::{Action, App, Effect, Entry};
use felund_tui::event::{AppEvent, LiveEvent, Request, Response};
use felund_tui::model::{ChannelView, ChatMessage, CircleView, Member, NodeView, Snapshot};
use felund_tui::zone::DisplayZone;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

/// This node's id in tests.
pub const ME: &str = "a3f8b2c1d4e5f60718293a4b";
/// Another node (bob).
pub const BOB: &str = "b0b0b0b0c1c2c3c4c5c6c7c8";
/// The first circle's id.
pub const ROOM: &str = "c1rc1e0000000000000000aa";
/// The second circle's id.
pub const WORK: &str = "w0rk000000000000000000bb";
/// 2024-05-07 10:32:00 UTC.
pub const T0: i64 = 1_715_077_920;

/// A channel view.
pub fn channel(circle: &str, id: &str, joined: bool) -> ChannelView {
    ChannelView {
        circle_id: circle.into(),
        id: id.into(),
        joined,
        member_count: 2,
        ..Default::default()
    }
}

/// The snapshot of a node "alice" in circles "room" (#general, #random) and "work".
pub fn snapshot() -> Snapshot {
    Snapshot {
        node: NodeView {
            node_id: ME.into(),
            display_name: "alice".into(),
            ..Default::default()
        },
        circles: vec![
            CircleView {
                id: ROOM.into(),
                name: "room".into(),
                member_count: 2,
                peer_count: 1,
            },
            CircleView {
                id: WORK.into(),
                name: "work".into(),
                member_count: 1,
                peer_count: 0,
            },
        ],
        channels: vec![
            (
                ROOM.into(),
                vec![
                    channel(ROOM, "general", true),
                    channel(ROOM, "random", true),
                ],
            ),
            (WORK.into(), vec![channel(WORK, "general", true)]),
        ],
        members: vec![(
            ROOM.into(),
            vec![
                Member {
                    node_id: ME.into(),
                    display_name: "alice".into(),
                    is_self: true,
                },
                Member {
                    node_id: BOB.into(),
                    display_name: "bob".into(),
                    is_self: false,
                },
            ],
        )],
        peers: Vec::new(),
    }
}

/// A message in `room`.
pub fn msg(id: &str, channel: &str, author: &str, ts: i64, text: &str) -> ChatMessage {
    ChatMessage {
        id: id.into(),
        circle_id: ROOM.into(),
        channel_id: channel.into(),
        author: author.into(),
        display_name: if author == ME { "alice" } else { "bob" }.into(),
        created_ts: ts,
        text: text.into(),
        own: author == ME,
        seq: 0,
        order_ms: ts * 1000,
    }
}

/// Feeds a client event to the app.
pub fn feed(app: &mut App, ev: AppEvent) -> Vec<Effect> {
    app.update(ev.into())
}

/// An app of size `w`×`h`, connected, showing room/#general with its (empty)
/// first page loaded.
pub fn connected(w: u16, h: u16) -> App {
    let mut app = App::new("/run/felund/felundd.sock", DisplayZone::utc());
    app.update(Action::Resize(w, h));
    let fx = feed(&mut app, AppEvent::Connected(Box::new(snapshot())));
    assert!(fx.contains(&Effect::Request(Request::LoadMessages {
        circle: ROOM.into(),
        channel: "general".into(),
        before: None,
    })));
    page(&mut app, "general", Vec::new(), None, false);
    app
}

/// Answers a LoadMessages request for a channel of `room`.
pub fn page(
    app: &mut App,
    channel: &str,
    messages: Vec<ChatMessage>,
    next_before: Option<&str>,
    older: bool,
) {
    feed(
        app,
        AppEvent::Done(Response::Messages {
            circle: ROOM.into(),
            channel: channel.into(),
            messages,
            next_before: next_before.map(String::from),
            older,
        }),
    );
}

/// A live message arriving.
pub fn live(app: &mut App, m: ChatMessage) -> Vec<Effect> {
    feed(app, AppEvent::Live(LiveEvent::Message(m)))
}

/// A key press.
pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// A key press with modifiers.
pub fn key_mod(app: &mut App, code: KeyCode, m: KeyModifiers) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(code, m)))
}

/// Types text, one key per character.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// Types a line and presses Enter.
pub fn enter_line(app: &mut App, text: &str) -> Vec<Effect> {
    type_text(app, text);
    key(app, KeyCode::Enter)
}

/// Renders the app into a buffer of its size.
pub fn render(app: &App) -> Buffer {
    let (w, h) = app.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| felund_tui::ui::render(f, app)).expect("draw");
    term.backend().buffer().clone()
}

/// The rows of a buffer as text (wide characters once, their filler cells skipped).
pub fn rows(buf: &Buffer) -> Vec<String> {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            let mut s = String::new();
            let mut skip = 0;
            for x in 0..area.width {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                s.push_str(sym);
                skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            }
            s
        })
        .collect()
}

/// The screen as one string (rows joined by newlines).
pub fn screen(app: &App) -> String {
    rows(&render(app)).join("\n")
}

/// Position (x, y) of the first cell where `needle` starts on screen.
pub fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let first = needle.chars().next()?.to_string();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            if buf[(x, y)].symbol() != first {
                continue;
            }
            let mut cx = x;
            let mut ok = true;
            for c in needle.chars() {
                if cx >= buf.area.width || buf[(cx, y)].symbol() != c.to_string() {
                    ok = false;
                    break;
                }
                cx += unicode_width::UnicodeWidthChar::width(c)
                    .unwrap_or(1)
                    .max(1) as u16;
            }
            if ok {
                return Some((x, y));
            }
        }
    }
    None
}

/// The requests among effects.
pub fn requests(fx: &[Effect]) -> Vec<Request> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Request(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// The text of the newest notice in the log shown.
pub fn last_notice(app: &felund_tui::app::App) -> String {
    app.active_log()
        .entries
        .iter()
        .rev()
        .find_map(|e| match e {
            Entry::Notice { text, .. } => Some(text.clone()),
            Entry::Message(_) => None,
        })
        .unwrap_or_default()
}
