//! The WebSocket push frame (the relay contract's [`MessagesFrame`],
//! `{"t":"MESSAGES","messages":[...],"server_time":ts,"cursor":seq}`) and how a run of
//! messages is cut into frames.
//!
//! A frame carries at most [`WS_FRAME_MAX_BYTES`] of message objects (a larger object goes
//! alone). The bound is for the sockets' sake: the WebSocket library copies each frame into
//! the socket's write buffer, which keeps the capacity it grew to (up to about twice the
//! largest frame) for as long as the socket lives, so one unbounded frame (a replay of 1 MiB,
//! a batch of 50 large objects) would leave every socket that sent it holding that much. Not
//! much smaller, though: a client may commit each frame's messages on their own. Clients see a run of `MESSAGES` frames, exactly as
//! they see a replay followed by live pushes; each frame's `cursor` is the seq of its last
//! message.

use axum::extract::ws::Utf8Bytes;
use felund_wire::relay_api::{MessagesFrame, MessagesTag};
use serde_json::value::RawValue;

use crate::limits::WS_FRAME_MAX_BYTES;

/// One serialised frame and the seqs it carries.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The frame's text.
    pub text: Utf8Bytes,
    /// Seq of its first message.
    pub first_seq: i64,
    /// Seq of its last message (its `cursor`).
    pub last_seq: i64,
}

/// `messages` (seq and object, in seq order) as frames of at most [`WS_FRAME_MAX_BYTES`] of
/// objects each; none for no messages.
pub fn frames<'a>(
    messages: impl IntoIterator<Item = (i64, &'a RawValue)>,
    server_time: i64,
) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut run: Vec<&RawValue> = Vec::new();
    let (mut first, mut last, mut bytes) = (0, 0, 0);
    for (seq, payload) in messages {
        let size = payload.get().len();
        if !run.is_empty() && bytes + size > WS_FRAME_MAX_BYTES {
            out.extend(frame(&run, first, last, server_time));
            run.clear();
            bytes = 0;
        }
        if run.is_empty() {
            first = seq;
        }
        run.push(payload);
        last = seq;
        bytes += size;
    }
    if !run.is_empty() {
        out.extend(frame(&run, first, last, server_time));
    }
    out
}

fn frame(run: &[&RawValue], first_seq: i64, last_seq: i64, server_time: i64) -> Option<Frame> {
    let text = serde_json::to_string(&MessagesFrame {
        t: MessagesTag,
        messages: run,
        server_time: Some(server_time),
        cursor: Some(last_seq),
    })
    .ok()?;
    Some(Frame {
        text: text.into(),
        first_seq,
        last_seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(n: usize, pad: usize) -> Box<RawValue> {
        RawValue::from_string(format!("{{\"n\":{n},\"p\":\"{}\"}}", "x".repeat(pad))).expect("raw")
    }

    #[test]
    fn small_runs_make_one_frame_with_the_last_seq_as_cursor() {
        let msgs = [raw(1, 0), raw(2, 0)];
        let out = frames(msgs.iter().zip([5, 9]).map(|(m, s)| (s, m.as_ref())), 7);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].text.as_str(),
            r#"{"t":"MESSAGES","messages":[{"n":1,"p":""},{"n":2,"p":""}],"server_time":7,"cursor":9}"#
        );
        assert_eq!((out[0].first_seq, out[0].last_seq), (5, 9));
        assert!(frames(std::iter::empty(), 7).is_empty());
    }

    #[test]
    fn large_runs_are_cut_into_bounded_frames_in_order_and_a_huge_object_goes_alone() {
        let pad = WS_FRAME_MAX_BYTES / 5;
        let mut msgs: Vec<Box<RawValue>> = (0..12).map(|n| raw(n, pad)).collect();
        msgs.insert(6, raw(99, WS_FRAME_MAX_BYTES * 2));
        let seqs = 1..;
        let out = frames(seqs.zip(&msgs).map(|(s, m)| (s, m.as_ref())), 1);
        let overhead = 100;
        let mut next = 1;
        for f in &out {
            assert_eq!(f.first_seq, next, "in order, nothing skipped");
            next = f.last_seq + 1;
            let one = f.first_seq == f.last_seq;
            assert!(
                one || f.text.len() <= WS_FRAME_MAX_BYTES + overhead,
                "{}",
                f.text.len()
            );
        }
        assert_eq!(next, msgs.len() as i64 + 1);
        assert!(out.iter().any(|f| f.text.len() > WS_FRAME_MAX_BYTES * 2));
        assert!(out.len() >= 4);
    }
}
