//! Rendering tests with ratatui's `TestBackend`: layout at several sizes,
//! wrapping, modals, unread counts, day dividers and mention highlighting.

mod common;

use common::*;
use crossterm::event::KeyCode;
use felund_tui::app::{Action, App, Modal};
use felund_tui::event::{AppEvent, Response};
use felund_tui::ui::theme;
use felund_tui::zone::DisplayZone;
use ratatui::style::Modifier;

#[test]
fn main_screen_has_header_sidebar_log_status_and_input() {
    let mut app = connected(100, 20);
    live(&mut app, msg("m1", "general", BOB, T0, "hey everyone"));
    live(&mut app, msg("m2", "general", ME, T0 + 60, "what's up"));
    let rows = rows(&render(&app));
    let header = &rows[0];
    assert!(header.contains("node a3f8b2c1 (alice)"), "{header}");
    assert!(header.contains("room │ #general │ 1 peer"), "{header}");
    assert!(header.trim_end().ends_with("ctrl+q=quit"), "{header}");
    assert!(rows[1].starts_with(" Circles"), "{}", rows[1]);
    let text = rows.join("\n");
    assert!(text.contains(" ● room"), "{text}");
    assert!(text.contains("#general ←"), "{text}");
    assert!(text.contains("○ work"), "{text}");
    assert!(text.contains("10:32 bob: hey everyone"), "{text}");
    assert!(text.contains("10:33 alice: what's up"), "{text}");
    assert!(rows[18].contains("● connected"), "{}", rows[18]);
    assert!(rows[18].contains("F1 help"), "{}", rows[18]);
    assert!(rows[19].starts_with("> Message #general"), "{}", rows[19]);
}

#[test]
fn authors_have_stable_colours_and_own_messages_differ() {
    let mut app = connected(100, 20);
    live(&mut app, msg("m1", "general", BOB, T0, "one"));
    live(&mut app, msg("m2", "general", ME, T0, "two"));
    live(&mut app, msg("m3", "general", BOB, T0, "three"));
    let buf = render(&app);
    let (bx, by) = find(&buf, "bob: one").expect("bob's first line");
    let (bx2, by2) = find(&buf, "bob: three").expect("bob's second line");
    let (ax, ay) = find(&buf, "alice: two").expect("own line");
    let bob = buf[(bx, by)].fg;
    assert_eq!(bob, buf[(bx2, by2)].fg, "same author, same colour");
    assert_eq!(Some(bob), theme::author(BOB).fg);
    assert_eq!(Some(buf[(ax, ay)].fg), theme::own_author().fg);
    assert_ne!(bob, buf[(ax, ay)].fg);
}

#[test]
fn layout_survives_many_sizes_including_tiny() {
    for (w, h) in [
        (120, 40),
        (80, 24),
        (60, 12),
        (45, 8),
        (30, 6),
        (20, 4),
        (10, 3),
        (5, 2),
        (1, 1),
    ] {
        let mut app = connected(w, h);
        live(
            &mut app,
            msg(
                "m1",
                "general",
                BOB,
                T0,
                "日本語とemoji 👍🏽 in a long line that needs wrapping",
            ),
        );
        let rows = rows(&render(&app));
        assert_eq!(rows.len(), usize::from(h));
        for r in &rows {
            assert!(
                unicode_width::UnicodeWidthStr::width(r.as_str()) <= usize::from(w),
                "{w}x{h}: {r:?}"
            );
        }
        for modal in [
            Modal::help(),
            Modal::invite("room", Some("felund1.abc".into())),
            Modal::settings("a", ""),
            Modal::wizard("a"),
        ] {
            app.modal = Some(modal);
            render(&app);
        }
    }
    // Narrow terminals drop the sidebar but keep the log.
    let mut app = connected(36, 10);
    live(&mut app, msg("m1", "general", BOB, T0, "hi"));
    let text = screen(&app);
    assert!(!text.contains("Circles"), "{text}");
    assert!(text.contains("10:32 bob: hi"), "{text}");
}

#[test]
fn resize_rewraps_the_log() {
    let mut app = connected(100, 12);
    let long = "word ".repeat(30);
    live(&mut app, msg("m1", "general", BOB, T0, long.trim()));
    let wide = rows(&render(&app))
        .iter()
        .filter(|r| r.contains("word"))
        .count();
    app.update(Action::Resize(50, 12));
    let narrow_rows = rows(&render(&app));
    let narrow = narrow_rows.iter().filter(|r| r.contains("word")).count();
    assert!(narrow > wide, "{wide} -> {narrow}");
    assert!(narrow_rows
        .iter()
        .all(|r| unicode_width::UnicodeWidthStr::width(r.as_str()) <= 50));
}

#[test]
fn long_cjk_and_emoji_messages_wrap_inside_the_log() {
    let mut app = connected(60, 16);
    let text = "漢字かな交じり文の長いメッセージ👨‍👩‍👧🎉と絵文字をたくさん含むテキストです。もっと長くします。";
    live(&mut app, msg("m1", "general", BOB, T0, text));
    let rows = rows(&render(&app));
    let log_rows: Vec<&String> = rows
        .iter()
        .filter(|r| r.contains('漢') || r.contains('す') || r.contains('も'))
        .collect();
    assert!(log_rows.len() >= 2, "{rows:#?}");
    for r in &rows {
        assert!(
            unicode_width::UnicodeWidthStr::width(r.as_str()) <= 60,
            "{r:?}"
        );
        // The sidebar divider stays in its column on every row of the body.
    }
    for r in &rows[1..rows.len() - 2] {
        let col: String = r.chars().take(17).collect();
        assert!(col.ends_with('│'), "divider moved: {r:?}");
    }
    // Continuation lines are indented under the author.
    let cont = rows
        .iter()
        .position(|r| r.contains("10:32 bob:"))
        .map(|i| &rows[i + 1])
        .expect("continuation");
    assert!(
        cont[cont.find('│').unwrap_or(0) + 3..].starts_with("      "),
        "{cont:?}"
    );
}

#[test]
fn control_and_bidi_characters_from_peers_are_defused() {
    let mut app = connected(80, 12);
    live(
        &mut app,
        msg("m1", "general", BOB, T0, "evil\x1b[2Jclear \u{202E}gnp.exe"),
    );
    let text = screen(&app);
    assert!(text.contains("evil\u{FFFD}[2Jclear gnp.exe"), "{text}");
    assert!(!text.contains('\x1b'));
}

#[test]
fn day_dividers_separate_days() {
    let mut app = connected(80, 14);
    page(
        &mut app,
        "general",
        vec![
            msg("d1", "general", BOB, T0, "monday-ish"),
            msg("d2", "general", BOB, T0 + 86_400, "next day"),
            msg("d3", "general", ME, T0 + 86_400 + 5, "same day"),
        ],
        None,
        false,
    );
    let rows = rows(&render(&app));
    let dividers: Vec<&String> = rows.iter().filter(|r| r.contains("────")).collect();
    assert_eq!(dividers.len(), 2, "{rows:#?}");
    assert!(dividers[0].contains(" Tue 7 May 2024 "), "{}", dividers[0]);
    assert!(dividers[1].contains(" Wed 8 May 2024 "), "{}", dividers[1]);
    let pos = |needle: &str| {
        rows.iter()
            .position(|r| r.contains(needle))
            .unwrap_or(usize::MAX)
    };
    assert!(pos("Tue 7") < pos("monday-ish"));
    assert!(pos("monday-ish") < pos("Wed 8"));
    assert!(pos("Wed 8") < pos("next day") && pos("next day") < pos("same day"));
    assert!(rows.iter().any(|r| r.contains("beginning of #general")));
}

#[test]
fn mentions_of_me_are_highlighted() {
    let mut app = connected(80, 12);
    live(
        &mut app,
        msg("m1", "general", BOB, T0, "hey @alice look, and @carol too"),
    );
    live(&mut app, msg("m2", "general", BOB, T0, "no mention here"));
    let buf = render(&app);
    let (x, y) = find(&buf, "@alice").expect("mention");
    assert_eq!(Some(buf[(x, y)].bg), theme::my_mention().bg);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    // The whole line has the mention background, others' mentions are yellow.
    let (tx, ty) = find(&buf, "10:32 bob: hey").expect("line");
    assert_eq!(buf[(tx, ty)].bg, theme::MENTION_BG);
    let (cx, cy) = find(&buf, "@carol").expect("other mention");
    assert_eq!(Some(buf[(cx, cy)].fg), theme::mention().fg);
    let (nx, ny) = find(&buf, "no mention").expect("plain line");
    assert_ne!(buf[(nx, ny)].bg, theme::MENTION_BG);
}

#[test]
fn unread_counts_show_in_the_sidebar_and_clear_on_switch() {
    let mut app = connected(100, 16);
    live(&mut app, msg("r1", "random", BOB, T0, "psst"));
    live(&mut app, msg("r2", "random", BOB, T0, "@alice over here"));
    live(
        &mut app,
        msg("r3", "random", ME, T0, "own messages are not unread"),
    );
    let text = screen(&app);
    let line = text
        .lines()
        .find(|l| l.starts_with("   #random"))
        .expect("random in sidebar");
    assert!(line.contains("@2"), "{line}");
    live(
        &mut app,
        msg("g1", "general", BOB, T0, "in the active channel"),
    );
    let text = screen(&app);
    let line = text
        .lines()
        .find(|l| l.contains("#general ←"))
        .expect("active channel");
    assert!(
        !line[..line.find('│').unwrap_or(line.len())].contains(" 1 "),
        "{line}"
    );
    key_mod(
        &mut app,
        KeyCode::Char('n'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    page(&mut app, "random", Vec::new(), None, false);
    let text = screen(&app);
    let line = text
        .lines()
        .find(|l| l.starts_with("   #random"))
        .expect("random in sidebar");
    assert!(line.contains('←') && !line.contains("@2"), "{line}");
    assert!(text.contains("bob: psst"), "{text}");
}

#[test]
fn help_modal_lists_keys_and_commands() {
    let mut app = connected(110, 40);
    key(&mut app, KeyCode::F(1));
    let text = screen(&app);
    assert!(text.contains("felund-tui help"), "{text}");
    for needle in [
        "F2",
        "Ctrl+Q",
        "PgUp / PgDn",
        "/channel create <name> [public|key|invite] [key]",
        "/join <code>",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
}

#[test]
fn invite_modal_shows_the_code_and_copies_it() {
    let mut app = connected(100, 24);
    let fx = key(&mut app, KeyCode::F(2));
    assert_eq!(
        fx,
        vec![felund_tui::app::Effect::Request(
            felund_tui::event::Request::Invite {
                circle: ROOM.into()
            }
        )]
    );
    assert!(screen(&app).contains("fetching…"));
    let code = format!("felund1.{}", "x".repeat(150));
    feed(
        &mut app,
        AppEvent::Done(Response::Invite {
            circle: ROOM.into(),
            code: code.clone(),
        }),
    );
    let text = screen(&app);
    assert!(text.contains("Invite code — room"), "{text}");
    let shown: String = text
        .lines()
        .filter(|l| l.contains("felund1.") || l.contains("xxxx"))
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect();
    assert_eq!(shown, code, "{text}");
    let fx = key(&mut app, KeyCode::Char('c'));
    assert_eq!(fx, vec![felund_tui::app::Effect::Copy(code)]);
    assert!(screen(&app).contains("clipboard"));
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
}

#[test]
fn settings_modal_renders_fields_with_cursor() {
    let mut app = connected(100, 24);
    key(&mut app, KeyCode::F(3));
    let text = screen(&app);
    assert!(
        text.contains("Settings") && text.contains("Display name") && text.contains("Relay URL"),
        "{text}"
    );
    assert!(text.contains("alice"), "{text}");
}

#[test]
fn wizard_shows_on_first_run_without_circles() {
    let mut app = App::new("/s.sock", DisplayZone::utc());
    app.update(Action::Resize(90, 24));
    let mut snap = snapshot();
    snap.circles.clear();
    snap.channels.clear();
    feed(&mut app, AppEvent::Connected(Box::new(snap)));
    let text = screen(&app);
    assert!(text.contains("Welcome to felund"), "{text}");
    assert!(
        text.contains("Create a new circle") && text.contains("Join with an invite code"),
        "{text}"
    );
    assert!(text.contains("Circle name (optional)"), "{text}");
    key_mod(
        &mut app,
        KeyCode::Char('t'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    assert!(screen(&app).contains("Invite code (felund1."));
}

#[test]
fn not_running_daemon_is_explained() {
    let mut app = App::new("/run/x.sock", DisplayZone::utc());
    app.update(Action::Resize(100, 12));
    let error = "felundd is not running at /run/x.sock; start it with `felundd` (or `systemctl --user start felundd`)";
    for attempt in 1..=3 {
        feed(
            &mut app,
            AppEvent::ConnectFailed {
                error: error.into(),
                attempt,
                retry_in_ms: 250,
            },
        );
    }
    let text = screen(&app);
    assert_eq!(
        text.matches("felundd is not running").count(),
        1,
        "said once:\n{text}"
    );
    assert!(text.contains("start it with `felundd`"), "{text}");
    assert!(
        text.contains("connecting to felundd at /run/x.sock (attempt 3)"),
        "{text}"
    );
}

/// 40×12: no room for the sidebar; the header keeps where you are and a gap before its
/// hint; help entries stay readable (key, then text) instead of a 28-column key gutter.
#[test]
fn a_40_by_12_terminal_hides_the_sidebar_and_keeps_header_and_help_readable() {
    let mut app = connected(40, 12);
    let text = screen(&app);
    let lines: Vec<&str> = text.lines().collect();
    assert!(!text.contains("Circles"), "sidebar shown:\n{text}");
    assert!(lines[0].contains("room │ #general"), "{text}");
    assert!(lines[0].contains(" ctrl+q=quit"), "{text}");
    assert!(!lines[0].contains("…ctrl"), "header runs together:\n{text}");
    key(&mut app, KeyCode::F(1));
    let help = screen(&app);
    assert!(help.contains("Help — Esc closes"), "{help}");
    assert!(help.contains("F1            Help (this screen)"), "{help}");
    for line in help.lines() {
        assert!(line.chars().count() <= 40, "{line}");
    }
}

/// Read markers live in felundd: the counts a fresh client shows come from it, reading
/// the shown channel tells it, and another client's reading clears them here.
#[test]
fn unread_counts_come_from_and_go_back_to_the_daemons_read_markers() {
    use felund_tui::event::{LiveEvent, Request};
    use felund_tui::model::ChannelView;
    let mut app = connected(100, 16);
    // What the daemon says (as after a restart): 4 unread in #random, 1 mentioning me.
    feed(
        &mut app,
        AppEvent::Done(Response::Channels {
            circle: ROOM.into(),
            channels: vec![
                ChannelView {
                    circle_id: ROOM.into(),
                    id: "general".into(),
                    joined: true,
                    ..Default::default()
                },
                ChannelView {
                    circle_id: ROOM.into(),
                    id: "random".into(),
                    joined: true,
                    unread: 4,
                    mentions: 1,
                    read_seq: 10,
                    ..Default::default()
                },
            ],
        }),
    );
    let random_line = |app: &App| {
        screen(app)
            .lines()
            .find(|l| l.starts_with("   #random"))
            .expect("random in sidebar")
            .to_string()
    };
    assert!(random_line(&app).contains("@4"), "{}", random_line(&app));

    // Another client of the node read #random: the count goes.
    feed(
        &mut app,
        AppEvent::Live(LiveEvent::Read {
            circle: ROOM.into(),
            channel: "random".into(),
            read_seq: 14,
        }),
    );
    assert!(!random_line(&app).contains('4'), "{}", random_line(&app));

    // A new message in the shown channel, on screen: this client marks it read.
    let mut m = msg("g9", "general", BOB, T0, "seen at once");
    m.seq = 15;
    let fx = live(&mut app, m);
    assert_eq!(
        requests(&fx),
        [Request::MarkRead {
            circle: ROOM.into(),
            channel: "general".into(),
            seq: 15
        }]
    );
    // ... once.
    let mut again = msg("g9", "general", BOB, T0, "seen at once");
    again.seq = 15;
    assert!(requests(&live(&mut app, again)).is_empty());
}
