//! A small bot helper: commands in, replies out, in the channel they came from.
//!
//! ```no_run
//! use felund_client::bot::Bot;
//!
//! # async fn demo() {
//! let error = Bot::new()
//!     .command("echo", "repeat TEXT", |_msg, args| async move { Some(args) })
//!     .run()
//!     .await; // runs until felundd refuses it
//! eprintln!("bot: {error}");
//! # }
//! ```
//!
//! A command is a message starting with the prefix (`!`) and a name: `!echo hi`
//! calls the `echo` handler with the message and `"hi"`. What the handler returns is
//! sent to the same circle and channel; `None` or an empty text sends nothing.
//! `!help` lists the commands. Messages written on the bot's own node (`own`: its
//! replies included) are never commands, so the bot answers the *other* members of
//! the circle. A handler that panics, or a reply felundd refuses, is logged and the
//! bot goes on with the next message. Members are answered at most 10 commands in a
//! burst, then one per 3 s each, and everyone together 60, then two per second
//! ([`crate::limits`]); commands over that are skipped (logged once per stretch).
//! Events resume after a felundd restart ([`EventStream`]).

mod ratelimit;

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Instant;

use tonic::Status;

use crate::api::{self, event};
use crate::events::EventStream;
use crate::limits::BOT_TRACKED_AUTHORS;
use crate::{connect, paths, ApiClient, ConnectError};
use ratelimit::RateLimit;

/// Environment variable naming the circle a [`Bot`] listens to by default.
pub const CIRCLE_ENV: &str = "FELUND_BOT_CIRCLE";

type Reply = Pin<Box<dyn Future<Output = Option<String>> + Send>>;
type Handler = Box<dyn Fn(api::Message, String) -> Reply + Send + Sync>;

struct Command {
    name: String,
    help: String,
    handler: Handler,
}

/// Why [`Bot::run`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// felundd was not there at the start.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// felundd refused the event stream (e.g. an unknown circle).
    #[error("felundd refused the event stream: {}", .0.message())]
    Refused(Status),
}

/// Answers commands in one circle (or every circle) of the felundd it connects to;
/// see the [module docs](self).
pub struct Bot {
    circle: String,
    socket: Option<PathBuf>,
    prefix: String,
    commands: Vec<Command>,
    /// How often members are answered, and who was told so (see `allowed`).
    limit: Mutex<(RateLimit, HashSet<String>)>,
}

impl Default for Bot {
    fn default() -> Self {
        Self::new()
    }
}

impl Bot {
    /// A bot with no commands yet, for the circle in `$FELUND_BOT_CIRCLE` (every
    /// circle without it), on the socket felundctl would use.
    pub fn new() -> Self {
        Bot {
            circle: std::env::var(CIRCLE_ENV).unwrap_or_default(),
            socket: None,
            prefix: "!".to_string(),
            commands: Vec::new(),
            limit: Mutex::new((RateLimit::new(Instant::now()), HashSet::new())),
        }
    }

    /// Listen to `circle` (an id, a unique prefix or a name; empty: every circle).
    pub fn circle(mut self, circle: impl Into<String>) -> Self {
        self.circle = circle.into();
        self
    }

    /// Connect to felundd at `socket` instead of the default.
    pub fn socket(mut self, socket: impl Into<PathBuf>) -> Self {
        self.socket = Some(socket.into());
        self
    }

    /// Commands start with `prefix` instead of `!`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Answer `!name ARGS` with what `handler(message, ARGS)` returns; `help` is
    /// shown by `!help`. A later command of the same name replaces an earlier one.
    pub fn command<F, Fut>(mut self, name: &str, help: &str, handler: F) -> Self
    where
        F: Fn(api::Message, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<String>> + Send + 'static,
    {
        self.commands.retain(|c| c.name != name);
        self.commands.push(Command {
            name: name.to_string(),
            help: help.to_string(),
            handler: Box::new(move |msg, args| Box::pin(handler(msg, args))),
        });
        self
    }

    /// What `!help` answers: every command with its help.
    pub fn help_text(&self) -> String {
        let mut entries: Vec<String> = self
            .commands
            .iter()
            .map(|c| self.describe(&c.name, &c.help))
            .collect();
        if !self.commands.iter().any(|c| c.name == "help") {
            entries.push(self.describe("help", "this list"));
        }
        format!("commands: {}", entries.join(", "))
    }

    fn describe(&self, name: &str, help: &str) -> String {
        if help.is_empty() {
            format!("{}{name}", self.prefix)
        } else {
            format!("{}{name} ({help})", self.prefix)
        }
    }

    /// The command name and arguments in `text`, if it is a command.
    fn parse<'t>(&self, text: &'t str) -> Option<(&'t str, &'t str)> {
        let body = text.trim().strip_prefix(self.prefix.as_str())?;
        if body.is_empty() || body.starts_with(char::is_whitespace) {
            return None;
        }
        let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        Some((name, args.trim()))
    }

    /// The reply to `msg`, or `None`: not a command, the bot's own, or no answer.
    pub async fn answer(&self, msg: &api::Message) -> Option<String> {
        if msg.own {
            return None;
        }
        let (name, args) = self.parse(&msg.text)?;
        let command = self.commands.iter().find(|c| c.name == name);
        if command.is_none() && name != "help" {
            return None;
        }
        if !self.allowed(&msg.author_node_id) {
            return None;
        }
        let Some(command) = command else {
            return Some(self.help_text());
        };
        // Run the handler as its own task so that a panic in it is reported, not fatal.
        let reply = tokio::spawn((command.handler)(msg.clone(), args.to_string()));
        match reply.await {
            Ok(reply) => reply.filter(|r| !r.is_empty()),
            Err(e) => {
                tracing::error!(command = name, msg_id = %msg.msg_id, "the handler failed: {e}");
                None
            }
        }
    }

    /// Whether `author` may be answered now; logs once per stretch of refusals.
    fn allowed(&self, author: &str) -> bool {
        let mut guard = self.limit.lock().unwrap_or_else(|e| e.into_inner());
        let (limit, limited) = &mut *guard;
        if limit.allow(author, Instant::now()) {
            limited.remove(author);
            return true;
        }
        if !limited.contains(author) {
            if limited.len() >= BOT_TRACKED_AUTHORS {
                limited.clear();
            }
            limited.insert(author.to_string());
            tracing::warn!(author, "not answering for now: too many commands");
        }
        false
    }

    /// Connects and answers commands until felundd refuses the event stream;
    /// returns why. Fails at once when felundd is not running.
    pub async fn run(self) -> BotError {
        let socket = paths::resolve_socket(self.socket.clone());
        let client = match connect(&socket).await {
            Ok(client) => client,
            Err(e) => return e.into(),
        };
        let mut events = EventStream::new(client.clone(), self.circle.clone());
        tracing::info!(circle = %self.circle, socket = %socket.display(), "listening");
        loop {
            let kind = match events.next().await {
                Ok(event) => event.kind,
                Err(status) => return BotError::Refused(status),
            };
            match kind {
                Some(event::Kind::Message(msg)) => self.handle(client.clone(), msg).await,
                Some(event::Kind::Lagged(l)) => {
                    tracing::warn!(missed = l.missed, "fell behind; events were dropped");
                }
                _ => {}
            }
        }
    }

    async fn handle(&self, mut client: ApiClient, msg: api::Message) {
        let Some(text) = self.answer(&msg).await else {
            return;
        };
        match reply(&mut client, &msg, text).await {
            Ok(sent) => tracing::info!(to = %msg.msg_id, reply = %sent.msg_id, "answered"),
            Err(status) => {
                tracing::warn!(to = %msg.msg_id, "could not answer: {}", status.message());
            }
        }
    }
}

/// Sends `text` to the circle and channel that `to` was written in.
pub async fn reply(
    client: &mut ApiClient,
    to: &api::Message,
    text: impl Into<String>,
) -> Result<api::Message, Status> {
    let request = api::SendMessageRequest {
        circle: to.circle_id.clone(),
        channel: to.channel_id.clone(),
        text: text.into(),
    };
    Ok(client.send_message(request).await?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, own: bool) -> api::Message {
        api::Message {
            msg_id: "m1".into(),
            circle_id: "c".into(),
            channel_id: "general".into(),
            text: text.into(),
            own,
            ..Default::default()
        }
    }

    fn echo_bot() -> Bot {
        Bot::new()
            .command("echo", "repeat TEXT", |_, args| async move { Some(args) })
            .command("ping", "answer pong", |_, _| async { Some("pong".into()) })
            .command("boom", "", |_, _| async { panic!("a buggy handler") })
    }

    #[tokio::test]
    async fn commands_are_answered_with_their_arguments() {
        let bot = echo_bot();
        let answer = |text: &str| {
            let msg = message(text, false);
            let bot = &bot;
            async move { bot.answer(&msg).await }
        };
        assert_eq!(
            answer("!echo  hi there ").await.as_deref(),
            Some("hi there")
        );
        assert_eq!(answer("!echo\nhi").await.as_deref(), Some("hi"));
        assert_eq!(answer("  !ping").await.as_deref(), Some("pong"));
        assert_eq!(
            answer("!help").await.as_deref(),
            Some("commands: !echo (repeat TEXT), !ping (answer pong), !boom, !help (this list)")
        );
    }

    #[tokio::test]
    async fn chat_unknown_commands_empty_replies_and_own_messages_get_no_answer() {
        let bot = echo_bot();
        for text in ["hello", "! echo hi", "!", "!nope x", "!echo", "echo !echo"] {
            assert_eq!(bot.answer(&message(text, false)).await, None, "{text:?}");
        }
        assert_eq!(bot.answer(&message("!echo hi", true)).await, None);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_no_answer_and_the_bot_goes_on() {
        let bot = echo_bot();
        assert_eq!(bot.answer(&message("!boom", false)).await, None);
        assert_eq!(
            bot.answer(&message("!ping", false)).await.as_deref(),
            Some("pong")
        );
    }

    #[tokio::test]
    async fn a_flooding_member_is_skipped_and_an_honest_one_answered() {
        let bot = echo_bot();
        let mut answered = 0;
        for i in 0..30 {
            let mut msg = message(&format!("!echo {i}"), false);
            msg.author_node_id = "mallory".into();
            answered += usize::from(bot.answer(&msg).await.is_some());
        }
        assert_eq!(answered, crate::limits::BOT_BURST_PER_AUTHOR as usize);
        let mut honest = message("!echo hi", false);
        honest.author_node_id = "alice".into();
        assert_eq!(bot.answer(&honest).await.as_deref(), Some("hi"));
    }

    #[test]
    fn another_prefix_and_a_replaced_command() {
        let bot = Bot::new()
            .prefix("/")
            .command("a", "first", |_, _| async { None })
            .command("a", "second", |_, _| async { None });
        assert_eq!(bot.help_text(), "commands: /a (second), /help (this list)");
        assert_eq!(bot.parse("/a x"), Some(("a", "x")));
        assert_eq!(bot.parse("!a x"), None);
    }
}
