//! Every bound the client helpers apply, in one place. The Python package
//! (`python/felund/limits.py`) uses the same values.

use std::time::Duration;

/// First pause before resubscribing after the event stream broke; doubles per failure.
pub const RECONNECT_INITIAL: Duration = Duration::from_millis(100);

/// Longest pause between resubscribe attempts while felundd is away.
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// After a reconnect, messages created up to this many seconds before the stream
/// broke are looked up again: events in flight when felundd stopped, and authors
/// whose clocks run a little behind ours.
pub const GAP_SLACK_S: i64 = 10;

/// At most this many of the newest messages per channel are looked up after a
/// reconnect (one page; felundd's largest).
pub const GAP_FILL_PAGE: u32 = 1000;

/// How many recently delivered message ids are remembered, so a message seen both
/// live and in a gap fill is delivered once.
pub const SEEN_IDS: usize = 10_000;
