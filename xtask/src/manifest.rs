//! The manifest: every file an install wrote (with its SHA-256) and every directory it
//! created, kept in `PREFIX/share/felund/install-manifest.json`. Uninstall trusts it only
//! as far as it names files the tool could have written.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::files::{self, Source};
use crate::layout::{self, Layout};
use crate::limits::{MAX_MANIFEST_BYTES, MAX_MANIFEST_ENTRIES};
use crate::programs::PROGRAMS;
use crate::units;

/// The manifest's format tag.
const FORMAT: &str = "felund-install-manifest/1";

/// What one install left on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    format: String,
    /// The prefix it was installed into.
    pub prefix: PathBuf,
    /// Where the systemd units went, if any were installed.
    pub systemd_dir: Option<PathBuf>,
    /// The files written, with their content's hash.
    pub files: Vec<Entry>,
    /// The directories created (removed again by uninstall when empty).
    pub created_dirs: Vec<PathBuf>,
}

/// One installed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Its absolute path.
    pub path: PathBuf,
    /// SHA-256 of what was written, hex.
    pub sha256: String,
}

impl Manifest {
    /// An empty manifest for `layout`.
    pub fn new(layout: &Layout, systemd_dir: Option<PathBuf>) -> Self {
        Self {
            format: FORMAT.into(),
            prefix: layout.prefix.clone(),
            systemd_dir,
            files: Vec::new(),
            created_dirs: Vec::new(),
        }
    }

    /// The entry for `path`, if this manifest lists it.
    pub fn entry(&self, path: &Path) -> Option<&Entry> {
        self.files.iter().find(|e| e.path == path)
    }

    /// Whether `path` is one of the systemd units listed here.
    pub fn is_unit(&self, path: &Path) -> bool {
        self.systemd_dir
            .as_deref()
            .is_some_and(|d| path.parent() == Some(d))
    }
}

/// The manifest under `layout`, if there is one; refused (nothing touched) when it is too
/// large, malformed, for another prefix, or names anything the tool never writes.
pub fn load(layout: &Layout) -> anyhow::Result<Option<Manifest>> {
    let path = layout.manifest();
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !meta.file_type().is_file() || meta.len() > MAX_MANIFEST_BYTES {
        bail!(
            "{} is not a regular file of at most {MAX_MANIFEST_BYTES} bytes; not touching anything",
            path.display()
        );
    }
    let mut text = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES).read_to_end(&mut text))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: Manifest = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{} is not a felund install manifest; not touching anything",
            path.display()
        )
    })?;
    validate(&manifest, layout)
        .with_context(|| format!("{}: not touching anything", path.display()))?;
    Ok(Some(manifest))
}

/// Writes `manifest` under `layout` (atomically), unless it is there already as it is.
pub fn save(layout: &Layout, manifest: &Manifest) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(manifest).context("encoding the manifest")?;
    text.push(b'\n');
    let path = layout.manifest();
    if std::fs::read(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    files::write_atomic(&path, &Source::Bytes(text), 0o644)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Checks that `m` belongs to `layout` and names only what an install writes.
fn validate(m: &Manifest, layout: &Layout) -> anyhow::Result<()> {
    if m.format != FORMAT {
        bail!("unknown manifest format {:?}", m.format);
    }
    if m.prefix != layout.prefix {
        bail!("it was written for prefix {}", m.prefix.display());
    }
    if m.files.len() + m.created_dirs.len() > MAX_MANIFEST_ENTRIES {
        bail!("it lists more than {MAX_MANIFEST_ENTRIES} entries");
    }
    if let Some(dir) = &m.systemd_dir {
        if layout::absolute(dir).ok().as_deref() != Some(dir.as_path()) {
            bail!(
                "its systemd directory {} is not a plain absolute path",
                dir.display()
            );
        }
    }
    for e in &m.files {
        let hash_ok = e.sha256.len() == 64 && e.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !hash_ok || !is_installable_file(&e.path, layout, m.systemd_dir.as_deref()) {
            bail!(
                "it names {}, which `cargo xtask install` never writes",
                e.path.display()
            );
        }
    }
    let targets: Vec<&Path> = layout
        .dirs()
        .into_iter()
        .chain(m.systemd_dir.as_deref())
        .collect();
    for d in &m.created_dirs {
        let plain = layout::absolute(d).ok().as_deref() == Some(d.as_path());
        if !plain || !targets.iter().any(|t| t.starts_with(d)) {
            bail!(
                "it names directory {}, which `cargo xtask install` never creates",
                d.display()
            );
        }
    }
    Ok(())
}

/// Whether `path` is a file an install could write: a plain absolute path directly in
/// one of its directories, with a name it gives files there.
pub fn is_installable_file(path: &Path, layout: &Layout, systemd_dir: Option<&Path>) -> bool {
    if layout::absolute(path).ok().as_deref() != Some(path) {
        return false;
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return false;
    };
    let programs = || PROGRAMS.iter().map(|p| p.name);
    if dir == layout.bin {
        return programs().any(|p| name == p);
    }
    if dir == layout.man1 {
        return name.ends_with(".1")
            && programs().any(|p| name == format!("{p}.1") || name.starts_with(&format!("{p}-")));
    }
    if let Some(shell) = felund_clidoc::INSTALLED_SHELLS
        .into_iter()
        .find(|s| layout.completion_dir(*s) == dir)
    {
        return programs().any(|p| name == felund_clidoc::completion_file_name(shell, p));
    }
    systemd_dir == Some(dir) && (name == units::SERVICE_NAME || name == units::SOCKET_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::new(PathBuf::from("/p"))
    }

    #[test]
    fn only_names_the_tool_writes_are_installable() {
        let l = layout();
        let sd = Some(Path::new("/h/.config/systemd/user"));
        for ok in [
            "/p/bin/felundd",
            "/p/share/man/man1/felundctl-channel-create.1",
            "/p/share/man/man1/felund-relay.1",
            "/p/share/bash-completion/completions/felund-tui",
            "/p/share/zsh/site-functions/_felundctl",
            "/p/share/fish/vendor_completions.d/felund-relay.fish",
            "/h/.config/systemd/user/felundd.service",
        ] {
            assert!(is_installable_file(Path::new(ok), &l, sd), "{ok}");
        }
        for bad in [
            "/p/bin/ls",
            "/p/bin/../../etc/passwd",
            "/p/share/man/man1/ls.1",
            "/p/share/zsh/site-functions/felundctl",
            "/etc/felundd.service",
            "/p/share/felund/install-manifest.json",
            "/h/.config/systemd/user/default.target.wants/felundd.service",
        ] {
            assert!(!is_installable_file(Path::new(bad), &l, sd), "{bad}");
        }
    }

    #[test]
    fn a_manifest_for_another_prefix_or_naming_foreign_files_is_refused() {
        let l = layout();
        let mut m = Manifest::new(&l, None);
        m.files.push(Entry {
            path: PathBuf::from("/p/bin/felundd"),
            sha256: "0".repeat(64),
        });
        assert!(validate(&m, &l).is_ok());
        let mut other = m.clone();
        other.prefix = PathBuf::from("/q");
        assert!(validate(&other, &l).is_err());
        let mut foreign = m.clone();
        foreign.files.push(Entry {
            path: PathBuf::from("/home/u/.ssh/id_ed25519"),
            sha256: "0".repeat(64),
        });
        assert!(validate(&foreign, &l).is_err());
        let mut dirs = m;
        dirs.created_dirs.push(PathBuf::from("/home/u/documents"));
        assert!(validate(&dirs, &l).is_err());
    }
}
