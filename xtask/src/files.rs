//! File operations: hashing, atomic replacement, and checking a directory can be
//! written before anything is.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What a planned file is made of.
#[derive(Debug)]
pub enum Source {
    /// Rendered content (completions, man pages, units).
    Bytes(Vec<u8>),
    /// A file to copy (a built program).
    Copy(PathBuf),
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of the file at `path`, hex, read in chunks.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// SHA-256 of `source`'s content.
pub fn sha256_source(source: &Source) -> io::Result<String> {
    match source {
        Source::Bytes(b) => Ok(sha256_bytes(b)),
        Source::Copy(p) => sha256_file(p),
    }
}

/// Whether `path` is a regular file (not following a symlink).
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// The permission bits of the regular file at `path`, if it is one.
pub fn mode_of(path: &Path) -> Option<u32> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.file_type()
        .is_file()
        .then(|| meta.permissions().mode() & 0o7777)
}

/// Writes `source` to `dest` with `mode` through a temporary file in the same directory
/// renamed into place: a reader sees the old file or the new one, never half of one (a
/// running felundd keeps its old binary).
pub fn write_atomic(dest: &Path, source: &Source, mode: u32) -> io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("/"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".felund-install-")
        .tempfile_in(dir)?;
    match source {
        Source::Bytes(b) => tmp.write_all(b)?,
        Source::Copy(p) => {
            io::copy(&mut File::open(p)?, tmp.as_file_mut())?;
        }
    }
    tmp.as_file().sync_all()?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// The directories above and including `dir` that do not exist yet, outermost first:
/// the ones an install creates (and an uninstall removes again when empty).
pub fn missing_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| std::fs::symlink_metadata(d).is_err())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    missing
}

/// Why a directory cannot be installed into.
#[derive(Debug)]
pub struct NotWritable {
    /// The existing directory (or non-directory) that stops it.
    pub blocker: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks that `dir` can be written or created, leaving no trace: its nearest existing
/// ancestor must be a directory in which this process can create a file (an unnamed
/// temporary file, gone when closed; so permissions, ACLs, read-only mounts and root all
/// count as they will for the install).
pub fn check_writable(dir: &Path) -> Result<(), NotWritable> {
    let existing = dir
        .ancestors()
        .find(|d| std::fs::symlink_metadata(d).is_ok())
        .unwrap_or(Path::new("/"));
    if !existing.is_dir() {
        return Err(NotWritable {
            blocker: existing.to_path_buf(),
            reason: "not a directory".into(),
        });
    }
    tempfile::tempfile_in(existing)
        .map(drop)
        .map_err(|e| NotWritable {
            blocker: existing.to_path_buf(),
            reason: match e.kind() {
                io::ErrorKind::PermissionDenied => "permission denied".into(),
                _ => e.to_string(),
            },
        })
}
