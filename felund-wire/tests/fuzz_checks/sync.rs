//! The `sync` target: the sync machines felundd drives over TCP (`felund_wire::sync`), fed the
//! frames of a hostile peer. The first line names the machine and our role, the other lines
//! are the peer's frames, one per line (a line that is not a frame ends the run, as it ends
//! the connection):
//!
//! - `ref` (or anything unknown): the reference sequence with felundd's budgets for
//!   reference peers.
//! - `ext`: the digest sync; an `X_DIGEST` whose digest is [`AUTO_TOKEN`] stands for one
//!   equal to ours (a fuzzer cannot compute it), which ends the sync at once.
//! - `link-i` / `link-r`: a live link as initiator (offer first) or responder.
//! - `anchor-i` / `anchor-r`: the anchor exchange as initiator or as an anchor.
//!
//! We hold [`OUR_MESSAGES`] messages, some too large for one reference line, and answer
//! every question the machines ask as felundd's driver does.
//!
//! Asserts, besides never panicking: every frame we write to a reference peer fits one of
//! its lines, asks for at most 50 ids and never for one we hold; a PEERS frame read names
//! at most 20 peers; what the peer is remembered to hold stays among our ids and those we
//! asked for; the ids we want are never ours and no more than the peer listed; the peer
//! never gets to request more ids than we offered, list more than its digest counts, send
//! more messages than we asked for or push more than one push may carry; the sync ends as
//! in sync only when the digests are equal; every refusal but the peer's own ERROR has an
//! ERROR text to answer with.

use std::collections::HashSet;

use felund_wire::ext::{
    SetDigest, MAX_EXT_LINE, MAX_IDS_PER_FRAME, MAX_PUSH_MESSAGES, MAX_WANTED_IDS,
};
use felund_wire::frame::{decode_frame, encode_frame, PeerEntry};
use felund_wire::limits::{
    MAX_ENCRYPTED_LINE, MAX_PEERS_PER_FRAME, MAX_REQ_IDS_SERVED, REFERENCE_MAX_REQ_IDS_ENCRYPTED,
};
use felund_wire::session::sealed_line_len;
use felund_wire::sync::anchor::{AwaitingPush, AwaitingPushAck};
use felund_wire::sync::budget::json_budget;
use felund_wire::sync::link::{AwaitingOffer, Link, LinkOffered};
use felund_wire::sync::runs::Chunk;
use felund_wire::sync::{ExtSync, RefSync, Step, SyncError, SyncStart};
use felund_wire::Frame;
use serde_json::{json, Value};

use super::AUTO_TOKEN;

/// How many messages we hold.
pub const OUR_MESSAGES: usize = 40;

/// Most frames of one input that are read: every run the machines take is bounded anyway.
const MAX_FRAMES: usize = 64;

/// The peer's frames: `None` once it stops (no more lines, or a line that is not a frame).
type Frames<'a> = Box<dyn Iterator<Item = Frame> + 'a>;

/// See the module docs.
pub fn sync(data: &[u8]) {
    sync_completed(data);
}

/// [`sync`], telling whether the machine reached its end (for checking that the corpus
/// reaches what its seeds were written for).
pub fn sync_completed(data: &[u8]) -> bool {
    let mut lines = data.split(|&b| b == b'\n');
    let mode = lines.next().unwrap_or_default();
    let frames: Frames = Box::new(
        lines
            .take(MAX_FRAMES)
            .map_while(|line| decode_frame(line).ok()),
    );
    let outcome = match mode {
        b"ext" => digest(frames),
        b"link-i" => link_initiator(frames),
        b"link-r" => link_responder(frames),
        b"anchor-i" => anchor_initiator(frames),
        b"anchor-r" => anchor_responder(frames),
        _ => reference(frames),
    };
    match outcome {
        Ok(done) => done,
        Err(e) => {
            assert_eq!(
                e.reply().is_none(),
                matches!(e, SyncError::Refused(_)),
                "an ERROR text exactly for refusals of our own: {e:?}"
            );
            false
        }
    }
}

/// Our message `i`: every seventh is 10 KB, and the last too large for any reference line.
fn our_message(i: usize) -> (Value, usize) {
    let text = match i {
        _ if i == OUR_MESSAGES - 1 => "x".repeat(40_000),
        _ if i % 7 == 3 => "y".repeat(10_000),
        _ => format!("message {i}"),
    };
    let v = json!({"msg_id": our_id(i), "text": text});
    let len = v.to_string().len();
    (v, len)
}

fn our_id(i: usize) -> String {
    format!("ours-{i:02}")
}

/// Our ids, newest (highest) first, as felundd offers them.
fn our_ids() -> Vec<String> {
    (0..OUR_MESSAGES).rev().map(our_id).collect()
}

/// What the driver reads to answer a request: the messages we hold of `ids`, in that order.
fn lookup(ids: &[String]) -> Vec<(Value, usize)> {
    ids.iter()
        .filter_map(|id| {
            let i = id.strip_prefix("ours-")?.parse::<usize>().ok()?;
            (i < OUR_MESSAGES && our_id(i) == *id).then(|| our_message(i))
        })
        .collect()
}

fn start(max_line: usize) -> SyncStart {
    let entry = |i: usize| PeerEntry {
        node_id: format!("node{i}"),
        addr: format!("127.0.0.1:{}", 9000 + i),
        last_seen: i as i64,
    };
    SyncStart {
        circle_id: "circle".into(),
        local_node_id: "node0".into(),
        peer_node_id: "node1".into(),
        json_budget: json_budget(max_line),
        peers: (0..30).map(entry).collect(),
    }
}

/// Feeds the peer's frames to `state` until the step is complete (`None`: the peer stopped).
fn feed<S, N>(
    frames: &mut Frames,
    mut state: S,
    mut step: impl FnMut(S, Frame) -> Result<Step<S, N>, SyncError>,
) -> Result<Option<N>, SyncError> {
    loop {
        let Some(frame) = frames.next() else {
            return Ok(None);
        };
        match step(state, frame)? {
            Step::More(s) => state = s,
            Step::Done(n) => return Ok(Some(n)),
        }
    }
}

/// A frame we write to a reference peer fits one of its lines.
fn fits_reference_line(f: &Frame) {
    let len = sealed_line_len(encode_frame(f).len());
    assert!(
        len <= MAX_ENCRYPTED_LINE,
        "{} of {len} bytes",
        f.type_name()
    );
}

fn ids_of(f: &Frame) -> Vec<String> {
    match f {
        Frame::MsgsReq { msg_ids, .. } | Frame::MsgsHave { msg_ids, .. } => msg_ids.clone(),
        Frame::XIds { ids, .. } | Frame::XReq { ids, .. } => ids.clone(),
        _ => Vec::new(),
    }
}

fn reference(mut frames: Frames) -> Result<bool, SyncError> {
    let ours = our_ids();
    let held: HashSet<String> = ours.iter().cloned().collect();
    let (state, opening) = RefSync::start(
        start(MAX_ENCRYPTED_LINE),
        REFERENCE_MAX_REQ_IDS_ENCRYPTED,
        ours,
        |id| id.ends_with('7'),
    );
    opening.iter().for_each(fits_reference_line);
    let Some(opened) = feed(&mut frames, state, RefSync::on_frame)? else {
        return Ok(false);
    };
    assert!(opened.named_peers.len() <= MAX_PEERS_PER_FRAME);
    fits_reference_line(&opened.request);
    let asked = ids_of(&opened.request);
    assert!(asked.len() <= REFERENCE_MAX_REQ_IDS_ENCRYPTED);
    assert!(
        !asked.iter().any(|id| held.contains(id)),
        "asked for our own"
    );
    let Some(frame) = frames.next() else {
        return Ok(false);
    };
    let (answering, wanted) = opened.next.on_frame(frame)?;
    assert!(wanted.len() <= MAX_REQ_IDS_SERVED);
    let (waiting, send) = answering.answer(lookup(&wanted));
    fits_reference_line(&send);
    let Some(frame) = frames.next() else {
        return Ok(false);
    };
    let done = waiting.on_frame(frame)?;
    assert!(done
        .peer_holds
        .iter()
        .all(|id| held.contains(id) || asked.contains(id)));
    Ok(true)
}

fn digest(mut frames: Frames) -> Result<bool, SyncError> {
    let ours = our_ids();
    let held: HashSet<String> = ours.iter().cloned().collect();
    let mine = SetDigest::of(ours.iter().map(String::as_str));
    let (state, _) = ExtSync::start(start(MAX_EXT_LINE), ours);
    // An `X_DIGEST` of AUTO stands for ours; remember what the peer claimed.
    let mut their_count = None;
    let mut equal = false;
    let mut frames: Frames = Box::new(frames.by_ref().map(|f| match f {
        Frame::XDigest { digest, .. } if digest == AUTO_TOKEN => Frame::XDigest {
            count: mine.count(),
            digest: mine.digest_hex(),
        },
        f => f,
    }));
    let Some(opened) = feed(&mut frames, state, |s, f| {
        if let Frame::XDigest { count, digest } = &f {
            their_count = Some(*count);
            equal = mine.matches(*count, digest);
        }
        ExtSync::on_frame(s, f)
    })?
    else {
        return Ok(false);
    };
    assert!(opened.named_peers.len() <= MAX_PEERS_PER_FRAME);
    let Some((awaiting, _buckets)) = opened.next else {
        assert!(equal, "in sync with a digest that differs");
        return Ok(true);
    };
    assert!(!equal, "equal digests went on to X_BUCKETS");
    let Some(frame) = frames.next() else {
        return Ok(false);
    };
    let (ids_run, offer) = awaiting.on_frame(frame)?;
    let offered: Vec<String> = offer.iter().flat_map(ids_of).collect();
    assert!(offer.iter().all(|f| ids_of(f).len() <= MAX_IDS_PER_FRAME));
    assert!(offered.iter().all(|id| held.contains(id)));
    let mut listed = 0u64;
    let Some((req_run, request)) = feed(&mut frames, ids_run, |s, f| {
        listed += ids_of(&f).len() as u64;
        s.on_frame(f)
    })?
    else {
        return Ok(false);
    };
    let wanted: Vec<String> = request.iter().flat_map(ids_of).collect();
    assert!(listed <= their_count.expect("a digest was read"));
    assert!(wanted.len() as u64 <= listed && wanted.len() <= MAX_WANTED_IDS);
    assert!(!wanted.iter().any(|id| held.contains(id)), "wanted our own");
    let Some(transfer) = feed(&mut frames, req_run, |s, f| s.on_frame(f))? else {
        return Ok(false);
    };
    assert!(transfer.wanted.len() <= offered.len());
    let mut send = transfer.send;
    let mut out: Vec<Frame> = lookup(&transfer.wanted)
        .into_iter()
        .filter_map(|(v, len)| send.push(v, len))
        .collect();
    out.push(send.finish());
    assert!(matches!(out.last(), Some(Frame::XSend { more: false, .. })));
    let mut run = transfer.receive;
    let mut received = 0;
    loop {
        let Some(frame) = frames.next() else {
            return Ok(false);
        };
        let Chunk { messages, next } = run.on_frame(frame)?;
        received += messages.len();
        assert!(received <= wanted.len(), "more messages than we asked for");
        match next {
            Step::More(r) => run = r,
            Step::Done(()) => return Ok(true),
        }
    }
}

/// The link's frames from the peer until it stops or breaks the link.
fn on_link(link: Link, frames: Frames) -> Result<bool, SyncError> {
    let pushes = link.push(
        (0..MAX_PUSH_MESSAGES + 1)
            .map(|i| our_message(i % 3).0)
            .collect(),
    );
    assert_eq!(pushes.len(), 2);
    for frame in frames {
        if let Some(messages) = link.on_frame(frame)? {
            assert!(messages.len() <= MAX_PUSH_MESSAGES);
        }
    }
    Ok(true)
}

fn link_initiator(mut frames: Frames) -> Result<bool, SyncError> {
    let (offered, x_link) = LinkOffered::offer();
    assert_eq!(x_link, Frame::XLink {});
    match frames.next().and_then(|f| offered.on_frame(f)) {
        Some(link) => on_link(link, frames),
        None => Ok(false),
    }
}

fn link_responder(mut frames: Frames) -> Result<bool, SyncError> {
    match frames.next().and_then(|f| AwaitingOffer::new().on_frame(f)) {
        Some((link, ok)) => {
            assert_eq!(ok, Frame::XLinkOk {});
            on_link(link, frames)
        }
        None => Ok(false),
    }
}

fn anchor_initiator(mut frames: Frames) -> Result<bool, SyncError> {
    let budget = json_budget(MAX_ENCRYPTED_LINE);
    let newest = (0..OUR_MESSAGES).rev().map(our_message);
    let (awaiting, push) = AwaitingPushAck::push("circle", budget, newest);
    fits_reference_line(&push);
    let Some(pushed) = frames.next().and_then(|f| awaiting.on_frame(f)) else {
        return Ok(false);
    };
    let (awaiting, pull) = pushed.pull(7);
    assert!(matches!(pull, Frame::AnchorPull { since: 7, .. }));
    Ok(frames.next().and_then(|f| awaiting.on_frame(f)).is_some())
}

fn anchor_responder(mut frames: Frames) -> Result<bool, SyncError> {
    let budget = json_budget(MAX_ENCRYPTED_LINE);
    let Some((taken, _envelopes)) = frames
        .next()
        .and_then(|f| AwaitingPush::new(budget).on_frame(f))
    else {
        return Ok(false);
    };
    let (awaiting, ack) = taken.ack(usize::MAX);
    assert_eq!(ack, Frame::AnchorPushAck { stored: i64::MAX });
    let Some((answering, since)) = frames.next().and_then(|f| awaiting.on_frame(f)) else {
        return Ok(false);
    };
    let after = usize::try_from(since.max(0)).unwrap_or(usize::MAX);
    let answer = answering.answer((after.min(OUR_MESSAGES)..OUR_MESSAGES).map(our_message), 1);
    fits_reference_line(&answer);
    Ok(true)
}
