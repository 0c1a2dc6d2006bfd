//! The four programs the tool installs, and their clap definitions (from their libraries).

use clap::CommandFactory;

/// One installed program.
pub struct Program {
    /// Binary (and cargo package) name.
    pub name: &'static str,
    /// Its command line, for completions and man pages.
    pub command: fn() -> clap::Command,
}

/// felundd, felundctl, felund-tui and felund-relay.
pub const PROGRAMS: [Program; 4] = [
    Program {
        name: "felundd",
        command: <felundd::config::Args as CommandFactory>::command,
    },
    Program {
        name: "felundctl",
        command: <felundctl::cli::Cli as CommandFactory>::command,
    },
    Program {
        name: "felund-tui",
        command: <felund_tui::cli::Cli as CommandFactory>::command,
    },
    Program {
        name: "felund-relay",
        command: <felund_relay::config::Cli as CommandFactory>::command,
    },
];
