//! `install`: check, build, write every file atomically, sweep what an earlier install
//! left and this one does not write, record the manifest, tell the user what changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::cli::InstallArgs;
use crate::files::{self, Source};
use crate::layout::{self, Layout};
use crate::manifest::{self, Entry, Manifest};
use crate::plan::{self, Planned};
use crate::{build, notes};

/// Counts for the summary.
#[derive(Debug, Default)]
pub struct Counts {
    /// Files written (new or changed).
    pub written: usize,
    /// Files already as they should be.
    pub unchanged: usize,
    /// Files of an earlier install removed as no longer installed.
    pub swept: usize,
}

/// Runs `cargo xtask install`.
pub fn run(args: &InstallArgs) -> anyhow::Result<()> {
    let layout = Layout::new(layout::resolve_prefix(&args.prefix.prefix)?);
    let systemd_dir = match (args.systemd, &args.systemd_dir) {
        (false, _) => None,
        (true, Some(dir)) => Some(layout::absolute(dir)?),
        (true, None) => Some(layout::default_systemd_dir()?),
    };
    preflight(&layout, systemd_dir.as_deref())?;
    if args.bin_dir.is_none() {
        build::check_toolchain()?;
    }
    let old = manifest::load(&layout)?;
    let docs = plan::documents(&layout, systemd_dir.as_deref())?;
    let dests: Vec<&Path> = docs.iter().map(|p| p.dest.as_path()).collect();
    refuse_foreign(
        &dests,
        &plan::program_dests(&layout),
        old.as_ref(),
        args.force,
    )?;
    let bins = match &args.bin_dir {
        Some(dir) => build::from_dir(&layout::absolute(dir)?)?,
        None => build::release()?,
    };
    let mut planned = plan::programs(&layout, &bins);
    planned.extend(docs);

    let created = create_dirs(&layout, &planned)?;
    let mut manifest = Manifest::new(&layout, systemd_dir);
    let mut counts = Counts::default();
    for p in &planned {
        manifest.files.push(write(p, &mut counts)?);
    }
    let mut kept = Vec::new();
    if let Some(old) = &old {
        sweep(old, &mut manifest, &mut counts, &mut kept)?;
        merge_dirs(&mut manifest.created_dirs, &old.created_dirs);
    }
    merge_dirs(&mut manifest.created_dirs, &created);
    manifest::save(&layout, &manifest)?;
    notes::after_install(&layout, &manifest, &counts, &kept);
    Ok(())
}

/// Refuses, before anything is built or written, a prefix (or unit directory) this
/// process cannot write.
fn preflight(layout: &Layout, systemd_dir: Option<&Path>) -> anyhow::Result<()> {
    for dir in layout.dirs().into_iter().chain(systemd_dir) {
        if let Err(e) = files::check_writable(dir) {
            bail!(
                "cannot install into {}: {}: {}; choose a --prefix you can write (the \
                 default ~/.local needs no root) or run as root for /usr/local",
                dir.display(),
                e.blocker.display(),
                e.reason
            );
        }
    }
    Ok(())
}

/// Refuses to overwrite files that an earlier install did not write (unless `force`).
fn refuse_foreign(
    docs: &[&Path],
    programs: &[PathBuf],
    old: Option<&Manifest>,
    force: bool,
) -> anyhow::Result<()> {
    if force {
        return Ok(());
    }
    let foreign: Vec<&Path> = docs
        .iter()
        .copied()
        .chain(programs.iter().map(PathBuf::as_path))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .filter(|p| old.and_then(|m| m.entry(p)).is_none())
        .collect();
    if let Some(first) = foreign.first() {
        bail!(
            "{} exists and was not installed by `cargo xtask install` ({} such file(s)); move \
             it away, or pass --force to replace it (uninstall then removes it too)",
            first.display(),
            foreign.len()
        );
    }
    Ok(())
}

/// Creates every directory the files go into; returns those that did not exist.
fn create_dirs(layout: &Layout, planned: &[Planned]) -> anyhow::Result<Vec<PathBuf>> {
    let dirs: BTreeSet<&Path> = planned
        .iter()
        .filter_map(|p| p.dest.parent())
        .chain([layout.data.as_path()])
        .collect();
    let mut created = Vec::new();
    for dir in dirs {
        created.extend(files::missing_dirs(dir));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(created)
}

/// Writes one file unless it is already there as planned; returns its manifest entry.
fn write(p: &Planned, counts: &mut Counts) -> anyhow::Result<Entry> {
    let sha256 = files::sha256_source(&p.source).with_context(|| match &p.source {
        Source::Copy(from) => format!("cannot read {}", from.display()),
        Source::Bytes(_) => "hashing rendered content".into(),
    })?;
    let same = files::mode_of(&p.dest) == Some(p.mode)
        && files::sha256_file(&p.dest).is_ok_and(|h| h == sha256);
    if same {
        counts.unchanged += 1;
    } else {
        files::write_atomic(&p.dest, &p.source, p.mode)
            .with_context(|| format!("cannot write {}", p.dest.display()))?;
        counts.written += 1;
    }
    Ok(Entry {
        path: p.dest.clone(),
        sha256,
    })
}

/// Files of the earlier install (`old`) that this one did not write: its systemd units
/// stay (and stay listed) when this install has no `--systemd`; anything else is removed
/// if unchanged since it was installed, else left (and listed in `kept`).
fn sweep(
    old: &Manifest,
    manifest: &mut Manifest,
    counts: &mut Counts,
    kept: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let keep_units = manifest.systemd_dir.is_none();
    for e in &old.files {
        if manifest.entry(&e.path).is_some() {
            continue;
        }
        if old.is_unit(&e.path) && keep_units {
            manifest.systemd_dir.clone_from(&old.systemd_dir);
            manifest.files.push(e.clone());
        } else if files::sha256_file(&e.path).is_ok_and(|h| h == e.sha256) {
            std::fs::remove_file(&e.path)
                .with_context(|| format!("cannot remove {}", e.path.display()))?;
            counts.swept += 1;
        } else if std::fs::symlink_metadata(&e.path).is_ok() {
            kept.push(e.path.clone());
        }
    }
    Ok(())
}

/// Adds `more` to `dirs`, each once.
fn merge_dirs(dirs: &mut Vec<PathBuf>, more: &[PathBuf]) {
    for d in more {
        if !dirs.contains(d) {
            dirs.push(d.clone());
        }
    }
}
