//! Gossip frames (docs/protocol.md §6): one compact JSON object per line, typed by its `t` key.
//!
//! Decoding is tolerant where the reference is tolerant (unknown keys are ignored, absent lists
//! read as empty) and never panics. Messages and envelopes inside frames stay raw JSON values
//! so that each one can be validated on its own: one bad message must not sink the others.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::json::to_ascii_json_string;

pub use crate::addr::parse_host_port;

/// Every frame type this crate knows, by wire name.
pub const FRAME_TYPES: [&str; 23] = [
    "HELLO",
    "CHALLENGE",
    "HELLO_AUTH",
    "WELCOME",
    "ERROR",
    "PEERS",
    "MSGS_HAVE",
    "MSGS_REQ",
    "MSGS_SEND",
    "ANCHOR_PUSH",
    "ANCHOR_PUSH_ACK",
    "ANCHOR_PULL",
    "ANCHOR_MSGS",
    "X_DIGEST",
    "X_BUCKETS",
    "X_IDS",
    "X_REQ",
    "X_SEND",
    "X_LINK",
    "X_LINK_OK",
    "X_PUSH",
    "X_PING",
    "X_PROOF",
];

/// How much of an attacker-controlled string an error quotes back.
const MAX_QUOTED_CHARS: usize = 64;

/// Why a line is not a usable frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The line is not JSON (or not UTF-8).
    #[error("frame is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON is not an object.
    #[error("frame is not a JSON object")]
    NotAnObject,
    /// The object has no string `t`.
    #[error("frame has no type ('t' key)")]
    MissingType,
    /// The type is not one this crate knows (quoted, shortened).
    #[error("frame type {0:?} is unknown")]
    UnknownType(String),
    /// A known type whose fields are missing or of the wrong type.
    #[error("{t} frame is malformed: {detail}")]
    Malformed {
        /// The frame type.
        t: String,
        /// What serde found wrong.
        detail: String,
    },
}

/// The initiator's first frame.
///
/// Unknown keys land in `extensions`; that is how felund nodes negotiate features, since
/// reference nodes ignore keys they do not know in HELLO and WELCOME (docs/protocol.md §6.8).
/// Extensions must not reuse the names of the fields above or `t`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The initiator's node id.
    pub node_id: String,
    /// The circle it wants to sync.
    pub circle_id: String,
    /// Its advertised `host:port`; validate with [`parse_host_port`] before use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_addr: Option<String>,
    /// 32 hex chars; present means the initiator can do session encryption. Not validated
    /// here: check it with [`crate::handshake::parse_nonce16`] before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Whether the initiator can serve as an anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_anchor: Option<bool>,
    /// Every other key, kept in order of the map (sorted).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

/// The responder's acceptance of the handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The responder's node id (empty if a peer omitted it).
    #[serde(default)]
    pub node_id: String,
    /// True exactly when the HELLO carried a nonce: all later frames are encrypted.
    #[serde(default)]
    pub enc_ready: bool,
    /// Whether the responder serves as an anchor (absent from old nodes: false).
    #[serde(default)]
    pub can_anchor: bool,
    /// Every other key; see [`Hello::extensions`].
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

/// One known peer in a PEERS frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerEntry {
    /// The peer's node id.
    pub node_id: String,
    /// Its `host:port`.
    pub addr: String,
    /// When it was last seen, Unix seconds.
    pub last_seen: i64,
}

/// A gossip frame. Serialises with `t` first, as the reference writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Frame {
    /// `HELLO`: initiator introduces itself.
    Hello(Hello),
    /// `CHALLENGE`: responder's 32-hex-char nonce.
    Challenge {
        /// The server nonce, as hex text (check with [`crate::handshake::parse_nonce16`]).
        nonce: String,
    },
    /// `HELLO_AUTH`: proof of the circle secret.
    HelloAuth {
        /// See [`crate::handshake::hello_auth_token`].
        #[serde(default)]
        token: String,
    },
    /// `WELCOME`: handshake accepted.
    Welcome(Welcome),
    /// `ERROR`: the sender gives up; `err` is human-readable.
    Error {
        /// E.g. `Unknown circle_id`, `Auth failed`, `Bad sync frames`.
        #[serde(default)]
        err: String,
    },
    /// `PEERS`: known peers of the circle.
    ///
    /// On receipt, entries that are not objects, lack a non-empty string `node_id` or `addr`,
    /// or whose `addr` is not a valid `host:port` are dropped rather than failing the frame
    /// (the reference skips the first kinds and would crash later on the last); a `last_seen`
    /// that is not an integer reads as 0.
    Peers {
        /// Ignored by the reference; only each message's own circle_id counts.
        #[serde(default)]
        circle_id: String,
        /// Most recently seen first.
        #[serde(default, deserialize_with = "lenient_peers")]
        peers: Vec<PeerEntry>,
    },
    /// `MSGS_HAVE`: every msg_id the sender holds (sorted).
    MsgsHave {
        /// Ignored by the reference.
        #[serde(default)]
        circle_id: String,
        /// The ids.
        #[serde(default)]
        msg_ids: Vec<String>,
    },
    /// `MSGS_REQ`: the ids the sender wants.
    MsgsReq {
        /// Ignored by the reference.
        #[serde(default)]
        circle_id: String,
        /// The ids.
        #[serde(default)]
        msg_ids: Vec<String>,
    },
    /// `MSGS_SEND`: the requested messages, raw; validate each with
    /// [`crate::message::WireMessage::from_value`].
    MsgsSend {
        /// Ignored by the reference.
        #[serde(default)]
        circle_id: String,
        /// Message objects.
        #[serde(default)]
        messages: Vec<Value>,
    },
    /// `ANCHOR_PUSH`: relay-style envelopes for an anchor to keep.
    AnchorPush {
        /// The circle.
        #[serde(default)]
        circle_id: String,
        /// Envelope objects, raw.
        #[serde(default)]
        envelopes: Vec<Value>,
    },
    /// `ANCHOR_PUSH_ACK`: how many envelopes the anchor took.
    AnchorPushAck {
        /// The count.
        #[serde(default)]
        stored: i64,
    },
    /// `ANCHOR_PULL`: ask an anchor for envelopes newer than `since`.
    AnchorPull {
        /// The circle.
        #[serde(default)]
        circle_id: String,
        /// The last `server_time` got from an anchor for this circle, 0 at first.
        #[serde(default)]
        since: i64,
    },
    /// `ANCHOR_MSGS`: the anchor's answer; verify each with
    /// [`crate::message::WireMessage::verify_relay`].
    AnchorMsgs {
        /// Envelope objects, raw.
        #[serde(default)]
        envelopes: Vec<Value>,
        /// The anchor's clock, for the next `since`.
        #[serde(default)]
        server_time: i64,
    },
    /// `X_DIGEST` (felundd extension, see [`crate::ext`]): the sender's id-set summary.
    #[serde(rename = "X_DIGEST")]
    XDigest {
        /// Number of ids.
        count: u64,
        /// [`crate::ext::SetDigest::digest_hex`].
        digest: String,
    },
    /// `X_BUCKETS` (extension): per-bucket summaries, sent when digests differ.
    #[serde(rename = "X_BUCKETS")]
    XBuckets {
        /// [`crate::ext::SetDigest::bucket_summaries`].
        buckets: Vec<String>,
    },
    /// `X_IDS` (extension): one chunk of the sender's ids in the differing buckets.
    #[serde(rename = "X_IDS")]
    XIds {
        /// The ids.
        ids: Vec<String>,
        /// More chunks follow.
        more: bool,
    },
    /// `X_REQ` (extension): one chunk of the ids the sender wants.
    #[serde(rename = "X_REQ")]
    XReq {
        /// The ids.
        ids: Vec<String>,
        /// More chunks follow.
        more: bool,
    },
    /// `X_SEND` (extension): one chunk of requested messages (raw objects).
    #[serde(rename = "X_SEND")]
    XSend {
        /// Message objects.
        messages: Vec<Value>,
        /// More chunks follow.
        more: bool,
    },
    /// `X_LINK` (extension): the initiator asks to keep the connection as a live link.
    #[serde(rename = "X_LINK")]
    XLink {},
    /// `X_LINK_OK` (extension): the responder agrees.
    #[serde(rename = "X_LINK_OK")]
    XLinkOk {},
    /// `X_PUSH` (extension): new messages, pushed the moment they are stored.
    #[serde(rename = "X_PUSH")]
    XPush {
        /// Message objects.
        messages: Vec<Value>,
    },
    /// `X_PING` (extension): keep-alive on a live link.
    #[serde(rename = "X_PING")]
    XPing {},
    /// `X_PROOF` (extension): the first encrypted frame each side sends, proving it holds the
    /// secret and saw the same handshake ([`crate::handshake::transcript_proof`]).
    #[serde(rename = "X_PROOF")]
    XProof {
        /// Hex HMAC over the transcript.
        #[serde(default)]
        proof: String,
    },
}

impl Frame {
    /// The wire name of this frame's type (its `t`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Frame::Hello(_) => "HELLO",
            Frame::Challenge { .. } => "CHALLENGE",
            Frame::HelloAuth { .. } => "HELLO_AUTH",
            Frame::Welcome(_) => "WELCOME",
            Frame::Error { .. } => "ERROR",
            Frame::Peers { .. } => "PEERS",
            Frame::MsgsHave { .. } => "MSGS_HAVE",
            Frame::MsgsReq { .. } => "MSGS_REQ",
            Frame::MsgsSend { .. } => "MSGS_SEND",
            Frame::AnchorPush { .. } => "ANCHOR_PUSH",
            Frame::AnchorPushAck { .. } => "ANCHOR_PUSH_ACK",
            Frame::AnchorPull { .. } => "ANCHOR_PULL",
            Frame::AnchorMsgs { .. } => "ANCHOR_MSGS",
            Frame::XDigest { .. } => "X_DIGEST",
            Frame::XBuckets { .. } => "X_BUCKETS",
            Frame::XIds { .. } => "X_IDS",
            Frame::XReq { .. } => "X_REQ",
            Frame::XSend { .. } => "X_SEND",
            Frame::XLink {} => "X_LINK",
            Frame::XLinkOk {} => "X_LINK_OK",
            Frame::XPush { .. } => "X_PUSH",
            Frame::XPing {} => "X_PING",
            Frame::XProof { .. } => "X_PROOF",
        }
    }
}

/// Reads PEERS entries one by one so that a bad entry is skipped instead of failing the frame.
fn lenient_peers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PeerEntry>, D::Error> {
    let raw = Vec::<Value>::deserialize(d)?;
    Ok(raw.iter().filter_map(peer_entry).collect())
}

fn peer_entry(v: &Value) -> Option<PeerEntry> {
    let node_id = v.get("node_id")?.as_str().filter(|s| !s.is_empty())?;
    let addr = v.get("addr")?.as_str()?;
    parse_host_port(addr)?;
    Some(PeerEntry {
        node_id: node_id.to_string(),
        addr: addr.to_string(),
        last_seen: v.get("last_seen").and_then(Value::as_i64).unwrap_or(0),
    })
}

/// The frame as compact ASCII JSON, `t` first, without the trailing newline.
pub fn encode_frame(f: &Frame) -> String {
    // Frames hold only string-keyed maps, so serialisation cannot fail; the fallback only
    // avoids a panic path.
    to_ascii_json_string(f).unwrap_or_default()
}

/// [`encode_frame`] plus the `\n` that ends a plain line.
pub fn encode_frame_line(f: &Frame) -> String {
    let mut line = encode_frame(f);
    line.push('\n');
    line
}

/// Decodes one plain line (or a decrypted session frame). A trailing newline is fine.
/// Never panics; unknown keys are ignored; an unknown `t` gives [`FrameError::UnknownType`].
pub fn decode_frame(line: &[u8]) -> Result<Frame, FrameError> {
    let value: Value =
        serde_json::from_slice(line).map_err(|e| FrameError::NotJson(shorten(&e.to_string())))?;
    let t = match &value {
        Value::Object(obj) => obj
            .get("t")
            .and_then(Value::as_str)
            .ok_or(FrameError::MissingType)?,
        _ => return Err(FrameError::NotAnObject),
    };
    if !FRAME_TYPES.contains(&t) {
        return Err(FrameError::UnknownType(shorten(t)));
    }
    let t = t.to_string();
    if t == "X_SEND" || t == "X_PUSH" {
        return decode_messages_frame(value, t);
    }
    serde_json::from_value(value).map_err(|e| FrameError::Malformed {
        t,
        detail: shorten(&e.to_string()),
    })
}

/// `X_SEND` and `X_PUSH` carry up to megabytes of messages: their array is taken out
/// of the parsed object as it is, where serde's tagged-enum path would copy the
/// whole tree twice more (into its buffer, then into the variant). Accepts and
/// refuses exactly what that path does.
fn decode_messages_frame(value: Value, t: String) -> Result<Frame, FrameError> {
    let malformed = |detail: &str| FrameError::Malformed {
        t: t.clone(),
        detail: detail.to_string(),
    };
    let Value::Object(mut obj) = value else {
        return Err(FrameError::NotAnObject);
    };
    let messages = match obj.remove("messages") {
        Some(Value::Array(messages)) => messages,
        Some(_) => return Err(malformed("invalid type: `messages` must be an array")),
        None => return Err(malformed("missing field `messages`")),
    };
    if t == "X_PUSH" {
        return Ok(Frame::XPush { messages });
    }
    match obj.get("more") {
        Some(Value::Bool(more)) => Ok(Frame::XSend {
            messages,
            more: *more,
        }),
        Some(_) => Err(malformed("invalid type: `more` must be a boolean")),
        None => Err(malformed("missing field `more`")),
    }
}

/// Errors quote input; keep that bounded.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_QUOTED_CHARS * 3).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fast path for the message-carrying frames agrees with serde's general one.
    #[test]
    fn message_frames_decode_like_every_other_frame() {
        let cases: &[(&[u8], bool)] = &[
            (
                br#"{"t":"X_SEND","messages":[{"a":1},2],"more":true,"x":0}"#,
                true,
            ),
            (br#"{"t":"X_SEND","messages":[],"more":false}"#, true),
            (
                br#"{"t":"X_PUSH","messages":[{"a":[1]}],"more":"ignored"}"#,
                true,
            ),
            (br#"{"t":"X_SEND","messages":[]}"#, false),
            (br#"{"t":"X_SEND","messages":[],"more":1}"#, false),
            (br#"{"t":"X_SEND","messages":{},"more":true}"#, false),
            (br#"{"t":"X_SEND","messages":null,"more":true}"#, false),
            (br#"{"t":"X_PUSH"}"#, false),
            (br#"{"t":"X_PUSH","messages":"m"}"#, false),
        ];
        for (line, ok) in cases {
            let fast = decode_frame(line);
            let value: Value = serde_json::from_slice(line).unwrap();
            let general: Result<Frame, _> = serde_json::from_value(value);
            assert_eq!(fast.is_ok(), *ok, "{}", String::from_utf8_lossy(line));
            assert_eq!(general.is_ok(), *ok, "{}", String::from_utf8_lossy(line));
            if let (Ok(a), Ok(b)) = (fast, general) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn hello_keeps_extensions_but_not_the_tag() {
        let line =
            br#"{"t":"HELLO","node_id":"n","circle_id":"c","nonce":null,"x_felundd":{"v":2}}"#;
        let Frame::Hello(h) = decode_frame(line).unwrap() else {
            panic!("not a HELLO")
        };
        assert_eq!(h.nonce, None);
        assert_eq!(h.extensions.len(), 1);
        assert_eq!(h.extensions["x_felundd"], json!({"v": 2}));
        assert_eq!(
            encode_frame(&Frame::Hello(h)),
            r#"{"t":"HELLO","node_id":"n","circle_id":"c","x_felundd":{"v":2}}"#
        );
    }

    #[test]
    fn bad_peer_entries_are_skipped() {
        let line = br#"{"t":"PEERS","circle_id":"c","peers":[1,{"node_id":"a"},{"node_id":"b","addr":"h:1","last_seen":"x"},{"node_id":"c","addr":"nohost"},{"node_id":"d","addr":"h:2","last_seen":5}]}"#;
        let Frame::Peers { peers, .. } = decode_frame(line).unwrap() else {
            panic!("not PEERS")
        };
        let ids: Vec<_> = peers
            .iter()
            .map(|p| (p.node_id.as_str(), p.last_seen))
            .collect();
        assert_eq!(ids, [("b", 0), ("d", 5)]);
    }

    #[test]
    fn decoding_errors() {
        assert!(matches!(
            decode_frame(b"not json"),
            Err(FrameError::NotJson(_))
        ));
        assert_eq!(decode_frame(b"[1]"), Err(FrameError::NotAnObject));
        assert_eq!(decode_frame(b"{\"x\":1}"), Err(FrameError::MissingType));
        assert_eq!(
            decode_frame(b"{\"t\":\"PING\"}"),
            Err(FrameError::UnknownType("PING".into()))
        );
        assert!(matches!(
            decode_frame(b"{\"t\":\"CHALLENGE\"}"),
            Err(FrameError::Malformed { .. })
        ));
        assert_eq!(
            decode_frame(b"{\"t\":\"MSGS_REQ\"}\r\n"),
            Ok(Frame::MsgsReq {
                circle_id: String::new(),
                msg_ids: vec![]
            })
        );
    }
}
