//! `uninstall`: remove exactly the files the manifest lists, if unchanged since they
//! were installed, then the directories the install created, when empty.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::cli::UninstallArgs;
use crate::files;
use crate::layout::{self, Layout};
use crate::manifest::{self, Manifest};
use crate::notes;
use crate::units::{SERVICE_NAME, SOCKET_NAME};

/// Runs `cargo xtask uninstall`.
pub fn run(args: &UninstallArgs) -> anyhow::Result<()> {
    let layout = Layout::new(layout::resolve_prefix(&args.prefix.prefix)?);
    let Some(manifest) = manifest::load(&layout)? else {
        bail!(
            "nothing to uninstall in {}: no {} (was felund installed there with `cargo xtask \
             install`?)",
            layout.prefix.display(),
            layout.manifest().display()
        );
    };
    let has_units = manifest.files.iter().any(|e| manifest.is_unit(&e.path));
    if has_units {
        stop_units(&manifest, args.disable)?;
    }
    let mut removed = 0;
    let mut kept = Vec::new();
    for e in &manifest.files {
        if std::fs::symlink_metadata(&e.path).is_err() {
            continue; // already gone
        }
        if files::is_regular_file(&e.path)
            && files::sha256_file(&e.path).is_ok_and(|h| h == e.sha256)
        {
            std::fs::remove_file(&e.path)
                .with_context(|| format!("cannot remove {}", e.path.display()))?;
            removed += 1;
        } else {
            kept.push(e.path.clone());
        }
    }
    let path = layout.manifest();
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    remove_empty_dirs(&manifest.created_dirs);
    notes::after_uninstall(&layout, removed, has_units, &kept);
    Ok(())
}

/// Installed units must not be removed while systemd would start them: refused while
/// they are enabled, unless `disable`, which runs `systemctl --user disable --now` first.
fn stop_units(manifest: &Manifest, disable: bool) -> anyhow::Result<()> {
    let Some(dir) = manifest.systemd_dir.as_deref() else {
        return Ok(());
    };
    if disable {
        let status = Command::new("systemctl")
            .args(["--user", "disable", "--now", SOCKET_NAME, SERVICE_NAME])
            .status()
            .context("cannot run systemctl --user disable --now")?;
        if !status.success() {
            bail!("systemctl --user disable --now {SOCKET_NAME} {SERVICE_NAME} failed ({status})");
        }
    } else if let Some(link) = enablement(dir) {
        bail!(
            "felundd's units are enabled ({}): stop and disable them first with `systemctl \
             --user disable --now {SOCKET_NAME} {SERVICE_NAME}`, or pass --disable",
            link.display()
        );
    }
    Ok(())
}

/// The first `*.wants`/`*.requires` link in `dir` that enables one of felundd's units.
fn enablement(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "wants" || x == "requires")
        })
        .flat_map(|d| [d.join(SERVICE_NAME), d.join(SOCKET_NAME)])
        .find(|link| std::fs::symlink_metadata(link).is_ok())
}

/// Removes the directories an install created, deepest first, where they are empty.
fn remove_empty_dirs(dirs: &[PathBuf]) {
    let mut dirs: Vec<&PathBuf> = dirs.iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        // Not empty (the user put something there) or already gone: left as it is.
        let _ = std::fs::remove_dir(d);
    }
}
