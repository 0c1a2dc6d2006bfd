//! What an install writes: every file with its destination, content and mode.

use std::path::{Path, PathBuf};

use crate::build::Binaries;
use crate::files::Source;
use crate::layout::Layout;
use crate::programs::PROGRAMS;
use crate::units;

/// One file to install.
#[derive(Debug)]
pub struct Planned {
    /// Where it goes.
    pub dest: PathBuf,
    /// What it is made of.
    pub source: Source,
    /// Its permission bits.
    pub mode: u32,
}

/// Completions (bash, zsh, fish) and man pages of the four programs, rendered from their
/// clap definitions, and with `systemd_dir` the two user units.
pub fn documents(layout: &Layout, systemd_dir: Option<&Path>) -> anyhow::Result<Vec<Planned>> {
    let mut out = Vec::new();
    for p in &PROGRAMS {
        for shell in felund_clidoc::INSTALLED_SHELLS {
            out.push(Planned {
                dest: layout
                    .completion_dir(shell)
                    .join(felund_clidoc::completion_file_name(shell, p.name)),
                source: Source::Bytes(felund_clidoc::completion(shell, (p.command)())),
                mode: 0o644,
            });
        }
        for page in felund_clidoc::man_pages((p.command)()) {
            out.push(Planned {
                dest: layout.man1.join(page.file_name),
                source: Source::Bytes(page.roff),
                mode: 0o644,
            });
        }
    }
    if let Some(dir) = systemd_dir {
        let service = units::service_for(&layout.bin.join("felundd"))?;
        for (name, text) in [
            (units::SERVICE_NAME, service),
            (units::SOCKET_NAME, units::socket()),
        ] {
            out.push(Planned {
                dest: dir.join(name),
                source: Source::Bytes(text.into_bytes()),
                mode: 0o644,
            });
        }
    }
    Ok(out)
}

/// Where the four programs go.
pub fn program_dests(layout: &Layout) -> Vec<PathBuf> {
    PROGRAMS.iter().map(|p| layout.bin.join(p.name)).collect()
}

/// The four programs, copied from `bins`.
pub fn programs(layout: &Layout, bins: &Binaries) -> Vec<Planned> {
    bins.iter()
        .map(|(name, path)| Planned {
            dest: layout.bin.join(name),
            source: Source::Copy(path.clone()),
            mode: 0o755,
        })
        .collect()
}
