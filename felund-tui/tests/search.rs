//! `/search`: the request it makes, the results window (TestBackend renders of
//! matches, no matches, long and emoji texts, every circle) and its keys.

mod common;

use common::*;
use crossterm::event::KeyCode;
use felund_tui::app::{Action, Effect, Modal, Search};
use felund_tui::event::{AppEvent, Request, Response};
use felund_tui::model::ChatMessage;
use felund_tui::ui::theme;

/// Runs `/search <words>` in room and answers it with `found`.
fn search_with(app: &mut felund_tui::app::App, words: &str, found: Vec<ChatMessage>) {
    let fx = enter_line(app, &format!("/search {words}"));
    let [Request::Search { query, circle }] = &requests(&fx)[..] else {
        panic!("no search request: {fx:?}");
    };
    feed(
        app,
        AppEvent::Done(Response::SearchResults {
            query: query.clone(),
            circle: circle.clone(),
            messages: found,
        }),
    );
}

/// The open search window.
fn window(app: &felund_tui::app::App) -> &Search {
    match &app.modal {
        Some(Modal::Search(s)) => s,
        other => panic!("no search window: {other:?}"),
    }
}

#[test]
fn search_asks_the_daemon_about_the_active_circle_or_every_circle() {
    let mut app = connected(100, 24);
    let fx = enter_line(&mut app, "/search deploy  fri*");
    assert_eq!(
        requests(&fx),
        [Request::Search {
            query: "deploy  fri*".into(),
            circle: Some(ROOM.into()),
        }]
    );
    assert_eq!(window(&app).results, None);
    let text = screen(&app);
    assert!(text.contains("Search — room"), "{text}");
    assert!(text.contains("Searching for “deploy  fri*”…"), "{text}");
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
    // An answer for a closed window changes nothing.
    feed(
        &mut app,
        AppEvent::Done(Response::SearchResults {
            query: "deploy  fri*".into(),
            circle: Some(ROOM.into()),
            messages: vec![msg("m1", "general", BOB, T0, "deploy")],
        }),
    );
    assert!(app.modal.is_none());

    let fx = enter_line(&mut app, "/search -a deploy");
    assert_eq!(
        requests(&fx),
        [Request::Search {
            query: "deploy".into(),
            circle: None,
        }]
    );
    assert!(screen(&app).contains("Search — all circles"));

    // Tab completes the command; /help lists it.
    key(&mut app, KeyCode::Esc);
    type_text(&mut app, "/sea");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.input.text(), "/search ");
    app.input.clear();
    let help: Vec<String> = felund_tui::ui::modals::help_lines(100)
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert!(help.iter().any(|l| l.contains("/search -a <words>")));
}

#[test]
fn search_needs_words_and_a_circle_and_reports_failures() {
    let mut app = connected(100, 24);
    assert!(enter_line(&mut app, "/search ?!").is_empty());
    assert!(last_notice(&app).contains("nothing to search for"));
    assert!(app.modal.is_none());

    let fx = enter_line(&mut app, "/search hello");
    let request = requests(&fx).remove(0);
    feed(
        &mut app,
        AppEvent::Failed {
            request,
            error: "nothing to search for".into(),
        },
    );
    assert!(app.modal.is_none(), "the waiting window closes");
    assert_eq!(last_notice(&app), "/search failed: nothing to search for");

    // Without a circle only `-a` can search.
    let mut lobby = felund_tui::app::App::new("/s", felund_tui::zone::DisplayZone::utc());
    assert!(enter_line(&mut lobby, "/search hello").is_empty());
    assert!(last_notice(&lobby).contains("No active circle"));
    let fx = enter_line(&mut lobby, "/search -a hello");
    assert!(matches!(
        &requests(&fx)[..],
        [Request::Search { circle: None, .. }]
    ));
}

#[test]
fn results_show_time_channel_author_and_highlighted_words() {
    let mut app = connected(100, 24);
    search_with(
        &mut app,
        "deploy fri*",
        vec![
            msg("m2", "random", BOB, T0 + 86_400, "Deploy on Friday, ok?"),
            msg("m1", "general", ME, T0, "friday deploy done"),
        ],
    );
    let buf = render(&app);
    let text = rows(&buf).join("\n");
    assert!(text.contains("Search — room"), "{text}");
    assert!(
        text.contains("2 messages match “deploy fri*”, newest first."),
        "{text}"
    );
    assert!(
        text.contains("▶ 2024-05-08 10:32 #random bob: Deploy on Friday, ok?"),
        "{text}"
    );
    assert!(
        text.contains("  2024-05-07 10:32 #general alice: friday deploy done"),
        "{text}"
    );
    assert!(
        text.contains("Enter: go to its channel  ·  Esc: close"),
        "{text}"
    );
    // Matched words are highlighted, the rest of the text is not.
    let (x, y) = find(&buf, "Deploy on").expect("first match");
    assert_eq!(buf[(x, y)].bg, theme::found().bg.unwrap());
    assert_eq!(buf[(x + 7, y)].bg, theme::selected_row().bg.unwrap());
    let (x, y) = find(&buf, "Friday, ok").expect("prefix match");
    assert_eq!(buf[(x + 5, y)].bg, theme::found().bg.unwrap());
    assert_ne!(buf[(x + 6, y)].bg, theme::found().bg.unwrap());
    let (x, y) = find(&buf, "friday deploy done").expect("second match");
    assert_eq!(buf[(x, y)].bg, theme::found().bg.unwrap());
    assert_ne!(buf[(x, y)].bg, buf[(x + 6, y)].bg);
}

#[test]
fn no_matches_say_so_and_suggest_more() {
    let mut app = connected(100, 24);
    search_with(&mut app, "zebra", Vec::new());
    assert_eq!(window(&app).results, Some(Vec::new()));
    let text = screen(&app);
    assert!(text.contains("No messages match “zebra”."), "{text}");
    assert!(
        text.contains("/search -a <words> searches every circle."),
        "{text}"
    );
    assert!(text.contains("Esc: close"), "{text}");
    assert!(!text.contains("Enter: go"), "{text}");
    // Enter on nothing just closes.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(app.modal.is_none());
}

#[test]
fn long_and_emoji_results_stay_inside_the_window() {
    let mut app = connected(80, 20);
    let long = format!(
        "{}🎉 the release party is on Friday 🎉 日本語 too",
        "blah ".repeat(60)
    );
    search_with(
        &mut app,
        "party",
        vec![
            msg("m1", "general", BOB, T0, &long),
            msg("m2", "general", BOB, T0, "party 👨‍👩‍👧 time 👍🏽 ok"),
        ],
    );
    let buf = render(&app);
    let rows = rows(&buf);
    let text = rows.join("\n");
    // Cut at the start to show the match, and at the end to fit.
    let line = rows
        .iter()
        .find(|r| r.contains("#general bob: …"))
        .unwrap_or_else(|| panic!("a cut line: {text}"));
    assert!(
        line.contains("…the release party is on Friday 🎉"),
        "{line}"
    );
    assert!(line.contains("…"), "{line}");
    assert!(text.contains("#general bob: party 👨‍👩‍👧 time 👍🏽 ok"), "{text}");
    // Every row of the window keeps its right border in place.
    let (bx, by) = find(&buf, "┐").expect("top-right corner");
    let (_, bottom) = find(&buf, "┘").expect("bottom-right corner");
    for y in by..=bottom {
        let sym = buf[(bx, y)].symbol();
        assert!(sym == "│" || sym == "┐" || sym == "┘", "row {y}: {text}");
    }
    // Any size, however small, draws without panicking.
    for (w, h) in [(120, 40), (40, 8), (20, 5), (10, 3), (3, 2), (1, 1)] {
        app.update(Action::Resize(w, h));
        let _ = render(&app);
    }
}

#[test]
fn searching_every_circle_names_the_circle() {
    let mut app = connected(100, 24);
    let mut at_work = msg("m3", "general", ME, T0, "standup notes");
    at_work.circle_id = WORK.into();
    search_with(
        &mut app,
        "-a notes",
        vec![at_work, msg("m1", "random", BOB, T0, "notes from room")],
    );
    let text = screen(&app);
    assert!(text.contains("Search — all circles"), "{text}");
    assert!(
        text.contains("work #general alice: standup notes"),
        "{text}"
    );
    assert!(text.contains("room #random bob: notes from room"), "{text}");
}

#[test]
fn keys_move_the_selection_enter_switches_and_esc_closes() {
    let mut app = connected(100, 14);
    let found: Vec<ChatMessage> = (0..40)
        .map(|i| {
            let channel = if i == 39 { "random" } else { "general" };
            msg(
                &format!("m{i}"),
                channel,
                BOB,
                T0 - 60 * i,
                &format!("match {i}"),
            )
        })
        .collect();
    search_with(&mut app, "match", found);
    let rows_in_view = felund_tui::ui::search::list_rows(app.size);
    assert_eq!(rows_in_view, 8);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(window(&app).selected, 2);
    key(&mut app, KeyCode::PageDown);
    assert_eq!((window(&app).selected, window(&app).scroll), (9, 2));
    key(&mut app, KeyCode::End);
    assert_eq!((window(&app).selected, window(&app).scroll), (39, 32));
    let text = screen(&app);
    assert!(
        text.contains("▶ 2024-05-07 09:53 #random bob: match 39"),
        "{text}"
    );
    assert!(!text.contains("match 0"), "scrolled: {text}");
    key(&mut app, KeyCode::Home);
    assert_eq!((window(&app).selected, window(&app).scroll), (0, 0));
    assert!(screen(&app).contains("▶ 2024-05-07 10:32 #general bob: match 0"));

    // Esc closes and stays in #general.
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    assert!(app.modal.is_none());
    assert_eq!(app.active.as_ref().unwrap().channel, "general");

    // Enter shows the selected match's channel (loading it) and closes.
    search_with(
        &mut app,
        "match",
        vec![msg("m39", "random", BOB, T0, "match 39")],
    );
    let fx = key(&mut app, KeyCode::Enter);
    assert!(app.modal.is_none());
    assert_eq!(app.active.as_ref().unwrap().channel, "random");
    assert_eq!(
        fx,
        [Effect::Request(Request::LoadMessages {
            circle: ROOM.into(),
            channel: "random".into(),
            before: None,
        })]
    );
    // `q` closes too.
    search_with(&mut app, "match", Vec::new());
    key(&mut app, KeyCode::Char('q'));
    assert!(app.modal.is_none());
}
