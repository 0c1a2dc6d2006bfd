//! Sizes and counts that matter for interoperating with reference nodes (docs/protocol.md §6–§6.8),
//! plus the caps this crate applies to received messages.

/// Longest plain (unencrypted) frame line, newline included, that a reference node writes or
/// reads: its `MSG_MAX` of 16 KiB (docs/protocol.md §6).
pub const MAX_PLAIN_LINE: usize = 16_384;

/// Longest encrypted frame line a reference node will write (`2 × MSG_MAX`, docs/protocol.md §6).
/// Anything we send to a reference peer must fit, or that peer's session fails.
pub const MAX_ENCRYPTED_LINE: usize = 32_768;

/// The reference reads encrypted lines up to its asyncio stream limit of 64 KiB; a longer line
/// kills the session (docs/protocol.md §6).
pub const MAX_REFERENCE_READ_LINE: usize = 65_536;

/// The relay refuses a message whose `text` exceeds 4,096 bytes (docs/protocol.md §9); keeping
/// texts within it also keeps every message small enough to travel alone in one frame (docs/protocol.md §6.8).
pub const MAX_TEXT_BYTES: usize = 4_096;

/// The reference's default TCP port (docs/protocol.md §6).
pub const DEFAULT_PORT: u16 = 9999;

/// A reference responder answers a larger encrypted MSGS_REQ with `Internal error` because its
/// MSGS_SEND would exceed its own line limit; ~50 ids per session works (docs/protocol.md §6.8).
pub const REFERENCE_MAX_REQ_IDS_ENCRYPTED: usize = 50;

/// Most entries a node puts in a PEERS frame, and most it takes from one it receives.
pub const MAX_PEERS_PER_FRAME: usize = 20;

/// Most ids of one received `MSGS_REQ` that are looked up and answered; the reference sends
/// far fewer (its lines hold about 1,800), so more only costs the answering side.
pub const MAX_REQ_IDS_SERVED: usize = 10_000;

/// Cap on `msg_id` in received messages. Gossip accepts any string but the relay allows at most
/// 64 characters; 128 leaves room while refusing absurd ids before they reach storage.
pub const MAX_MSG_ID_BYTES: usize = 128;

/// Cap on `circle_id`, `author_node_id` and `channel_id` in received messages (the relay
/// accepts node ids up to 128 characters).
pub const MAX_ID_BYTES: usize = 128;

/// Cap on a received message's `text`. Larger messages cannot cross a reference frame anyway
/// (docs/protocol.md §6.8); this bounds what a relay or anchor can make us store.
pub const MAX_RECEIVED_TEXT_BYTES: usize = 65_536;

/// Cap on a received `display_name`. Names are shown truncated to 40 characters, but the MAC
/// covers the full name, so we must accept longer ones; 1 KiB is far above any real client.
pub const MAX_DISPLAY_NAME_BYTES: usize = 1_024;

/// Cap on a received `mac` (a real one is 64 hex characters).
pub const MAX_MAC_BYTES: usize = 128;

/// Cap on the short envelope fields `alg`, `key_id` and `nonce` (real ones are 11, 7 and 16
/// characters).
pub const MAX_ENC_FIELD_BYTES: usize = 64;

/// Cap on an envelope's base64 `ciphertext`: enough for a [`MAX_RECEIVED_TEXT_BYTES`] text and
/// a [`MAX_DISPLAY_NAME_BYTES`] name even when every byte needs a six-character JSON escape,
/// after base64's 4/3 growth (about 530 KB), rounded up to 1 MiB.
pub const MAX_ENC_CIPHERTEXT_BYTES: usize = 1_048_576;

/// Longest `created_ts` in JSON: a non-negative `i64` has at most 19 digits.
const MAX_TS_DIGITS: usize = 19;

/// JSON escaping can grow a string six-fold: Python's `ensure_ascii` (and serde_json for
/// control characters) writes one byte as `\u00XX`; no character grows more per byte.
const JSON_ESCAPE_GROWTH: usize = 6;

/// AES-GCM tag appended to the ciphertext.
const GCM_TAG_BYTES: usize = 16;

/// Standard base64 of a 12-byte nonce.
const NONCE_BASE64_BYTES: usize = 16;

/// Length of standard (padded) base64 for `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// The largest envelope plaintext `{"display_name":…,"text":…}`: a [`MAX_DISPLAY_NAME_BYTES`]
/// name and a [`MAX_TEXT_BYTES`] text, every byte escaped.
const MAX_ENVELOPE_PLAINTEXT_BYTES: usize = r#"{"display_name":"","text":""}"#.len()
    + JSON_ESCAPE_GROWTH * (MAX_DISPLAY_NAME_BYTES + MAX_TEXT_BYTES);

/// The largest `enc` object sealing [`MAX_ENVELOPE_PLAINTEXT_BYTES`].
const MAX_ENVELOPE_JSON_BYTES: usize =
    r#"{"alg":"AES-256-GCM","key_id":"epoch-0","nonce":"","ciphertext":""}"#.len()
        + NONCE_BASE64_BYTES
        + base64_len(MAX_ENVELOPE_PLAINTEXT_BYTES + GCM_TAG_BYTES);

/// The largest message object a relay must store: the relay envelope
/// `{msg_id, circle_id, channel_id, author_node_id, created_ts, enc}` that reference clients
/// and felundd push (docs/protocol.md §3–§4), as compact JSON, with a [`MAX_TEXT_BYTES`] text and a
/// [`MAX_DISPLAY_NAME_BYTES`] name sealed inside and every id at its cap, all escaped
/// six-fold. About 44 KB; an ordinary 4,096-byte text of two-byte characters makes ~17 KB.
/// felund-relay refuses larger objects, so a client must not push them.
pub const MAX_RELAY_OBJECT_BYTES: usize =
    r#"{"msg_id":"","circle_id":"","channel_id":"","author_node_id":"","created_ts":,"enc":}"#
        .len()
        + JSON_ESCAPE_GROWTH * (MAX_MSG_ID_BYTES + 3 * MAX_ID_BYTES)
        + MAX_TS_DIGITS
        + MAX_ENVELOPE_JSON_BYTES;

/// The `a=max-message-size` a DataChannel peer advertises in its SDP, and so the largest
/// DataChannel message it reassembles (docs/protocol.md §13.3). A browser whose 100 newest messages
/// hold a few 4 KB texts sends a MSGS_SEND far above 64 KiB; advertising this much lets it.
pub const DC_MAX_MESSAGE_SIZE: usize = 262_144;

/// Largest DataChannel frame we send: Chrome refuses to send (and some stacks to receive)
/// more than 64 KiB when the remote SDP names no `a=max-message-size`, and the web client
/// handles each MSGS_SEND frame on its own, so a batch is cut into frames of at most this.
pub const DC_MAX_SENT_FRAME_BYTES: usize = 65_536;

/// Most message objects taken from one received MSGS_SEND frame. An honest frame of
/// [`DC_MAX_MESSAGE_SIZE`] holds at most about 1,000 of the smallest real envelopes.
pub const DC_MAX_MESSAGES_PER_FRAME: usize = 1_024;

/// The DataChannel handshake nonce: 16 random bytes, sent as 32 lowercase hex characters.
pub const DC_NONCE_BYTES: usize = 16;

/// Longest signal `payload` a relay stores (characters); an SDP or candidate payload longer
/// than this was not written by an honest peer.
pub const MAX_SIGNAL_PAYLOAD_CHARS: usize = 65_536;
