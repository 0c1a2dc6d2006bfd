//! Table tests of slash-command parsing.

use felund_tui::commands::{help_lines, is_command, parse, Command, COMMANDS};
use felund_tui::model::Access;

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn valid_commands_parse_to_typed_commands() {
    let table: Vec<(&str, Command)> = vec![
        ("/help", Command::Help(None)),
        ("/help channel", Command::Help(Some(s("/channel")))),
        ("/help /who", Command::Help(Some(s("/who")))),
        ("/HELP", Command::Help(None)),
        ("/invite", Command::Invite),
        ("/join felund1.abc", Command::Join(s("felund1.abc"))),
        ("  /join   felund1.abc  ", Command::Join(s("felund1.abc"))),
        ("/circles", Command::Circles),
        ("/circle create", Command::CircleCreate(s(""))),
        (
            "/circle create Book  Club",
            Command::CircleCreate(s("Book  Club")),
        ),
        ("/circle name  The Den ", Command::CircleName(s("The Den"))),
        ("/circle leave", Command::CircleLeave),
        ("/circle switch work", Command::CircleSwitch(s("work"))),
        ("/circle join felund1.x", Command::Join(s("felund1.x"))),
        ("/channels", Command::Channels),
        (
            "/channel create Random",
            Command::ChannelCreate {
                name: s("random"),
                access: Access::Public,
                key: None,
            },
        ),
        (
            "/channel create #ops invite",
            Command::ChannelCreate {
                name: s("ops"),
                access: Access::Invite,
                key: None,
            },
        ),
        (
            "/channel create vault KEY s3cret",
            Command::ChannelCreate {
                name: s("vault"),
                access: Access::Key,
                key: Some(s("s3cret")),
            },
        ),
        (
            "/channel join ops",
            Command::ChannelJoin {
                name: s("ops"),
                key: None,
            },
        ),
        (
            "/channel join vault s3cret",
            Command::ChannelJoin {
                name: s("vault"),
                key: Some(s("s3cret")),
            },
        ),
        (
            "/channel switch #General",
            Command::ChannelSwitch(s("general")),
        ),
        ("/channel leave random", Command::ChannelLeave(s("random"))),
        (
            "/channel approve ops b0b0",
            Command::ChannelApprove {
                name: s("ops"),
                node_id: s("b0b0"),
            },
        ),
        (
            "/search hello",
            Command::Search {
                query: s("hello"),
                all: false,
            },
        ),
        (
            "/SEARCH  deploy  fri* ",
            Command::Search {
                query: s("deploy  fri*"),
                all: false,
            },
        ),
        (
            "/search -a café ☕ 日本",
            Command::Search {
                query: s("café ☕ 日本"),
                all: true,
            },
        ),
        (
            "/search --all  it's done",
            Command::Search {
                query: s("it's done"),
                all: true,
            },
        ),
        (
            "/search all hands",
            Command::Search {
                query: s("all hands"),
                all: false,
            },
        ),
        ("/who", Command::Who(None)),
        ("/who #random", Command::Who(Some(s("random")))),
        ("/name", Command::Name(None)),
        (
            "/name  Alice Liddell ",
            Command::Name(Some(s("Alice Liddell"))),
        ),
        ("/settings", Command::Settings),
        ("/debug", Command::Debug),
        ("/quit", Command::Quit),
        ("/exit", Command::Quit),
    ];
    for (line, want) in table {
        assert_eq!(parse(line), Ok(want), "{line}");
    }
}

#[test]
fn bad_input_explains_itself() {
    let table: Vec<(&str, &[&str])> = vec![
        ("/", &["empty command", "/help"]),
        ("/frobnicate", &["unknown command /frobnicate", "/help"]),
        ("/help nosuch", &["no command /nosuch"]),
        ("/join", &["paste the invite code", "usage: /join <code>"]),
        ("/join a b", &["one word"]),
        ("/invite now", &["takes no arguments", "usage: /invite"]),
        ("/circle", &["usage: /circle create"]),
        ("/circle explode", &["unknown /circle explode"]),
        (
            "/circle name",
            &["give the new name", "usage: /circle name <new name>"],
        ),
        ("/circle leave now", &["takes no arguments"]),
        ("/channel", &["usage: /channel create"]),
        (
            "/channel create",
            &[
                "which channel?",
                "usage: /channel create <name> [public|key|invite] [key]",
            ],
        ),
        (
            "/channel create x secret",
            &["access must be public, key or invite, not 'secret'"],
        ),
        ("/channel create x key", &["needs a key"]),
        (
            "/channel create x public pw",
            &["only key-protected channels take a key"],
        ),
        ("/channel create x key a b", &["too many arguments"]),
        (
            "/channel join",
            &["which channel?", "usage: /channel join <name> [key]"],
        ),
        ("/channel switch", &["usage: /channel switch <name>"]),
        ("/channel switch a b", &["too many arguments"]),
        (
            "/channel approve ops",
            &["give the channel and the node id"],
        ),
        ("/channel fly", &["unknown /channel fly"]),
        (
            "/search",
            &[
                "what should be searched for?",
                "usage: /search <words>  |  /search -a <words>",
            ],
        ),
        ("/search -a", &["what should be searched for?"]),
        ("/search  --all  ", &["what should be searched for?"]),
        (
            "/search ?! ... *",
            &["nothing to search for", "letter or digit"],
        ),
        ("/search -a -- ☕", &["nothing to search for"]),
        ("/who a b", &["at most one channel"]),
        ("/quit now", &["takes no arguments"]),
    ];
    for (line, needles) in table {
        let err = parse(line).expect_err(line);
        for n in needles {
            assert!(
                err.message.contains(n),
                "{line}: {:?} lacks {n:?}",
                err.message
            );
        }
        assert!(!err.message.contains('\n'), "{line}: one line");
    }
}

#[test]
fn every_command_word_parses_or_explains_itself() {
    for s in COMMANDS {
        match parse(s.name) {
            Ok(_) => {}
            Err(e) => assert!(e.message.contains("usage:"), "{}: {e}", s.name),
        }
    }
}

#[test]
fn help_lines_cover_every_command() {
    let all = help_lines(None).join("\n");
    for s in COMMANDS {
        assert!(all.contains(s.usage[0].0), "{}", s.name);
    }
    assert!(help_lines(Some("who"))[0].starts_with("/who [channel]  "));
    assert!(help_lines(Some("search"))[1].starts_with("/search -a <words>  "));
    assert!(is_command("/x") && !is_command("//x") && !is_command("x"));
}
