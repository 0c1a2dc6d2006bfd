//! `systemd/felund-relay.service`: `systemd-analyze verify` accepts it (with `ExecStart=` pointing
//! at the binary under test), `systemd-analyze security` rates it OK, and it has what the
//! README promises (a dynamic user, a private state directory, the database URL from an
//! environment file).
//!
//! Needs `systemd-analyze` (package `systemd`); without it the systemd checks print
//! `SKIPPED ...`, unless `FELUND_RELAY_SYSTEMD_REQUIRED=1` (CI, which installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALLED_PATH: &str = "/usr/local/bin/felund-relay";

fn unit_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../systemd/felund-relay.service");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The unit with `ExecStart=` on the binary under test, written into `dir`.
fn unit_for_this_build(dir: &Path) -> PathBuf {
    let text = unit_text();
    assert!(text.contains(&format!("ExecStart={INSTALLED_PATH}")));
    let path = dir.join("felund-relay.service");
    let text = text.replace(INSTALLED_PATH, env!("CARGO_BIN_EXE_felund-relay"));
    std::fs::write(&path, text).expect("write unit");
    path
}

/// `systemd-analyze` with `args`, or `None` (after printing SKIPPED) when there is none.
fn systemd_analyze(test: &str, args: &[&std::ffi::OsStr]) -> Option<std::process::Output> {
    match Command::new("systemd-analyze").args(args).output() {
        Ok(out) => Some(out),
        Err(err) => {
            assert!(
                std::env::var("FELUND_RELAY_SYSTEMD_REQUIRED").as_deref() != Ok("1"),
                "{test}: systemd-analyze is required but: {err}"
            );
            eprintln!("SKIPPED {test}: no systemd-analyze ({err}); install systemd");
            None
        }
    }
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = unit_for_this_build(dir.path());
    let Some(out) = systemd_analyze(
        "systemd_analyze_verify_accepts_the_unit",
        &["verify".as_ref(), "--man=no".as_ref(), unit.as_os_str()],
    ) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Warnings (unknown or misspelt directives, bad values) go to stderr with status 0.
    let about_unit: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("felund-relay.service"))
        .collect();
    assert!(about_unit.is_empty(), "{stderr}");
}

#[test]
fn systemd_analyze_security_rates_the_unit_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = unit_for_this_build(dir.path());
    let Some(out) = systemd_analyze(
        "systemd_analyze_security_rates_the_unit_ok",
        &[
            "security".as_ref(),
            "--offline=yes".as_ref(),
            "--no-pager".as_ref(),
            unit.as_os_str(),
        ],
    ) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let overall = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no overall level: {stdout}"));
    let level: f64 = overall
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{overall}"));
    // systemd calls up to 2.0 "OK" (10 would be a service with no protection at all).
    assert!(level <= 2.0, "{overall}");
}

#[test]
fn the_unit_runs_as_a_dynamic_user_with_a_private_state_directory_and_an_environment_file() {
    let text = unit_text();
    let directives: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .collect();
    for wanted in [
        "DynamicUser=yes",
        "StateDirectory=felund-relay",
        "StateDirectoryMode=0700",
        "EnvironmentFile=/etc/felund-relay/felund-relay.env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
    ] {
        assert!(directives.contains(&wanted), "missing {wanted}");
    }
    // The database is chosen in the environment file only: a default in the unit would
    // clash with FELUND_RELAY_DATABASE_URL there (the relay takes exactly one of the two).
    assert!(!directives
        .iter()
        .any(|d| d.starts_with("Environment=FELUND_RELAY_DB")));
}
