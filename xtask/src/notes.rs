//! What the tool tells the user after it ran: what changed, and what to add to PATH,
//! MANPATH or the shells' search paths when the prefix is not on them.

use std::path::{Path, PathBuf};

use crate::install::Counts;
use crate::layout::{self, Layout};
use crate::manifest::Manifest;
use crate::programs::PROGRAMS;
use crate::units::{SERVICE_NAME, SOCKET_NAME};

/// Prefixes whose share/ directories the shells and man already search.
const SYSTEM_PREFIXES: [&str; 2] = ["/usr/local", "/usr"];

/// The summary after an install.
pub fn after_install(layout: &Layout, manifest: &Manifest, counts: &Counts, kept: &[PathBuf]) {
    let pages = manifest
        .files
        .iter()
        .filter(|e| e.path.parent() == Some(layout.man1.as_path()))
        .count();
    let names: Vec<&str> = PROGRAMS.iter().map(|p| p.name).collect();
    println!(
        "installed {} into {}, {pages} man pages into {}, bash, zsh and fish completions \
         under {} ({} files written, {} already up to date{})",
        names.join(", "),
        layout.bin.display(),
        layout.man1.display(),
        layout.prefix.join("share").display(),
        counts.written,
        counts.unchanged,
        if counts.swept > 0 {
            format!(
                ", {} left over from an earlier install removed",
                counts.swept
            )
        } else {
            String::new()
        }
    );
    println!(
        "manifest: {} (`cargo xtask uninstall{}` removes exactly these files)",
        layout.manifest().display(),
        prefix_flag(layout)
    );
    for path in kept {
        println!(
            "note: left {}: changed since an earlier install wrote it",
            path.display()
        );
    }
    search_path_notes(layout);
    if let Some(dir) = manifest.systemd_dir.as_deref() {
        systemd_notes(dir);
    }
}

/// The summary after an uninstall.
pub fn after_uninstall(layout: &Layout, removed: usize, had_units: bool, kept: &[PathBuf]) {
    println!(
        "removed {removed} files installed into {}",
        layout.prefix.display()
    );
    for path in kept {
        println!(
            "note: left {}: changed since it was installed (remove it yourself if it is not yours)",
            path.display()
        );
    }
    if had_units {
        println!("systemd units removed; tell the user manager: systemctl --user daemon-reload");
    }
}

/// ` --prefix P` unless P is the default.
fn prefix_flag(layout: &Layout) -> String {
    match layout::resolve_prefix("~/.local") {
        Ok(default) if default == layout.prefix => String::new(),
        _ => format!(" --prefix {}", layout.prefix.display()),
    }
}

/// PATH, MANPATH and completion search paths that do not cover the prefix.
fn search_path_notes(layout: &Layout) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|p| p == layout.bin) {
        println!(
            "note: {} is not on your PATH; add `export PATH=\"{}:$PATH\"` to your shell's \
             startup file",
            layout.bin.display(),
            layout.bin.display()
        );
    }
    // Without MANPATH, man-db finds PREFIX/share/man through PATH's PREFIX/bin.
    let man = layout.prefix.join("share/man");
    if let Some(manpath) = std::env::var_os("MANPATH") {
        if !std::env::split_paths(&manpath).any(|p| p == man) {
            println!(
                "note: MANPATH is set and lacks {}; add it for `man felundctl`",
                man.display()
            );
        }
    }
    let system = SYSTEM_PREFIXES
        .iter()
        .any(|p| layout.prefix == Path::new(p));
    if !system {
        println!(
            "note: zsh: add `fpath+=({})` to ~/.zshrc before compinit",
            layout.zsh.display()
        );
    }
    let user_data = layout::home().map(|h| h.join(".local")).ok();
    if !system && user_data.as_deref() != Some(layout.prefix.as_path()) {
        println!(
            "note: bash and fish: add {} to XDG_DATA_DIRS to load the completions",
            layout.prefix.join("share").display()
        );
    }
}

/// How to run the installed units (the tool never enables them itself).
fn systemd_notes(dir: &Path) {
    println!(
        "systemd user units installed into {} (not enabled). To run felundd from login:",
        dir.display()
    );
    println!("    systemctl --user daemon-reload");
    println!("    systemctl --user enable --now {SOCKET_NAME} {SERVICE_NAME}");
}
