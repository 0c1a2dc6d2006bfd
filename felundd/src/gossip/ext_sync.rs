//! Drives the digest sync between two felundd nodes ([`felund_wire::sync::digest`]):
//! PEERS and an `X_DIGEST` of the id set; equal digests end the session (constant bytes
//! when in sync). Otherwise `X_BUCKETS`, then the ids of the differing buckets, the wanted
//! ids and the messages, each as a run of chunked frames with no size limit overall. The
//! messages are read from the store in batches while they are written, and the peer's are
//! verified and queued on the store while the chunks before them commit.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use felund_wire::sync::digest::{IdsRun, ReqRun, Transfer};
use felund_wire::sync::runs::Chunk;
use felund_wire::sync::{ExtSync, Step};

use super::handshake::Session;
use super::peers::{merge, sync_start};
use super::ref_sync::our_ids;
use super::{Gossip, GossipError};
use crate::error::NodeError;
use crate::limits::INGEST_PIPELINE;
use crate::node::receive::{self, Received};
use crate::store::messages as message_sql;

/// Messages fetched from the store per batch while answering a request.
const SEND_BATCH: usize = 2_000;

/// Runs the extension sync on an established session.
pub async fn run(g: &Gossip, s: &mut Session) -> Result<Received, GossipError> {
    let start = sync_start(g, s).await?;
    let ours = our_ids(g, &s.circle.circle_id).await?;

    // PEERS + X_DIGEST both ways; equal digests end the sync.
    let (state, opening) = ExtSync::start(start, ours);
    let opened = s.exchange(opening, state, ExtSync::on_frame).await?;
    merge(g, s, opened.named_peers).await?;
    let Some((awaiting, buckets)) = opened.next else {
        return Ok(Received::default());
    };

    // X_BUCKETS, then the X_IDS runs (→ what we want) and the X_REQ runs (→ what they
    // want), each side writing its run while it reads the peer's.
    let (ids, our_ids) = s
        .exchange([buckets], awaiting, |st, f| st.on_frame(f).map(Step::Done))
        .await?;
    let (req, our_req) = s.exchange(our_ids, ids, IdsRun::on_frame).await?;
    let transfer = s.exchange(our_req, req, ReqRun::on_frame).await?;

    // X_SEND runs both ways: send ours while receiving and storing theirs.
    send_and_receive(g, s, transfer).await
}

/// Writes the requested messages in chunks and, at the same time, reads and stores
/// the peer's chunks as they arrive.
async fn send_and_receive(
    g: &Gossip,
    s: &mut Session,
    transfer: Transfer,
) -> Result<Received, GossipError> {
    let Transfer {
        wanted,
        mut send,
        receive: receive_run,
    } = transfer;
    let circle = s.circle.clone();
    let peer = s.peer_node_id.clone();
    let store = g.node().store().clone();
    let writer = &mut s.writer;
    let reader = &mut s.reader;
    let cid = circle.circle_id.clone();
    let write = async move {
        for batch in wanted.chunks(SEND_BATCH) {
            let (cid, ids) = (cid.clone(), batch.to_vec());
            let msgs = store
                .read(move |conn| message_sql::get_many(conn, &cid, &ids))
                .await
                .map_err(|e| GossipError::Node(e.into()))?;
            crate::memory::note_work(msgs.len() as u64);
            for m in msgs {
                if let Some(chunk) = send.push(m.wire.to_value(), m.wire.encoded_len_ascii()) {
                    writer.write_frame(&chunk).await?;
                }
            }
        }
        // The last chunk (possibly empty) ends the run.
        writer.write_frame(&send.finish()).await?;
        Ok::<_, GossipError>(())
    };
    let read = async move {
        let mut total = Received::default();
        // Each chunk is verified and queued on the store while the chunks before it
        // commit; at most INGEST_PIPELINE wait, oldest first.
        let mut committing = Committing::default();
        let mut run = Some(receive_run);
        while let Some(r) = run.take() {
            let Chunk { messages, next } = r.on_frame(reader.read_frame().await?)?;
            let batch = receive::queue_gossip_messages(g.node(), &circle, &messages, &peer);
            drop(messages);
            committing.0.push_back(Box::pin(batch));
            if let Step::More(r) = next {
                run = Some(r);
            }
            let last = run.is_none();
            while committing.0.len() >= INGEST_PIPELINE || (last && !committing.0.is_empty()) {
                if let Some(batch) = committing.0.pop_front() {
                    let r = batch.await?;
                    total.stored += r.stored;
                    total.rejected += r.rejected;
                }
            }
        }
        Ok::<_, GossipError>(total)
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
