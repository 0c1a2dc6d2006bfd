//! Sync between two felundd nodes (both announced the extensions): PEERS and an
//! `X_DIGEST` of the id set; equal digests end the session (constant bytes when in
//! sync). Otherwise `X_BUCKETS`, then the ids of the differing buckets, the wanted
//! ids and the messages, each as a run of chunked frames with no size limit overall.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;

use felund_wire::ext::{bucket_of, SetDigest, MAX_IDS_PER_FRAME, MAX_SEND_FRAME_BYTES};
use felund_wire::Frame;

use super::common::{open_sync, unexpected};
use super::handshake::Session;
use super::{Gossip, GossipError};
use crate::error::NodeError;
use crate::limits::INGEST_PIPELINE;
use crate::node::receive::{self, Received};
use crate::store::messages as message_sql;

/// Messages fetched from the store per chunk while answering a request.
const SEND_BATCH: usize = 2_000;

/// Runs the extension sync on an established session.
pub async fn run(g: &Gossip, s: &mut Session) -> Result<Received, GossipError> {
    let cid = s.circle.circle_id.clone();
    let ours: Vec<String> = g
        .node()
        .store()
        .read(move |conn| message_sql::ids_newest_first(conn, &cid))
        .await
        .map_err(|e| GossipError::Node(e.into()))?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let digest = SetDigest::of(ours.iter().map(String::as_str));

    // PEERS + X_DIGEST.
    let theirs = open_sync(
        g,
        s,
        Frame::XDigest {
            count: digest.count(),
            digest: digest.digest_hex(),
        },
        |f| matches!(f, Frame::XDigest { .. }),
    )
    .await?;
    let Frame::XDigest {
        count,
        digest: theirs,
    } = theirs
    else {
        return Err(GossipError::Protocol("Bad sync frames".into()));
    };
    if digest.matches(count, &theirs) {
        return Ok(Received::default());
    }

    // X_BUCKETS → which buckets differ (both sides compute the same set).
    let got = s
        .exchange(
            &[Frame::XBuckets {
                buckets: digest.bucket_summaries(),
            }],
            |f| match f {
                Frame::XBuckets { .. } => Ok(true),
                _ => Err(unexpected(f)),
            },
        )
        .await?;
    let Some(Frame::XBuckets { buckets }) = got.first() else {
        return Err(GossipError::Protocol("Bad sync frames".into()));
    };
    let differing = digest.differing_buckets(buckets);
    let held: HashSet<&str> = ours.iter().map(String::as_str).collect();
    let mine: Vec<String> = ours
        .iter()
        .filter(|id| differing[bucket_of(id)])
        .cloned()
        .collect();

    // X_IDS runs both ways → what we want.
    let theirs = exchange_id_run(
        s,
        mine,
        |ids, more| Frame::XIds { ids, more },
        |f| match f {
            Frame::XIds { ids, more } => Some((ids.clone(), *more)),
            _ => None,
        },
    )
    .await?;
    let want: Vec<String> = theirs
        .into_iter()
        .filter(|id| !held.contains(id.as_str()))
        .collect();

    // X_REQ runs both ways → what they want.
    let requested = exchange_id_run(
        s,
        want,
        |ids, more| Frame::XReq { ids, more },
        |f| match f {
            Frame::XReq { ids, more } => Some((ids.clone(), *more)),
            _ => None,
        },
    )
    .await?;

    // X_SEND runs both ways: send ours while receiving and storing theirs.
    send_and_receive(g, s, requested).await
}

/// Sends `ids` as a run of chunked frames while reading the peer's run.
async fn exchange_id_run(
    s: &mut Session,
    ids: Vec<String>,
    make: impl Fn(Vec<String>, bool) -> Frame,
    parse: impl Fn(&Frame) -> Option<(Vec<String>, bool)>,
) -> Result<Vec<String>, GossipError> {
    let mut chunks: Vec<Frame> = Vec::new();
    let mut rest = ids.as_slice();
    loop {
        let n = rest.len().min(MAX_IDS_PER_FRAME);
        let (head, tail) = rest.split_at(n);
        rest = tail;
        chunks.push(make(head.to_vec(), !rest.is_empty()));
        if rest.is_empty() {
            break;
        }
    }
    let got = s
        .exchange(&chunks, |f| match parse(f) {
            Some((_, more)) => Ok(!more),
            None => Err(unexpected(f)),
        })
        .await?;
    Ok(got
        .iter()
        .filter_map(&parse)
        .flat_map(|(ids, _)| ids)
        .collect())
}

/// Writes the requested messages in chunks and, at the same time, reads and stores
/// the peer's chunks as they arrive.
async fn send_and_receive(
    g: &Gossip,
    s: &mut Session,
    requested: Vec<String>,
) -> Result<Received, GossipError> {
    let circle = s.circle.clone();
    let peer = s.peer_node_id.clone();
    let store = g.node().store().clone();
    let writer = &mut s.writer;
    let reader = &mut s.reader;
    let cid = circle.circle_id.clone();
    let write = async move {
        let mut pending = Vec::new();
        let mut size = 0;
        for batch in requested.chunks(SEND_BATCH) {
            let (cid, ids) = (cid.clone(), batch.to_vec());
            let msgs = store
                .read(move |conn| message_sql::get_many(conn, &cid, &ids))
                .await
                .map_err(|e| GossipError::Node(e.into()))?;
            crate::memory::note_work(msgs.len() as u64);
            for m in msgs {
                size += m.wire.encoded_len_ascii() + 1;
                pending.push(m.wire.to_value());
                if size >= MAX_SEND_FRAME_BYTES {
                    let messages = std::mem::take(&mut pending);
                    writer
                        .write_frame(&Frame::XSend {
                            messages,
                            more: true,
                        })
                        .await?;
                    size = 0;
                }
            }
        }
        // The last chunk (possibly empty) ends the run.
        writer
            .write_frame(&Frame::XSend {
                messages: pending,
                more: false,
            })
            .await?;
        Ok::<_, GossipError>(())
    };
    let read = async move {
        let mut total = Received::default();
        // Each chunk is verified and queued on the store while the chunks before it
        // commit; at most INGEST_PIPELINE wait, oldest first.
        let mut committing = Committing::default();
        loop {
            let (messages, more) = match reader.read_frame().await? {
                Frame::XSend { messages, more } => (messages, more),
                Frame::Error { err } => return Err(GossipError::Refused(err)),
                f => return Err(unexpected(&f)),
            };
            let batch = receive::queue_gossip_messages(g.node(), &circle, &messages, &peer);
            drop(messages);
            committing.0.push_back(Box::pin(batch));
            while committing.0.len() >= INGEST_PIPELINE || (!more && !committing.0.is_empty()) {
                if let Some(batch) = committing.0.pop_front() {
                    let r = batch.await?;
                    total.stored += r.stored;
                    total.rejected += r.rejected;
                }
            }
            if !more {
                return Ok::<_, GossipError>(total);
            }
        }
    };
    let ((), received) = tokio::try_join!(write, read)?;
    Ok(received)
}

/// A batch of received messages queued on the store, publishing once committed.
type Batch = Pin<Box<dyn Future<Output = Result<Received, NodeError>> + Send>>;

/// Batches queued on the store, oldest first. If the session ends before they were
/// awaited, they are awaited by a task of their own, so what commits is still
/// published (in order) to subscribers and live links.
#[derive(Default)]
struct Committing(VecDeque<Batch>);

impl Drop for Committing {
    fn drop(&mut self) {
        let rest = std::mem::take(&mut self.0);
        if rest.is_empty() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for batch in rest {
                    let _ = batch.await;
                }
            });
        }
    }
}
