//! Command-line definitions (clap derive). Parsing only: nothing here talks to felundd.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use felund_client::limits::SEARCH_MAX_RESULTS;

/// `--help` text after the one-line summary: how circles are named, and exit codes.
const LONG_ABOUT: &str = "\
felundctl is a scriptable client of felundd, the felund chat daemon: every command \
is one request over felundd's Unix socket.

A CIRCLE may be given as its full id, a unique prefix of the id, or its name. \
A CHANNEL may be written with or without a leading '#'.

With --json, every command prints one JSON object per line (a list prints one \
object per item), and nothing else on stdout.

Exit status:
  0  success
  1  felundd refused the request (the reason is printed on stderr as `error: ...`)
  2  felundd is not running, cannot be reached or went away; or the command line is invalid";

/// felundctl's command line.
#[derive(Debug, Parser)]
#[command(
    name = "felundctl",
    version,
    about = "Control felundd, the felund peer-to-peer chat daemon",
    long_about = LONG_ABOUT,
    propagate_version = true
)]
pub struct Cli {
    /// felundd's socket [default: $XDG_RUNTIME_DIR/felund/felundd.sock, else
    /// <state dir>/felundd.sock]
    #[arg(long, global = true, env = "FELUND_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Print one JSON object per line instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show this node: id, name, addresses, version, uptime and counts
    Status {
        /// Also print every setting in force and where it came from (flag,
        /// environment, config file, default)
        #[arg(long, short = 'v')]
        verbose: bool,
    },

    /// Create a new circle and print its invite code
    Invite {
        /// A name for the new circle
        #[arg(long)]
        name: Option<String>,
    },

    /// Print the invite code of a circle
    Code(CircleArg),

    /// Join a circle from an invite code
    #[command(after_help = "\
Keep the code out of `ps` and shell history: `felundctl join -` reads it from the first line \
of standard input, or put it in the FELUND_INVITE_CODE environment variable and give no CODE \
(giving both is an error).")]
    Join(JoinArgs),

    /// List the circles this node is in
    Circles,

    /// Leave a circle, forgetting its secret, channels, peers and messages
    Leave(CircleArg),

    /// Give a circle a name (announced to the circle)
    Rename {
        #[command(flatten)]
        circle: CircleArg,
        /// The new name
        name: String,
    },

    /// List known peers, of one circle or of all
    Peers(OptCircleArg),

    /// List the channels of a circle, with unread counts
    Channels(CircleArg),

    /// Mark a channel read up to its newest message (for every client of this node:
    /// the TUI's unread counts follow)
    Read {
        #[command(flatten)]
        circle: CircleArg,
        #[command(flatten)]
        channel: ChannelArg,
    },

    /// Create, join or leave a channel, or approve a request to join one
    #[command(subcommand)]
    Channel(ChannelCommand),

    /// List the members of a circle, or of one of its channels
    Who {
        #[command(flatten)]
        circle: CircleArg,
        /// Only members of this channel
        #[arg(long, value_name = "CHANNEL")]
        channel: Option<String>,
    },

    /// Send a message; prints its msg_id
    #[command(
        after_help = "A message is at most 4,096 bytes of UTF-8 (what every felund relay and \
                      peer accepts); longer ones are refused. TEXT `-` reads standard input \
                      and sends one message per non-empty line, printing one msg_id per line, \
                      in input order. Lines are sent without waiting for the ones before them \
                      to be stored; the first refused line stops it, and the error names that \
                      line and how many were sent before it. The words of TEXT are joined \
                      with single spaces (`send -c friends hello world`); quote the text to \
                      keep its spacing, and put `--` before text starting with '-'."
    )]
    Send {
        #[command(flatten)]
        circle: CircleArg,
        #[command(flatten)]
        channel: ChannelArg,
        /// The message text (the rest of the line), or `-` for one message per line of
        /// standard input
        #[arg(required = true, value_name = "TEXT")]
        words: Vec<String>,
    },

    /// Show the latest messages of a channel, oldest first
    #[command(
        after_help = "With --json, each message is one JSON object per line. `--all --json` \
                      is a complete export of the channel (`felundctl inbox -c friends --all \
                      --json > friends.jsonl`): it reads the channel page by page from its \
                      first message and writes each page as it arrives."
    )]
    Inbox {
        #[command(flatten)]
        circle: CircleArg,
        #[command(flatten)]
        channel: ChannelArg,
        /// How many of the newest messages (any number; felundctl reads them a page at a time)
        #[arg(
            long,
            short = 'n',
            default_value_t = 50,
            value_parser = clap::value_parser!(u32).range(1..),
            conflicts_with = "all"
        )]
        limit: u32,
        /// Every message of the channel, oldest first
        #[arg(long)]
        all: bool,
        /// Only messages older than this cursor (printed on stderr after a full page)
        #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
        before: Option<String>,
    },

    /// Show this node's display name, or set it
    Name {
        /// The new display name (omit to show the current one)
        #[arg(value_name = "NEW")]
        name: Option<String>,
    },

    /// Search chat messages (all words must match; `word*` matches a prefix)
    Search {
        /// What to look for
        #[arg(required = true, value_name = "TEXT")]
        words: Vec<String>,
        #[command(flatten)]
        circle: OptCircleArg,
        /// Only this channel
        #[arg(long, value_name = "CHANNEL")]
        channel: Option<String>,
        /// How many results (1-500)
        #[arg(
            long,
            short = 'n',
            default_value_t = 50,
            value_parser = clap::value_parser!(u32).range(1..=i64::from(SEARCH_MAX_RESULTS))
        )]
        limit: u32,
    },

    /// Import a reference node's state.json (identity, circles, peers, channels, messages)
    ImportState {
        /// Path of the reference state file (e.g. ~/.felundchat/state.json)
        #[arg(value_name = "PATH")]
        path: std::path::PathBuf,
    },

    /// Show the relay/rendezvous server and its health, or set it (`--off` clears it)
    Relay {
        /// The relay base URL, e.g. https://relay.example/api
        #[arg(value_name = "URL", conflicts_with = "off")]
        url: Option<String>,
        /// Stop syncing through a relay
        #[arg(long)]
        off: bool,
    },

    /// Print live events (messages, channel, circle and peer changes) until Ctrl-C
    Watch {
        #[command(flatten)]
        circle: OptCircleArg,
        /// Keep going when felundd restarts or goes away: reconnect and resume where the
        /// stream stopped, with no message missed or repeated
        #[arg(long, short = 'f')]
        follow: bool,
    },

    /// Print a shell completion script (needs no running felundd)
    #[command(after_help = "\
Install, e.g.:
  bash: felundctl completions bash > ~/.local/share/bash-completion/completions/felundctl
  zsh:  felundctl completions zsh > ~/.zfunc/_felundctl   (with `fpath+=~/.zfunc` before compinit)
  fish: felundctl completions fish > ~/.config/fish/completions/felundctl.fish")]
    Completions {
        /// The shell to complete for
        #[arg(value_enum, value_name = "SHELL")]
        shell: felund_clidoc::Shell,
    },

    /// Write man pages of felundctl and each subcommand into DIR (needs no running felundd)
    #[command(hide = true)]
    Manpages {
        /// Where to write the pages (created if missing), e.g. ~/.local/share/man/man1
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// `channel` subcommands.
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Create a channel
    #[command(after_help = KEY_HELP)]
    Create {
        /// The channel's name
        name: String,
        #[command(flatten)]
        circle: CircleArg,
        /// Who may join
        #[arg(long, value_enum, default_value_t = Access::Public)]
        access: Access,
        /// The key members must give (needed with --access key); `-` reads it from standard
        /// input
        #[arg(long)]
        key: Option<String>,
    },

    /// Join a channel (for an invite-only channel, ask to join)
    #[command(after_help = KEY_HELP)]
    Join {
        /// The channel's name
        name: String,
        #[command(flatten)]
        circle: CircleArg,
        /// The channel's key, for a key-protected channel; `-` reads it from standard input
        #[arg(long)]
        key: Option<String>,
    },

    /// Leave a channel
    Leave {
        /// The channel's name
        name: String,
        #[command(flatten)]
        circle: CircleArg,
    },

    /// Approve a node's pending request to join an invite-only channel
    Approve {
        /// The channel's name
        name: String,
        /// The node whose request to approve
        node_id: String,
        #[command(flatten)]
        circle: CircleArg,
    },
}

/// Access mode of a new channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Access {
    /// Any member of the circle may join
    Public,
    /// Joining needs the channel's key
    Key,
    /// Joining needs a member's approval
    Invite,
}

/// A required circle selector.
#[derive(Debug, Args)]
pub struct CircleArg {
    /// The circle: full id, unique id prefix, or name
    #[arg(
        long = "circle-id",
        short = 'c',
        visible_alias = "circle",
        value_name = "CIRCLE"
    )]
    pub circle: String,
}

/// An optional circle selector (absent: every circle).
#[derive(Debug, Args)]
pub struct OptCircleArg {
    /// Only this circle: full id, unique id prefix, or name [default: all circles]
    #[arg(
        long = "circle-id",
        short = 'c',
        visible_alias = "circle",
        value_name = "CIRCLE"
    )]
    pub circle: Option<String>,
}

/// A channel selector defaulting to `general`.
#[derive(Debug, Args)]
pub struct ChannelArg {
    /// The channel
    #[arg(long, default_value = "general", value_name = "CHANNEL")]
    pub channel: String,
}

/// How to keep a channel key off the command line (`--help` of `channel create|join`).
const KEY_HELP: &str = "\
Keep the key out of `ps` and shell history: `--key -` reads it from the first line of \
standard input, or put it in the FELUND_CHANNEL_KEY environment variable and give no --key \
(giving both is an error).";

/// `join`'s invite code, given positionally or as `--code` (`-`: standard input), or in
/// `FELUND_INVITE_CODE` (see felundctl's `secrets` module).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("invite_code").args(["code", "code_option"])))]
pub struct JoinArgs {
    /// The invite code (felund code), or `-` to read it from standard input
    #[arg(value_name = "CODE")]
    code: Option<String>,

    /// The invite code, as an option
    #[arg(long = "code", id = "code_option", value_name = "CODE")]
    code_option: Option<String>,
}

impl JoinArgs {
    /// The invite code as given on the command line, if it was.
    pub fn given(&self) -> Option<&str> {
        self.code.as_deref().or(self.code_option.as_deref())
    }

    /// Replaces the code with the one finally used (read from standard input or the
    /// environment).
    pub fn set_code(&mut self, code: String) {
        self.code = Some(code);
        self.code_option = None;
    }

    /// The invite code, once felundctl's `secrets::resolve` has filled it in.
    pub fn code(&self) -> &str {
        self.given().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
