//! felundd's own resource bounds, one constant per limit (the protocol's limits are
//! in `felund_wire::limits`). Every relay is untrusted, so each relay answer is
//! bounded before it is read, and each object in it before it is parsed. Limits that
//! belong to one module's logic and nowhere else (a timeout of one exchange, say)
//! stay next to it.

use felund_wire::limits::MAX_RELAY_OBJECT_BYTES;
use felund_wire::relay_api::limits::{MAX_MESSAGES_PER_POST, PEERS_LIMIT_MAX, PULL_LIMIT_MAX};

/// Largest pull page felundd asks a relay for: the relays' maximum (which is also how many
/// objects the relay contract's readers take from one answer).
pub const RELAY_PULL_LIMIT: u32 = PULL_LIMIT_MAX as u32;

/// Most messages per push request: what the relays accept.
pub const RELAY_PUSH_BATCH: usize = MAX_MESSAGES_PER_POST;

/// Largest answer read from a relay, as an HTTP body or as one WebSocket message: a full pull
/// page of [`RELAY_PULL_LIMIT`] objects of [`MAX_RELAY_OBJECT_BYTES`] each, plus an eighth
/// for the page's own JSON and slack (about 25 MB). A legitimate page never comes near it; a
/// relay that sends more gets a `TooLarge` error after at most this many bytes, and the puller
/// asks for smaller pages.
pub const MAX_RELAY_ANSWER_BYTES: usize =
    RELAY_PULL_LIMIT as usize * MAX_RELAY_OBJECT_BYTES * 9 / 8;

/// Peers felundd asks for in one `/peers` request: the relays' maximum, which is also how
/// many records the relay contract's reader takes from one answer.
pub const RELAY_PEERS_LIMIT: i64 = PEERS_LIMIT_MAX;

/// How much of a relay's error answer is read, to quote it in the error.
pub const RELAY_ERROR_QUOTED_BYTES: usize = 200;

/// WebSocket-pushed batches waiting for their circle's sync task. Small, so that a relay
/// pushing faster than felundd stores is slowed down by TCP instead of filling memory.
pub const RELAY_PUSHED_QUEUE: usize = 4;

// A full page of the largest legitimate objects fits one answer, and the cap stays far below
// what a flood of megabyte objects would need. Checked when compiling.
const _: () = assert!(RELAY_PULL_LIMIT as usize * MAX_RELAY_OBJECT_BYTES < MAX_RELAY_ANSWER_BYTES);
const _: () = assert!(MAX_RELAY_ANSWER_BYTES < 25 * 1024 * 1024);

/// Prepared statements kept per SQLite connection. Larger than the set of hot
/// statements (ingest, sync, paging), so none of them is ever prepared again.
pub const STATEMENT_CACHE: usize = 64;

/// Most glibc malloc arenas. glibc makes up to eight per core, one per thread that
/// meets contention, and each keeps the memory it ever grew to; two (the cores of
/// the standard machine) keep contention low without that spread.
pub const MALLOC_ARENAS: i32 = 2;

/// Allocations of at least this many bytes get their own mapping, returned to the
/// system when freed. Fixing it stops glibc from raising it (up to 32 MiB) after a
/// burst freed large buffers, which would keep later large buffers in the heap.
pub const MALLOC_MMAP_THRESHOLD: i32 = 128 * 1024;

/// Units of work (messages stored or sent) after which free memory is returned to
/// the system once the daemon is quiet (see `memory`).
pub const TRIM_AFTER_WORK: u64 = 1_000;

/// Most threads for blocking work (store reads, file I/O). Reads share one
/// connection, so more threads would only wait, each with its own stack.
pub const BLOCKING_THREADS: usize = 16;

/// Most events published one by one for a bulk change (an import of a whole state
/// file); the rest are announced as missed, which makes subscribers re-list. Without
/// it, importing 100,000 messages would hold 100,000 events in memory.
pub const BULK_EVENTS: usize = 1_024;

/// Sends of one `SendMessages` stream waiting for their commit at once: enough to
/// fill the writer's group commits, bounded so one client cannot queue without end.
pub const SEND_WINDOW: usize = 256;

/// Entries one store write remembers about the authors it has recorded (see
/// `node::ingest::Memo`); past it, the memo starts over.
pub const INGEST_MEMO: usize = 1_024;

/// Batches of received messages queued on the store at once by one sync session:
/// the next batch is read and verified while the previous ones commit.
pub const INGEST_PIPELINE: usize = 4;

/// SQLite page cache per connection, in KiB. Sized to hold the msg_id index of a few
/// hundred thousand messages, whose pages every insert and lookup touches at random;
/// the default (2 MiB) makes each of them a read from the file at 100,000 messages.
/// Pages are only held while in use: `memory` hands them back after a burst.
pub const SQLITE_CACHE_KIB: i64 = 16 * 1024;

/// Most DataChannel sessions (browser peers, connected or connecting) at once, over all
/// relays and circles. Anyone who knows our node id can offer to us, so this bounds the
/// sockets, DTLS state and memory strangers can make felundd hold.
pub const DC_MAX_SESSIONS: usize = 32;

/// Most DataChannel sessions meant for one circle at once, so one busy circle (or one
/// flooding its hint) leaves room for the others.
pub const DC_MAX_SESSIONS_PER_CIRCLE: usize = 16;

/// Messages sent to a browser when its channel opens, newest of the circle, oldest first.
/// The web client sends its 100 newest; sending more lets a browser that was away longer
/// catch up (it takes several MSGS_SEND frames).
pub const DC_HISTORY_MESSAGES: usize = 1_000;

/// Largest `/v1/signal` poll answer read: sixteen of the largest payloads plus slack. A relay
/// that holds more for us answers the rest on the next poll (felund-relay caps its answers
/// so). An answer that goes on past this (a flood of signals whose JSON escaping inflates
/// them, or a relay that caps its pages by count only) is read up to here and its complete
/// signals taken, so the next poll goes on after them instead of memory filling up or the
/// poll failing for good.
pub const DC_MAX_SIGNAL_ANSWER_BYTES: usize =
    17 * felund_wire::limits::MAX_SIGNAL_PAYLOAD_CHARS * 2;

/// Offers from not-yet-discovered nodes held until the next browser discovery (see
/// `webrtc::held`). A browser registers and offers at once, so its first offer may come
/// before felundd may ask the relay again; strangers' offers are dropped after that one
/// look, and past this many the oldest go first.
pub const DC_MAX_HELD_OFFERS: usize = 32;

/// Remote ICE candidates accepted per session; a browser trickles one per interface
/// address, so a few is honest and hundreds is an attack on our check list.
pub const DC_MAX_REMOTE_CANDIDATES: usize = 16;

/// Bytes of frames queued for one browser (beyond what SCTP buffers). A peer that reads
/// slower than its circle writes is disconnected past this, and gets the history again when
/// it reconnects, instead of making felundd hold an ever longer queue.
pub const DC_MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

/// Reference peers whose holdings the gossip edge remembers (see `gossip::holdings`). An
/// authenticated member may claim a new node id every session, so the table is bounded:
/// past this many the least recently updated peer is forgotten (it only loses a hint).
pub const HOLDINGS_PEERS: usize = 64;

/// Message ids remembered per peer: more than a reference node keeps of a circle (1,000).
/// An entry that would grow past it starts over from the latest session's ids.
pub const HOLDINGS_IDS_PER_PEER: usize = 2_048;
