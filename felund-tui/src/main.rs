//! felund-tui: terminal setup and teardown, and the event loop that feeds keys,
//! resizes and daemon events into [`App::update`] and carries out its effects.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use clap::Parser;
use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event, EventStream, KeyEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use felund_client::paths;
use felund_tui::app::{Action, App, Effect};
use felund_tui::cli::Cli;
use felund_tui::zone::DisplayZone;
use felund_tui::{client, ui};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio_stream::StreamExt;

type Term = Terminal<CrosstermBackend<io::Stdout>>;

/// At most this many terminal events are handled between two redraws.
const MAX_BATCH: usize = 256;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let socket = paths::resolve_socket(cli.socket);
    match run(socket) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "felund-tui: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sets up the terminal, runs the app, and restores the terminal however it ends.
fn run(socket: PathBuf) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    install_panic_hook();
    let mut terminal = setup().context("felund-tui needs an interactive terminal")?;
    let result = runtime.block_on(event_loop(&mut terminal, socket));
    restore();
    let _ = terminal.show_cursor();
    runtime.shutdown_background();
    result
}

/// Raw mode, alternate screen, bracketed paste.
fn setup() -> io::Result<Term> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, EnableBracketedPaste) {
        restore();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(out))
}

/// Undoes [`setup`]; safe to call more than once.
fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal before a panic message is printed, so it is readable
/// and the shell is usable afterwards.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Copies text to the clipboard with the OSC 52 escape sequence.
fn copy_osc52(text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = io::stdout();
    let _ = write!(out, "\x1b]52;c;{b64}\x07");
    let _ = out.flush();
}

/// The action for a terminal event, if it is one the app cares about.
fn action(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Action::Key(k)),
        Event::Paste(s) => Some(Action::Paste(s)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// Draw, wait for input or daemon events, update, carry out effects; until quit.
async fn event_loop(terminal: &mut Term, socket: PathBuf) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = client::spawn(socket.clone(), tx);
    let mut app = App::new(socket.display().to_string(), DisplayZone::Local);
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut terminal_events = EventStream::new();
    loop {
        terminal.draw(|f| ui::render(f, &app))?;
        let mut actions = Vec::new();
        tokio::select! {
            ev = terminal_events.next() => match ev {
                Some(Ok(ev)) => actions.extend(action(ev)),
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(()),
            },
            ev = rx.recv() => match ev {
                Some(ev) => actions.push(ev.into()),
                None => anyhow::bail!("the client tasks stopped"),
            },
        }
        // Take whatever else is ready before drawing again (a paste without
        // bracketed paste, or a burst of daemon events, is one redraw).
        while actions.len() < MAX_BATCH {
            match tokio::time::timeout(Duration::ZERO, terminal_events.next()).await {
                Ok(Some(Ok(ev))) => actions.extend(action(ev)),
                Ok(Some(Err(e))) => return Err(e).context("reading the terminal"),
                Ok(None) => return Ok(()),
                Err(_) => break,
            }
        }
        while let Ok(ev) = rx.try_recv() {
            actions.push(ev.into());
        }
        for a in actions {
            for effect in app.update(a) {
                match effect {
                    Effect::Request(r) => client.send(r),
                    Effect::Copy(text) => copy_osc52(&text),
                    Effect::Quit => return Ok(()),
                }
            }
        }
    }
}
