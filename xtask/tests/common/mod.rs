//! Helpers of the install tool's tests: the tool run in a temp HOME with the programs
//! `cargo test --workspace` built (`--bin-dir`, so no release build runs in a test).

#![allow(dead_code)] // each test file uses its own share

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// The four installed programs.
pub const PROGRAMS: [&str; 4] = ["felundd", "felundctl", "felund-tui", "felund-relay"];

/// A subcommand or option each program's completions must offer.
pub fn known_word(program: &str) -> &'static str {
    match program {
        "felundd" => "state-dir",
        "felundctl" => "inbox",
        "felund-tui" => "socket",
        _ => "migrate",
    }
}

/// The directory holding the four programs under test (each checked to be fresh).
pub fn bin_dir() -> PathBuf {
    let dirs: Vec<PathBuf> = PROGRAMS
        .iter()
        .map(|p| felund_tests::bin(p).parent().unwrap().to_path_buf())
        .collect();
    assert!(dirs.windows(2).all(|w| w[0] == w[1]), "{dirs:?}");
    dirs[0].clone()
}

/// The install tool with `HOME` set to `home` and nothing of the caller's shell setup.
pub fn xtask(home: &Path, args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("MANPATH")
        .output()
        .expect("run the install tool")
}

/// `install --bin-dir … ARGS`, which must succeed; its stdout.
pub fn install(home: &Path, args: &[&OsStr]) -> String {
    let bins = bin_dir();
    let mut all: Vec<&OsStr> = vec!["install".as_ref(), "--bin-dir".as_ref(), bins.as_os_str()];
    all.extend_from_slice(args);
    succeeded(xtask(home, &all))
}

/// `uninstall ARGS`, which must succeed; its stdout.
pub fn uninstall(home: &Path, args: &[&OsStr]) -> String {
    let mut all: Vec<&OsStr> = vec!["uninstall".as_ref()];
    all.extend_from_slice(args);
    succeeded(xtask(home, &all))
}

pub fn succeeded(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A refusal: exit status 1 and exactly one line on stderr, which is returned.
pub fn refused(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

/// Every entry under `root` (not following links): type, mode, size, mtime, and the
/// content of small files, so an unchanged tree compares equal and any rewrite does not.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mut what = format!("{:?} {:o}", meta.file_type(), meta.mode());
            if meta.is_dir() {
                stack.push(path.clone());
            } else {
                what += &format!(" {} {}.{}", meta.len(), meta.mtime(), meta.mtime_nsec());
                if meta.len() < 1 << 20 {
                    what += &String::from_utf8_lossy(&std::fs::read(&path).unwrap());
                }
            }
            out.insert(path.strip_prefix(root).unwrap().to_path_buf(), what);
        }
    }
    out
}

pub fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}
