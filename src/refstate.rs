//! Reference-shaped `state.json` files, built with `felund_wire` (the layout of the
//! reference's persistence), for the import tests and the memory benchmark.

use std::path::{Path, PathBuf};

use felund_wire::{CircleSecret, WireMessage};
use rand::RngCore;
use serde_json::{json, Map, Value};

/// A recent timestamp, `n` seconds into the last hour (old messages would fall to
/// the daemon's retention).
pub fn ts(n: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    now - 3600 + n
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A node id as the reference makes them (24 hex characters).
pub fn new_node_id() -> String {
    random_hex(12)
}

/// A fresh random circle secret.
pub fn new_secret() -> CircleSecret {
    let mut b = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    CircleSecret::from_bytes(b)
}

/// A message the way the reference's CLI `send` writes it: v1, MAC only.
pub fn v1_message(
    secret: &CircleSecret,
    author: &str,
    name: &str,
    channel: &str,
    ts: i64,
    text: &str,
) -> WireMessage {
    let mut m = WireMessage {
        msg_id: felund_wire::ids::msg_id(author, ts, &random_hex(8)),
        circle_id: secret.circle_id(),
        author_node_id: author.to_string(),
        created_ts: ts,
        text: text.to_string(),
        channel_id: channel.to_string(),
        display_name: name.to_string(),
        mac: String::new(),
        schema_version: 1,
        enc: None,
        sent_ms: None,
    };
    m.mac = m.compute_mac(secret);
    m
}

/// A message with MAC and envelope (what felundd and the reference's TUI send).
pub fn v2_message(
    secret: &CircleSecret,
    author: &str,
    name: &str,
    channel: &str,
    ts: i64,
    text: &str,
) -> WireMessage {
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    WireMessage::new_authored(
        secret,
        felund_wire::ids::msg_id(author, ts, &random_hex(8)),
        secret.circle_id(),
        channel.to_string(),
        author.to_string(),
        name.to_string(),
        ts,
        text.to_string(),
        nonce,
    )
}

/// A message as the reference stores it: with an envelope, text and display name are
/// blanked at rest (persistence.py `_serialize_message`).
pub fn at_rest(m: &WireMessage) -> Value {
    let mut v = m.to_value();
    if m.enc.is_some() {
        v["text"] = json!("");
        v["display_name"] = json!("");
    }
    v
}

/// Builder of a reference `state.json`.
pub struct RefState {
    /// The reference node id.
    pub node_id: String,
    /// Its display name.
    pub display_name: String,
    /// The whole state as JSON.
    pub v: Value,
}

impl RefState {
    pub fn new(display_name: &str) -> Self {
        let node_id = new_node_id();
        let v = json!({
            "node": {
                "node_id": node_id, "bind": "127.0.0.1", "port": 9999,
                "display_name": display_name, "rendezvous_base": "", "can_anchor": false,
                "is_mobile": false, "public_reachable": false
            },
            "circles": {}, "peers": {}, "circle_members": {}, "messages": {},
            "channels": {}, "channel_members": {}, "channel_requests": {},
            "node_display_names": {node_id.clone(): display_name}, "anchor_records": {}
        });
        RefState {
            node_id,
            display_name: display_name.to_string(),
            v,
        }
    }

    pub fn map(&mut self, key: &str) -> &mut Map<String, Value> {
        self.v[key].as_object_mut().expect("a map in the state")
    }

    /// Adds a circle under `id` (normally its secret's id), with its #general.
    pub fn circle_as(&mut self, id: &str, secret: &CircleSecret, name: &str) {
        let me = self.node_id.clone();
        self.map("circles").insert(
            id.into(),
            json!({"circle_id": id, "secret_hex": secret.to_hex(), "name": name}),
        );
        self.map("circle_members").insert(id.into(), json!([me]));
        self.map("channels").insert(
            id.into(),
            json!({"general": {"channel_id": "general", "circle_id": id, "created_by": me,
                               "created_ts": 1_700_000_000, "access_mode": "public", "key_hash": ""}}),
        );
        self.map("channel_members")
            .insert(id.into(), json!({"general": [me]}));
        self.map("channel_requests")
            .insert(id.into(), json!({"general": []}));
    }

    pub fn circle(&mut self, secret: &CircleSecret, name: &str) {
        self.circle_as(&secret.circle_id(), secret, name);
    }

    pub fn message(&mut self, m: &WireMessage) {
        self.map("messages").insert(m.msg_id.clone(), at_rest(m));
    }

    pub fn peer(&mut self, circle: &str, node_id: &str, addr: &str, name: &str) {
        self.map("peers").insert(
            node_id.into(),
            json!({"node_id": node_id, "addr": addr, "last_seen": 1_700_000_100}),
        );
        self.v["circle_members"][circle]
            .as_array_mut()
            .expect("circle members")
            .push(json!(node_id));
        self.map("node_display_names")
            .insert(node_id.into(), json!(name));
    }

    /// A state of `circles` circles, each with `per_circle` enveloped chat messages
    /// (blanked at rest, as the reference's TUI leaves them) by a few authors — the
    /// shape of a busy reference node, for the memory benchmark.
    pub fn busy(circles: usize, per_circle: usize) -> Self {
        let mut s = RefState::new("busy");
        let authors: Vec<(String, String)> = (0..4)
            .map(|i| (new_node_id(), format!("author {i}")))
            .collect();
        for c in 0..circles {
            let secret = new_secret();
            s.circle(&secret, &format!("circle {c}"));
            let messages = s.map("messages");
            for i in 0..per_circle {
                let (author, name) = &authors[i % authors.len()];
                let text =
                    format!("message {i} of circle {c}, with some ordinary chat length text");
                let m = v2_message(
                    &secret,
                    author,
                    name,
                    "general",
                    ts((i % 3600) as i64),
                    &text,
                );
                messages.insert(m.msg_id.clone(), at_rest(&m));
            }
        }
        s
    }

    /// Writes the file into `dir`; returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join(format!("state-{}.json", random_hex(4)));
        let text = serde_json::to_string_pretty(&self.v).expect("state JSON");
        std::fs::write(&path, text).expect("write state file");
        path
    }
}
