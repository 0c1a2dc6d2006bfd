//! The four programs: built with cargo (release, `--locked`) or taken from `--bin-dir`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::programs::PROGRAMS;

/// Program name → built binary.
pub type Binaries = BTreeMap<&'static str, PathBuf>;

/// The programs in `dir`, each of which must be an executable file.
pub fn from_dir(dir: &Path) -> anyhow::Result<Binaries> {
    let mut bins = Binaries::new();
    for p in &PROGRAMS {
        let path = dir.join(p.name);
        let executable = std::fs::metadata(&path)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if !executable {
            bail!("--bin-dir {}: no executable {}", dir.display(), p.name);
        }
        bins.insert(p.name, path);
    }
    Ok(bins)
}

/// The cargo to run: `$CARGO` (set by `cargo xtask`), else `cargo` on the PATH.
fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// Refuses early, in one line, when there is no usable Rust toolchain.
pub fn check_toolchain() -> anyhow::Result<()> {
    let cargo = cargo();
    let works = Command::new(&cargo)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        bail!(
            "no Rust toolchain: `{}` cannot be run; install one (https://rustup.rs) or pass \
             --bin-dir with the four programs already built",
            cargo.display()
        );
    }
    Ok(())
}

/// Builds the four programs (`cargo build --release --locked`) in the workspace and
/// returns where cargo put them. Cargo's progress goes to stderr as usual.
pub fn release() -> anyhow::Result<Binaries> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace of the install tool")?;
    let mut cmd = Command::new(cargo());
    cmd.current_dir(workspace)
        .args(["build", "--release", "--locked"])
        .args(["--message-format", "json-render-diagnostics"])
        .stdout(Stdio::piped());
    for p in &PROGRAMS {
        cmd.args(["--package", p.name]);
    }
    // What `cargo run` set for this tool is not the user's environment: build scripts that
    // watch such a variable (ring watches CARGO_MANIFEST_DIR) would otherwise be rebuilt
    // here, and again by the user's next plain cargo command.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_run) {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd.spawn().context("cannot run cargo")?;
    let stdout = child.stdout.take().context("cargo's output")?;
    let mut bins = Binaries::new();
    for line in std::io::BufReader::new(stdout).lines() {
        if let Some((name, path)) = executable_of(&line.context("reading cargo's output")?) {
            if let Some(p) = PROGRAMS.iter().find(|p| p.name == name) {
                bins.insert(p.name, path);
            }
        }
    }
    if !child.wait().context("waiting for cargo")?.success() {
        bail!("cargo build --release --locked failed (see above)");
    }
    if let Some(p) = PROGRAMS.iter().find(|p| !bins.contains_key(p.name)) {
        bail!("cargo built no {} binary", p.name);
    }
    Ok(bins)
}

/// Whether `cargo run` sets `var` for the program it runs (beyond `CARGO`, which
/// [`cargo`] uses).
fn set_by_cargo_run(var: &str) -> bool {
    var.starts_with("CARGO_PKG_")
        || matches!(
            var,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
        )
}

/// The target name and executable of one `compiler-artifact` message, if it is a binary.
fn executable_of(line: &str) -> Option<(String, PathBuf)> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" {
        return None;
    }
    let exe = msg["executable"].as_str()?;
    let name = msg["target"]["name"].as_str()?;
    Some((name.to_string(), PathBuf::from(exe)))
}
