//! Every bound the client helpers apply, in one place. The Python package
//! (`python/felund/limits.py`) uses the same values.

use std::time::Duration;

/// The API's own bounds (page sizes), shared with felundd.
pub use felund_proto::limits::*;

/// First pause before resubscribing after the event stream broke; doubles per failure
/// (felund's one retry policy, [`crate::retry::Backoff`]).
pub const RECONNECT_INITIAL: Duration = Duration::from_millis(100);

/// Longest pause between resubscribe attempts while felundd is away.
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// A bot answers one member at most this many commands in a burst...
pub const BOT_BURST_PER_AUTHOR: u32 = 10;

/// ...and then one command per this long: a member cannot make the bot write faster.
pub const BOT_REFILL_PER_AUTHOR: Duration = Duration::from_secs(3);

/// A bot answers everyone together at most this many commands in a burst (members
/// can write under any number of node ids, so per-author buckets alone do not bound
/// the bot's output)...
pub const BOT_BURST_TOTAL: u32 = 60;

/// ...and then one command per this long.
pub const BOT_REFILL_TOTAL: Duration = Duration::from_millis(500);

/// How many authors' buckets a bot keeps; the least recently seen is forgotten.
pub const BOT_TRACKED_AUTHORS: usize = 1000;
