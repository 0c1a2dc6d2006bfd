//! The digest sync between two felundd nodes (both announced the extensions): PEERS and an
//! `X_DIGEST` of the id set; equal digests end the sync (constant bytes when in sync).
//! Otherwise `X_BUCKETS`, then the ids of the differing buckets (`X_IDS`), the wanted ids
//! (`X_REQ`) and the messages (`X_SEND`), each a run of chunks with no size limit overall,
//! so a newcomer gets a whole circle in one session.

use std::collections::HashSet;

use crate::ext::{bucket_of, SetDigest, MAX_WANTED_IDS};
use crate::frame::PeerEntry;
use crate::Frame;

use super::peers::{peers_frame, OpeningRead};
use super::runs::{id_chunk, id_run, ReceiveRun, SendRun};
use super::{unexpected, Step, SyncError, SyncStart};

/// The sync after our PEERS and X_DIGEST, reading the peer's.
#[derive(Debug)]
pub struct ExtSync {
    ours: Vec<String>,
    digest: SetDigest,
    opening: OpeningRead,
}

/// The peer's opening is read.
#[derive(Debug)]
pub struct ExtOpened {
    /// Nodes the peer names as peers of the circle: dial candidates, never members.
    pub named_peers: Vec<PeerEntry>,
    /// `None` when both sides hold the same ids: the sync is over. Otherwise the next state
    /// and our X_BUCKETS, to write while reading the peer's.
    pub next: Option<(AwaitingBuckets, Frame)>,
}

/// Waiting for the peer's X_BUCKETS.
#[derive(Debug)]
pub struct AwaitingBuckets {
    ours: Vec<String>,
    digest: SetDigest,
    their_count: u64,
}

/// Reading the peer's X_IDS run: the ids it holds in the differing buckets.
#[derive(Debug)]
pub struct IdsRun {
    held: HashSet<String>,
    /// Ids the peer may still list: its digest's count.
    their_count: u64,
    offered: usize,
    wanted: Vec<String>,
}

/// Reading the peer's X_REQ run: the ids it wants of those we offered.
#[derive(Debug)]
pub struct ReqRun {
    offered: usize,
    asked: usize,
    requested: Vec<String>,
}

/// Both requests are read: the messages travel both ways at once.
#[derive(Debug)]
pub struct Transfer {
    /// The ids the peer wants: feed the messages we hold of them, in this order, to
    /// [`Transfer::send`] and write every chunk it returns.
    pub wanted: Vec<String>,
    /// Our X_SEND run.
    pub send: SendRun,
    /// The peer's X_SEND run, read at the same time.
    pub receive: ReceiveRun,
}

impl ExtSync {
    /// Starts the sync with `ours`, the ids we hold (in the order they should be offered:
    /// felundd offers newest first). Returns the state and our PEERS and X_DIGEST.
    pub fn start(start: SyncStart, ours: Vec<String>) -> (Self, [Frame; 2]) {
        let digest = SetDigest::of(ours.iter().map(String::as_str));
        let frames = [
            peers_frame(&start),
            Frame::XDigest {
                count: digest.count(),
                digest: digest.digest_hex(),
            },
        ];
        let state = Self {
            ours,
            digest,
            opening: OpeningRead::new("PEERS then X_DIGEST"),
        };
        (state, frames)
    }

    /// Takes the peer's PEERS, then its X_DIGEST, which completes the step.
    pub fn on_frame(mut self, frame: Frame) -> Result<Step<Self, ExtOpened>, SyncError> {
        let (count, theirs) = match self
            .opening
            .on_frame(frame, |f| matches!(f, Frame::XDigest { .. }))?
        {
            None => return Ok(Step::More(self)),
            Some(Frame::XDigest { count, digest }) => (count, digest),
            Some(other) => return Err(unexpected("X_DIGEST", other)),
        };
        let named_peers = self.opening.named();
        if self.digest.matches(count, &theirs) {
            return Ok(Step::Done(ExtOpened {
                named_peers,
                next: None,
            }));
        }
        let buckets = Frame::XBuckets {
            buckets: self.digest.bucket_summaries(),
        };
        let next = AwaitingBuckets {
            ours: self.ours,
            digest: self.digest,
            their_count: count,
        };
        Ok(Step::Done(ExtOpened {
            named_peers,
            next: Some((next, buckets)),
        }))
    }
}

impl AwaitingBuckets {
    /// Takes the peer's X_BUCKETS; returns the state and our X_IDS run: the ids we hold in
    /// the buckets that differ (both sides compute the same set).
    pub fn on_frame(self, frame: Frame) -> Result<(IdsRun, Vec<Frame>), SyncError> {
        let buckets = match frame {
            Frame::XBuckets { buckets } => buckets,
            other => return Err(unexpected("X_BUCKETS", other)),
        };
        let differing = self.digest.differing_buckets(&buckets);
        let mine: Vec<String> = self
            .ours
            .iter()
            .filter(|id| differing[bucket_of(id)])
            .cloned()
            .collect();
        let run = IdsRun {
            held: self.ours.into_iter().collect(),
            their_count: self.their_count,
            offered: mine.len(),
            wanted: Vec::new(),
        };
        Ok((run, id_run(mine, |ids, more| Frame::XIds { ids, more })))
    }
}

impl IdsRun {
    /// Takes one chunk of the peer's X_IDS run; after the last, returns the state and our
    /// X_REQ run: the ids we lack, at most [`MAX_WANTED_IDS`] (the next session asks for
    /// the rest).
    pub fn on_frame(mut self, frame: Frame) -> Result<Step<Self, (ReqRun, Vec<Frame>)>, SyncError> {
        let (ids, more) = id_chunk(frame, "X_IDS")?;
        self.their_count = self
            .their_count
            .checked_sub(ids.len() as u64)
            .ok_or(SyncError::TooMuch("more ids than its digest counts"))?;
        let room = MAX_WANTED_IDS - self.wanted.len();
        let held = &self.held;
        self.wanted
            .extend(ids.into_iter().filter(|id| !held.contains(id)).take(room));
        if more {
            return Ok(Step::More(self));
        }
        let run = ReqRun {
            offered: self.offered,
            asked: self.wanted.len(),
            requested: Vec::new(),
        };
        Ok(Step::Done((
            run,
            id_run(self.wanted, |ids, more| Frame::XReq { ids, more }),
        )))
    }
}

impl ReqRun {
    /// Takes one chunk of the peer's X_REQ run (never more ids than we offered); after the
    /// last, the messages travel.
    pub fn on_frame(mut self, frame: Frame) -> Result<Step<Self, Transfer>, SyncError> {
        let (ids, more) = id_chunk(frame, "X_REQ")?;
        if self.requested.len() + ids.len() > self.offered {
            return Err(SyncError::TooMuch(
                "requests for more ids than were offered",
            ));
        }
        if self.requested.is_empty() {
            self.requested = ids;
        } else {
            self.requested.extend(ids);
        }
        if more {
            return Ok(Step::More(self));
        }
        Ok(Step::Done(Transfer {
            wanted: self.requested,
            send: SendRun::default(),
            receive: ReceiveRun::new(self.asked),
        }))
    }
}
