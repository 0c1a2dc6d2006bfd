//! The relay's bounds: the contract's numbers (as the reference relays apply them; from
//! `felund_wire::relay_api::limits`) and the server's own defaults.

// The relay contract's numbers (what clients may send and what answers hold) are defined
// once, in felund-wire, and used here under the same names.
pub use felund_wire::relay_api::limits::*;

/// At most this many payload bytes per `GET /v1/signal` (sixteen of the largest payloads;
/// clients page on with `since_id`).
pub const SIGNAL_POLL_MAX_BYTES: usize = 16 * SIGNAL_PAYLOAD_MAX;
/// Longest client-address header (`X-Forwarded-For`, `X-Real-IP`) read (bytes).
pub const MAX_FORWARDED_LEN: usize = 512;

/// Default: most distinct signing keys live in one circle hint (an honest circle has one).
pub const DEFAULT_MAX_KEYS_PER_HINT: u32 = 32;
/// Default: most live registrations under one key in one hint.
pub const DEFAULT_MAX_NODES_PER_KEY: u32 = 256;
/// Default: most signing keys one client address may register under in one hint.
pub const DEFAULT_MAX_KEYS_PER_ADDRESS: u32 = 1;
/// Default: most payload bytes in one `GET /v1/messages` answer (`more`/`cursor` page on).
pub const DEFAULT_PULL_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Default: most payload bytes in the WebSocket replay on connect.
pub const DEFAULT_WS_REPLAY_MAX_BYTES: usize = 1024 * 1024;
/// Default: most WebSocket subscribers per circle hint and signing key (unsigned ones count as
/// one key of their own).
pub const DEFAULT_WS_MAX_PER_HINT: u32 = 256;
/// Default: most WebSocket subscribers per client address.
pub const DEFAULT_WS_MAX_PER_ADDRESS: u32 = 128;
/// Default: write requests (register, unregister, message push, signal post) per client
/// address per minute.
pub const DEFAULT_WRITE_REQUESTS_PER_MINUTE: u32 = 1200;
/// Default: request body bytes written per client address per minute.
pub const DEFAULT_WRITE_BYTES_PER_MINUTE: u32 = 32 * 1024 * 1024;
/// Default: signal POSTs per client address per signal window (five web clients' budget).
pub const DEFAULT_SIGNAL_POSTS_PER_ADDRESS: u32 = 5 * SIGNAL_RATE_LIMIT;
/// Default: seconds a client may take to send a request's headers.
pub const DEFAULT_HEADER_TIMEOUT_S: u64 = 10;
/// Default: seconds a client may take to send a request's whole body.
pub const DEFAULT_BODY_TIMEOUT_S: u64 = 30;
/// Default: seconds a connection may make no progress reading or writing before it is closed.
pub const DEFAULT_IDLE_TIMEOUT_S: u64 = 60;
/// File descriptors kept back from the connection budget (database files, stdio, listener,
/// runtime), besides one per database pool connection.
pub const RESERVED_FDS: u64 = 64;
/// Default share of the connection budget (percent) for WebSocket subscribers; the rest is for
/// HTTP connections.
pub const DEFAULT_WS_SHARE_PERCENT: u8 = 25;
/// Largest WebSocket share of the connection budget (percent): HTTP always keeps some.
pub const MAX_WS_SHARE_PERCENT: u8 = 90;
/// Longest pause of the accept loop after an accept error.
pub const MAX_ACCEPT_BACKOFF_MS: u64 = 1000;
/// Default: how long a WebSocket send may take before the subscriber is dropped (seconds).
pub const DEFAULT_WS_SEND_TIMEOUT_S: u64 = 10;
/// A WebSocket subscriber's push queue holds at most this many events...
pub const WS_QUEUE_MAX_EVENTS: usize = 1024;
/// ...and at most this many bytes of frames (one event is always taken, whatever its size); a
/// subscriber further behind is closed ("push lagged") and catches up on reconnect.
pub const WS_QUEUE_MAX_BYTES: usize = 8 * 1024 * 1024;
/// A push or replay frame carries at most this many bytes of message objects (a larger object
/// goes alone): a socket's write buffer keeps up to about twice its largest frame.
pub const WS_FRAME_MAX_BYTES: usize = 16 * 1024;
/// Largest frame (and message) accepted from a WebSocket client, bytes: clients only send
/// `PONG`s and control frames, and the socket's read buffer may grow to this.
pub const WS_MAX_CLIENT_FRAME: usize = 4 * 1024;
/// Read buffer of a WebSocket, bytes: what each idle socket keeps allocated for reading (the
/// library's default is 128 KiB, zeroed on every read attempt).
pub const WS_READ_BUFFER_BYTES: usize = 512;

/// A readiness outcome (`GET /v1/ready`) is reused for this many milliseconds: hammering the
/// endpoint costs the database at most one query per interval.
pub const READY_CACHE_MS: u64 = 1000;
/// The readiness check's database query may take this many milliseconds before the instance
/// counts as not ready.
pub const READY_TIMEOUT_MS: u64 = 2000;
/// Most connections the metrics listener serves at once (it is for a scraper or two).
pub const METRICS_MAX_CONNECTIONS: usize = 16;
