use super::*;
use crate::cli::Cli;
use clap::Parser;

fn command(args: &[&str]) -> Command {
    let mut full = vec!["felundctl"];
    full.extend_from_slice(args);
    Cli::try_parse_from(full).expect("parses").command
}

/// Resolves `args` with `vars` as the environment and `input` as standard input.
fn resolved(args: &[&str], vars: &[(&str, &str)], input: &str) -> Result<Command, SecretError> {
    let mut cmd = command(args);
    let env = |var: &str| {
        vars.iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| v.to_string())
    };
    let mut reader = input.as_bytes();
    let mut stdin = Input {
        reader: &mut reader,
        interactive: false,
    };
    resolve(&mut cmd, env, &mut stdin).map(|()| cmd)
}

fn join_code(cmd: Command) -> String {
    match cmd {
        Command::Join(j) => j.code().to_string(),
        other => panic!("{other:?}"),
    }
}

fn channel_key(cmd: Command) -> Option<String> {
    match cmd {
        Command::Channel(ChannelCommand::Create { key, .. } | ChannelCommand::Join { key, .. }) => {
            key
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_invite_code_comes_from_the_argument_stdin_or_the_environment() {
    assert_eq!(
        join_code(resolved(&["join", "felund1.a"], &[], "").unwrap()),
        "felund1.a"
    );
    assert_eq!(
        join_code(resolved(&["join", "-"], &[], "  felund1.b \nignored\n").unwrap()),
        "felund1.b"
    );
    assert_eq!(
        join_code(resolved(&["join", "--code", "-"], &[], "felund1.c\r\n").unwrap()),
        "felund1.c"
    );
    assert_eq!(
        join_code(resolved(&["join"], &[(INVITE_CODE_VAR, "felund1.d")], "").unwrap()),
        "felund1.d"
    );
}

#[test]
fn an_invite_code_given_twice_or_not_at_all_is_a_usage_error() {
    for (args, vars, missing) in [
        (
            &["join", "felund1.a"][..],
            &[(INVITE_CODE_VAR, "felund1.b")][..],
            false,
        ),
        (&["join", "-"], &[(INVITE_CODE_VAR, "felund1.b")], false),
        (&["join"], &[], true),
        (&["join"], &[(INVITE_CODE_VAR, "")], true),
    ] {
        match resolved(args, vars, "felund1.x\n") {
            Err(SecretError::Usage {
                missing: m,
                message,
            }) => {
                assert_eq!(m, missing, "{message}");
                assert!(message.contains(INVITE_CODE_VAR), "{message}");
            }
            other => panic!("{args:?}: {other:?}"),
        }
    }
}

#[test]
fn unusable_standard_input_is_an_input_error() {
    let too_long = "x".repeat(MAX_STDIN_SECRET_BYTES as usize + 1);
    for input in ["", "\n\n", "   \n", too_long.as_str()] {
        assert!(
            matches!(
                resolved(&["join", "-"], &[], input),
                Err(SecretError::Input(_))
            ),
            "{input:?}"
        );
    }
    let mut not_utf8: &[u8] = &[0xff, 0xfe, b'\n'];
    let mut stdin = Input {
        reader: &mut not_utf8,
        interactive: false,
    };
    let mut cmd = command(&["join", "-"]);
    assert!(matches!(
        resolve(&mut cmd, |_| None, &mut stdin),
        Err(SecretError::Input(_))
    ));
}

#[test]
fn a_channel_key_comes_from_the_flag_stdin_or_the_environment_as_typed() {
    let create = ["channel", "create", "ops", "-c", "c1", "--access", "key"];
    let with = |extra: &[&'static str]| [&create[..], extra].concat();
    assert_eq!(
        channel_key(resolved(&with(&["--key", "s3"]), &[], "").unwrap()).as_deref(),
        Some("s3")
    );
    assert_eq!(
        channel_key(resolved(&with(&["--key", "-"]), &[], " two words \n").unwrap()).as_deref(),
        Some(" two words ")
    );
    assert_eq!(
        channel_key(resolved(&create, &[(CHANNEL_KEY_VAR, "k")], "").unwrap()).as_deref(),
        Some("k")
    );
    assert!(matches!(
        resolved(&create, &[], ""),
        Err(SecretError::Usage { missing: true, .. })
    ));
    assert!(matches!(
        resolved(&with(&["--key", "s3"]), &[(CHANNEL_KEY_VAR, "k")], ""),
        Err(SecretError::Usage { missing: false, .. })
    ));
    // Joining: the key is optional, and may come from the same places.
    let join = ["channel", "join", "ops", "-c", "c1"];
    assert_eq!(channel_key(resolved(&join, &[], "").unwrap()), None);
    assert_eq!(
        channel_key(resolved(&join, &[(CHANNEL_KEY_VAR, "k")], "").unwrap()).as_deref(),
        Some("k")
    );
}

#[test]
fn a_public_channel_ignores_a_key_in_the_environment() {
    let cmd = resolved(
        &["channel", "create", "ops", "-c", "c1"],
        &[(CHANNEL_KEY_VAR, "k")],
        "",
    )
    .unwrap();
    assert_eq!(channel_key(cmd), None);
}
