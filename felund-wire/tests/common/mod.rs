//! Loading the reference's test vectors, in one place for every test file.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use felund_wire::{CircleSecret, WireMessage};
use serde_json::Value;

/// The vectors computed by the reference implementation (in-repo copy).
pub const VECTORS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/vectors.json");

/// One recorded sync session between two reference nodes (in-repo copy).
pub const TRANSCRIPT_PATH: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/transcript.json");

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// The whole vectors file.
pub fn vectors() -> Value {
    load(VECTORS_PATH)
}

/// One section of the vectors file, as a list (a single object is wrapped).
pub fn section(name: &str) -> Vec<Value> {
    match vectors().get(name) {
        Some(Value::Array(items)) => items.clone(),
        Some(obj @ Value::Object(_)) => vec![obj.clone()],
        other => panic!("vectors.{name} missing or odd: {other:?}"),
    }
}

/// The transcript file.
pub fn transcript() -> Value {
    load(TRANSCRIPT_PATH)
}

/// A string field of a vector.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// An integer field of a vector.
pub fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

/// The circle secret in a vector's `secret_hex`.
pub fn secret(v: &Value) -> CircleSecret {
    CircleSecret::from_hex(s(v, "secret_hex")).unwrap()
}

/// Decodes hex into a fixed-size array.
pub fn hex_array<const N: usize>(hex: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(hex, &mut out).unwrap();
    out
}

/// A vector's `message` (which has no mac or enc) as a v1 message with an empty MAC.
pub fn message(v: &Value) -> WireMessage {
    let m = &v["message"];
    WireMessage {
        msg_id: s(m, "msg_id").into(),
        circle_id: s(m, "circle_id").into(),
        author_node_id: s(m, "author_node_id").into(),
        created_ts: int(m, "created_ts"),
        text: s(m, "text").into(),
        channel_id: s(m, "channel_id").into(),
        display_name: s(m, "display_name").into(),
        mac: String::new(),
        schema_version: 1,
        enc: None,
        sent_ms: None,
    }
}
