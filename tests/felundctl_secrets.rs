//! Secrets off the command line: `felundctl join` takes the invite code from standard input
//! (`-`) or `FELUND_INVITE_CODE`, and `channel create|join` take the channel key from
//! `--key -` or `FELUND_CHANNEL_KEY`, so neither shows in `ps` or shell history. Giving one
//! both ways, or not at all, is a usage error that changes nothing.

use felund_tests::chat::{self, create_circle};
use felund_tests::ctl::stderr_of as stderr;
use felund_tests::Daemon;
use serde_json::Value;

fn joined(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn join_takes_the_invite_code_from_standard_input_or_the_environment() {
    let host = Daemon::start();
    let circle = create_circle(&host, "quiet");

    let by_stdin = Daemon::start();
    let out = by_stdin.ctl_input(&["--json", "join", "-"], &format!("{}\n", circle.code));
    assert_eq!(joined(&out)["circle"]["circle_id"], circle.id.as_str());

    let by_env = Daemon::start();
    let out = by_env
        .ctl_cmd(&["--json", "join"])
        .env("FELUND_INVITE_CODE", &circle.code)
        .output()
        .expect("felundctl");
    assert_eq!(joined(&out)["circle"]["circle_id"], circle.id.as_str());
}

#[test]
fn an_invite_code_given_both_ways_or_not_at_all_is_a_usage_error_that_joins_nothing() {
    let host = Daemon::start();
    let circle = create_circle(&host, "quiet");
    let d = Daemon::start();

    let both = d
        .ctl_cmd(&["join", &circle.code])
        .env("FELUND_INVITE_CODE", &circle.code)
        .output()
        .expect("felundctl");
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(stderr(&both).contains("both on the command line and in FELUND_INVITE_CODE"));

    let neither = d
        .ctl_cmd(&["join"])
        .env_remove("FELUND_INVITE_CODE")
        .output()
        .expect("felundctl");
    assert_eq!(neither.status.code(), Some(2), "{}", stderr(&neither));
    assert!(stderr(&neither).contains("`-` to read it from standard input"));

    let empty_stdin = d.ctl_input(&["join", "-"], "");
    assert_eq!(
        empty_stdin.status.code(),
        Some(1),
        "{}",
        stderr(&empty_stdin)
    );
    assert!(stderr(&empty_stdin).starts_with("error: no invite code on standard input"));

    assert!(d.ctl_json(&["circles"]).is_empty());
}

#[test]
fn a_channel_key_is_taken_from_standard_input_or_the_environment() {
    let d = Daemon::start();
    let circle = create_circle(&d, "keys");
    let create = [
        "--json",
        "channel",
        "create",
        "vault",
        "--circle-id",
        &circle.id,
        "--access",
        "key",
        "--key",
        "-",
    ];
    let out = d.ctl_input(&create, "two words\n");
    assert!(out.status.success(), "{}", stderr(&out));
    d.ctl_one(&["channel", "leave", "vault", "--circle-id", &circle.id]);

    // The key read from stdin is the one in force: a wrong one from the environment is
    // refused, the right one accepted.
    let join = [
        "--json",
        "channel",
        "join",
        "vault",
        "--circle-id",
        &circle.id,
    ];
    let wrong = d
        .ctl_cmd(&join)
        .env("FELUND_CHANNEL_KEY", "two")
        .output()
        .expect("felundctl");
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let right = d
        .ctl_cmd(&join)
        .env("FELUND_CHANNEL_KEY", "two words")
        .output()
        .expect("felundctl");
    assert!(right.status.success(), "{}", stderr(&right));
    assert_eq!(chat::who(&d, &circle.id, Some("vault")).len(), 1);

    // Both ways at once is refused before felundd is asked.
    let both = d
        .ctl_cmd(&[
            "channel",
            "join",
            "vault",
            "--circle-id",
            &circle.id,
            "--key",
            "x",
        ])
        .env("FELUND_CHANNEL_KEY", "y")
        .output()
        .expect("felundctl");
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(stderr(&both).contains("FELUND_CHANNEL_KEY"));
}

#[test]
fn help_says_how_to_keep_secrets_off_the_command_line() {
    for (args, var) in [
        (&["join", "--help"][..], "FELUND_INVITE_CODE"),
        (&["channel", "create", "--help"], "FELUND_CHANNEL_KEY"),
        (&["channel", "join", "--help"], "FELUND_CHANNEL_KEY"),
    ] {
        let out = std::process::Command::new(felund_tests::bin("felundctl"))
            .args(args)
            .output()
            .expect("felundctl --help");
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(help.contains(var), "{args:?}: {help}");
        assert!(help.contains("standard input"), "{args:?}: {help}");
    }
}
