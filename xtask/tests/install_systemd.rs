//! `cargo xtask install --systemd`: the user units go to ~/.config/systemd/user with
//! `ExecStart` on the installed felundd, `systemd-analyze verify` accepts them, and
//! uninstall removes them — but not while they are enabled.
//!
//! Needs `systemd-analyze` for the verify step; without it that step prints
//! `SKIPPED ...`, unless `FELUND_RELAY_SYSTEMD_REQUIRED=1` (CI, which installs it).

mod common;

use std::ffi::OsStr;
use std::process::Command;

use common::*;
use tempfile::TempDir;

#[test]
fn installed_units_run_the_installed_felundd_and_pass_systemd_analyze_verify() {
    let home = TempDir::new().unwrap();
    let stdout = install(home.path(), &["--systemd".as_ref()]);
    let units = home.path().join(".config/systemd/user");
    let service = std::fs::read_to_string(units.join("felundd.service")).unwrap();
    let felundd = home.path().join(".local/bin/felundd");
    let exec = format!(
        "\nExecStart={} --socket %t/felund/felundd.sock\n",
        felundd.display()
    );
    assert!(service.contains(&exec), "{service}");
    assert!(units.join("felundd.socket").is_file());
    // It says how to enable them, and has not done so.
    assert!(
        stdout.contains("systemctl --user enable --now felundd.socket felundd.service"),
        "{stdout}"
    );
    assert!(!units.join("default.target.wants").exists());

    match Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(units.join("felundd.service"))
        .arg(units.join("felundd.socket"))
        .output()
    {
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            // Warnings (unknown directives, a missing ExecStart binary) come with status 0.
            let about: Vec<&str> = stderr.lines().filter(|l| l.contains("felundd.")).collect();
            assert!(about.is_empty(), "{stderr}");
        }
        Err(err) => {
            assert!(
                std::env::var("FELUND_RELAY_SYSTEMD_REQUIRED").as_deref() != Ok("1"),
                "systemd-analyze is required but: {err}"
            );
            eprintln!("SKIPPED systemd-analyze verify: {err}; install systemd");
        }
    }

    // A later install without --systemd keeps them; uninstall removes them.
    let unit_files =
        || ["felundd.service", "felundd.socket"].map(|u| std::fs::read(units.join(u)).unwrap());
    let before = unit_files();
    install(home.path(), &[]);
    assert_eq!(unit_files(), before);
    let stdout = uninstall(home.path(), &[]);
    assert!(
        stdout.contains("systemctl --user daemon-reload"),
        "{stdout}"
    );
    assert!(!units.join("felundd.service").exists());
    assert!(!units.join("felundd.socket").exists());
    assert!(
        !home.path().join(".config").exists(),
        "the directories it made are gone"
    );
}

#[test]
fn uninstall_refuses_to_remove_units_that_are_enabled() {
    let home = TempDir::new().unwrap();
    install(home.path(), &["--systemd".as_ref()]);
    let units = home.path().join(".config/systemd/user");
    // What `systemctl --user enable felundd.service` leaves behind.
    let wants = units.join("default.target.wants");
    std::fs::create_dir(&wants).unwrap();
    std::os::unix::fs::symlink(units.join("felundd.service"), wants.join("felundd.service"))
        .unwrap();
    let err = refused(xtask(home.path(), &["uninstall".as_ref()]));
    assert!(
        err.contains("systemctl --user disable --now felundd.socket felundd.service"),
        "{err}"
    );
    assert!(units.join("felundd.service").is_file(), "nothing removed");
    assert!(
        home.path().join(".local/bin/felundd").is_file(),
        "nothing removed"
    );

    // Disabled, it goes.
    std::fs::remove_dir_all(&wants).unwrap();
    uninstall(home.path(), &[]);
    assert!(!units.join("felundd.service").exists());
}

#[test]
fn a_prefix_systemd_would_misread_in_exec_start_is_refused_before_writing() {
    let home = TempDir::new().unwrap();
    let prefix = home.path().join("my programs");
    let bins = bin_dir();
    let args: [&OsStr; 6] = [
        "install".as_ref(),
        "--bin-dir".as_ref(),
        bins.as_os_str(),
        "--prefix".as_ref(),
        prefix.as_os_str(),
        "--systemd".as_ref(),
    ];
    let err = refused(xtask(home.path(), &args));
    assert!(err.contains("ExecStart"), "{err}");
    assert!(!prefix.exists(), "nothing written");
    // Without --systemd such a prefix is fine.
    install(home.path(), &["--prefix".as_ref(), prefix.as_os_str()]);
    assert!(prefix.join("bin/felundd").is_file());
}
