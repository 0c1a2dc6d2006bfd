//! The install tool's command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Install or uninstall felund's four programs with their completions and man pages.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build (release, --locked) and install felundd, felundctl, felund-tui and
    /// felund-relay, their bash/zsh/fish completions and man pages.
    Install(InstallArgs),
    /// Remove exactly the files `install` wrote into PREFIX (and its systemd units).
    Uninstall(UninstallArgs),
}

/// Where to install: shared by both subcommands.
#[derive(Debug, Args)]
pub struct PrefixArg {
    /// Installation prefix: programs go to PREFIX/bin, man pages to
    /// PREFIX/share/man/man1, completions under PREFIX/share. Use /usr/local for a
    /// system-wide install (as root).
    #[arg(long, value_name = "DIR", default_value = "~/.local")]
    pub prefix: String,
}

/// `install`'s options.
#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub prefix: PrefixArg,
    /// Also install systemd/felundd.service and felundd.socket as user units, with
    /// ExecStart on the installed felundd (they are not enabled).
    #[arg(long)]
    pub systemd: bool,
    /// Where the user units go with --systemd [default: $XDG_CONFIG_HOME/systemd/user,
    /// i.e. ~/.config/systemd/user; /etc/systemd/user serves every user].
    #[arg(long, value_name = "DIR", requires = "systemd")]
    pub systemd_dir: Option<PathBuf>,
    /// Take the four programs from DIR instead of building them (e.g. target/release).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Replace files in the prefix that an earlier `install` did not write (they are then
    /// uninstalled like the rest).
    #[arg(long)]
    pub force: bool,
}

/// `uninstall`'s options.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub prefix: PrefixArg,
    /// Run `systemctl --user disable --now felundd.socket felundd.service` before
    /// removing installed units.
    #[arg(long)]
    pub disable: bool,
}
