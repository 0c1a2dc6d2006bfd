//! The binary starts and explains itself (this also makes cargo build it for the
//! workspace's end-to-end test).

use std::process::Command;

#[test]
fn help_names_the_socket_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_felund-tui"))
        .arg("--help")
        .output()
        .expect("run felund-tui --help");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--socket <PATH>"), "{text}");
    assert!(text.contains("FELUND_SOCKET"), "{text}");
}

#[test]
fn without_a_terminal_it_fails_cleanly() {
    let out = Command::new(env!("CARGO_BIN_EXE_felund-tui"))
        .args(["--socket", "/nonexistent/felundd.sock"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run felund-tui");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("felund-tui: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
