//! One step of a sync over the connection: our frames of the step go out while the peer's
//! frames of the same step are fed to the state machine ([`felund_wire::sync`]) until the
//! step is complete.
//!
//! Both sides of a sync write before they read; doing the two at once keeps large
//! exchanges (runs of megabyte chunks) from filling both TCP buffers and deadlocking.

use felund_wire::sync::budget::json_budget;
use felund_wire::sync::{Step, SyncError};
use felund_wire::Frame;

use super::handshake::Session;
use super::GossipError;

impl Session {
    /// Writes `out` while reading frames into `state` through `step` until it is
    /// [`Step::Done`]; returns what follows. Each frame is handed to the machine as it
    /// arrives, so a run of chunks is never held in full. (A state that takes a single
    /// frame is a step as `|s, f| s.on_frame(f).map(Step::Done)`.)
    pub async fn exchange<S, N>(
        &mut self,
        out: impl IntoIterator<Item = Frame>,
        state: S,
        mut step: impl FnMut(S, Frame) -> Result<Step<S, N>, SyncError>,
    ) -> Result<N, GossipError> {
        let writer = &mut self.writer;
        let reader = &mut self.reader;
        let write = async move {
            for f in out {
                writer.write_frame(&f).await?;
            }
            Ok::<_, GossipError>(())
        };
        let read = async move {
            let mut state = state;
            loop {
                match step(state, reader.read_frame().await?)? {
                    Step::More(next) => state = next,
                    Step::Done(done) => return Ok::<_, GossipError>(done),
                }
            }
        };
        let ((), done) = tokio::try_join!(write, read)?;
        Ok(done)
    }

    /// Bytes of frame JSON that fit in one (encrypted) line to this peer, less room for
    /// the frame's own keys.
    pub fn json_budget(&self) -> usize {
        json_budget(self.max_send_line())
    }
}
