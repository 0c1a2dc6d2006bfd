//! Commands about felundctl itself, which run without felundd: shell completion
//! scripts and man pages, both rendered by `felund_clidoc` from the clap definitions
//! in [`crate::cli`] (the same renderer the install tool uses).

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;
use felund_clidoc::Shell;

use crate::cli::Cli;
use crate::output::Out;

/// `completions SHELL`: print the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> anyhow::Result<()> {
    let script = felund_clidoc::completion(shell, Cli::command());
    let mut stdout = io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(())
}

/// `manpages DIR`: write `felundctl.1` and one `felundctl-<sub>.1` page per visible
/// subcommand (nested ones too, e.g. `felundctl-channel-create.1`) into `dir`,
/// creating it if needed; prints the path of each page written.
pub fn manpages(dir: &Path, out: &Out) -> anyhow::Result<()> {
    let written = felund_clidoc::write_man_pages(Cli::command(), dir)?;
    for path in &written {
        if out.is_json() {
            out.json(&serde_json::json!({ "path": path }))?;
        } else {
            out.line(path.display())?;
        }
    }
    Ok(())
}
