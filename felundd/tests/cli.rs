//! The felundd binary's command line (and, as a side effect, makes `cargo test`
//! build the binary that the workspace integration tests run).

use std::process::Command;

fn felundd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_felundd"))
        .args(args)
        .output()
        .expect("run felundd")
}

#[test]
fn help_lists_every_flag() {
    let out = felundd(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--state-dir",
        "--socket",
        "--bind",
        "--port",
        "--advertise",
        "--name",
        "--relay",
        "--anchor",
        "--retention-days",
        "--max-messages-per-circle",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn bad_flag_values_are_refused_before_starting() {
    let out = felundd(&["--port", "notaport"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}

#[test]
fn unusable_state_dir_gives_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let out = felundd(&[
        "--state-dir",
        file.join("state").to_str().unwrap_or_default(),
        "--socket",
        dir.path().join("s.sock").to_str().unwrap_or_default(),
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("state"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
