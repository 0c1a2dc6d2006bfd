//! Migrating from the reference: `felundctl import-state PATH` (the ImportState RPC)
//! and `felundd --import-state PATH` (docs/protocol.md §11, felundd/src/node/import.rs).
//!
//! Most tests build reference-shaped state files with `felund_wire`, so they always
//! run. The last two use the real reference CLI and node to write the state file, and
//! are skipped (with a message) unless FELUND_REFERENCE_PYTHON and
//! FELUND_REFERENCE_DIR are set.

use std::path::Path;
use std::process::{Command, Stdio};

use felund_tests::chat::{circle_info, create_circle, find_message, node_id, send};
use felund_tests::eventually;
use felund_tests::reference::{RefRun, Reference, ReferenceNode};
use felund_tests::refstate::{
    new_node_id, new_secret, random_hex, ts, v1_message, v2_message, RefState,
};
use felund_tests::{bin, free_port, wait_until, Daemon, DEADLINE};
use felund_wire::control::{AccessMode, ChannelEvent};
use felund_wire::{CircleSecret, WireMessage};
use serde_json::{json, Value};
use tempfile::TempDir;

/// `felundctl --json import-state PATH`, asserting success.
fn import(d: &Daemon, path: &Path) -> Value {
    d.ctl_one(&["import-state", path.to_str().expect("utf-8 path")])
}

fn status(d: &Daemon) -> Value {
    d.ctl_one(&["status"])
}

fn inbox(d: &Daemon, circle: &str, channel: &str) -> Vec<Value> {
    d.ctl_json(&["inbox", "--circle-id", circle, "--channel", channel])
}

fn texts(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A typical reference state: a named circle with a peer and three chat messages
/// (two v1 from the CLI, one enveloped and blanked at rest).
fn typical_state() -> (RefState, CircleSecret, String) {
    let mut s = RefState::new("alice");
    let secret = new_secret();
    let cid = secret.circle_id();
    s.circle(&secret, "book club");
    let bob = new_node_id();
    s.peer(&cid, &bob, "127.0.0.1:9", "bob");
    let me = s.node_id.clone();
    s.message(&v1_message(
        &secret,
        &me,
        "alice",
        "general",
        ts(1),
        "first",
    ));
    s.message(&v1_message(
        &secret,
        &bob,
        "bob",
        "general",
        ts(2),
        "second, from bob",
    ));
    s.message(&v2_message(
        &secret,
        &me,
        "alice",
        "general",
        ts(3),
        "third, sealed",
    ));
    (s, secret, bob)
}

// ---------------------------------------------------------------------------
// Hand-made state files
// ---------------------------------------------------------------------------

#[test]
fn import_into_a_fresh_daemon_adopts_the_identity_after_restart() {
    let dir = TempDir::new().expect("temp dir");
    let (state, secret, bob) = typical_state();
    let path = state.write(dir.path());
    let cid = secret.circle_id();

    let mut d = Daemon::start();
    let own_id = node_id(&d);
    assert_ne!(own_id, state.node_id);
    let report = import(&d, &path);
    assert_eq!(report["adopted_node_id"], state.node_id.as_str());
    assert_eq!(report["circles"], 1);
    assert_eq!(report["messages"], 3);
    assert_eq!(report["peers"], 1);
    assert!(warnings(&report).is_empty(), "{report}");
    // The imported identity takes effect at the next start.
    assert_eq!(node_id(&d), own_id);
    d.restart();
    let info = status(&d);
    assert_eq!(info["node_id"], state.node_id.as_str());
    assert_eq!(info["display_name"], state.display_name.as_str());

    let circle = circle_info(&d, &cid).expect("the imported circle");
    assert_eq!(circle["name"], "book club");
    let msgs = inbox(&d, "book club", "general");
    assert_eq!(texts(&msgs), ["first", "second, from bob", "third, sealed"]);
    let own: Vec<bool> = msgs.iter().map(|m| m["own"] == true).collect();
    assert_eq!(own, [true, false, true], "own follows the adopted identity");
    assert_eq!(msgs[1]["display_name"], "bob");
    assert_eq!(msgs[2]["display_name"], "alice");

    // The reference's peers are dial candidates, not peers, until they answer.
    let peers = d.ctl_json(&["peers", "--circle-id", &cid]);
    assert!(
        !peers.iter().any(|p| p["node_id"] == bob.as_str()),
        "bob (never reached) listed among {peers:?}"
    );
    assert_eq!(d.ctl_one(&["status"])["dial_candidate_count"], 1);
    // The node can write into the imported circle as the imported identity.
    let sent = send(&d, &cid, "general", "hello after the move");
    assert_eq!(sent["author_node_id"], state.node_id.as_str());
}

#[test]
fn importing_the_same_file_twice_adds_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let (state, secret, _) = typical_state();
    let path = state.write(dir.path());
    let d = Daemon::start();
    import(&d, &path);
    let before = status(&d);
    let peers_before = d.ctl_json(&["peers"]);
    let again = import(&d, &path);
    assert_eq!(again["circles"], 0);
    assert_eq!(again["messages"], 0);
    assert_eq!(again["channels"], 0);
    let after = status(&d);
    for key in ["circle_count", "message_count", "peer_count"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    assert_eq!(d.ctl_json(&["peers"]), peers_before);
    assert_eq!(inbox(&d, &secret.circle_id(), "general").len(), 3);
}

#[test]
fn import_reports_only_the_messages_retention_keeps() {
    let dir = TempDir::new().expect("temp dir");
    let (mut state, secret, _) = typical_state();
    let me = state.node_id.clone();
    // Two messages from 40 days ago: beyond `--retention-days 30`.
    for (i, text) in ["old one", "old two"].into_iter().enumerate() {
        let created = ts(0) - 40 * 86_400 + i as i64;
        state.message(&v1_message(&secret, &me, "alice", "general", created, text));
    }
    let path = state.write(dir.path());

    let d = Daemon::start_with(&["--retention-days", "30"]);
    let report = import(&d, &path);
    assert_eq!(report["messages"], 3, "{report}");
    assert_eq!(report["beyond_retention"], 2, "{report}");
    let msgs = inbox(&d, &secret.circle_id(), "general");
    assert_eq!(texts(&msgs), ["first", "second, from bob", "third, sealed"]);
    let out = d.ctl(&["import-state", path.to_str().expect("utf-8 path")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not kept: 2 older messages"), "{text}");

    // The per-circle cap counts the same way: of five, the newest two are kept.
    let d = Daemon::start_with(&["--max-messages-per-circle", "2"]);
    let report = import(&d, &path);
    assert_eq!(report["messages"], 2, "{report}");
    assert_eq!(report["beyond_retention"], 3, "{report}");
    let msgs = inbox(&d, &secret.circle_id(), "general");
    assert_eq!(texts(&msgs), ["second, from bob", "third, sealed"]);
}

#[test]
fn a_message_with_a_forged_mac_is_skipped_with_a_warning() {
    let dir = TempDir::new().expect("temp dir");
    let mut s = RefState::new("alice");
    let secret = new_secret();
    s.circle(&secret, "c");
    let me = s.node_id.clone();
    s.message(&v1_message(
        &secret,
        &me,
        "alice",
        "general",
        ts(1),
        "genuine",
    ));
    let mut forged = v1_message(&secret, &me, "alice", "general", ts(2), "original");
    forged.text = "altered after signing".into();
    s.message(&forged);
    // A MAC made with another circle's secret is no better.
    let other = new_secret();
    let mut wrong_key = v1_message(&other, &me, "alice", "general", ts(3), "wrong key");
    wrong_key.circle_id = secret.circle_id();
    s.message(&wrong_key);
    // Nor is an envelope sealed with another secret.
    let mut sealed = v2_message(&other, &me, "alice", "general", ts(4), "sealed elsewhere");
    sealed.circle_id = secret.circle_id();
    s.message(&sealed);

    let d = Daemon::start();
    let report = import(&d, &s.write(dir.path()));
    assert_eq!(report["messages"], 1, "{report}");
    let w = warnings(&report);
    assert_eq!(w.len(), 3, "{w:?}");
    for bad in [&forged, &wrong_key, &sealed] {
        assert!(
            w.iter()
                .any(|x| x.contains(&bad.msg_id) && x.ends_with("skipped")),
            "no warning for {}: {w:?}",
            bad.msg_id
        );
    }
    assert!(w.iter().any(|x| x.contains("MAC does not verify")), "{w:?}");
    assert_eq!(texts(&inbox(&d, "c", "general")), ["genuine"]);
    // The text form lists each skipped item too.
    let out = d.ctl(&["import-state", s.write(dir.path()).to_str().expect("path")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("  skipped: message ").count(), 3, "{text}");
}

#[test]
fn a_circle_whose_secret_does_not_match_its_id_is_skipped_with_its_messages() {
    let dir = TempDir::new().expect("temp dir");
    let mut s = RefState::new("alice");
    let good = new_secret();
    s.circle(&good, "good");
    let me = s.node_id.clone();
    s.message(&v1_message(&good, &me, "alice", "general", ts(1), "kept"));
    // A circle filed under an id its secret does not hash to.
    let stolen = new_secret();
    let fake_id = random_hex(12);
    s.circle_as(&fake_id, &stolen, "mismatch");
    let mut m = v1_message(&stolen, &me, "alice", "general", ts(2), "lost");
    m.circle_id = fake_id.clone();
    m.mac = m.compute_mac(&stolen);
    s.message(&m);
    // And one whose secret is not hex at all.
    let bad_hex_id = random_hex(12);
    s.map("circles").insert(
        bad_hex_id.clone(),
        json!({"circle_id": bad_hex_id, "secret_hex": "not hex", "name": "junk"}),
    );

    let d = Daemon::start();
    let report = import(&d, &s.write(dir.path()));
    assert_eq!(report["circles"], 1, "{report}");
    assert_eq!(report["messages"], 1, "{report}");
    let w = warnings(&report);
    for id in [&fake_id, &bad_hex_id] {
        assert!(
            w.iter()
                .any(|x| x.contains(id.as_str()) && x.contains("does not match its id")),
            "no warning for circle {id}: {w:?}"
        );
    }
    assert!(
        w.iter()
            .any(|x| x.contains(&m.msg_id) && x.contains("circle is not in the file")),
        "{w:?}"
    );
    let circles = d.ctl_json(&["circles"]);
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert_eq!(circles[0]["circle_id"], good.circle_id().as_str());
}

#[test]
fn foreign_or_malformed_files_exit_1_and_change_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let mut d = Daemon::start();
    // Some history of its own, to see that nothing changes.
    let own = create_circle(&d, "mine");
    send(&d, &own.id, "general", "before");
    let before = status(&d);

    let foreign: &[(&str, &[u8])] = &[
        ("not-json.json", b"this is not JSON {"),
        ("empty.json", b""),
        ("array.json", b"[1, 2, 3]"),
        ("string.json", b"\"state\""),
        (
            "package.json",
            br#"{"name": "left-pad", "version": "1.3.0"}"#,
        ),
        (
            "no-circles.json",
            br#"{"node": {"node_id": "abcdef012345"}}"#,
        ),
        (
            "no-node-id.json",
            br#"{"node": {"display_name": "x"}, "circles": {}}"#,
        ),
        (
            "circles-list.json",
            br#"{"node": {"node_id": "abcdef012345"}, "circles": []}"#,
        ),
    ];
    for (name, bytes) in foreign {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write file");
        let out = d.ctl(&["import-state", path.to_str().expect("path")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}");
        assert!(
            err.starts_with("error: not a reference state file"),
            "{name}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
    }
    // A path that cannot be read.
    let missing = dir.path().join("nope.json");
    let out = d.ctl(&["import-state", missing.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: cannot read") && err.contains("nope.json"),
        "{err}"
    );

    let after = status(&d);
    for key in [
        "node_id",
        "display_name",
        "circle_count",
        "message_count",
        "peer_count",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    // Nor is anything waiting to take effect at the next start.
    d.restart();
    let restarted = status(&d);
    assert_eq!(restarted["node_id"], before["node_id"]);
    assert_eq!(restarted["circle_count"], before["circle_count"]);
    assert_eq!(texts(&inbox(&d, &own.id, "general")), ["before"]);
}

#[test]
fn enveloped_messages_blanked_at_rest_are_decrypted_including_control_events() {
    let dir = TempDir::new().expect("temp dir");
    let mut s = RefState::new("alice");
    let secret = new_secret();
    let cid = secret.circle_id();
    s.circle(&secret, "");
    let me = s.node_id.clone();
    // The reference writes control events with an envelope, so at rest their text
    // (the event's JSON) is blank; only decryption recovers them.
    let create = ChannelEvent::create(&cid, "ops", &me, ts(10), AccessMode::Public, None);
    s.message(&v2_message(
        &secret,
        &me,
        "alice",
        "__control",
        ts(10),
        &create.to_text(),
    ));
    let name_text = felund_wire::control::circle_name_text(&cid, "night owls");
    s.message(&v2_message(
        &secret,
        &me,
        "alice",
        "__control",
        ts(11),
        &name_text,
    ));
    let chat = v2_message(&secret, &me, "alice", "ops", ts(12), "sealed in #ops");
    s.message(&chat);
    for m in s.v["messages"].as_object().expect("messages").values() {
        assert_eq!(m["text"], "", "blank at rest");
        assert!(!m["enc"].is_null());
    }

    let d = Daemon::start();
    let report = import(&d, &s.write(dir.path()));
    assert!(warnings(&report).is_empty(), "{report}");
    assert_eq!(report["messages"], 3, "{report}");
    let msgs = inbox(&d, &cid, "ops");
    assert_eq!(texts(&msgs), ["sealed in #ops"]);
    assert_eq!(msgs[0]["display_name"], "alice");
    assert_eq!(msgs[0]["msg_id"], chat.msg_id.as_str());
    let channels: Vec<Value> = d.ctl_json(&["channels", "--circle-id", &cid]);
    assert!(
        channels.iter().any(|c| c["channel_id"] == "ops"),
        "the decrypted CHANNEL_EVT created #ops: {channels:?}"
    );
    let circle = circle_info(&d, &cid).expect("circle");
    assert_eq!(
        circle["name"], "night owls",
        "the decrypted CIRCLE_NAME_EVT named the circle"
    );
    // Control events stay out of chat views and search.
    assert!(d.ctl_json(&["search", "owls"]).is_empty());
}

#[test]
fn import_into_a_daemon_with_history_keeps_its_own_identity() {
    let dir = TempDir::new().expect("temp dir");
    let (state, secret, _) = typical_state();
    let mut d = Daemon::start_with(&["--name", "carol"]);
    let mine = create_circle(&d, "mine");
    let own_id = node_id(&d);
    let report = import(&d, &state.write(dir.path()));
    assert_eq!(report["adopted_node_id"], "", "{report}");
    assert_eq!(report["circles"], 1);
    assert!(
        String::from_utf8_lossy(
            &d.ctl(&[
                "import-state",
                state.write(dir.path()).to_str().expect("path")
            ])
            .stdout
        )
        .lines()
        .all(|l| !l.contains("takes on the imported identity")),
        "no restart hint when the identity is kept"
    );
    d.restart();
    let info = status(&d);
    assert_eq!(info["node_id"], own_id.as_str());
    assert_eq!(info["display_name"], "carol", "the own name is kept");
    assert_eq!(info["circle_count"], 2);
    assert!(circle_info(&d, &mine.id).is_some());
    let msgs = inbox(&d, &secret.circle_id(), "general");
    assert_eq!(msgs.len(), 3);
    assert!(
        msgs.iter().all(|m| m["own"] == false),
        "the imported messages are someone else's now"
    );
}

#[test]
fn felundd_import_state_flag_adopts_the_identity_at_once() {
    let dir = TempDir::new().expect("temp dir");
    let (state, secret, _) = typical_state();
    let path = state.write(dir.path());
    let mut d = Daemon::start_with(&["--import-state", path.to_str().expect("path")]);
    let info = status(&d);
    assert_eq!(info["node_id"], state.node_id.as_str());
    assert_eq!(info["display_name"], "alice");
    assert_eq!(texts(&inbox(&d, "book club", "general")).len(), 3);
    // The flag may stay in a unit file: importing again at the next start is harmless.
    d.restart();
    let again = status(&d);
    assert_eq!(again["node_id"], state.node_id.as_str());
    assert_eq!(again["message_count"], info["message_count"]);
    assert_eq!(texts(&inbox(&d, &secret.circle_id(), "general")).len(), 3);
}

#[test]
fn felundd_import_state_flag_refuses_a_foreign_file_and_does_not_start() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("package.json");
    std::fs::write(&path, br#"{"name": "left-pad"}"#).expect("write");
    let socket = dir.path().join("felundd.sock");
    let out = Command::new(bin("felundd"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--socket")
        .arg(&socket)
        .args(["--bind", "127.0.0.1", "--port", &free_port().to_string()])
        .arg("--import-state")
        .arg(&path)
        .env_remove("FELUND_API_BASE")
        .stdin(Stdio::null())
        .output()
        .expect("run felundd");
    assert!(!out.status.success(), "felundd must not start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a reference state file"), "{err}");
    assert!(err.contains("package.json"), "names the file: {err}");
    assert!(!socket.exists(), "no socket left behind");
}

// ---------------------------------------------------------------------------
// The real reference
// ---------------------------------------------------------------------------

/// What the reference's chat UI does for `/circle name NAME` and
/// `/channel create CHANNEL`, using the reference's own library on its state: the
/// circle gets its name, the channel is created, and both are announced with
/// control events that the reference seals and stores blanked at rest.
const NAME_AND_CHANNEL: &str = r#"
import sys
from felundchat.persistence import load_state, save_state
from felundchat.chat import append_channel_event
from felundchat.channel_sync import make_circle_name_message
from felundchat.models import Channel, now_ts
cid, name, channel = sys.argv[1:4]
state = load_state()
me = state.node.node_id
state.circles[cid].name = name
msg = make_circle_name_message(state, cid, name)
state.messages[msg.msg_id] = msg
state.channels[cid][channel] = Channel(channel_id=channel, circle_id=cid, created_by=me,
                                       created_ts=now_ts(), access_mode="public", key_hash="")
state.channel_members[cid].setdefault(channel, set()).add(me)
state.channel_requests[cid].setdefault(channel, set())
append_channel_event(state, cid, {
    "t": "CHANNEL_EVT", "op": "create", "circle_id": cid, "channel_id": channel,
    "access_mode": "public", "key_hash": "", "actor_node_id": me, "created_by": me,
    "created_ts": now_ts(),
})
save_state(state)
"#;

fn name_circle_and_create_channel(
    r: &Reference,
    node: &ReferenceNode,
    cid: &str,
    name: &str,
    channel: &str,
) {
    let out = Command::new(r.python())
        .current_dir(r.dir().join("chat"))
        .arg("-c")
        .arg(NAME_AND_CHANNEL)
        .args([cid, name, channel])
        .env("FELUND_STATE_DIR", node.dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run the reference library");
    assert!(
        out.status.success(),
        "naming the circle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The reference node's state, or `None` while it is being rewritten.
fn try_state(node: &ReferenceNode) -> Option<Value> {
    let text = std::fs::read_to_string(node.dir.path().join("state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[test]
fn reference_state_imports_with_identity_circle_name_channel_and_decrypted_messages() {
    let Some(r) = Reference::from_env(
        "reference_state_imports_with_identity_circle_name_channel_and_decrypted_messages",
    ) else {
        return;
    };
    let alice = r.node(free_port(), "alice");
    let (cid, _code) = alice.invite();
    name_circle_and_create_channel(&r, &alice, &cid, "book club", "ops");
    alice.run_ok(&["send", "--circle-id", &cid, "hello from the reference"]);
    alice.run_ok(&["send", "--circle-id", &cid, "--channel", "ops", "ops talk"]);
    let state = alice.state();
    let ref_id = state["node"]["node_id"]
        .as_str()
        .expect("node_id")
        .to_string();
    // The control events are stored sealed, their text blanked.
    let control: Vec<&Value> = state["messages"]
        .as_object()
        .expect("messages")
        .values()
        .filter(|m| m["channel_id"] == "__control")
        .collect();
    assert_eq!(control.len(), 2, "{control:?}");
    assert!(control
        .iter()
        .all(|m| m["text"] == "" && !m["enc"].is_null()));

    let path = alice.dir.path().join("state.json");
    let d = Daemon::start_with(&["--import-state", path.to_str().expect("path")]);
    let info = status(&d);
    assert_eq!(info["node_id"], ref_id.as_str());
    assert_eq!(info["display_name"], "alice");
    let circle = circle_info(&d, &cid).expect("the reference's circle");
    assert_eq!(circle["name"], "book club");
    let general = inbox(&d, "book club", "general");
    assert_eq!(texts(&general), ["hello from the reference"]);
    assert_eq!(general[0]["own"], true);
    assert_eq!(general[0]["display_name"], "alice");
    assert_eq!(texts(&inbox(&d, &cid, "ops")), ["ops talk"]);
    let channels = d.ctl_json(&["channels", "--circle-id", &cid]);
    let ops = channels
        .iter()
        .find(|c| c["channel_id"] == "ops")
        .unwrap_or_else(|| panic!("#ops among {channels:?}"));
    assert_eq!(ops["joined"], true);
    assert_eq!(ops["access_mode"], "public");
    // The importing daemon logged what it did, and nothing was skipped.
    let log = d.log();
    assert!(log.contains("imported reference state"), "{log}");
    assert!(!log.contains("import: "), "nothing skipped:\n{log}");
}

#[test]
fn felundd_with_an_imported_reference_identity_syncs_with_a_reference_peer() {
    let Some(r) = Reference::from_env(
        "felundd_with_an_imported_reference_identity_syncs_with_a_reference_peer",
    ) else {
        return;
    };
    // alice (reference) hosts a circle; bob (reference) joins it while alice runs,
    // so each knows the other's address.
    let alice_port = free_port();
    let alice = r.node(alice_port, "alice");
    let (cid, code) = alice.invite();
    alice.run_ok(&["send", "--circle-id", &cid, "from alice before the move"]);
    let bob_port = free_port();
    let bob = r.node(bob_port, "bob");
    let mut alice_run = RefRun::start(&alice, alice_port);
    bob.run_ok(&["join", "--code", &code]);
    let bob_id = bob.state()["node"]["node_id"]
        .as_str()
        .expect("bob's node id")
        .to_string();
    wait_until("alice to record bob as a peer", || {
        try_state(&alice).is_some_and(|s| s["peers"].get(&bob_id).is_some())
    });
    alice_run.stop();

    // alice moves to felundd, importing her state; it dials bob from her peer list.
    let path = alice.dir.path().join("state.json");
    let alice_id = alice.state()["node"]["node_id"]
        .as_str()
        .expect("alice's node id")
        .to_string();
    let d = Daemon::start_with(&[
        "--sync-interval",
        "1",
        "--import-state",
        path.to_str().expect("path"),
    ]);
    assert_eq!(node_id(&d), alice_id);
    assert_eq!(
        d.ctl_one(&["status"])["dial_candidate_count"],
        1,
        "bob's address was not taken as a dial candidate"
    );

    // bob writes while offline, then runs: felundd gets his message, and bob gets
    // the one felundd writes as alice.
    bob.run_ok(&["send", "--circle-id", &cid, "from bob to the new alice"]);
    let sent = send(&d, &cid, "general", "from alice on felundd");
    assert_eq!(sent["author_node_id"], alice_id.as_str());
    let bob_run = RefRun::start(&bob, bob_port);
    let got = eventually(DEADLINE, || {
        find_message(&d, &cid, "general", "from bob to the new alice").is_some()
    });
    assert!(
        got,
        "felundd (as alice) did not get bob's message; bob:\n{}\nfelundd:\n{}",
        bob_run.log(),
        d.log()
    );
    let got = eventually(DEADLINE, || {
        bob_message(&bob, &cid, "from alice on felundd")
            .is_some_and(|m| m["author_node_id"] == alice_id.as_str())
    });
    assert!(
        got,
        "bob did not get felundd's message; bob:\n{}",
        bob_run.log()
    );
    // bob knew alice's first message before the move; nothing was duplicated.
    assert!(bob_message(&bob, &cid, "from alice before the move").is_some());
    // Having answered, bob is now a peer.
    let peers = d.ctl_json(&["peers", "--circle-id", &cid]);
    assert!(
        peers.iter().any(|p| p["node_id"] == bob_id.as_str()),
        "bob is not a peer after syncing: {peers:?}"
    );
}

/// bob's stored message (general or any channel) with this text, decrypting ones
/// blanked at rest.
fn bob_message(bob: &ReferenceNode, cid: &str, text: &str) -> Option<Value> {
    let state = try_state(bob)?;
    let secret = CircleSecret::from_hex(state["circles"][cid]["secret_hex"].as_str()?).ok()?;
    let messages = state["messages"].as_object()?;
    messages
        .values()
        .find(|v| {
            if v["text"] == text {
                return true;
            }
            let mut filled = (*v).clone();
            filled["text"] = json!("-");
            WireMessage::from_value(&filled)
                .and_then(|w| w.open_enc(&secret))
                .is_ok_and(|(_, t)| t == text)
        })
        .cloned()
}
