//! The message object every path carries (docs/protocol.md §3) and its authentication (§4).

mod validate;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::envelope::{open, open_all, seal_with_order, Envelope, EnvelopeError};
use crate::ids::CircleSecret;
use crate::json::to_ascii_json_string;
use crate::mac::{hex_eq, hmac_hex};

use validate::Shape;

/// Why a received message object was refused. Nothing that fails is stored or applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    /// The value is not a JSON object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// A required field is absent.
    #[error("message is missing the required field '{0}'")]
    MissingField(&'static str),
    /// A field that must be non-empty is empty.
    #[error("message field '{0}' must not be empty")]
    EmptyField(&'static str),
    /// A field has the wrong JSON type.
    #[error("message field '{field}' must be {expected}")]
    WrongType {
        /// The offending field.
        field: &'static str,
        /// What it should have been, in words.
        expected: &'static str,
    },
    /// An integer field does not fit in a signed 64-bit integer.
    #[error("message field '{0}' is out of range")]
    OutOfRange(&'static str),
    /// A field exceeds this crate's size cap.
    #[error("message field '{field}' is too long (at most {max} bytes)")]
    TooLong {
        /// The offending field.
        field: &'static str,
        /// The cap in bytes.
        max: usize,
    },
    /// The object carries a key outside the ten of docs/protocol.md §3 (quoted, shortened).
    #[error("message has the unknown field {0:?}; reference nodes drop such messages")]
    UnknownField(String),
    /// A relay/anchor object has `"enc": null`, which cannot be decrypted.
    #[error("message has an 'enc' key with a null value")]
    NullEnvelope,
    /// The v1 MAC is empty or wrong.
    #[error("message MAC does not verify (wrong circle secret, or the message was altered)")]
    BadMac,
    /// The operation needs a v2 envelope and the message has none.
    #[error("message has no encrypted envelope")]
    NoEnvelope,
    /// The v2 envelope could not be opened.
    #[error("message envelope: {0}")]
    Envelope(#[from] EnvelopeError),
}

/// One chat message (or control event) as it travels.
///
/// Serialises with the reference's key order and always all ten keys (`enc` as `null` when
/// absent) — reference nodes drop a message that lacks one of them or has any other.
/// Deserialising goes through [`WireMessage::from_value`], so it is strict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireMessage {
    /// Globally unique id; the first message stored under an id wins.
    pub msg_id: String,
    /// The circle it belongs to; must match the session or request it arrived in.
    pub circle_id: String,
    /// The author's node id.
    pub author_node_id: String,
    /// The author's clock, Unix seconds.
    pub created_ts: i64,
    /// The text, or a control event's JSON in `__control`.
    pub text: String,
    /// The channel, as received (never rewritten: the MAC covers it).
    pub channel_id: String,
    /// The author's display name at sending time.
    pub display_name: String,
    /// v1 MAC, lowercase hex; may be empty for envelope-only messages.
    pub mac: String,
    /// 1 = MAC only, 2 = carries an envelope.
    pub schema_version: i64,
    /// The v2 envelope, if any.
    pub enc: Option<Envelope>,
    /// Not a wire key: the author's send time in milliseconds, read from the envelope
    /// when the author sealed one there (felundd does; see [`WireMessage::order_ms`]).
    #[serde(skip)]
    pub sent_ms: Option<i64>,
}

/// The object pushed to relays and anchors: no text, display name or MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayEnvelope {
    /// See [`WireMessage::msg_id`].
    pub msg_id: String,
    /// See [`WireMessage::circle_id`].
    pub circle_id: String,
    /// See [`WireMessage::channel_id`].
    pub channel_id: String,
    /// See [`WireMessage::author_node_id`].
    pub author_node_id: String,
    /// See [`WireMessage::created_ts`].
    pub created_ts: i64,
    /// The sealed display name and text.
    pub enc: Envelope,
}

impl RelayEnvelope {
    /// As a JSON value (keys sorted by `serde_json`; receivers do not care about order).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl WireMessage {
    /// Builds a message to send: MAC **and** envelope over the clear fields, schema version 2.
    /// Every receiving path of the reference accepts this shape (docs/protocol.md §4).
    ///
    /// `nonce` must be 12 fresh random bytes.
    #[allow(clippy::too_many_arguments)] // mirrors the protocol's fields one to one
    pub fn new_authored(
        secret: &CircleSecret,
        msg_id: String,
        circle_id: String,
        channel_id: String,
        author_node_id: String,
        display_name: String,
        created_ts: i64,
        text: String,
        nonce: [u8; 12],
    ) -> WireMessage {
        let ids = (msg_id, circle_id, channel_id, author_node_id);
        Self::authored(secret, ids, display_name, created_ts, None, text, nonce)
    }

    /// [`WireMessage::new_authored`] stamped with the author's send time in milliseconds,
    /// sealed in the envelope (`created_ts` is its second). Receivers that read it order the
    /// messages of one second as they were sent; the reference and the web client ignore it.
    #[allow(clippy::too_many_arguments)] // mirrors the protocol's fields one to one
    pub fn new_authored_at(
        secret: &CircleSecret,
        msg_id: String,
        circle_id: String,
        channel_id: String,
        author_node_id: String,
        display_name: String,
        sent_ms: i64,
        text: String,
        nonce: [u8; 12],
    ) -> WireMessage {
        let ids = (msg_id, circle_id, channel_id, author_node_id);
        let created_ts = sent_ms.div_euclid(1000);
        Self::authored(
            secret,
            ids,
            display_name,
            created_ts,
            Some(sent_ms),
            text,
            nonce,
        )
    }

    fn authored(
        secret: &CircleSecret,
        (msg_id, circle_id, channel_id, author_node_id): (String, String, String, String),
        display_name: String,
        created_ts: i64,
        sent_ms: Option<i64>,
        text: String,
        nonce: [u8; 12],
    ) -> WireMessage {
        let mut msg = WireMessage {
            msg_id,
            circle_id,
            author_node_id,
            created_ts,
            text,
            channel_id,
            display_name,
            mac: String::new(),
            schema_version: 2,
            enc: None,
            sent_ms,
        };
        msg.mac = msg.compute_mac(secret);
        msg.enc = Some(seal_with_order(
            secret,
            &msg.aad(),
            &msg.display_name,
            &msg.text,
            sent_ms,
            nonce,
        ));
        msg
    }

    /// Where this message sorts in its channel, in milliseconds: the author's send time
    /// when it is known and falls in `created_ts`'s second, else the start of that second.
    /// Every node computes the same value, so with `msg_id` as the last tie-break all
    /// nodes show a channel in one order, and one felundd author's messages in the order
    /// they were written (a reference author's messages of one second have no such order).
    pub fn order_ms(&self) -> i64 {
        let second = self.created_ts.saturating_mul(1000);
        match self.sent_ms {
            Some(ms) if ms.div_euclid(1000) == self.created_ts => ms,
            _ => second,
        }
    }

    /// Strictly reads a gossip message object: exactly the keys of docs/protocol.md §3 with the
    /// right types, required ones present and non-empty, within this crate's size caps
    /// (see [`crate::limits`]). Defaults: `channel_id` = `general`, `display_name` and `mac`
    /// empty, `schema_version` 1, `enc` none; an envelope's `alg`/`key_id` default to
    /// `AES-256-GCM`/`epoch-0`.
    ///
    /// This does not authenticate; call [`WireMessage::verify_gossip`] next.
    pub fn from_value(v: &Value) -> Result<WireMessage, MessageError> {
        validate::read(v, Shape::Gossip)
    }

    /// The message as a JSON value with all ten keys.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Length in bytes of the compact ASCII JSON the reference would write for this message,
    /// for fitting messages into frames.
    pub fn encoded_len_ascii(&self) -> usize {
        to_ascii_json_string(self).map_or(0, |s| s.len())
    }

    /// The v1 MAC input: `msg_id|circle_id|channel_id|author_node_id|display_name|created_ts|text`.
    pub fn mac_payload(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.msg_id,
            self.circle_id,
            self.channel_id,
            self.author_node_id,
            self.display_name,
            self.created_ts,
            self.text
        )
    }

    /// The v1 MAC of the current fields (hex HMAC-SHA256 under the raw secret).
    pub fn compute_mac(&self, secret: &CircleSecret) -> String {
        hmac_hex(secret.as_bytes(), self.mac_payload().as_bytes())
    }

    /// Whether `mac` is the v1 MAC of the fields, compared in constant time. An empty MAC never
    /// verifies.
    pub fn verify_mac(&self, secret: &CircleSecret) -> bool {
        !self.mac.is_empty() && hex_eq(&self.compute_mac(secret), &self.mac)
    }

    /// The v2 associated data: `msg_id|circle_id|channel_id|author_node_id|created_ts`.
    pub fn aad(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.msg_id, self.circle_id, self.channel_id, self.author_node_id, self.created_ts
        )
    }

    /// Opens the envelope, returning `(display_name, text)`.
    pub fn open_enc(&self, secret: &CircleSecret) -> Result<(String, String), MessageError> {
        let env = self.enc.as_ref().ok_or(MessageError::NoEnvelope)?;
        Ok(open(secret, &self.aad(), env)?)
    }

    /// Authenticates a message received by gossip (docs/protocol.md §4): with an envelope, it must
    /// open and its display name and text replace the clear ones; without, the v1 MAC must
    /// verify.
    ///
    /// After an envelope opens, `mac` is recomputed over the decrypted fields. The envelope is
    /// what authenticates such a message, and a stale or absent clear MAC would otherwise make
    /// our stored copy fail on any path that checks the MAC.
    pub fn verify_gossip(&mut self, secret: &CircleSecret) -> Result<(), MessageError> {
        if let Some(env) = &self.enc {
            let opened = open_all(secret, &self.aad(), env)?;
            self.display_name = opened.display_name;
            self.text = opened.text;
            self.sent_ms = opened.sent_ms;
            self.mac = self.compute_mac(secret);
            Ok(())
        } else if self.verify_mac(secret) {
            Ok(())
        } else {
            Err(MessageError::BadMac)
        }
    }

    /// Reads and authenticates an object pulled from a relay or anchor (docs/protocol.md §4).
    ///
    /// If the object has an `enc` key it must open: text and display name come from it, the
    /// envelope is kept, `schema_version` becomes 2 and the MAC is recomputed — unlike the
    /// reference, which drops both and can then never forward the message. Otherwise the v1
    /// MAC must verify. Keys other than the ten message keys are ignored, and `text`,
    /// `display_name` and `mac` may be absent, since relay envelopes lack them.
    pub fn verify_relay(v: &Value, secret: &CircleSecret) -> Result<WireMessage, MessageError> {
        let mut msg = validate::read(v, Shape::Relay)?;
        if msg.enc.is_some() {
            msg.verify_gossip(secret)?;
            msg.schema_version = 2;
        } else {
            msg.schema_version = 1;
            if !msg.verify_mac(secret) {
                return Err(MessageError::BadMac);
            }
        }
        Ok(msg)
    }

    /// The relay/anchor envelope object of this message, reusing its envelope; `None` when the
    /// message has no envelope (use [`WireMessage::seal_relay_envelope`] then).
    pub fn relay_envelope(&self) -> Option<RelayEnvelope> {
        self.enc.as_ref().map(|enc| RelayEnvelope {
            msg_id: self.msg_id.clone(),
            circle_id: self.circle_id.clone(),
            channel_id: self.channel_id.clone(),
            author_node_id: self.author_node_id.clone(),
            created_ts: self.created_ts,
            enc: enc.clone(),
        })
    }

    /// [`WireMessage::relay_envelope`] as a JSON value, ready for ANCHOR_PUSH or the relay.
    pub fn to_relay_envelope(&self) -> Option<Value> {
        self.relay_envelope().map(|e| e.to_value())
    }

    /// A relay envelope sealed afresh from the clear fields with `nonce` (as the reference does
    /// on every push); works for v1 messages too.
    pub fn seal_relay_envelope(&self, secret: &CircleSecret, nonce: [u8; 12]) -> RelayEnvelope {
        RelayEnvelope {
            msg_id: self.msg_id.clone(),
            circle_id: self.circle_id.clone(),
            channel_id: self.channel_id.clone(),
            author_node_id: self.author_node_id.clone(),
            created_ts: self.created_ts,
            enc: seal_with_order(
                secret,
                &self.aad(),
                &self.display_name,
                &self.text,
                self.sent_ms,
                nonce,
            ),
        }
    }
}

impl<'de> Deserialize<'de> for WireMessage {
    /// Strict, like [`WireMessage::from_value`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        WireMessage::from_value(&v).map_err(serde::de::Error::custom)
    }
}
