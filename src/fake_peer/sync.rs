//! The sync half of the scripted peer: one reference sync sequence driven frame by frame,
//! and helpers that compare frame shapes.

use felund_wire::sync::{RefSync, Step, SyncError, SyncStart};
use felund_wire::Frame;

use super::*;

/// What the fake brings to a sync.
#[derive(Debug, Clone, Default)]
pub struct SyncPlan {
    /// PEERS entries to send (objects with node_id, addr, last_seen).
    pub peers: Vec<Value>,
    /// Message objects the fake holds (advertised in MSGS_HAVE).
    pub messages: Vec<Value>,
    /// Send every message in MSGS_SEND, asked for or not.
    pub send_unrequested: bool,
    /// Ask for nothing (by default the fake asks for every id it lacks).
    pub request_nothing: bool,
    /// Behave like a reference responder whose MSGS_SEND would overflow its line limit:
    /// when asked for more ids than this, answer a plain `Internal error` instead of
    /// MSGS_SEND and fail the sync (docs/protocol.md §6.8).
    pub max_serve: Option<usize>,
}

/// The daemon's four sync frames, as received.
#[derive(Debug, Clone)]
pub struct SyncSeen {
    /// Its PEERS.
    pub peers: Value,
    /// Its MSGS_HAVE.
    pub have: Value,
    /// Its MSGS_REQ.
    pub req: Value,
    /// Its MSGS_SEND.
    pub send: Value,
}

impl SyncSeen {
    /// The message objects of its MSGS_SEND.
    pub fn messages(&self) -> Vec<Value> {
        self.send["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The ids of its MSGS_HAVE.
    pub fn have_ids(&self) -> Vec<String> {
        str_list(&self.have["msg_ids"])
    }

    /// The ids of its MSGS_REQ.
    pub fn req_ids(&self) -> Vec<String> {
        str_list(&self.req["msg_ids"])
    }

    /// The node ids of its PEERS.
    pub fn peer_ids(&self) -> Vec<String> {
        self.peers["peers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["node_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Strings of a JSON array (others skipped).
pub fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the reference sync sequence after a handshake, in the order the reference does:
/// write PEERS and MSGS_HAVE, read theirs, write MSGS_REQ, read theirs, write MSGS_SEND,
/// read theirs.
///
/// The honest part is felund-wire's machine ([`RefSync`]) with no budgets, as a reference
/// node runs it: it lists every id it holds and asks for every id it lacks. What the plan
/// scripts beyond that is written raw: the PEERS entries as given (tests send bad ones on
/// purpose), an empty MSGS_REQ, unrequested messages, the reference's `Internal error`.
pub fn sync(conn: &mut FakeConn, circle_id: &str, plan: &SyncPlan) -> Result<SyncSeen, String> {
    let mut mine: Vec<String> = plan
        .messages
        .iter()
        .filter_map(|m| m["msg_id"].as_str().map(str::to_string))
        .collect();
    mine.sort();
    mine.dedup();
    let (state, [_, have]) = RefSync::start(fake_start(circle_id), usize::MAX, mine, |_| false);
    conn.send(&json!({"t": "PEERS", "circle_id": circle_id, "peers": plan.peers}))
        .map_err(|e| format!("send PEERS: {e}"))?;
    conn.send_frame(&have)?;
    let peers = conn.recv_type("PEERS")?;
    let their_have = conn.recv_type("MSGS_HAVE")?;
    let opened = match state.on_frame(frame_of(&peers)?).map_err(sync_err)? {
        Step::More(state) => match state.on_frame(frame_of(&their_have)?).map_err(sync_err)? {
            Step::Done(opened) => opened,
            Step::More(_) => return Err("MSGS_HAVE did not complete the opening".into()),
        },
        Step::Done(_) => return Err("PEERS alone completed the opening".into()),
    };
    let request = if plan.request_nothing {
        Frame::MsgsReq {
            circle_id: circle_id.to_string(),
            msg_ids: Vec::new(),
        }
    } else {
        opened.request
    };
    conn.send_frame(&request)?;
    let req = conn.recv_type("MSGS_REQ")?;
    let (answering, asked) = opened.next.on_frame(frame_of(&req)?).map_err(sync_err)?;
    if let Some(max) = plan.max_serve {
        if asked.len() > max {
            let _ = conn.write_raw(b"{\"t\":\"ERROR\",\"err\":\"Internal error\"}\n");
            return Err(format!(
                "peer asked for {} ids, more than a reference responder can send ({max})",
                asked.len()
            ));
        }
    }
    let held = asked.iter().filter_map(|id| {
        let m = plan.messages.iter().find(|m| m["msg_id"] == id.as_str())?;
        Some((m.clone(), m.to_string().len()))
    });
    let (waiting, answer) = answering.answer(held);
    if plan.send_unrequested {
        conn.send(&json!({"t": "MSGS_SEND", "circle_id": circle_id, "messages": plan.messages}))
            .map_err(|e| format!("send MSGS_SEND: {e}"))?;
    } else {
        conn.send_frame(&answer)?;
    }
    let send = conn.recv_type("MSGS_SEND")?;
    waiting.on_frame(frame_of(&send)?).map_err(sync_err)?;
    Ok(SyncSeen {
        peers,
        have: their_have,
        req,
        send,
    })
}

fn sync_err(e: SyncError) -> String {
    format!("sync: {e}")
}

/// A type skeleton of a JSON value: leaves become their type name, arrays the skeleton of
/// their first element (or empty).
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!("integer"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// Compares `actual` with the frame `template` (from the recorded transcript) by shape:
/// the same keys (extra top-level keys allowed only when `extra_keys_ok`) with values of the
/// same JSON types, every array element shaped like the template's first one. A template
/// `null` accepts null or an object (a v1 `enc` vs a v2 envelope). Returns the differences.
pub fn shape_diff(template: &Value, actual: &Value, extra_keys_ok: bool) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", template, actual, extra_keys_ok, &mut out);
    out
}

fn diff_at(path: &str, t: &Value, a: &Value, extra_ok: bool, out: &mut Vec<String>) {
    match (t, a) {
        (Value::Null, Value::Null | Value::Object(_)) => {}
        (Value::Object(to), Value::Object(ao)) => {
            for (k, tv) in to {
                match ao.get(k) {
                    Some(av) => diff_at(&format!("{path}.{k}"), tv, av, false, out),
                    None => out.push(format!("{path}.{k} missing")),
                }
            }
            if !extra_ok {
                for k in ao.keys().filter(|k| !to.contains_key(*k)) {
                    out.push(format!("{path}.{k} is not in the reference frame"));
                }
            }
        }
        (Value::Array(ta), Value::Array(aa)) => {
            if let Some(t0) = ta.first() {
                for (i, av) in aa.iter().enumerate() {
                    diff_at(&format!("{path}[{i}]"), t0, av, false, out);
                }
            }
        }
        _ => {
            if shape(t) != shape(a) {
                out.push(format!("{path}: expected {} got {}", shape(t), shape(a)));
            }
        }
    }
}

/// What the fake starts a sync machine from in `circle_id`: no node ids (the tests send
/// their own PEERS) and no frame budget (a test may send any size).
pub(super) fn fake_start(circle_id: &str) -> SyncStart {
    SyncStart {
        circle_id: circle_id.to_string(),
        local_node_id: String::new(),
        peer_node_id: String::new(),
        json_budget: usize::MAX,
        peers: Vec::new(),
    }
}
