//! Runs of chunked frames (`X_IDS`, `X_REQ`, `X_SEND`): every chunk but the last says
//! `more: true`. Writing cuts a list into chunks; reading holds the peer to what it may send
//! in the run, so a run always ends and never holds more than the protocol allows.

use serde_json::Value;

use crate::ext::{MAX_IDS_PER_FRAME, MAX_SEND_FRAME_BYTES};
use crate::Frame;

use super::{unexpected, Step, SyncError};

/// `ids` as a run of chunks of at most [`MAX_IDS_PER_FRAME`] ids, made by `make(ids, more)`;
/// an empty list is one empty chunk that ends the run. The ids are moved, not copied.
pub(crate) fn id_run(mut ids: Vec<String>, make: fn(Vec<String>, bool) -> Frame) -> Vec<Frame> {
    let mut chunks = Vec::with_capacity(ids.len().div_ceil(MAX_IDS_PER_FRAME).max(1));
    while ids.len() > MAX_IDS_PER_FRAME {
        let rest = ids.split_off(MAX_IDS_PER_FRAME);
        chunks.push(make(ids, true));
        ids = rest;
    }
    chunks.push(make(ids, false));
    chunks
}

/// One chunk of an id run as read: its ids and whether more follow. `expected` names the
/// frame type; an empty chunk that claims more follow could make the run endless.
pub(crate) fn id_chunk(
    frame: Frame,
    expected: &'static str,
) -> Result<(Vec<String>, bool), SyncError> {
    let (ids, more) = match (expected, frame) {
        ("X_IDS", Frame::XIds { ids, more }) | ("X_REQ", Frame::XReq { ids, more }) => (ids, more),
        (_, other) => return Err(unexpected(expected, other)),
    };
    if more && ids.is_empty() {
        return Err(SyncError::TooMuch("an empty chunk that claims more follow"));
    }
    Ok((ids, more))
}

/// Our `X_SEND` run: messages in, a frame out whenever a chunk is full. The messages are
/// moved into the frames, never copied.
#[derive(Debug, Default)]
pub struct SendRun {
    pending: Vec<Value>,
    size: usize,
}

impl SendRun {
    /// Adds one message object (`len`: its encoded length); returns a full chunk to write,
    /// once the chunk's messages reach [`MAX_SEND_FRAME_BYTES`].
    pub fn push(&mut self, message: Value, len: usize) -> Option<Frame> {
        self.size += len + 1;
        self.pending.push(message);
        if self.size < MAX_SEND_FRAME_BYTES {
            return None;
        }
        self.size = 0;
        Some(Frame::XSend {
            messages: std::mem::take(&mut self.pending),
            more: true,
        })
    }

    /// The last chunk (possibly empty), which ends the run.
    pub fn finish(self) -> Frame {
        Frame::XSend {
            messages: self.pending,
            more: false,
        }
    }
}

/// The peer's `X_SEND` run, which may carry no more messages than we asked for.
#[derive(Debug)]
pub struct ReceiveRun {
    left: usize,
}

/// One chunk of the peer's `X_SEND` run.
#[derive(Debug)]
pub struct Chunk {
    /// Its messages, raw: verify each, then store the good ones.
    pub messages: Vec<Value>,
    /// [`Step::More`] with the run's state, or [`Step::Done`] after the last chunk.
    pub next: Step<ReceiveRun, ()>,
}

impl ReceiveRun {
    /// A run that may carry up to `asked` messages (the ids we requested).
    pub(crate) fn new(asked: usize) -> Self {
        Self { left: asked }
    }

    /// Takes one `X_SEND` chunk.
    pub fn on_frame(self, frame: Frame) -> Result<Chunk, SyncError> {
        let (messages, more) = match frame {
            Frame::XSend { messages, more } => (messages, more),
            other => return Err(unexpected("X_SEND", other)),
        };
        if more && messages.is_empty() {
            return Err(SyncError::TooMuch("an empty chunk that claims more follow"));
        }
        let left = self
            .left
            .checked_sub(messages.len())
            .ok_or(SyncError::TooMuch("more messages than were asked for"))?;
        let next = if more {
            Step::More(Self { left })
        } else {
            Step::Done(())
        };
        Ok(Chunk { messages, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("id{i}")).collect()
    }

    fn chunks(frames: &[Frame]) -> Vec<(usize, bool, Option<String>)> {
        frames
            .iter()
            .map(|f| match f {
                Frame::XIds { ids, more } => (ids.len(), *more, ids.first().cloned()),
                other => panic!("not X_IDS: {other:?}"),
            })
            .collect()
    }

    fn make(ids: Vec<String>, more: bool) -> Frame {
        Frame::XIds { ids, more }
    }

    #[test]
    fn an_id_run_keeps_the_order_in_full_chunks_and_ends_with_more_false() {
        let m = MAX_IDS_PER_FRAME;
        assert_eq!(chunks(&id_run(vec![], make)), [(0, false, None)]);
        assert_eq!(
            chunks(&id_run(ids(3), make)),
            [(3, false, Some("id0".into()))]
        );
        assert_eq!(
            chunks(&id_run(ids(m), make)),
            [(m, false, Some("id0".into()))]
        );
        assert_eq!(
            chunks(&id_run(ids(2 * m + 1), make)),
            [
                (m, true, Some("id0".into())),
                (m, true, Some(format!("id{m}"))),
                (1, false, Some(format!("id{}", 2 * m))),
            ]
        );
        let all: Vec<String> = id_run(ids(3 * m), make)
            .into_iter()
            .flat_map(|f| match f {
                Frame::XIds { ids, .. } => ids,
                _ => vec![],
            })
            .collect();
        assert_eq!(all, ids(3 * m));
    }

    #[test]
    fn a_send_run_cuts_chunks_at_the_size_target_and_always_ends() {
        let mut run = SendRun::default();
        let big = MAX_SEND_FRAME_BYTES / 2;
        assert!(run.push(Value::from(1), big).is_none());
        let Some(Frame::XSend { messages, more }) = run.push(Value::from(2), big) else {
            panic!("a full chunk")
        };
        assert_eq!((messages.len(), more), (2, true));
        assert!(run.push(Value::from(3), 10).is_none());
        assert_eq!(
            run.finish(),
            Frame::XSend {
                messages: vec![Value::from(3)],
                more: false
            }
        );
        assert_eq!(
            SendRun::default().finish(),
            Frame::XSend {
                messages: vec![],
                more: false
            }
        );
    }

    #[test]
    fn a_receive_run_refuses_more_messages_than_asked_and_endless_empty_chunks() {
        let chunk = |n: usize, more| Frame::XSend {
            messages: (0..n).map(Value::from).collect(),
            more,
        };
        let run = ReceiveRun::new(3);
        let Chunk {
            next: Step::More(run),
            messages,
        } = run.on_frame(chunk(2, true)).expect("two of three")
        else {
            panic!("more follow")
        };
        assert_eq!(messages.len(), 2);
        assert_eq!(
            run.on_frame(chunk(2, false)).err(),
            Some(SyncError::TooMuch("more messages than were asked for"))
        );
        assert_eq!(
            ReceiveRun::new(3).on_frame(chunk(0, true)).err(),
            Some(SyncError::TooMuch("an empty chunk that claims more follow"))
        );
        assert!(matches!(
            ReceiveRun::new(0).on_frame(chunk(0, false)),
            Ok(Chunk {
                next: Step::Done(()),
                ..
            })
        ));
        assert_eq!(
            ReceiveRun::new(3)
                .on_frame(Frame::Error { err: "x".into() })
                .err(),
            Some(SyncError::Refused("x".into()))
        );
    }
}
