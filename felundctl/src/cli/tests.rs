//! Parsing tests: `Cli::try_parse_from` on argument lists.

use super::*;
use clap::CommandFactory;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("felundctl").chain(args.iter().copied()))
}

#[test]
fn definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn join_code_positional_or_option() {
    for args in [
        &["join", "felund1abc"][..],
        &["join", "--code", "felund1abc"],
    ] {
        match parse(args).unwrap().command {
            Command::Join(j) => assert_eq!(j.code(), "felund1abc"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn join_takes_at_most_one_code_on_the_command_line() {
    // None at all is left to `secrets::resolve`, which may find it in the environment.
    assert!(parse(&["join"]).is_ok());
    assert!(parse(&["join", "a", "--code", "b"]).is_err());
    match parse(&["join", "-"]).unwrap().command {
        Command::Join(j) => assert_eq!(j.given(), Some("-")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn send_dash_means_stdin() {
    match parse(&["send", "--circle-id", "c1", "-"]).unwrap().command {
        Command::Send {
            circle,
            channel,
            words,
        } => {
            assert_eq!(circle.circle, "c1");
            assert_eq!(channel.channel, "general");
            assert_eq!(words, ["-"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn send_takes_the_rest_of_the_line_as_text() {
    match parse(&["send", "-c", "friends", "hello", "world"])
        .unwrap()
        .command
    {
        Command::Send { words, .. } => assert_eq!(words.join(" "), "hello world"),
        other => panic!("{other:?}"),
    }
    // Text starting with '-' follows `--`.
    match parse(&["send", "-c", "friends", "--", "-1", "degrees"])
        .unwrap()
        .command
    {
        Command::Send { words, .. } => assert_eq!(words.join(" "), "-1 degrees"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn send_needs_circle_and_text() {
    assert!(parse(&["send", "hello"]).is_err());
    assert!(parse(&["send", "--circle-id", "c1"]).is_err());
}

#[test]
fn circle_aliases() {
    for flag in ["--circle-id", "--circle", "-c"] {
        match parse(&["channels", flag, "friends"]).unwrap().command {
            Command::Channels(c) => assert_eq!(c.circle, "friends"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn global_options_anywhere() {
    let cli = parse(&["circles", "--json", "--socket", "/tmp/x.sock"]).unwrap();
    assert!(cli.json);
    assert_eq!(cli.socket, Some(PathBuf::from("/tmp/x.sock")));
    let cli = parse(&["--json", "status"]).unwrap();
    assert!(cli.json);
}

#[test]
fn inbox_defaults_and_limit_range() {
    match parse(&["inbox", "-c", "c1"]).unwrap().command {
        Command::Inbox {
            channel,
            limit,
            all,
            before,
            ..
        } => {
            assert_eq!(channel.channel, "general");
            assert_eq!(limit, 50);
            assert!(!all);
            assert_eq!(before, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["inbox", "-c", "c1", "--limit", "0"]).is_err());
    // Above one API page felundctl pages itself.
    assert!(parse(&["inbox", "-c", "c1", "--limit", "250000"]).is_ok());
    assert!(parse(&["inbox", "-c", "c1", "--all"]).is_ok());
    assert!(parse(&["inbox", "-c", "c1", "--all", "--limit", "5"]).is_err());
    assert!(parse(&["inbox", "-c", "c1", "--all", "--before", "1:x"]).is_err());
}

#[test]
fn channel_create_key_takes_a_key() {
    // A missing key may still come from the environment: `secrets::resolve` decides.
    assert!(parse(&["channel", "create", "ops", "-c", "c1", "--access", "key"]).is_ok());
    match parse(&[
        "channel", "create", "ops", "-c", "c1", "--access", "key", "--key", "s3",
    ])
    .unwrap()
    .command
    {
        Command::Channel(ChannelCommand::Create {
            name, access, key, ..
        }) => {
            assert_eq!(name, "ops");
            assert_eq!(access, Access::Key);
            assert_eq!(key.as_deref(), Some("s3"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn channel_approve_takes_name_and_node() {
    match parse(&["channel", "approve", "ops", "n123", "--circle-id", "c1"])
        .unwrap()
        .command
    {
        Command::Channel(ChannelCommand::Approve {
            name,
            node_id,
            circle,
        }) => {
            assert_eq!((name.as_str(), node_id.as_str()), ("ops", "n123"));
            assert_eq!(circle.circle, "c1");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn name_show_or_set() {
    assert!(matches!(
        parse(&["name"]).unwrap().command,
        Command::Name { name: None }
    ));
    assert!(matches!(
        parse(&["name", "alice"]).unwrap().command,
        Command::Name { name: Some(n) } if n == "alice"
    ));
}

#[test]
fn watch_and_peers_circle_optional() {
    assert!(matches!(
        parse(&["watch"]).unwrap().command,
        Command::Watch {
            circle: OptCircleArg { circle: None },
            follow: false
        }
    ));
    assert!(matches!(
        parse(&["watch", "--follow"]).unwrap().command,
        Command::Watch { follow: true, .. }
    ));
    assert!(matches!(
        parse(&["peers", "-c", "x"]).unwrap().command,
        Command::Peers(OptCircleArg { circle: Some(_) })
    ));
}

#[test]
fn unknown_subcommand_is_an_error() {
    let err = parse(&["frobnicate"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
