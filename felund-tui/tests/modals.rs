//! Modals driven by keys: help, settings, confirmation and the first-run wizard.

mod common;

use common::*;
use crossterm::event::{KeyCode, KeyModifiers};
use felund_tui::app::{Action, Effect, Modal};
use felund_tui::event::{AppEvent, CircleChange, LiveEvent, Request, Response};
use felund_tui::model::CircleView;

#[test]
fn leaving_a_circle_asks_first() {
    let mut app = connected(80, 20);
    assert!(enter_line(&mut app, "/circle leave").is_empty());
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    assert!(screen(&app).contains("Leave circle 'room'?"));
    key(&mut app, KeyCode::Char('n'));
    assert!(app.modal.is_none());
    enter_line(&mut app, "/circle leave");
    let fx = key(&mut app, KeyCode::Char('y'));
    assert_eq!(
        requests(&fx),
        [Request::LeaveCircle {
            circle: ROOM.into(),
            label: "room".into(),
        }]
    );
    // The daemon's "left" event usually arrives before the answer.
    let room = app.cache.circle(ROOM).cloned().expect("room");
    feed(
        &mut app,
        AppEvent::Live(LiveEvent::Circle {
            change: CircleChange::Left,
            circle: room,
        }),
    );
    feed(
        &mut app,
        AppEvent::Done(Response::CircleLeft {
            circle: ROOM.into(),
            label: "room".into(),
        }),
    );
    assert_eq!(app.active.as_ref().map(|k| k.circle.as_str()), Some(WORK));
    assert_eq!(last_notice(&app), "Left circle 'room'.");
}

#[test]
fn f_keys_and_escape_open_and_close_modals() {
    let mut app = connected(80, 20);
    key(&mut app, KeyCode::F(1));
    assert!(matches!(app.modal, Some(Modal::Help { .. })));
    key(&mut app, KeyCode::Down);
    assert!(matches!(app.modal, Some(Modal::Help { scroll: 1 })));
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
    key(&mut app, KeyCode::F(3));
    assert!(matches!(app.modal, Some(Modal::Settings(_))));
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
    assert_eq!(
        key_mod(&mut app, KeyCode::Char('q'), KeyModifiers::CONTROL),
        [Effect::Quit]
    );
}

#[test]
fn settings_save_sends_only_what_changed() {
    let mut app = connected(80, 20);
    key(&mut app, KeyCode::F(3));
    key_mod(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_text(&mut app, "Alicia");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "ftp://nope");
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(screen(&app).contains("must start with http"));
    key_mod(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    app.update(Action::Paste("https://relay.example/api/\n".into()));
    let fx = key(&mut app, KeyCode::Enter);
    assert_eq!(
        requests(&fx),
        [
            Request::SetDisplayName {
                name: "Alicia".into()
            },
            Request::SetRelay {
                url: "https://relay.example/api".into()
            }
        ]
    );
    assert!(app.modal.is_none());
}

#[test]
fn wizard_creates_or_joins_and_reports_errors_inline() {
    let mut app = felund_tui::app::App::new("/s", felund_tui::zone::DisplayZone::utc());
    app.update(Action::Resize(90, 24));
    let mut snap = snapshot();
    snap.circles.clear();
    snap.channels.clear();
    feed(&mut app, AppEvent::Connected(Box::new(snap)));
    assert!(matches!(app.modal, Some(Modal::Wizard(_))));
    key_mod(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    let fx = key(&mut app, KeyCode::Enter);
    assert!(fx.is_empty(), "an empty code is refused");
    assert!(screen(&app).contains("Paste the invite code"));
    app.update(Action::Paste("felund1.bad".into()));
    let fx = key(&mut app, KeyCode::Enter);
    let request = requests(&fx).remove(0);
    assert_eq!(
        request,
        Request::JoinCircle {
            code: "felund1.bad".into()
        }
    );
    feed(
        &mut app,
        AppEvent::Failed {
            request,
            error: "invalid invite code: bad base64".into(),
        },
    );
    assert!(
        screen(&app).contains("invalid invite code"),
        "{}",
        screen(&app)
    );
    // Create instead.
    key_mod(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    type_text(&mut app, "friends");
    let fx = key(&mut app, KeyCode::Enter);
    assert_eq!(
        requests(&fx),
        [Request::CreateCircle {
            name: "friends".into()
        }]
    );
    let circle = CircleView {
        id: "new1".into(),
        name: "friends".into(),
        ..Default::default()
    };
    feed(
        &mut app,
        AppEvent::Done(Response::CircleCreated {
            circle,
            code: "felund1.ok".into(),
        }),
    );
    assert!(matches!(&app.modal, Some(Modal::Invite { code: Some(c), .. }) if c == "felund1.ok"));
    assert_eq!(app.active.as_ref().map(|k| k.circle.as_str()), Some("new1"));
}
