//! The built `felundctl` binary, without a daemon: help, usage errors, and the
//! "felundd is not running" path.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_felundctl");

/// Run felundctl with `args`, with FELUND_SOCKET cleared so the host's setting
/// cannot leak in.
fn felundctl(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("FELUND_SOCKET")
        .output()
        .expect("run felundctl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SUBCOMMANDS: &[&str] = &[
    "status", "invite", "code", "join", "circles", "leave", "rename", "peers", "channels",
    "channel", "who", "send", "inbox", "name", "watch",
];

#[test]
fn help_lists_every_subcommand() {
    let out = felundctl(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for sub in SUBCOMMANDS {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "`{sub}` missing from --help:\n{text}"
        );
    }
    assert!(text.contains("Exit status"), "{text}");
}

#[test]
fn help_lists_channel_subcommands() {
    let out = felundctl(&["channel", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for sub in ["create", "join", "leave", "approve"] {
        assert!(text.contains(&format!("  {sub} ")), "{sub}:\n{text}");
    }
}

/// Assert a run failed with exit 2 and exactly one stderr line containing `needle`.
fn assert_exit_2_one_line(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    assert_eq!(stdout(out), "", "nothing on stdout");
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "exactly one line: {err:?}");
    assert!(err.contains(needle), "{err:?}");
}

fn missing_socket(dir: &Path) -> String {
    dir.join("felundd.sock").display().to_string()
}

#[test]
fn status_without_daemon_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let sock = missing_socket(dir.path());
    let out = felundctl(&["--socket", &sock, "status"]);
    assert_exit_2_one_line(&out, "felundd is not running at");
    assert!(stderr(&out).contains(&sock));
}

#[test]
fn status_json_without_daemon_still_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let sock = missing_socket(dir.path());
    let out = felundctl(&["--json", "--socket", &sock, "status"]);
    assert_exit_2_one_line(&out, "felundd is not running at");
    // Global options also work after the subcommand.
    let out = felundctl(&["status", "--socket", &sock, "--json"]);
    assert_exit_2_one_line(&out, "felundd is not running at");
}

#[test]
fn socket_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let sock = missing_socket(dir.path());
    let out = Command::new(BIN)
        .arg("circles")
        .env("FELUND_SOCKET", &sock)
        .output()
        .unwrap();
    assert_exit_2_one_line(&out, &format!("felundd is not running at {sock};"));
}

#[test]
fn every_command_reports_missing_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let sock = missing_socket(dir.path());
    for args in [
        &["circles"][..],
        &["send", "-c", "x", "hello"],
        &["send", "-c", "x", "-"],
        &["watch"],
        &["channel", "create", "ops", "-c", "x"],
    ] {
        let mut all = vec!["--socket", sock.as_str()];
        all.extend_from_slice(args);
        let out = felundctl(&all);
        assert_exit_2_one_line(&out, "felundd is not running at");
    }
}

#[test]
fn plain_file_as_socket_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-socket");
    std::fs::write(&file, "x").unwrap();
    let out = felundctl(&["--socket", file.to_str().unwrap(), "status"]);
    assert_exit_2_one_line(&out, "is not a socket");
}

#[test]
fn bad_subcommand_exits_2() {
    let out = felundctl(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("frobnicate"));
}

#[test]
fn missing_required_option_exits_2() {
    let out = felundctl(&["send", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--circle-id"), "{}", stderr(&out));
}

#[test]
fn no_subcommand_exits_2() {
    let out = felundctl(&[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn version_exits_0() {
    let out = felundctl(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("felundctl "));
}

#[test]
fn completions_print_a_script_for_each_shell_without_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let sock = missing_socket(dir.path());
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef felundctl"),
        ("fish", "complete -c felundctl"),
    ] {
        // No felundd at the socket: completions never dial it.
        let out = felundctl(&["--socket", &sock, "completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        for word in ["inbox", "search", "circle-id"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let out = felundctl(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tcsh"), "{}", stderr(&out));
}

#[test]
fn manpages_writes_a_page_for_felundctl_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let man_dir = dir.path().join("share/man/man1"); // created on demand
    let sock = missing_socket(dir.path());
    let out = felundctl(&["--socket", &sock, "manpages", man_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let main_page = std::fs::read_to_string(man_dir.join("felundctl.1")).unwrap();
    assert!(
        main_page.starts_with(".ie \\n(.g .ds Aq"),
        "roff: {main_page:.80}"
    );
    assert!(main_page.contains(".TH felundctl 1"), "{main_page:.300}");
    assert!(main_page.contains("inbox"), "lists the subcommands");
    let inbox = std::fs::read_to_string(man_dir.join("felundctl-inbox.1")).unwrap();
    assert!(inbox.contains("\\-\\-limit"), "documents inbox's options");
    for page in [
        "felundctl-send.1",
        "felundctl-search.1",
        "felundctl-channel.1",
        "felundctl-channel-create.1",
        "felundctl-completions.1",
    ] {
        assert!(man_dir.join(page).is_file(), "{page} missing");
    }
    // One path printed per page written; nothing for hidden commands.
    let listed: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(
        listed.len(),
        std::fs::read_dir(&man_dir).unwrap().count(),
        "{listed:?}"
    );
    assert!(!man_dir.join("felundctl-manpages.1").exists());
    assert!(!man_dir.join("felundctl-help.1").exists());
}

#[test]
fn manpages_into_an_unwritable_place_exits_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let out = felundctl(&["manpages", file.join("man1").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot create"), "{err}");
}

#[test]
fn manpages_is_hidden_from_the_main_help_but_completions_is_listed() {
    let text = stdout(&felundctl(&["--help"]));
    assert!(!text.contains("manpages"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("completions ")),
        "{text}"
    );
}
