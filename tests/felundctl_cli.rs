//! The real felundctl against the real felundd: status, invites, refusals (exit codes and
//! stderr lines), names, join, runtime changes, and every subcommand of `felundctl --help`
//! at least once. Messages are in `felundctl_messages.rs`, `watch` in `felundctl_watch.rs`.

use felund_tests::chat::{create_circle, log_tail, node_id};
use felund_tests::ctl::*;
use felund_tests::{wait_until, Daemon};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::process::Output;

// ---------------------------------------------------------------------------------
// status, invite, code
// ---------------------------------------------------------------------------------

#[test]
fn status_in_text_and_json() {
    let d = Daemon::start_with(&["--name", "alice"]);
    let v = d.ctl_json(&["status"]);
    assert_eq!(v.len(), 1, "one object: {v:?}");
    let v = &v[0];
    let id = v["node_id"].as_str().expect("node_id");
    assert!(
        id.len() >= 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{v}"
    );
    assert_eq!(v["display_name"], "alice");
    assert_eq!(v["listen_addr"], format!("127.0.0.1:{}", d.port));
    assert!(!v["version"].as_str().unwrap_or_default().is_empty(), "{v}");
    for count in [
        "uptime_s",
        "circle_count",
        "message_count",
        "peer_count",
        "subscriber_count",
    ] {
        assert!(v[count].is_u64(), "{count} in {v}");
    }
    assert_eq!(v["circle_count"], 0);
    assert_eq!(v["relay_url"], "");

    // Text: one sentence per part of the node, with units.
    let t = text(&d, &["status"]);
    let field = |name: &str| field_of(&t, name);
    assert!(t.starts_with(" node"), "{t}");
    assert!(
        field("node").starts_with(&format!("alice ({id}), felundd ")),
        "{t}"
    );
    assert!(
        field("gossip").starts_with(&format!(
            "listening on 127.0.0.1:{}; 0 live links; last sync never; sessions 0 ok, 0 failed; 0 B in, 0 B out",
            d.port
        )),
        "{t}"
    );
    assert_eq!(field("relay"), "(none)");
    assert!(
        field("store").starts_with("0 circles, 0 messages in "),
        "{t}"
    );
    assert!(field("api").ends_with(", 0 clients attached"), "{t}");
    assert_eq!(field("anchor"), "off");

    // Counts follow the state.
    create_circle(&d, "c");
    assert_eq!(d.ctl_one(&["status"])["circle_count"], 1);
    assert!(field_of(&text(&d, &["status"]), "store").starts_with("1 circle, "));

    // --json --verbose: one object, the settings nested in it.
    let v = d.ctl_json(&["status", "--verbose"]);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["settings"]["name"]["value"], "\"alice\"", "{}", v[0]);
    assert_eq!(v[0]["settings"]["name"]["source"], "flag");
}

/// An unreachable peer is named in the gossip sentence, with why.
#[test]
fn status_names_an_unreachable_peer_and_why() {
    let host = Daemon::start_with(&["--name", "bob", "--sync-interval", "1"]);
    let d = Daemon::start_with(&["--name", "alice", "--sync-interval", "1"]);
    let code = create_circle(&host, "c").code;
    d.ctl_one(&["join", &code]);
    let mut host = host;
    host.stop();
    wait_until("the gossip sentence to name bob as unreachable", || {
        let g = field_of(&text(&d, &["status"]), "gossip");
        g.contains("1 peer unreachable (bob at 127.0.0.1:") && g.contains("since ")
    });
}

fn field_of(t: &str, name: &str) -> String {
    t.lines()
        .find_map(|l| {
            let (k, val) = l.split_once(" : ")?;
            (k.trim() == name).then(|| val.to_string())
        })
        .unwrap_or_else(|| panic!("no {name} line in:\n{t}"))
}

#[test]
fn invite_text_mirrors_the_reference_format() {
    let d = Daemon::start();
    let t = text(&d, &["invite", "--name", "friends"]);
    let circles = d.ctl_json(&["circles"]);
    assert_eq!(circles.len(), 1);
    let id = circles[0]["circle_id"].as_str().expect("circle_id");
    let code = d.ctl_one(&["code", "-c", id])["code"]
        .as_str()
        .expect("code")
        .to_string();
    assert!(code.starts_with("felund1."), "{code}");
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "Circle created.", "{t}");
    assert_eq!(lines[1], format!(" circle_id   : {id}"), "{t}");
    assert_eq!(lines[2], " name        : friends", "{t}");
    assert_eq!(lines[3], format!(" felund_code : {code}"), "{t}");
    assert!(
        t.contains(&format!("\n  felundctl join {code}\n")),
        "join hint: {t}"
    );
    // `code` prints the bare code, by id or by name.
    assert_eq!(text(&d, &["code", "-c", "friends"]), format!("{code}\n"));
    assert_eq!(text(&d, &["code", "--circle-id", id]), format!("{code}\n"));
    // Without --name there is no name line.
    let t = text(&d, &["invite"]);
    assert!(t.starts_with("Circle created.\n circle_id   : "), "{t}");
    assert!(!t.contains(" name        :"), "{t}");
    assert!(t.contains("\n felund_code : felund1."), "{t}");
}

// ---------------------------------------------------------------------------------
// Refusals, names, join, runtime changes
// ---------------------------------------------------------------------------------

#[test]
fn refusals_exit_1_with_one_error_line_and_nothing_on_stdout() {
    let d = Daemon::start();
    let id = create_circle(&d, "c").id;
    let cases: &[(&[&str], &str)] = &[
        (&["leave", "-c", "nope"], "no circle matches 'nope'"),
        (
            &["--json", "leave", "-c", "nope"],
            "no circle matches 'nope'",
        ),
        (&["send", "-c", "nope", "hi"], "no circle matches 'nope'"),
        (&["inbox", "-c", "nope"], "no circle matches 'nope'"),
        (&["join", "garbage"], "invalid invite code"),
        (&["--json", "join", "garbage"], "invalid invite code"),
        (
            &["channel", "create", "general", "-c", &id],
            "already exists",
        ),
        (
            &["--json", "channel", "create", "general", "-c", &id],
            "already exists",
        ),
        (&["--json", "name", " "], "display name"),
        (&["name", "a\u{1b}[31mb\u{7}\nc"], "control characters"),
        (&["name", "evil\u{202e}gpj"], "control characters"),
        (&["rename", "-c", &id, "x\ny"], "control characters"),
        (
            &["invite", "--name", "x\u{1b}]0;pwned\u{7}"],
            "control characters",
        ),
        (&["relay", "not-a-url"], "not a relay URL"),
        (
            &["inbox", "-c", &id, "--channel", "nosuch"],
            "no channel #nosuch",
        ),
        (
            &["search", "hi", "-c", &id, "--channel", "nosuch"],
            "no channel #nosuch",
        ),
        (
            &["who", "-c", &id, "--channel", "nosuch"],
            "no channel #nosuch",
        ),
        (
            &["send", "-c", &id, "--channel", "nosuch", "hi"],
            "`felundctl channel create nosuch --circle-id c` creates it",
        ),
    ];
    for (args, want) in cases {
        let err = assert_refused(args, &d.ctl(args));
        assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
    }
    // Nothing changed (the refused invite created no circle).
    assert_eq!(d.ctl_json(&["circles"]).len(), 1);
    assert_eq!(d.ctl_json(&["channels", "-c", &id]).len(), 1);
    assert_eq!(d.ctl_one(&["status"])["relay_url"], "");
}

#[test]
fn long_names_are_shortened_with_a_note_and_emoji_names_are_kept() {
    let d = Daemon::start();
    let long = "n".repeat(50);
    let out = d.ctl(&["name", &long]);
    let stdout = ok(&["name", &long], &out);
    assert_eq!(stdout, format!("Display name set to {}.\n", "n".repeat(40)));
    assert!(
        stderr_of(&out).starts_with("note: the name is too long"),
        "{}",
        stderr_of(&out)
    );
    let out = d.ctl(&["name", "zoë 🎉"]);
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
    assert_eq!(d.ctl_one(&["status"])["display_name"], "zoë 🎉");
    // Circles are found by name however it is typed: emoji, case, composed or not.
    let party = create_circle(&d, "Café 🎉").id;
    for typed in ["Café 🎉", "café 🎉", "Cafe\u{301} 🎉", " CAFÉ 🎉 "] {
        let found = d.ctl_one(&["code", "-c", typed]);
        assert_eq!(found["circle_id"], party.as_str(), "{typed:?}");
    }
    let id = create_circle(&d, "c").id;
    let out = d.ctl(&["--json", "rename", "-c", &id, &long]);
    ok(&["rename"], &out);
    assert!(stderr_of(&out).starts_with("note: "), "{}", stderr_of(&out));
    assert_eq!(
        json_lines(&stdout_of(&out))[0]["name"],
        "n".repeat(40).as_str()
    );
}

#[test]
fn join_says_when_the_peer_cannot_be_reached_and_circles_shows_not_yet_synced() {
    let d = Daemon::start();
    let secret = felund_wire::CircleSecret::from_bytes(vec![7; 32]);
    let dead = format!("127.0.0.1:{}", felund_tests::free_port());
    let code = felund_wire::invite::encode_invite(&secret, &dead);
    let out = d.ctl(&["join", &code]);
    let stdout = ok(&["join"], &out);
    assert!(stdout.starts_with("Joined circle"), "{stdout}");
    let note = stderr_of(&out);
    assert!(
        note.contains(&format!("could not reach the peer at {dead}"))
            && note.contains("keeps trying")
            && note.contains("felundctl relay URL"),
        "{note}"
    );
    let circles = d.ctl_json(&["circles"]);
    assert_eq!(circles[0]["last_sync_ts"], 0, "{circles:?}");
    assert!(text(&d, &["circles"]).contains("not yet"));

    // Positive control: a reachable host is reached at once, and nothing is noted.
    let host = Daemon::start();
    let code = create_circle(&host, "reachable").code;
    let out = d.ctl(&["--json", "join", &code]);
    let joined = json_lines(&ok(&["join"], &out)).remove(0);
    assert_eq!(joined["peer_reached"], true, "{joined}");
    assert_eq!(joined["peer_error"], "");
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
    assert!(
        joined["circle"]["last_sync_ts"].as_i64() > Some(0),
        "{joined}"
    );
}

/// Flags and the config file win at start; a runtime change says so, and `status
/// --verbose` shows what is in force until then.
#[test]
fn runtime_name_and_relay_changes_say_that_the_flags_win_at_the_next_start() {
    let mut d = Daemon::start_with(&["--name", "bob", "--relay", "http://127.0.0.1:1"]);
    let out = d.ctl(&["name", "bobby"]);
    ok(&["name"], &out);
    let note = stderr_of(&out);
    assert!(
        note.contains("flag sets name = \"bob\" and will set it back at its next start"),
        "{note}"
    );
    let out = d.ctl(&["relay", "--off"]);
    ok(&["relay"], &out);
    assert!(
        stderr_of(&out).contains("flag sets relay"),
        "{}",
        stderr_of(&out)
    );
    let verbose = text(&d, &["status", "--verbose"]);
    assert!(
        verbose.contains("name = \"bob\"  # flag; in force now: bobby"),
        "{verbose}"
    );
    assert!(verbose.contains("# flag; in force now: -"), "{verbose}");
    d.restart();
    assert_eq!(d.ctl_one(&["status"])["display_name"], "bob");
    // Without a flag, a runtime change sticks and nothing is noted.
    let plain = Daemon::start();
    let out = plain.ctl(&["name", "carol"]);
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
}

// ---------------------------------------------------------------------------------
// Every subcommand
// ---------------------------------------------------------------------------------

/// Runs felundctl and records which subcommands were exercised.
#[derive(Default)]
struct Tracker {
    seen: RefCell<BTreeSet<String>>,
}

impl Tracker {
    fn note(&self, args: &[&str]) {
        let mut words = args.iter().filter(|a| !a.starts_with('-'));
        if let Some(cmd) = words.next() {
            let name = match (*cmd, words.next()) {
                ("channel", Some(sub)) => format!("channel {sub}"),
                _ => cmd.to_string(),
            };
            self.seen.borrow_mut().insert(name);
        }
    }

    fn out(&self, d: &Daemon, args: &[&str]) -> Output {
        self.note(args);
        d.ctl(args)
    }

    fn text(&self, d: &Daemon, args: &[&str]) -> String {
        ok(args, &self.out(d, args))
    }

    fn json(&self, d: &Daemon, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        json_lines(&ok(&full, &self.out(d, &full)))
    }

    fn one(&self, d: &Daemon, args: &[&str]) -> Value {
        let mut v = self.json(d, args);
        assert_eq!(v.len(), 1, "one object from {args:?}: {v:?}");
        v.remove(0)
    }
}

#[test]
fn every_subcommand_works_against_a_real_daemon() {
    let fast = ["--sync-interval", "1"];
    let a = Daemon::start_with(&["--name", "alice", fast[0], fast[1]]);
    let b = Daemon::start_with(&["--name", "bob", fast[0], fast[1]]);
    let t = Tracker::default();
    let a_id = node_id(&a);
    let b_id = node_id(&b);
    let logs = || {
        format!(
            "--- a ---\n{}\n--- b ---\n{}",
            log_tail(&a, 60),
            log_tail(&b, 60)
        )
    };

    // status, name
    assert_eq!(t.one(&a, &["status"])["node_id"], a_id.as_str());
    assert!(t.text(&a, &["status"]).contains(&a_id));
    assert_eq!(t.text(&a, &["name"]), "alice\n");
    assert_eq!(t.one(&a, &["name", "alicia"])["display_name"], "alicia");
    assert_eq!(
        t.text(&a, &["name", "alice"]),
        "Display name set to alice.\n"
    );
    assert_eq!(t.one(&a, &["name"])["display_name"], "alice");

    // invite, code, circles, rename
    let created = t.one(&a, &["invite", "--name", "team"]);
    let team = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    assert_eq!(created["circle"]["name"], "team");
    let code = created["invite_code"].as_str().expect("code").to_string();
    assert!(t
        .text(&a, &["invite", "--name", "spare"])
        .starts_with("Circle created.\n"));
    assert_eq!(t.text(&a, &["code", "-c", "team"]), format!("{code}\n"));
    let c = t.one(&a, &["code", "-c", &team]);
    assert_eq!(c["code"], code.as_str());
    assert_eq!(c["peer"], format!("127.0.0.1:{}", a.port));
    let names: BTreeSet<String> = t
        .json(&a, &["circles"])
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(names, BTreeSet::from(["spare".into(), "team".into()]));
    let listing = t.text(&a, &["circles"]);
    assert!(
        listing.starts_with("CIRCLE") && listing.contains(&team),
        "{listing}"
    );
    let spare = t.one(&a, &["rename", "-c", "spare", "extra"]);
    assert_eq!(spare["name"], "extra");
    let spare_id = spare["circle_id"].as_str().expect("circle_id").to_string();
    assert_eq!(
        t.text(&a, &["rename", "-c", "extra", "spare"]),
        format!("Circle {spare_id} is now named spare.\n")
    );

    // channels, channel create/leave/join, who
    let chans = t.json(&a, &["channels", "-c", "team"]);
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0]["channel_id"], "general");
    let ops = t.one(
        &a,
        &[
            "channel", "create", "ops", "-c", "team", "--access", "invite",
        ],
    );
    assert_eq!(ops["access_mode"], "invite");
    assert_eq!(ops["joined"], true);
    assert_eq!(
        t.text(&a, &["channel", "create", "random", "-c", "team"]),
        format!("Created #random (public) in circle {team}.\n")
    );
    assert_eq!(
        t.text(&a, &["channel", "leave", "random", "-c", "team"]),
        "Left #random.\n"
    );
    let joined = t.one(&a, &["channel", "join", "#random", "-c", "team"]);
    assert_eq!(joined["requested"], false);
    assert_eq!(joined["channel"]["joined"], true);
    assert_eq!(
        t.one(&a, &["channel", "leave", "random", "-c", "team"])["joined"],
        false
    );
    assert_eq!(
        t.text(&a, &["channel", "join", "random", "-c", "team"]),
        "Joined #random.\n"
    );
    let listing = t.text(&a, &["channels", "-c", "team"]);
    assert!(listing.starts_with("CHANNEL"), "{listing}");
    assert!(
        listing.contains("#ops") && listing.contains("invite"),
        "{listing}"
    );
    assert_eq!(
        t.text(&a, &["read", "-c", "team", "--channel", "random"]),
        "#random read.\n"
    );
    let who = t.json(&a, &["who", "-c", "team"]);
    assert_eq!(who.len(), 1, "{who:?}");
    assert_eq!(who[0]["node_id"], a_id.as_str());
    assert_eq!(who[0]["display_name"], "alice");
    assert_eq!(who[0]["is_self"], true);
    let listing = t.text(&a, &["who", "-c", "team", "--channel", "ops"]);
    assert!(
        listing.contains(&a_id) && listing.contains("(you)"),
        "{listing}"
    );

    // send, inbox
    let id = t.text(&a, &["send", "-c", "team", "hello"]);
    assert!(is_msg_id(id.trim_end()), "{id}");
    let sent = t.one(&a, &["send", "-c", "team", "--channel", "ops", "in ops"]);
    assert_eq!(sent["channel_id"], "ops");
    let inbox = t.json(&a, &["inbox", "-c", "team"]);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["msg_id"], id.trim_end());
    let listing = t.text(&a, &["inbox", "-c", "team", "--channel", "ops"]);
    assert!(is_stamped(listing.trim_end(), "alice: in ops"), "{listing}");

    // search
    let found = t.json(&a, &["search", "hel*", "-c", "team"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["msg_id"], id.trim_end());
    assert!(t
        .text(&a, &["search", "nothing-like-this"])
        .contains("No messages match."));

    // import-state: a reference-shaped file with one circle and no messages.
    let state = serde_json::json!({
        "node": {"node_id": "0123456789abcdef01234567", "display_name": "old"},
        "circles": {
            "630dcd2966c4336691125448": {
                "circle_id": "630dcd2966c4336691125448",
                "secret_hex": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "name": "imported"
            }
        }
    });
    let file = a.dir.path().join("state.json");
    std::fs::write(&file, state.to_string()).expect("write state.json");
    let path = file.to_str().expect("utf-8 path");
    let report = t.one(&a, &["import-state", path]);
    assert_eq!(report["circles"], 1, "{report}");
    assert_eq!(
        report["adopted_node_id"], "",
        "a node with history keeps its identity"
    );
    assert!(t
        .text(&a, &["import-state", path])
        .starts_with("Imported 0 circles"));

    // relay
    assert_eq!(t.text(&a, &["relay"]), "(none)\n");
    let set = t.text(&a, &["relay", "http://127.0.0.1:1"]);
    assert!(set.starts_with("http://127.0.0.1:1 "), "{set}");
    assert_eq!(a.ctl_one(&["status"])["relay_url"], "http://127.0.0.1:1");
    assert!(field_of(&text(&a, &["status"]), "relay").starts_with("http://127.0.0.1:1"));
    assert_eq!(t.one(&a, &["relay"])["relay_url"], "http://127.0.0.1:1");
    assert_eq!(t.text(&a, &["relay", "--off"]), "(none)\n");
    assert_eq!(a.ctl_one(&["status"])["relay_url"], "");
    t.one(&a, &["relay", "http://127.0.0.1:1"]);
    assert_eq!(t.one(&a, &["relay", "--off"])["relay_url"], "");
    let err = assert_refused(&["relay", "not-a-url"], &t.out(&a, &["relay", "not-a-url"]));
    assert!(err.contains("not-a-url"), "{err}");
    assert_eq!(a.ctl_one(&["status"])["relay_url"], "");

    // peers (none yet), join, peers
    assert!(t.json(&a, &["peers"]).is_empty());
    assert_eq!(t.text(&a, &["peers"]), "No peers known yet.\n");
    let joined = t.text(&b, &["join", &code]);
    assert!(
        joined.starts_with(&format!("Joined circle {team}")),
        "{joined}"
    );
    assert!(
        joined.contains(&format!(" bootstrap peer : 127.0.0.1:{}", a.port)),
        "{joined}"
    );
    let again = t.one(&b, &["join", "--code", &code]);
    assert_eq!(again["newly_joined"], false);
    assert_eq!(again["circle"]["circle_id"], team.as_str());
    // The host is listed once the bootstrap session has run to the end.
    let host = format!("127.0.0.1:{}", a.port);
    wait_until("the host to be listed as a peer", || {
        t.json(&b, &["peers", "-c", &team])
            .iter()
            .any(|p| p["addr"] == host.as_str())
    });
    assert!(t.text(&b, &["peers"]).starts_with("NODE"));

    // channel approve: B asks to join the invite-only #ops once it knows it; the
    // request reaches A, which approves it; the approval reaches B.
    wait_until("B to learn #ops", || {
        b.ctl_json(&["channels", "-c", &team])
            .iter()
            .any(|c| c["channel_id"] == "ops")
    });
    let asked = t.one(&b, &["channel", "join", "ops", "-c", &team]);
    assert_eq!(asked["requested"], true, "{asked}");
    let pending = |d: &Daemon| -> Value {
        d.ctl_json(&["channels", "-c", &team])
            .into_iter()
            .find(|c| c["channel_id"] == "ops")
            .unwrap_or_else(|| panic!("no #ops\n{}", logs()))
    };
    wait_until("B's request to reach A", || {
        pending(&a)["pending_requests"]
            .as_array()
            .is_some_and(|p| p.iter().any(|n| n == b_id.as_str()))
    });
    assert!(
        t.text(&a, &["channels", "-c", "team"]).contains(&b_id),
        "pending request listed"
    );
    // A unique prefix of the node id is enough; a wrong one is refused.
    let refused = a.ctl(&["channel", "approve", "ops", "zz", "-c", "team"]);
    assert_eq!(refused.status.code(), Some(1));
    let approved = t.one(&a, &["channel", "approve", "ops", &b_id[..4], "-c", "team"]);
    assert_eq!(approved["channel_id"], "ops");
    assert!(
        !approved["pending_requests"]
            .as_array()
            .is_some_and(|p| p.iter().any(|n| n == b_id.as_str())),
        "{approved}"
    );
    wait_until("the approval to reach B", || pending(&b)["joined"] == true);
    assert!(t
        .json(&a, &["who", "-c", &team, "--channel", "ops"])
        .iter()
        .any(|m| m["node_id"] == b_id.as_str()));

    // watch
    let full = ["--json", "watch", "-c", &team];
    t.note(&full);
    let w = Watch::start(&a, &full);
    let sent = text(&b, &["send", "-c", &team, "--channel", "ops", "from bob"]);
    let ev = loop {
        let v = w.next_json();
        if v["event"] == "message" {
            break v;
        }
    };
    assert_eq!(ev["msg_id"], sent.trim_end(), "{ev}");
    assert_eq!(ev["display_name"], "bob");
    assert_eq!(ev["own"], false);
    let (status, err) = w.interrupt();
    assert_eq!(status.code(), Some(0), "{err}");

    // leave
    assert_eq!(
        t.one(&a, &["leave", "-c", "spare"])["circle_id"],
        spare_id.as_str()
    );
    assert_eq!(
        t.text(&b, &["leave", "-c", &team]),
        format!("Left circle {team}.\n")
    );
    assert!(t.json(&b, &["circles"]).is_empty());
    // team, and the circle from the imported state file.
    assert_eq!(t.json(&a, &["circles"]).len(), 2);

    // completions (manpages is hidden from --help; covered in felundctl's own tests)
    assert!(t.text(&a, &["completions", "bash"]).contains("inbox"));

    // Every subcommand felundctl lists was run above.
    let mut listed: BTreeSet<String> = listed_subcommands(&help_of(&[])).into_iter().collect();
    assert!(listed.remove("channel"), "channel in {listed:?}");
    for sub in listed_subcommands(&help_of(&["channel"])) {
        listed.insert(format!("channel {sub}"));
    }
    assert!(listed.len() >= 19, "{listed:?}");
    let seen = t.seen.borrow();
    let missing: Vec<&String> = listed.iter().filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "not exercised: {missing:?}");
}
