//! Shell completions and man pages rendered from a program's `clap::Command`.
//!
//! The one rendering helper of the workspace: `felundctl completions|manpages` and the
//! install tool (`cargo xtask install`, which renders all four programs' pages from
//! their libraries) both call it, so what is installed is what `--help` says.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

pub use clap_complete::Shell;

/// The shells the install tool writes completions for.
pub const INSTALLED_SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// Why man pages could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A page could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The page's path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The completion script of `cmd` for `shell`, for the program named by `cmd`.
pub fn completion(shell: Shell, mut cmd: clap::Command) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    // Rendered into memory: clap_complete panics on a failed write, and a closed pipe
    // (or a full disk) must stay an error the caller reports.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    script
}

/// The file name `shell` loads the completions of `program` from, in the directories
/// the install tool uses (bash-completion 2: the command's name; zsh: `_name` on
/// `$fpath`; fish: `name.fish`).
pub fn completion_file_name(shell: Shell, program: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{program}"),
        Shell::Fish => format!("{program}.fish"),
        Shell::PowerShell => format!("_{program}.ps1"),
        Shell::Elvish => format!("{program}.elv"),
        // bash, and any shell clap_complete adds later.
        _ => program.to_string(),
    }
}

/// One rendered man page (section 1).
#[derive(Debug, Clone)]
pub struct ManPage {
    /// `felundctl.1`, `felundctl-channel-create.1`, …
    pub file_name: String,
    /// The page in roff.
    pub roff: Vec<u8>,
}

/// The page of `cmd` and, depth first, one per visible subcommand (nested ones too,
/// e.g. `felundctl-channel-create.1`). The built-in `help` subcommand gets none.
pub fn man_pages(cmd: clap::Command) -> Vec<ManPage> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build(); // gives subcommands their display names ("felundctl-inbox")
    let mut pages = Vec::new();
    collect_pages(&cmd, &mut pages);
    pages
}

/// Writes [`man_pages`] of `cmd` into `dir` (created if needed); returns the paths
/// written, in order.
pub fn write_man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for page in man_pages(cmd) {
        let path = dir.join(&page.file_name);
        std::fs::write(&path, &page.roff).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn collect_pages(cmd: &clap::Command, pages: &mut Vec<ManPage>) {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut roff = Vec::new();
    man.render(&mut roff)
        .expect("rendering into memory cannot fail");
    pages.push(ManPage {
        file_name: man.get_filename(),
        roff,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect_pages(sub, pages);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> clap::Command {
        clap::Command::new("demo")
            .version("1.0")
            .subcommand(clap::Command::new("run").subcommand(clap::Command::new("fast")))
            .subcommand(clap::Command::new("secret").hide(true))
    }

    #[test]
    fn man_pages_cover_visible_subcommands_depth_first_and_skip_help_and_hidden_ones() {
        let names: Vec<String> = man_pages(demo()).into_iter().map(|p| p.file_name).collect();
        assert_eq!(names, ["demo.1", "demo-run.1", "demo-run-fast.1"]);
    }

    #[test]
    fn a_man_page_starts_with_its_title_header() {
        let page = &man_pages(demo())[0];
        let text = String::from_utf8(page.roff.clone()).unwrap();
        assert!(text.contains(".TH demo 1"), "{text}");
    }

    #[test]
    fn completions_name_the_program_and_its_subcommands_in_every_installed_shell() {
        for shell in INSTALLED_SHELLS {
            let script = String::from_utf8(completion(shell, demo())).unwrap();
            assert!(
                script.contains("demo") && script.contains("run"),
                "{shell}: {script}"
            );
        }
    }

    #[test]
    fn completion_file_names_are_what_each_shell_loads() {
        assert_eq!(completion_file_name(Shell::Bash, "felundd"), "felundd");
        assert_eq!(completion_file_name(Shell::Zsh, "felundd"), "_felundd");
        assert_eq!(completion_file_name(Shell::Fish, "felundd"), "felundd.fish");
    }
}
