//! Caps on what felundd reads from relays, one constant per limit. Every relay is untrusted:
//! the reference relays store whatever anyone sends under a circle's hint, and a relay may be
//! hostile itself, so each answer is bounded before it is read, and each object in it before
//! it is parsed.
//!
//! Protocol sizes shared with other crates (the largest legitimate message object, text and
//! field caps) live in [`felund_wire::limits`].

use felund_wire::limits::MAX_RELAY_OBJECT_BYTES;

/// Largest pull page felundd asks a relay for (the reference relays' maximum).
pub const RELAY_PULL_LIMIT: u32 = 500;

/// Most messages per push request (the relays refuse more).
pub const RELAY_PUSH_BATCH: usize = 50;

/// Largest answer read from a relay, as an HTTP body or as one WebSocket message: a full pull
/// page of [`RELAY_PULL_LIMIT`] objects of [`MAX_RELAY_OBJECT_BYTES`] each, plus an eighth
/// for the page's own JSON and slack (about 25 MB). A legitimate page never comes near it; a
/// relay that sends more gets a `TooLarge` error after at most this many bytes, and the puller
/// asks for smaller pages.
pub const MAX_RELAY_ANSWER_BYTES: usize =
    RELAY_PULL_LIMIT as usize * MAX_RELAY_OBJECT_BYTES * 9 / 8;

/// Most message objects accepted in one relay answer (a pull page or a pushed frame): never
/// more than felundd asks for. A relay that sends more is answering something else.
pub const MAX_RELAY_OBJECTS_PER_ANSWER: usize = RELAY_PULL_LIMIT as usize;

/// Peers felundd asks for, and takes from, one `/peers` answer (the relays' maximum).
pub const RELAY_PEERS_LIMIT: usize = 200;

/// Endpoints taken from one peer record (the relays refuse more at registration).
pub const RELAY_ENDPOINTS_PER_PEER: usize = 16;

/// How much of a relay's error answer is read, to quote it in the error.
pub const RELAY_ERROR_QUOTED_BYTES: usize = 200;

/// WebSocket-pushed batches waiting for their circle's sync task. Small, so that a relay
/// pushing faster than felundd stores is slowed down by TCP instead of filling memory.
pub const RELAY_PUSHED_QUEUE: usize = 4;

// A full page of the largest legitimate objects fits one answer, and the cap stays far below
// what a flood of megabyte objects would need. Checked when compiling.
const _: () = assert!(RELAY_PULL_LIMIT as usize * MAX_RELAY_OBJECT_BYTES < MAX_RELAY_ANSWER_BYTES);
const _: () = assert!(MAX_RELAY_ANSWER_BYTES < 25 * 1024 * 1024);
