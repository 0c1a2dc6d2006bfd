//! DataChannel frames: each one text DataChannel message holding one JSON object keyed by
//! `type` (not `t`, as on TCP gossip).
//!
//! Reading is strict about what matters and lenient about the rest, as the web client is:
//! binary messages, invalid JSON and unknown types are ignored rather than fatal, so a
//! future frame type does not break a session. Every read is bounded: the caller hands over
//! at most [`DC_MAX_MESSAGE_SIZE`] bytes, a MSGS_SEND yields at most
//! [`DC_MAX_MESSAGES_PER_FRAME`] objects, and HELLO/AUTH fields are checked for shape and
//! length before anything uses them.

use serde_json::{json, Value};
use thiserror::Error;

use crate::limits::{DC_MAX_MESSAGES_PER_FRAME, DC_MAX_MESSAGE_SIZE, DC_NONCE_BYTES, MAX_ID_BYTES};

/// Length of an AUTH value: hex HMAC-SHA256.
const AUTH_HEX_LEN: usize = 64;

/// One frame of the DataChannel protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum DcFrame {
    /// Opens the handshake: who the sender says it is and its fresh nonce.
    Hello {
        /// The sender's node id (unchecked by the web client; we compare it with the
        /// signal's `from_node`).
        node_id: String,
        /// The hint of the circle the sender means (tells which of a browser's circles
        /// the channel belongs to).
        circle_hint: String,
        /// 32 lowercase hex characters.
        nonce: String,
    },
    /// The sender's proof of the circle secret over both nonces.
    Auth {
        /// 64 hex characters.
        auth: String,
    },
    /// A batch of wire messages (objects still unverified).
    MsgsSend {
        /// The message objects, at most [`DC_MAX_MESSAGES_PER_FRAME`].
        messages: Vec<Value>,
    },
    /// One new wire message (unverified).
    MsgNew {
        /// The message object.
        message: Value,
    },
}

/// Why a received DataChannel message is not a frame we act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// Larger than we advertised; the web client would never send it.
    #[error("DataChannel message of {0} bytes is over the {DC_MAX_MESSAGE_SIZE}-byte limit")]
    TooLarge(usize),
    /// Not a JSON object, or no string `type` (the web client ignores these).
    #[error("DataChannel message is not a JSON object with a type")]
    NotAFrame,
    /// A `type` we do not know (ignored, as the web client does).
    #[error("unknown DataChannel frame type {0:?}")]
    UnknownType(String),
    /// A known frame with a missing or malformed field.
    #[error("malformed {frame} frame: {why}")]
    Malformed {
        /// The frame type.
        frame: &'static str,
        /// What is wrong, in words.
        why: &'static str,
    },
}

impl DcFrame {
    /// Reads one text DataChannel message.
    pub fn parse(text: &str) -> Result<DcFrame, FrameError> {
        if text.len() > DC_MAX_MESSAGE_SIZE {
            return Err(FrameError::TooLarge(text.len()));
        }
        let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(text) else {
            return Err(FrameError::NotAFrame);
        };
        let Some(Value::String(kind)) = obj.remove("type") else {
            return Err(FrameError::NotAFrame);
        };
        match kind.as_str() {
            "HELLO" => {
                let node_id = short_string(&obj, "node_id", "HELLO")?;
                let circle_hint = short_string(&obj, "circle_hint", "HELLO")?;
                let nonce = short_string(&obj, "nonce", "HELLO")?;
                if !is_lower_hex(&nonce, DC_NONCE_BYTES * 2) {
                    return Err(malformed("HELLO", "nonce must be 32 lowercase hex digits"));
                }
                Ok(DcFrame::Hello {
                    node_id,
                    circle_hint,
                    nonce,
                })
            }
            "AUTH" => {
                let auth = short_string(&obj, "auth", "AUTH")?;
                if auth.len() != AUTH_HEX_LEN {
                    return Err(malformed("AUTH", "auth must be 64 hex digits"));
                }
                Ok(DcFrame::Auth { auth })
            }
            "MSGS_SEND" => match obj.remove("messages") {
                Some(Value::Array(messages)) if messages.len() <= DC_MAX_MESSAGES_PER_FRAME => {
                    Ok(DcFrame::MsgsSend { messages })
                }
                Some(Value::Array(_)) => Err(malformed("MSGS_SEND", "too many messages")),
                _ => Err(malformed("MSGS_SEND", "messages must be an array")),
            },
            "MSG_NEW" => match obj.remove("message") {
                Some(message @ Value::Object(_)) => Ok(DcFrame::MsgNew { message }),
                _ => Err(malformed("MSG_NEW", "message must be an object")),
            },
            _ => Err(FrameError::UnknownType(kind.chars().take(32).collect())),
        }
    }

    /// The frame as the compact JSON text sent on the channel.
    pub fn to_text(&self) -> String {
        let v = match self {
            DcFrame::Hello {
                node_id,
                circle_hint,
                nonce,
            } => {
                json!({"type": "HELLO", "node_id": node_id, "circle_hint": circle_hint, "nonce": nonce})
            }
            DcFrame::Auth { auth } => json!({"type": "AUTH", "auth": auth}),
            DcFrame::MsgsSend { messages } => json!({"type": "MSGS_SEND", "messages": messages}),
            DcFrame::MsgNew { message } => json!({"type": "MSG_NEW", "message": message}),
        };
        v.to_string()
    }
}

fn malformed(frame: &'static str, why: &'static str) -> FrameError {
    FrameError::Malformed { frame, why }
}

/// A string field of at most [`MAX_ID_BYTES`] bytes.
fn short_string(
    obj: &serde_json::Map<String, Value>,
    key: &'static str,
    frame: &'static str,
) -> Result<String, FrameError> {
    match obj.get(key) {
        Some(Value::String(s)) if s.len() <= MAX_ID_BYTES => Ok(s.clone()),
        Some(Value::String(_)) => Err(malformed(frame, "a field is too long")),
        _ => Err(malformed(frame, "a field is missing or not a string")),
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The MSGS_SEND frames carrying `messages` (already-encoded JSON objects, in the order they
/// should arrive), each frame's text at most `max_bytes` long. An empty batch is one frame
/// with no messages (the web client sends that too). A single message too large for any
/// frame is left out and counted in the second value: the browser could not take it either.
pub fn msgs_send_frames(messages: &[String], max_bytes: usize) -> (Vec<String>, usize) {
    const HEAD: &str = r#"{"type":"MSGS_SEND","messages":["#;
    const TAIL: &str = "]}";
    let mut frames = Vec::new();
    let mut skipped = 0;
    let mut cur = String::from(HEAD);
    let mut count = 0usize;
    for m in messages {
        let extra = m.len() + usize::from(count > 0);
        if HEAD.len() + m.len() + TAIL.len() > max_bytes {
            skipped += 1;
            continue;
        }
        if cur.len() + extra + TAIL.len() > max_bytes {
            cur.push_str(TAIL);
            frames.push(std::mem::replace(&mut cur, String::from(HEAD)));
            count = 0;
        }
        if count > 0 {
            cur.push(',');
        }
        cur.push_str(m);
        count += 1;
    }
    if count > 0 || frames.is_empty() {
        cur.push_str(TAIL);
        frames.push(cur);
    }
    (frames, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_and_auth_round_trip() {
        let hello = DcFrame::Hello {
            node_id: "abcdef0123456789abcdef01".into(),
            circle_hint: "e03c84dccc271635".into(),
            nonce: "00112233445566778899aabbccddeeff".into(),
        };
        assert_eq!(DcFrame::parse(&hello.to_text()), Ok(hello));
        let auth = DcFrame::Auth {
            auth: "8".repeat(64),
        };
        assert_eq!(DcFrame::parse(&auth.to_text()), Ok(auth));
    }

    #[test]
    fn junk_and_unknown_types_are_refused_without_panicking() {
        assert_eq!(DcFrame::parse("not json"), Err(FrameError::NotAFrame));
        assert_eq!(DcFrame::parse("[1,2]"), Err(FrameError::NotAFrame));
        assert_eq!(
            DcFrame::parse(r#"{"t":"HELLO"}"#),
            Err(FrameError::NotAFrame)
        );
        assert!(matches!(
            DcFrame::parse(r#"{"type":"PING"}"#),
            Err(FrameError::UnknownType(t)) if t == "PING"
        ));
        let upper = r#"{"type":"HELLO","node_id":"n","circle_hint":"h","nonce":"00112233445566778899AABBCCDDEEFF"}"#;
        assert!(matches!(
            DcFrame::parse(upper),
            Err(FrameError::Malformed { .. })
        ));
        let long_id = format!(
            r#"{{"type":"HELLO","node_id":"{}","circle_hint":"h","nonce":"{}"}}"#,
            "n".repeat(MAX_ID_BYTES + 1),
            "0".repeat(32)
        );
        assert!(matches!(
            DcFrame::parse(&long_id),
            Err(FrameError::Malformed { .. })
        ));
        let huge = format!(
            r#"{{"type":"MSG_NEW","message":"{}"}}"#,
            "x".repeat(DC_MAX_MESSAGE_SIZE)
        );
        assert_eq!(DcFrame::parse(&huge), Err(FrameError::TooLarge(huge.len())));
        let many = format!(
            r#"{{"type":"MSGS_SEND","messages":[{}]}}"#,
            vec!["{}"; DC_MAX_MESSAGES_PER_FRAME + 1].join(",")
        );
        assert!(matches!(
            DcFrame::parse(&many),
            Err(FrameError::Malformed { .. })
        ));
    }

    #[test]
    fn batches_are_cut_into_frames_that_fit_and_keep_their_order() {
        let msgs: Vec<String> = (0..300)
            .map(|i| format!(r#"{{"msg_id":"m{i:04}","pad":"{}"}}"#, "p".repeat(900)))
            .collect();
        let (frames, skipped) = msgs_send_frames(&msgs, 65_536);
        assert_eq!(skipped, 0);
        assert!(frames.len() >= 5, "300 KB of messages need several frames");
        let mut seen = Vec::new();
        for f in &frames {
            assert!(f.len() <= 65_536);
            let DcFrame::MsgsSend { messages } = DcFrame::parse(f).expect("frame parses") else {
                panic!("not MSGS_SEND");
            };
            seen.extend(
                messages
                    .into_iter()
                    .map(|m| m["msg_id"].as_str().unwrap().to_string()),
            );
        }
        let want: Vec<String> = (0..300).map(|i| format!("m{i:04}")).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn an_empty_batch_is_one_empty_frame_and_an_oversized_message_is_skipped() {
        assert_eq!(
            msgs_send_frames(&[], 65_536),
            (vec![r#"{"type":"MSGS_SEND","messages":[]}"#.to_string()], 0)
        );
        let big = format!(r#"{{"x":"{}"}}"#, "y".repeat(70_000));
        let (frames, skipped) = msgs_send_frames(&[big, "{}".into()], 65_536);
        assert_eq!(skipped, 1);
        assert_eq!(
            frames,
            vec![r#"{"type":"MSGS_SEND","messages":[{}]}"#.to_string()]
        );
    }
}
