//! Reading what a relay sends without trusting its size or shape.
//!
//! An answer is read into memory only up to [`MAX_RELAY_ANSWER_BYTES`] ([`read_capped`]) and
//! then read in place as the relay contract's types (`felund_wire::relay_api`) in their
//! reader form: lists are `RawList`s of borrowed JSON slices, bounded in count, and message
//! objects are [`screen`]ed by their size as sent before anything parses them. A
//! `serde_json::Value` of a whole answer is never built: for small JSON items it takes many
//! times their size.

use felund_wire::limits::{MAX_ID_BYTES, MAX_RELAY_OBJECT_BYTES};
use felund_wire::relay_api::{
    Ack, PeerRecord, PeersPage, PullPage, PushAnswer, PushedFrame, Transport,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::client::{RelayClientError, RelayPeer};
use crate::limits::{MAX_RELAY_ANSWER_BYTES, RELAY_ERROR_QUOTED_BYTES};

/// Message objects from one relay answer (a pull page or a pushed frame), screened by size.
#[derive(Debug, Default)]
pub struct Objects {
    /// Objects no larger than [`MAX_RELAY_OBJECT_BYTES`] as sent, still unparsed and
    /// unverified.
    pub kept: Vec<Box<RawValue>>,
    /// How many objects were larger and were skipped unread.
    pub skipped: usize,
    /// Their total size in bytes.
    pub skipped_bytes: usize,
}

/// Keeps the objects that could be real messages and counts the rest: anything larger than the
/// largest object a felund client makes was not made by one, so it is skipped before parsing.
pub fn screen(items: &[&RawValue]) -> Objects {
    let mut out = Objects::default();
    for item in items {
        let len = item.get().len();
        if len > MAX_RELAY_OBJECT_BYTES {
            out.skipped += 1;
            out.skipped_bytes += len;
        } else {
            out.kept.push((*item).to_owned());
        }
    }
    out
}

/// An answer that says whether it succeeded (`"ok": true`).
pub(super) trait Acknowledged {
    fn ok(&self) -> bool;
}

macro_rules! acknowledged {
    ($($t:ty),*) => {$(
        impl Acknowledged for $t {
            fn ok(&self) -> bool {
                self.ok
            }
        }
    )*};
}
acknowledged!(Ack, PushAnswer, PeersPage<'_>, PullPage<'_>);

/// Reads an answer in place; it must be the expected shape and say `"ok": true`.
pub(super) fn parse<'a, T: Deserialize<'a> + Acknowledged>(
    body: &'a [u8],
) -> Result<T, RelayClientError> {
    let answer: T = serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "not JSON"
        } else {
            "not the expected JSON"
        };
        RelayClientError::BadAnswer(format!("{what} ({e})"))
    })?;
    if !answer.ok() {
        return Err(RelayClientError::BadAnswer("no \"ok\":true".into()));
    }
    Ok(answer)
}

/// Reads a successful answer's body, refusing (without reading on) one over
/// [`MAX_RELAY_ANSWER_BYTES`], whether it announced its size or not.
pub(super) async fn read_capped(resp: reqwest::Response) -> Result<Vec<u8>, RelayClientError> {
    read_capped_to(resp, MAX_RELAY_ANSWER_BYTES).await
}

/// [`read_capped`] with another cap (signalling answers have their own).
pub(crate) async fn read_capped_to(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, RelayClientError> {
    let declared = resp.content_length();
    let too_large = RelayClientError::TooLarge { cap, declared };
    let expected = match declared {
        Some(len) if len > cap as u64 => return Err(too_large),
        Some(len) => len as usize,
        None => 0,
    };
    let mut body = Vec::with_capacity(expected);
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > cap {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error answer, to quote; the rest is never read.
pub(crate) async fn read_quoted(mut resp: reqwest::Response) -> String {
    let mut start = Vec::new();
    while start.len() < RELAY_ERROR_QUOTED_BYTES {
        match resp.chunk().await {
            Ok(Some(chunk)) => start.extend_from_slice(&chunk),
            _ => break,
        }
    }
    start.truncate(RELAY_ERROR_QUOTED_BYTES);
    // Quoted into one log line: a relay's line breaks and escapes stay out of it.
    String::from_utf8_lossy(&start)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn transport(e: reqwest::Error) -> RelayClientError {
    RelayClientError::Transport(e.without_url().to_string())
}

/// The peers of a `/peers` answer other than `own_node_id` that have a usable TCP endpoint (the
/// first one), as `host:port`. Records and endpoints that cannot be read are skipped.
pub(super) fn tcp_peers(records: &[&RawValue], own_node_id: &str) -> Vec<RelayPeer> {
    records
        .iter()
        .filter_map(|raw| serde_json::from_str::<PeerRecord>(raw.get()).ok())
        .filter(|p| {
            p.node_id != own_node_id && !p.node_id.is_empty() && p.node_id.len() <= MAX_ID_BYTES
        })
        .filter_map(|p| {
            let addr = p.endpoints().find_map(|e| e.tcp_addr())?;
            Some(RelayPeer {
                node_id: p.node_id,
                addr,
            })
        })
        .collect()
}

/// The node ids of a `/peers` answer other than `own_node_id` that registered as browsers
/// (their capabilities name the `ws` transport; nodes name `tcp`).
pub(crate) fn browser_peers(records: &[&RawValue], own_node_id: &str) -> Vec<String> {
    records
        .iter()
        .filter_map(|raw| serde_json::from_str::<PeerRecord>(raw.get()).ok())
        .filter(|p| {
            p.node_id != own_node_id && !p.node_id.is_empty() && p.node_id.len() <= MAX_ID_BYTES
        })
        .filter(|p| p.transports().contains(&Transport::Ws))
        .map(|p| p.node_id)
        .collect()
}

/// The message objects of a WebSocket message if it is a push frame (`MESSAGES`), screened by
/// size; anything else is not a push and is ignored.
pub(super) fn pushed_objects(text: &str) -> Option<Objects> {
    let frame: PushedFrame = serde_json::from_str(text).ok()?;
    Some(screen(&frame.messages.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening_skips_objects_larger_than_any_real_message_and_counts_them() {
        let small = r#"{"msg_id":"m1"}"#.to_string();
        let big = format!(
            r#"{{"msg_id":"m2","pad":"{}"}}"#,
            "x".repeat(MAX_RELAY_OBJECT_BYTES)
        );
        let at_cap = format!(
            r#"{{"pad":"{}"}}"#,
            "y".repeat(MAX_RELAY_OBJECT_BYTES - r#"{"pad":""}"#.len())
        );
        let raws: Vec<Box<RawValue>> = [&small, &big, &at_cap, &big]
            .iter()
            .map(|s| RawValue::from_string((*s).clone()).unwrap())
            .collect();
        let refs: Vec<&RawValue> = raws.iter().map(|r| &**r).collect();
        let objects = screen(&refs);
        assert_eq!(objects.kept.len(), 2);
        assert_eq!(objects.kept[0].get(), small);
        assert_eq!(objects.kept[1].get().len(), MAX_RELAY_OBJECT_BYTES);
        assert_eq!(objects.skipped, 2);
        assert_eq!(objects.skipped_bytes, 2 * big.len());
    }
}
