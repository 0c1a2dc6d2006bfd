//! Key handling and state: sending, history, Tab completion, scrolling with
//! on-demand history, channel switching, modals, and daemon events.

mod common;

use common::*;
use crossterm::event::{KeyCode, KeyModifiers};
use felund_tui::app::{Conn, Effect, Entry};
use felund_tui::event::{AppEvent, LiveEvent, Request};
use felund_tui::model::Access;

#[test]
fn enter_sends_to_the_active_channel() {
    let mut app = connected(80, 20);
    let fx = enter_line(&mut app, "hello from tui 👋");
    assert_eq!(
        requests(&fx),
        [Request::Send {
            circle: ROOM.into(),
            channel: "general".into(),
            text: "hello from tui 👋".into()
        }]
    );
    assert_eq!(app.input.text(), "");
    // `//` escapes a leading slash; blank lines send nothing.
    let fx = enter_line(&mut app, "//shrug");
    assert!(matches!(&requests(&fx)[..], [Request::Send { text, .. }] if text == "/shrug"));
    assert!(enter_line(&mut app, "   ").is_empty());
}

#[test]
fn failed_send_puts_the_text_back() {
    let mut app = connected(80, 20);
    let fx = enter_line(&mut app, "important");
    let request = requests(&fx).remove(0);
    feed(
        &mut app,
        AppEvent::Failed {
            request,
            error: "you are not a member of #x; join it first".into(),
        },
    );
    assert_eq!(app.input.text(), "important");
    assert!(
        last_notice(&app).contains("not a member"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn up_and_down_walk_the_input_history() {
    let mut app = connected(80, 20);
    enter_line(&mut app, "first");
    enter_line(&mut app, "/who");
    type_text(&mut app, "draft");
    key(&mut app, KeyCode::Up);
    assert_eq!(app.input.text(), "/who");
    key(&mut app, KeyCode::Up);
    assert_eq!(app.input.text(), "first");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.input.text(), "draft");
}

#[test]
fn tab_completes_commands_channels_and_names() {
    let mut app = connected(80, 20);
    type_text(&mut app, "/he");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/help ");
    app.input.clear();
    type_text(&mut app, "/cha");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/channel");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/channels", "Tab again cycles");
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.input.text(), "/channel");
    app.input.clear();
    type_text(&mut app, "/channel sw");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "ra");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/channel switch random ");
    app.input.clear();
    type_text(&mut app, "see #ran");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "see #random ");
    app.input.clear();
    type_text(&mut app, "hi @b");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "hi @bob ");
    app.input.clear();
    type_text(&mut app, "/circle switch w");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/circle switch work ");
    app.input.clear();
    type_text(&mut app, "/channel create x p");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/channel create x public ");
    app.input.clear();
    type_text(&mut app, "nothing");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "nothing");
}

#[test]
fn pgup_scrolls_and_loads_older_history_on_demand() {
    let mut app = connected(80, 12);
    let first: Vec<_> = (0..30)
        .map(|i| {
            msg(
                &format!("n{i}"),
                "general",
                BOB,
                T0 + i,
                &format!("newer {i}"),
            )
        })
        .collect();
    page(&mut app, "general", first, Some("cursor-1"), true);
    assert!(screen(&app).contains("newer 29"));
    let fx = key(&mut app, KeyCode::PageUp);
    assert!(requests(&fx).is_empty(), "not at the top yet");
    assert!(app.scroll > 0);
    assert!(screen(&app).contains("scrolled up"));
    let mut fx = Vec::new();
    for _ in 0..10 {
        fx.extend(key(&mut app, KeyCode::PageUp));
    }
    assert_eq!(
        requests(&fx),
        [Request::LoadMessages {
            circle: ROOM.into(),
            channel: "general".into(),
            before: Some("cursor-1".into())
        }],
        "exactly one request for the page before"
    );
    assert!(screen(&app).contains("loading older messages"));
    let older: Vec<_> = (0..5)
        .map(|i| {
            msg(
                &format!("o{i}"),
                "general",
                BOB,
                T0 - 100 + i,
                &format!("older {i}"),
            )
        })
        .collect();
    page(&mut app, "general", older, None, true);
    let entries: Vec<&str> = app
        .active_log()
        .entries
        .iter()
        .filter_map(|e| {
            if let Entry::Message(m) = e {
                Some(m.text.as_str())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(entries[0], "older 0");
    assert_eq!(entries.last().copied(), Some("newer 29"));
    key_mod(&mut app, KeyCode::Home, KeyModifiers::CONTROL);
    assert!(
        screen(&app).contains("beginning of #general"),
        "{}",
        screen(&app)
    );
    // New messages while scrolled up keep the view and are counted.
    let before = screen(&app);
    live(&mut app, msg("x1", "general", BOB, T0 + 999, "fresh"));
    assert_eq!(screen(&app).lines().nth(3), before.lines().nth(3));
    assert!(screen(&app).contains("1 new below"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.scroll, 0);
    assert!(screen(&app).contains("fresh"));
}

#[test]
fn ctrl_n_p_and_alt_arrows_cycle_channels_across_circles() {
    let mut app = connected(80, 20);
    let active = |app: &felund_tui::app::App| app.active.clone().map(|k| (k.circle, k.channel));
    let fx = key_mod(&mut app, KeyCode::Char('n'), KeyModifiers::CONTROL);
    assert_eq!(active(&app), Some((ROOM.into(), "random".into())));
    assert_eq!(requests(&fx).len(), 1, "loads the channel's first page");
    key_mod(&mut app, KeyCode::Down, KeyModifiers::ALT);
    assert_eq!(active(&app), Some((WORK.into(), "general".into())));
    key_mod(&mut app, KeyCode::Down, KeyModifiers::ALT);
    assert_eq!(
        active(&app),
        Some((ROOM.into(), "general".into())),
        "wraps around"
    );
    let fx = key_mod(&mut app, KeyCode::Char('p'), KeyModifiers::CONTROL);
    assert_eq!(active(&app), Some((WORK.into(), "general".into())));
    assert!(
        requests(&fx).is_empty(),
        "already requested, no second load"
    );
}

#[test]
fn slash_commands_become_requests_or_explain_themselves() {
    let mut app = connected(80, 20);
    let cases: Vec<(&str, Request)> = vec![
        (
            "/join felund1.abc",
            Request::JoinCircle {
                code: "felund1.abc".into(),
            },
        ),
        (
            "/circle create Book Club",
            Request::CreateCircle {
                name: "Book Club".into(),
            },
        ),
        (
            "/circle name New Name",
            Request::RenameCircle {
                circle: ROOM.into(),
                name: "New Name".into(),
            },
        ),
        (
            "/channel create ops invite",
            Request::CreateChannel {
                circle: ROOM.into(),
                channel: "ops".into(),
                access: Access::Invite,
                key: None,
            },
        ),
        (
            "/channel join #Secret pw",
            Request::JoinChannel {
                circle: ROOM.into(),
                channel: "secret".into(),
                key: Some("pw".into()),
            },
        ),
        (
            "/channel leave random",
            Request::LeaveChannel {
                circle: ROOM.into(),
                channel: "random".into(),
            },
        ),
        (
            "/channel approve ops b0b0",
            Request::Approve {
                circle: ROOM.into(),
                channel: "ops".into(),
                node_id: "b0b0".into(),
            },
        ),
        (
            "/who",
            Request::Who {
                circle: ROOM.into(),
                channel: None,
            },
        ),
        (
            "/who #random",
            Request::Who {
                circle: ROOM.into(),
                channel: Some("random".into()),
            },
        ),
        (
            "/name Alice Liddell",
            Request::SetDisplayName {
                name: "Alice Liddell".into(),
            },
        ),
        (
            "/invite",
            Request::Invite {
                circle: ROOM.into(),
            },
        ),
        ("/debug", Request::Debug),
    ];
    for (line, want) in cases {
        app.modal = None;
        let fx = enter_line(&mut app, line);
        assert_eq!(requests(&fx), [want], "{line}");
    }
    app.modal = None;
    assert!(enter_line(&mut app, "/nope").is_empty());
    assert!(last_notice(&app).contains("unknown command /nope"));
    assert!(enter_line(&mut app, "/channel switch nosuch").is_empty());
    assert!(
        last_notice(&app).contains("No channel #nosuch"),
        "{}",
        last_notice(&app)
    );
    enter_line(&mut app, "/channel switch random");
    assert_eq!(
        app.active.as_ref().map(|k| k.channel.as_str()),
        Some("random")
    );
    enter_line(&mut app, "/circles");
    assert!(
        last_notice(&app).contains("○ work"),
        "{}",
        last_notice(&app)
    );
    enter_line(&mut app, "/help who");
    assert!(last_notice(&app).contains("/who [channel]"));
    assert_eq!(enter_line(&mut app, "/quit"), [Effect::Quit]);
}

#[test]
fn live_events_update_names_channels_and_connection_state() {
    let mut app = connected(100, 20);
    live(&mut app, msg("m1", "general", BOB, T0, "hi"));
    feed(
        &mut app,
        AppEvent::Live(LiveEvent::DisplayName {
            node_id: BOB.into(),
            name: "robert".into(),
        }),
    );
    let text = screen(&app);
    // Messages keep the name they were sent with (as felundctl shows them); the rename
    // itself is announced.
    assert!(text.contains("10:32 bob: hi"), "{text}");
    assert!(text.contains("bob is now known as robert"), "{text}");
    let fx = feed(
        &mut app,
        AppEvent::Live(LiveEvent::Channel {
            change: felund_tui::event::ChannelChange::Created,
            circle: ROOM.into(),
            channel: "ops".into(),
            node_id: BOB.into(),
        }),
    );
    assert!(requests(&fx).contains(&Request::ListChannels {
        circle: ROOM.into()
    }));
    assert!(screen(&app).contains("#ops was created"));
    feed(
        &mut app,
        AppEvent::Disconnected {
            reason: "felundd closed the event stream".into(),
        },
    );
    assert!(matches!(app.conn, Conn::Offline { .. }));
    assert!(screen(&app).contains("offline, reconnecting"));
    let mut snap = snapshot();
    snap.members[0].1[1].display_name = "robert".into();
    let fx = feed(&mut app, AppEvent::Connected(Box::new(snap)));
    assert!(screen(&app).contains("Reconnected to felundd."));
    assert!(
        requests(&fx).contains(&Request::LoadMessages {
            circle: ROOM.into(),
            channel: "general".into(),
            before: None
        }),
        "reloads the active channel"
    );
    // Duplicates (the page repeating a live message) are not shown twice.
    page(
        &mut app,
        "general",
        vec![
            msg("m1", "general", BOB, T0, "hi"),
            msg("m2", "general", BOB, T0 + 1, "missed"),
        ],
        None,
        false,
    );
    let text = screen(&app);
    assert_eq!(text.matches("bob: hi").count(), 1, "{text}");
    assert!(text.contains("bob: missed"), "{text}");
}
