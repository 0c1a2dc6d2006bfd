//! The numbers of the relay contract, as the reference relays apply them:
//! what a relay accepts and how much it answers. A client stays within them; a relay refuses
//! what exceeds them.

/// `version` reported by `GET /v1/health` (what the reference PHP relay reports).
pub const API_VERSION: &str = "0.1.0";

/// Signature timestamps may differ from server time by at most this many seconds, and a nonce
/// is remembered for this long.
pub const SIGNATURE_WINDOW_S: i64 = 300;

/// node_id and circle_hint length bounds (bytes) on the signed API.
pub const ID_MIN_LEN: usize = 8;
/// Upper bound of node_id and circle_hint (bytes).
pub const ID_MAX_LEN: usize = 128;

/// Registration TTL bounds and default, seconds.
pub const TTL_MIN_S: i64 = 30;
/// Largest registration TTL, seconds.
pub const TTL_MAX_S: i64 = 600;
/// Registration TTL used when the body has none, seconds.
pub const TTL_DEFAULT_S: i64 = 120;
/// At most this many endpoints per registration.
pub const MAX_ENDPOINTS: usize = 16;
/// Endpoint host length bound (bytes).
pub const MAX_HOST_LEN: usize = 255;
/// Most transports a reader takes from one peer record's capabilities (relays keep only
/// `tcp` and `ws`; a longer list was not written by an honest client).
pub const MAX_CAPABILITY_TRANSPORTS: usize = 16;

/// `GET /v1/peers` limit: default and largest value (smaller than 1 is raised to 1).
pub const PEERS_LIMIT_DEFAULT: i64 = 50;
/// Largest `GET /v1/peers` limit.
pub const PEERS_LIMIT_MAX: i64 = 200;

/// At most this many messages per `POST /v1/messages`.
pub const MAX_MESSAGES_PER_POST: usize = 50;
/// msg_id length bounds (bytes).
pub const MSG_ID_MIN_LEN: usize = 8;
/// Longest msg_id (bytes).
pub const MSG_ID_MAX_LEN: usize = 64;
/// A message `text` longer than this many bytes is refused.
pub use crate::limits::MAX_TEXT_BYTES;
/// Largest stored message object (bytes), whole: the largest relay envelope a client can
/// legitimately make (see [`crate::limits::MAX_RELAY_OBJECT_BYTES`]).
pub const MAX_OBJECT_BYTES: usize = crate::limits::MAX_RELAY_OBJECT_BYTES;
/// Messages are kept this long after they were stored (30 days).
pub const MESSAGE_RETENTION_S: i64 = 30 * 24 * 3600;
/// `GET /v1/messages` limit: default and largest value (smaller than 1 is raised to 1).
pub const PULL_LIMIT_DEFAULT: i64 = 200;
/// Largest `GET /v1/messages` limit.
pub const PULL_LIMIT_MAX: i64 = 500;

/// On WebSocket connect, messages stored in the last this many seconds are replayed...
pub const WS_REPLAY_WINDOW_S: i64 = 120;
/// ...at most this many of them.
pub const WS_REPLAY_MAX: u32 = 200;

/// Signal session_id length bounds (characters).
pub const SIGNAL_SESSION_MIN: usize = 8;
/// Longest signal session_id (characters).
pub const SIGNAL_SESSION_MAX: usize = 256;
/// Node ids and circle_hint in signals: at least this many characters.
pub const SIGNAL_ID_MIN: usize = 8;
/// Upper bound of the signal id fields (`from_node_id`, `to_node_id`, `circle_hint`; characters).
pub const SIGNAL_ID_MAX: usize = ID_MAX_LEN;
/// Longest signal payload (characters).
pub const SIGNAL_PAYLOAD_MAX: usize = 65_536;
/// Longest TTL of candidate signals, seconds.
pub const SIGNAL_TTL_CANDIDATE_S: i64 = 60;
/// Longest TTL of the other signals, seconds.
pub const SIGNAL_TTL_OTHER_S: i64 = 120;
/// Shortest signal TTL, seconds.
pub const SIGNAL_TTL_MIN_S: i64 = 10;
/// At most this many signals per `GET /v1/signal`.
pub const SIGNAL_POLL_LIMIT: u32 = 200;
/// Signal rate limit: this many POSTs per window per from_node_id...
pub const SIGNAL_RATE_LIMIT: u32 = 20;
/// ...per window of this many seconds (also the `Retry-After` value).
pub const SIGNAL_RATE_WINDOW_S: i64 = 10;

/// Longest `X-Felund-Nonce` a relay accepts (bytes); the reference sends 32 hex characters.
pub const MAX_NONCE_LEN: usize = 64;
/// Longest `X-Felund-Ts` a relay accepts (bytes).
pub const MAX_TS_HEADER_LEN: usize = 24;
/// Length of `X-Felund-Signature`: hex HMAC-SHA256.
pub const SIGNATURE_HEX_LEN: usize = 64;
