//! Replaying the recorded reference session (`tests/data/transcript.json`) by frame shape
//! against a live node: the frames of the fake's role are rebuilt from the recorded ones with
//! fresh ids, nonces and tokens; each frame of the other role is read and compared with the
//! recorded one by shape (docs/protocol.md §6), with the handshake checked cryptographically.

use felund_wire::handshake::{hello_auth_token, parse_nonce16, verify_hello_auth};
use felund_wire::session::session_key;
use felund_wire::{CircleSecret, WireMessage};
use serde_json::{json, Value};

use crate::fake_peer::{now_ts, random_hex, shape_diff, str_list, FakeConn};

/// The recorded session between two reference nodes.
pub const TRANSCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/transcript.json");

/// The recorded frames in order: (sent by the initiator?, frame).
pub fn transcript() -> Vec<(bool, Value)> {
    let text = std::fs::read_to_string(TRANSCRIPT).expect("read transcript.json");
    let t: Value = serde_json::from_str(&text).expect("transcript is JSON");
    t["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .map(|f| {
            let from = f["from"].as_str().expect("from");
            (from.starts_with("initiator"), f["frame"].clone())
        })
        .collect()
}

/// Who the daemon is in the replayed session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DaemonRole {
    /// The node answers the fake's HELLO.
    Responder,
    /// The node dials the fake.
    Initiator,
}

/// The fake's side of a replay.
pub struct Side {
    /// The circle's secret.
    pub secret: CircleSecret,
    /// The fake's node id.
    pub node_id: String,
    /// The fake's advertised `host:port` (in its HELLO).
    pub listen_addr: String,
    /// Ask for session encryption (only when the fake initiates).
    pub encrypted: bool,
    /// The node under test's id.
    pub daemon_node_id: String,
    /// The node under test's `host:port` (listed back to it in PEERS, as references do).
    pub daemon_addr: String,
    /// The messages the fake holds.
    pub messages: Vec<WireMessage>,
}

/// What the daemon sent during a replay, by frame type.
#[derive(Default, Debug)]
pub struct Seen {
    /// Every frame the node sent, in order.
    pub frames: Vec<Value>,
}

impl Seen {
    /// The node's frame of type `t` (panics if it sent none).
    pub fn get(&self, t: &str) -> &Value {
        self.frames
            .iter()
            .find(|f| f["t"] == t)
            .unwrap_or_else(|| panic!("daemon sent no {t}: {:?}", self.frames))
    }
}

/// Replays the transcript: frames of the fake's role are rebuilt from the recorded ones with
/// fresh values; each frame of the daemon's role is read and compared with the recorded one
/// by shape (extra keys are allowed only in HELLO and WELCOME, docs/protocol.md §6.8).
pub fn replay(conn: &mut FakeConn, role: DaemonRole, me: &Side) -> Seen {
    let circle_id = me.secret.circle_id();
    let mut seen = Seen::default();
    let mut client_nonce: Option<String> = None;
    let mut server_nonce = String::new();
    let mut my_ids: Vec<String> = me.messages.iter().map(|m| m.msg_id.clone()).collect();
    my_ids.sort();
    for (from_initiator, template) in transcript() {
        let t = template["t"].as_str().expect("t").to_string();
        let from_daemon = from_initiator == (role == DaemonRole::Initiator);
        if from_daemon {
            let got = conn
                .recv()
                .unwrap_or_else(|e| panic!("waiting for the daemon's {t}: {e}"));
            assert_eq!(got["t"], t.as_str(), "frame order: expected {t}, got {got}");
            let extra_ok = t == "HELLO" || t == "WELCOME";
            let diff = shape_diff(&template, &got, extra_ok);
            assert!(
                diff.is_empty(),
                "{t} differs from the reference's: {diff:?}\n{got}"
            );
            match t.as_str() {
                "HELLO" => {
                    client_nonce = got["nonce"].as_str().map(str::to_string);
                }
                "CHALLENGE" => {
                    server_nonce = got["nonce"].as_str().expect("nonce").to_string();
                    assert!(
                        parse_nonce16(&server_nonce).is_some(),
                        "CHALLENGE nonce {got}"
                    );
                }
                "HELLO_AUTH" => {
                    let token = got["token"].as_str().unwrap_or_default();
                    assert!(
                        verify_hello_auth(
                            &me.secret,
                            &me.daemon_node_id,
                            &circle_id,
                            &server_nonce,
                            token
                        ),
                        "daemon's HELLO_AUTH token does not verify: {got}"
                    );
                }
                "WELCOME" => {
                    assert_eq!(got["enc_ready"], json!(me.encrypted), "WELCOME {got}");
                    assert_eq!(got["node_id"], me.daemon_node_id.as_str(), "WELCOME {got}");
                    if me.encrypted {
                        let c = parse_nonce16(client_nonce.as_deref().expect("nonce"));
                        let s = parse_nonce16(&server_nonce).expect("server nonce");
                        conn.enable_encryption(session_key(&me.secret, &c.expect("c"), &s));
                    }
                }
                _ => {}
            }
            seen.frames.push(got);
            continue;
        }
        let mut f = template.clone();
        match t.as_str() {
            "HELLO" => {
                f["node_id"] = json!(me.node_id);
                f["circle_id"] = json!(circle_id);
                f["listen_addr"] = json!(me.listen_addr);
                f["can_anchor"] = json!(false);
                if me.encrypted {
                    let n = random_hex(16);
                    f["nonce"] = json!(n);
                    client_nonce = Some(n);
                } else {
                    f.as_object_mut().expect("object").remove("nonce");
                }
            }
            "CHALLENGE" => {
                server_nonce = random_hex(16);
                f["nonce"] = json!(server_nonce);
            }
            "HELLO_AUTH" => {
                f["token"] = json!(hello_auth_token(
                    &me.secret,
                    &me.node_id,
                    &circle_id,
                    &server_nonce
                ));
            }
            "WELCOME" => {
                f["node_id"] = json!(me.node_id);
                f["enc_ready"] = json!(client_nonce.is_some());
                f["can_anchor"] = json!(false);
            }
            "PEERS" => {
                // Like the reference, list the other side itself (it must skip itself).
                f["circle_id"] = json!(circle_id);
                f["peers"] = json!([{
                    "node_id": me.daemon_node_id,
                    "addr": me.daemon_addr,
                    "last_seen": now_ts(),
                }]);
            }
            "MSGS_HAVE" => {
                f["circle_id"] = json!(circle_id);
                f["msg_ids"] = json!(my_ids);
            }
            "MSGS_REQ" => {
                let theirs = str_list(&seen.get("MSGS_HAVE")["msg_ids"]);
                let want: Vec<String> =
                    theirs.into_iter().filter(|i| !my_ids.contains(i)).collect();
                f["circle_id"] = json!(circle_id);
                f["msg_ids"] = json!(want);
            }
            "MSGS_SEND" => {
                let asked = str_list(&seen.get("MSGS_REQ")["msg_ids"]);
                let msgs: Vec<Value> = me
                    .messages
                    .iter()
                    .filter(|m| asked.contains(&m.msg_id))
                    .map(WireMessage::to_value)
                    .collect();
                f["circle_id"] = json!(circle_id);
                f["messages"] = json!(msgs);
            }
            other => panic!("transcript has an unexpected frame {other}"),
        }
        conn.send(&f).unwrap_or_else(|e| panic!("sending {t}: {e}"));
        if t == "WELCOME" {
            if let Some(c) = &client_nonce {
                let c = parse_nonce16(c).expect("daemon's HELLO nonce is 32 hex chars");
                let s = parse_nonce16(&server_nonce).expect("own nonce");
                conn.enable_encryption(session_key(&me.secret, &c, &s));
            }
        }
    }
    seen
}
