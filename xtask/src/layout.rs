//! Where everything goes: the directories under a prefix, the systemd user directory,
//! and the manifest.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use felund_clidoc::Shell;

/// The directories of one installation prefix.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The prefix itself (`~/.local`, `/usr/local`).
    pub prefix: PathBuf,
    /// `PREFIX/bin`.
    pub bin: PathBuf,
    /// `PREFIX/share/man/man1`.
    pub man1: PathBuf,
    /// `PREFIX/share/bash-completion/completions`.
    pub bash: PathBuf,
    /// `PREFIX/share/zsh/site-functions`.
    pub zsh: PathBuf,
    /// `PREFIX/share/fish/vendor_completions.d`.
    pub fish: PathBuf,
    /// `PREFIX/share/felund`: the manifest's directory.
    pub data: PathBuf,
}

/// The manifest's file name, in [`Layout::data`].
const MANIFEST: &str = "install-manifest.json";

impl Layout {
    /// The layout under `prefix` (absolute and normalised: see [`resolve_prefix`]).
    pub fn new(prefix: PathBuf) -> Self {
        let share = prefix.join("share");
        Self {
            bin: prefix.join("bin"),
            man1: share.join("man/man1"),
            bash: share.join("bash-completion/completions"),
            zsh: share.join("zsh/site-functions"),
            fish: share.join("fish/vendor_completions.d"),
            data: share.join("felund"),
            prefix,
        }
    }

    /// The manifest of what was installed under this prefix.
    pub fn manifest(&self) -> PathBuf {
        self.data.join(MANIFEST)
    }

    /// Where `shell`'s completion scripts go.
    pub fn completion_dir(&self, shell: Shell) -> &Path {
        match shell {
            Shell::Zsh => &self.zsh,
            Shell::Fish => &self.fish,
            _ => &self.bash,
        }
    }

    /// Every directory the tool writes into under the prefix.
    pub fn dirs(&self) -> [&Path; 6] {
        [
            &self.bin, &self.man1, &self.bash, &self.zsh, &self.fish, &self.data,
        ]
    }
}

/// `$HOME`, which must be set and absolute.
pub fn home() -> anyhow::Result<PathBuf> {
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home),
        _ => bail!("HOME is not set to an absolute path; give --prefix (and --systemd-dir)"),
    }
}

/// The prefix as given (`~` and `~/…` expand to `$HOME`; a relative path is taken from
/// the current directory), absolute and without `.` components; `..` is refused.
pub fn resolve_prefix(given: &str) -> anyhow::Result<PathBuf> {
    let path = if given == "~" {
        home()?
    } else if let Some(rest) = given.strip_prefix("~/") {
        home()?.join(rest)
    } else {
        PathBuf::from(given)
    };
    absolute(&path).with_context(|| format!("--prefix {given}"))
}

/// `path` made absolute (from the current directory) and normalised; `..` is refused
/// so that every path the tool compares has one spelling.
pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => bail!("{} has a `..` component", path.display()),
            other => out.push(other),
        }
    }
    if out.to_str().is_none() {
        bail!("{} is not valid UTF-8", path.display());
    }
    Ok(out)
}

/// The default directory for systemd user units: `$XDG_CONFIG_HOME/systemd/user`, else
/// `~/.config/systemd/user`.
pub fn default_systemd_dir() -> anyhow::Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => home()?.join(".config"),
    };
    absolute(&config.join("systemd/user"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_follows_the_usual_share_directories() {
        let l = Layout::new(PathBuf::from("/usr/local"));
        assert_eq!(l.bin, Path::new("/usr/local/bin"));
        assert_eq!(l.man1, Path::new("/usr/local/share/man/man1"));
        assert_eq!(
            l.completion_dir(Shell::Bash),
            Path::new("/usr/local/share/bash-completion/completions")
        );
        assert_eq!(
            l.completion_dir(Shell::Zsh),
            Path::new("/usr/local/share/zsh/site-functions")
        );
        assert_eq!(
            l.completion_dir(Shell::Fish),
            Path::new("/usr/local/share/fish/vendor_completions.d")
        );
    }

    #[test]
    fn a_prefix_is_normalised_and_dot_dot_is_refused() {
        assert_eq!(
            absolute(Path::new("/opt/./felund/")).unwrap(),
            Path::new("/opt/felund")
        );
        assert!(absolute(Path::new("/opt/../etc")).is_err());
    }
}
