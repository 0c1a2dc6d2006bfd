//! Slash commands: parsing a typed line into a [`Command`], and the table of
//! commands that drives `/help` and Tab completion. Pure: nothing here talks to
//! the daemon or touches the screen.

use std::fmt;

use crate::model::Access;
use crate::text::normalize_channel;

/// A parsed slash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/help [cmd]`.
    Help(Option<String>),
    /// `/invite`: the active circle's invite code.
    Invite,
    /// `/join <code>` (also `/circle join <code>`).
    Join(String),
    /// `/circles`.
    Circles,
    /// `/circle create [name]`.
    CircleCreate(String),
    /// `/circle name <new>`.
    CircleName(String),
    /// `/circle leave`.
    CircleLeave,
    /// `/circle switch <name>`.
    CircleSwitch(String),
    /// `/channels`.
    Channels,
    /// `/channel create <name> [public|key|invite] [key]`.
    ChannelCreate {
        /// Normalised channel name.
        name: String,
        /// Access mode (default public).
        access: Access,
        /// Key, required for `key` channels.
        key: Option<String>,
    },
    /// `/channel join <name> [key]`.
    ChannelJoin {
        /// Normalised channel name.
        name: String,
        /// Key for key-protected channels.
        key: Option<String>,
    },
    /// `/channel switch <name>`.
    ChannelSwitch(String),
    /// `/channel leave <name>`.
    ChannelLeave(String),
    /// `/channel approve <name> <node_id>`.
    ChannelApprove {
        /// Normalised channel name.
        name: String,
        /// The node (id or unique prefix) to let in.
        node_id: String,
    },
    /// `/search [-a] <words>`: messages with every word, in the active circle
    /// or, with `-a` (`--all`), in every circle.
    Search {
        /// The words as typed (a trailing `*` matches a prefix).
        query: String,
        /// Whether to search every circle.
        all: bool,
    },
    /// `/who [channel]`.
    Who(Option<String>),
    /// `/name [new]`.
    Name(Option<String>),
    /// `/settings`.
    Settings,
    /// `/debug`.
    Debug,
    /// `/quit`.
    Quit,
}

/// Why a line could not be parsed; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// A sentence for people, usually ending with the usage.
    pub message: String,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandError {}

/// One row of the command table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Command word with its slash, e.g. `/channel`.
    pub name: &'static str,
    /// Sub-command words, e.g. `create` for `/channel`.
    pub subcommands: &'static [&'static str],
    /// Usage lines, each with what it does.
    pub usage: &'static [(&'static str, &'static str)],
}

/// Every slash command, in the order `/help` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "/help",
        subcommands: &[],
        usage: &[("/help [command]", "List commands, or explain one")],
    },
    CommandSpec {
        name: "/invite",
        subcommands: &[],
        usage: &[("/invite", "Invite code of the active circle (also F2)")],
    },
    CommandSpec {
        name: "/join",
        subcommands: &[],
        usage: &[("/join <code>", "Join a circle with an invite code")],
    },
    CommandSpec {
        name: "/circles",
        subcommands: &[],
        usage: &[("/circles", "List the circles you are in")],
    },
    CommandSpec {
        name: "/circle",
        subcommands: &["create", "name", "leave", "switch", "join"],
        usage: &[
            (
                "/circle create [name]",
                "Create a circle; shows its invite code",
            ),
            (
                "/circle name <new name>",
                "Rename the active circle (announced)",
            ),
            ("/circle leave", "Leave the active circle (asks first)"),
            (
                "/circle switch <name>",
                "Show another circle (also Ctrl+N/P)",
            ),
            ("/circle join <code>", "Same as /join"),
        ],
    },
    CommandSpec {
        name: "/channels",
        subcommands: &[],
        usage: &[("/channels", "List the channels of the active circle")],
    },
    CommandSpec {
        name: "/channel",
        subcommands: &["create", "join", "switch", "leave", "approve"],
        usage: &[
            (
                "/channel create <name> [public|key|invite] [key]",
                "Create a channel (default public; key needs a key)",
            ),
            (
                "/channel join <name> [key]",
                "Join a channel (invite-only: ask to)",
            ),
            ("/channel switch <name>", "Show another channel"),
            ("/channel leave <name>", "Leave a channel"),
            (
                "/channel approve <name> <node id>",
                "Let someone into an invite-only channel",
            ),
        ],
    },
    CommandSpec {
        name: "/search",
        subcommands: &[],
        usage: &[
            (
                "/search <words>",
                "Find messages in the active circle (word* = prefix)",
            ),
            ("/search -a <words>", "Find messages in every circle"),
        ],
    },
    CommandSpec {
        name: "/who",
        subcommands: &[],
        usage: &[("/who [channel]", "Members of the circle, or of a channel")],
    },
    CommandSpec {
        name: "/name",
        subcommands: &[],
        usage: &[("/name [new name]", "Show or change your display name")],
    },
    CommandSpec {
        name: "/settings",
        subcommands: &[],
        usage: &[("/settings", "Display name and relay URL (also F3)")],
    },
    CommandSpec {
        name: "/debug",
        subcommands: &[],
        usage: &[(
            "/debug",
            "Sync status: gossip counters, live links, relay health",
        )],
    },
    CommandSpec {
        name: "/quit",
        subcommands: &[],
        usage: &[("/quit", "Leave felund-tui (felundd keeps running)")],
    },
];

/// The table row for a command word (with or without its slash).
pub fn spec(word: &str) -> Option<&'static CommandSpec> {
    let word = word.trim().trim_start_matches('/').to_lowercase();
    COMMANDS.iter().find(|c| c.name[1..] == word)
}

/// A [`CommandError`] made of a reason and the command's usage (only the
/// sub-command's, when `cmd` is e.g. `channel create`).
fn usage_error(reason: &str, cmd: &str) -> CommandError {
    let word = cmd.split_whitespace().next().unwrap_or_default();
    let prefix = format!("/{cmd} ");
    let usage = spec(word)
        .map(|s| {
            let own: Vec<&str> = s
                .usage
                .iter()
                .map(|(u, _)| *u)
                .filter(|u| format!("{u} ").starts_with(&prefix))
                .collect();
            if own.is_empty() {
                s.usage
                    .iter()
                    .map(|(u, _)| *u)
                    .collect::<Vec<_>>()
                    .join("  |  ")
            } else {
                own.join("  |  ")
            }
        })
        .unwrap_or_default();
    let message = if reason.is_empty() {
        format!("usage: {usage}")
    } else {
        format!("{reason} — usage: {usage}")
    };
    CommandError { message }
}

/// A channel name argument, normalised and checked.
fn channel_arg(word: Option<&str>, cmd: &str) -> Result<String, CommandError> {
    match word {
        Some(w) if !w.trim().trim_start_matches('#').is_empty() => Ok(normalize_channel(w)),
        _ => Err(usage_error("which channel?", cmd)),
    }
}

/// Whether a line is a command (starts with `/` but is not an escaped `//`).
pub fn is_command(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('/') && !t.starts_with("//")
}

/// Parses a line that starts with `/` into a [`Command`].
///
/// # Errors
///
/// A [`CommandError`] for unknown commands, missing or extra arguments and bad
/// values; its message names the problem and the usage.
pub fn parse(line: &str) -> Result<Command, CommandError> {
    let line = line.trim();
    let Some(body) = line.strip_prefix('/') else {
        return Err(CommandError {
            message: "commands start with '/'; type /help for the list".into(),
        });
    };
    let mut words = body.split_whitespace();
    let cmd = words.next().unwrap_or_default().to_lowercase();
    let args: Vec<&str> = words.collect();
    // The rest of the line after the command (and after a sub-command), with its spaces.
    let rest_after = |n: usize| -> String {
        let mut s = body;
        for _ in 0..n {
            s = s.trim_start();
            s = s.find(char::is_whitespace).map_or("", |i| &s[i..]);
        }
        s.trim().to_string()
    };
    let no_args = |c: Command| {
        if args.is_empty() {
            Ok(c)
        } else {
            Err(usage_error(&format!("/{cmd} takes no arguments"), &cmd))
        }
    };
    match cmd.as_str() {
        "" => Err(CommandError {
            message: "empty command; type /help for the list".into(),
        }),
        "help" | "h" | "?" => match args.as_slice() {
            [] => Ok(Command::Help(None)),
            [topic] => match spec(topic) {
                Some(s) => Ok(Command::Help(Some(s.name.to_string()))),
                None => Err(CommandError {
                    message: format!(
                        "no command /{}; type /help for the list",
                        topic.trim_start_matches('/')
                    ),
                }),
            },
            _ => Err(usage_error("/help takes one command", "help")),
        },
        "invite" => no_args(Command::Invite),
        "join" => join_code(&args, "join"),
        "circles" => no_args(Command::Circles),
        "circle" => parse_circle(&args, rest_after(2)),
        "channels" => no_args(Command::Channels),
        "channel" => parse_channel(&args),
        "search" => {
            let all = args.first().is_some_and(|a| matches!(*a, "-a" | "--all"));
            search(rest_after(1 + usize::from(all)), all)
        }
        "who" => match args.as_slice() {
            [] => Ok(Command::Who(None)),
            [ch] => Ok(Command::Who(Some(normalize_channel(ch)))),
            _ => Err(usage_error("/who takes at most one channel", "who")),
        },
        "name" | "nick" => {
            let name = rest_after(1);
            Ok(Command::Name((!name.is_empty()).then_some(name)))
        }
        "settings" => no_args(Command::Settings),
        "debug" => no_args(Command::Debug),
        "quit" | "exit" | "q" => no_args(Command::Quit),
        other => Err(CommandError {
            message: format!("unknown command /{other}; type /help for the list"),
        }),
    }
}

/// `/join <code>` and `/circle join <code>`.
fn join_code(args: &[&str], cmd: &str) -> Result<Command, CommandError> {
    match args {
        [code] => Ok(Command::Join((*code).to_string())),
        [] => Err(usage_error("paste the invite code after /join", cmd)),
        _ => Err(usage_error("an invite code is one word", cmd)),
    }
}

/// `/search [-a] <words>`; `query` is the text after the flag.
fn search(query: String, all: bool) -> Result<Command, CommandError> {
    if query.is_empty() {
        Err(usage_error("what should be searched for?", "search"))
    } else if !query.chars().any(char::is_alphanumeric) {
        // The daemon ignores punctuation, so such a search could find nothing.
        Err(usage_error(
            "nothing to search for: a word needs a letter or digit",
            "search",
        ))
    } else {
        Ok(Command::Search { query, all })
    }
}

/// `/circle ...`; `rest` is the text after the sub-command.
fn parse_circle(args: &[&str], rest: String) -> Result<Command, CommandError> {
    let sub = args.first().map(|s| s.to_lowercase()).unwrap_or_default();
    match sub.as_str() {
        "create" | "new" => Ok(Command::CircleCreate(rest)),
        "name" | "rename" => {
            if rest.is_empty() {
                Err(usage_error("give the new name", "circle name"))
            } else {
                Ok(Command::CircleName(rest))
            }
        }
        "leave" if args.len() == 1 => Ok(Command::CircleLeave),
        "leave" => Err(usage_error(
            "/circle leave leaves the active circle and takes no arguments",
            "circle leave",
        )),
        "switch" | "use" => {
            if rest.is_empty() {
                Err(usage_error("which circle?", "circle switch"))
            } else {
                Ok(Command::CircleSwitch(rest))
            }
        }
        "join" => join_code(&args[1..], "circle join"),
        "" => Err(usage_error("", "circle")),
        other => Err(usage_error(&format!("unknown /circle {other}"), "circle")),
    }
}

/// `/channel ...`.
fn parse_channel(args: &[&str]) -> Result<Command, CommandError> {
    let sub = args.first().map(|s| s.to_lowercase()).unwrap_or_default();
    let name = args.get(1).copied();
    let canonical = match sub.as_str() {
        "new" => "create",
        "use" => "switch",
        "part" => "leave",
        other => other,
    };
    let here = format!("channel {canonical}");
    let here = here.as_str();
    match sub.as_str() {
        "create" | "new" => {
            let name = channel_arg(name, here)?;
            let access = match args.get(2) {
                None => Access::Public,
                Some(w) => Access::parse(w).ok_or_else(|| {
                    usage_error(
                        &format!("access must be public, key or invite, not '{w}'"),
                        here,
                    )
                })?,
            };
            let key = args.get(3).map(|k| (*k).to_string());
            match (access, &key, args.len()) {
                (_, _, n) if n > 4 => Err(usage_error("too many arguments", here)),
                (Access::Key, None, _) => {
                    Err(usage_error("a key-protected channel needs a key", here))
                }
                (Access::Public | Access::Invite, Some(_), _) => {
                    Err(usage_error("only key-protected channels take a key", here))
                }
                _ => Ok(Command::ChannelCreate { name, access, key }),
            }
        }
        "join" => {
            let name = channel_arg(name, here)?;
            if args.len() > 3 {
                return Err(usage_error("too many arguments", here));
            }
            let key = args.get(2).map(|k| (*k).to_string());
            Ok(Command::ChannelJoin { name, key })
        }
        "switch" | "use" | "leave" | "part" => {
            let name = channel_arg(name, here)?;
            if args.len() > 2 {
                return Err(usage_error("too many arguments", here));
            }
            Ok(if sub == "leave" || sub == "part" {
                Command::ChannelLeave(name)
            } else {
                Command::ChannelSwitch(name)
            })
        }
        "approve" => match args {
            [_, ch, node] => Ok(Command::ChannelApprove {
                name: normalize_channel(ch),
                node_id: (*node).to_string(),
            }),
            _ => Err(usage_error("give the channel and the node id", here)),
        },
        "" => Err(usage_error("", "channel")),
        other => Err(usage_error(&format!("unknown /channel {other}"), "channel")),
    }
}

/// Width of the usage column in `/help`.
const USAGE_COLUMN: usize = 36;

/// Lines for `/help` (no topic) or `/help <command>`, for the help modal and log.
pub fn help_lines(topic: Option<&str>) -> Vec<String> {
    let specs: Vec<&CommandSpec> = match topic.and_then(spec) {
        Some(s) => vec![s],
        None => COMMANDS.iter().collect(),
    };
    let mut lines = Vec::new();
    for s in specs {
        for (usage, what) in s.usage {
            if usage.len() < USAGE_COLUMN {
                lines.push(format!("{usage:<USAGE_COLUMN$}{what}"));
            } else {
                lines.push((*usage).to_string());
                lines.push(format!("{:USAGE_COLUMN$}{what}", ""));
            }
        }
    }
    lines
}
