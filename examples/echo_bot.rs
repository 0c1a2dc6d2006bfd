//! A minimal felund bot: it listens to one circle and answers three commands.
//!
//! ```text
//! cargo run --example echo_bot -- [--socket PATH] [CIRCLE]
//! ```
//!
//! - `CIRCLE` (or `$FELUND_BOT_CIRCLE`) is a circle id, a unique id prefix, or a name.
//! - `--socket` (or `$FELUND_SOCKET`) is felundd's socket; by default the one the
//!   daemon uses by default (`$XDG_RUNTIME_DIR/felund/felundd.sock`).
//!
//! Commands, answered in the channel they were written in:
//!
//! | message        | reply                  |
//! |----------------|------------------------|
//! | `!echo TEXT`   | `TEXT`                 |
//! | `!ping`        | `pong`                 |
//! | `!help`        | the list of commands   |
//!
//! The bot is just another client of the daemon's API: it `Subscribe`s to the
//! circle's live events and answers with `SendMessage`, so its replies are authored
//! by the daemon's node. It skips messages whose `own` flag is set — its own replies
//! and anything else written on the same node — so it talks to the *other* members
//! of the circle and never to itself. Events missed while it was not connected are
//! not replayed (a bot that must not miss any would page with `ListMessages`).

use std::path::PathBuf;
use std::process::ExitCode;

use felund_client::api::{self, event};
use felund_client::{connect, paths, ApiClient};

/// What `!help` answers.
const HELP: &str = "commands: !echo TEXT (repeat TEXT), !ping (answer pong), !help (this list)";

/// The reply to a chat message's text, or `None` when it is not a command.
fn reply_to(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("!echo ") {
        let rest = rest.trim();
        return (!rest.is_empty()).then(|| rest.to_string());
    }
    match text {
        "!ping" => Some("pong".to_string()),
        "!help" => Some(HELP.to_string()),
        _ => None,
    }
}

/// The command line: `(socket, circle)`.
fn parse_args() -> Result<(PathBuf, String), String> {
    let mut socket = None;
    let mut circle = std::env::var("FELUND_BOT_CIRCLE").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--socket" => socket = Some(args.next().ok_or("--socket needs a PATH")?.into()),
            "-h" | "--help" => {
                println!("usage: echo_bot [--socket PATH] CIRCLE");
                std::process::exit(0);
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => circle = Some(other.to_string()),
        }
    }
    let circle = circle
        .filter(|c| !c.trim().is_empty())
        .ok_or("which circle? pass CIRCLE or set FELUND_BOT_CIRCLE")?;
    Ok((paths::resolve_socket(socket), circle))
}

/// Answers commands in `circle` until the event stream ends.
async fn run(client: &mut ApiClient, circle: String) -> Result<(), String> {
    let request = api::SubscribeRequest {
        circle: circle.clone(),
        ..Default::default()
    };
    // Once this returns, felundd has registered the subscription: nothing sent
    // from now on is missed.
    let mut events = client
        .subscribe(request)
        .await
        .map_err(|status| status.message().to_string())?
        .into_inner();
    println!("echo_bot: listening to circle {circle}");
    while let Some(ev) = events
        .message()
        .await
        .map_err(|s| s.message().to_string())?
    {
        let msg = match ev.kind {
            Some(event::Kind::Message(m)) if !m.own => m,
            Some(event::Kind::Lagged(l)) => {
                eprintln!("echo_bot: fell behind, {} events missed", l.missed);
                continue;
            }
            _ => continue,
        };
        let Some(text) = reply_to(&msg.text) else {
            continue;
        };
        let request = api::SendMessageRequest {
            circle: msg.circle_id.clone(),
            channel: msg.channel_id.clone(),
            text,
        };
        // A refused reply (e.g. too long) is reported, not fatal.
        match client.send_message(request).await {
            Ok(sent) => println!(
                "echo_bot: answered {} with {}",
                msg.msg_id,
                sent.get_ref().msg_id
            ),
            Err(status) => eprintln!(
                "echo_bot: could not answer {}: {}",
                msg.msg_id,
                status.message()
            ),
        }
    }
    Err("felundd ended the event stream (it is shutting down)".to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (socket, circle) = match parse_args() {
        Ok(parsed) => parsed,
        Err(why) => {
            eprintln!("echo_bot: {why}\nusage: echo_bot [--socket PATH] CIRCLE");
            return ExitCode::from(2);
        }
    };
    let mut client = match connect(&socket).await {
        Ok(client) => client,
        Err(e) => {
            eprintln!("echo_bot: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&mut client, circle).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_bot: {e}");
            ExitCode::FAILURE
        }
    }
}
