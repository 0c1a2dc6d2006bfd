//! felund-tui's command line (clap derive), in the library so the install tool can
//! render its completions and man page.

use std::path::PathBuf;

use clap::Parser;

/// The terminal chat client of felund. It attaches to a running felundd (start
/// one with `felundd`, or `systemctl --user start felundd`) and keeps retrying
/// while the daemon is not running. F1 shows keys and commands.
#[derive(Debug, Parser)]
#[command(name = "felund-tui", version)]
pub struct Cli {
    /// felundd's API socket [default: $FELUND_SOCKET, else the daemon's default]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}
