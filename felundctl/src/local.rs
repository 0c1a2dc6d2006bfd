//! Commands about felundctl itself, which run without felundd: shell completion
//! scripts and man pages, both generated from the clap definitions in [`crate::cli`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::output::Out;

/// `completions SHELL`: print the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    // Rendered into memory first: clap_complete panics on a failed write, and a
    // closed pipe must stay a quiet exit.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "felundctl", &mut script);
    let mut stdout = io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(())
}

/// `manpages DIR`: write `felundctl.1` and one `felundctl-<sub>.1` page per visible
/// subcommand (nested ones too, e.g. `felundctl-channel-create.1`) into `dir`,
/// creating it if needed; prints the path of each page written.
pub fn manpages(dir: &Path, out: &Out) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build(); // gives subcommands their display names ("felundctl-inbox")
    let mut written = Vec::new();
    write_pages(&cmd, dir, &mut written)?;
    for path in &written {
        if out.is_json() {
            out.json(&serde_json::json!({ "path": path }))?;
        } else {
            out.line(path.display())?;
        }
    }
    Ok(())
}

/// Writes the page of `cmd` and, depth first, of its visible subcommands.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)?;
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
