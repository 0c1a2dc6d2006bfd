//! Reading what a relay sends without trusting its size or shape.
//!
//! An answer is read into memory only up to [`MAX_RELAY_ANSWER_BYTES`] ([`read_capped`]) and
//! then read in place: lists are [`RawList`]s of borrowed JSON slices, bounded in count, and
//! message objects are [`screen`]ed by their size as sent before anything parses them. A
//! `serde_json::Value` of a whole answer is never built: for small JSON items it takes many
//! times their size.

use std::fmt;
use std::marker::PhantomData;

use felund_wire::limits::{MAX_ID_BYTES, MAX_RELAY_OBJECT_BYTES};
use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::client::{RelayError, RelayPeer};
use crate::limits::{
    MAX_RELAY_ANSWER_BYTES, MAX_RELAY_OBJECTS_PER_ANSWER, RELAY_ENDPOINTS_PER_PEER,
    RELAY_ERROR_QUOTED_BYTES, RELAY_PEERS_LIMIT,
};

/// A JSON list of at most `MAX` items, each kept as its raw text (borrowed from the answer).
/// A longer list is an error, not a truncation: a relay that sends more than was asked for is
/// not answering the question.
#[derive(Debug, Default)]
pub struct RawList<'a, const MAX: usize>(pub Vec<&'a RawValue>);

impl<'de: 'a, 'a, const MAX: usize> Deserialize<'de> for RawList<'a, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<'a, const MAX: usize>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a, const MAX: usize> Visitor<'de> for ListVisitor<'a, MAX> {
            type Value = RawList<'a, MAX>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX} items")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'a RawValue>()? {
                    if items.len() == MAX {
                        return Err(A::Error::custom(format!("more than {MAX} items")));
                    }
                    items.push(item);
                }
                Ok(RawList(items))
            }
        }

        d.deserialize_seq(ListVisitor(PhantomData))
    }
}

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

/// An optional integer field read leniently: anything else reads as absent, as the relays'
/// own clients do.
pub fn int(raw: Option<&RawValue>) -> Option<i64> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

/// An optional boolean field read leniently.
pub fn flag(raw: Option<&RawValue>) -> Option<bool> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

/// An answer that says whether it succeeded (`"ok": true`).
pub(super) trait Acknowledged {
    fn ok(&self) -> bool;
}

/// An answer of which only `ok` matters.
#[derive(Deserialize)]
pub(super) struct Ack {
    #[serde(default)]
    pub(super) ok: bool,
}

/// `POST /messages`.
#[derive(Deserialize)]
pub(super) struct PushAnswer<'a> {
    #[serde(default)]
    pub(super) ok: bool,
    #[serde(borrow)]
    pub(super) stored: Option<&'a RawValue>,
}

/// `GET /peers`.
#[derive(Deserialize)]
pub(super) struct PeersAnswer<'a> {
    #[serde(default)]
    pub(super) ok: bool,
    #[serde(borrow)]
    pub(super) peers: RawList<'a, RELAY_PEERS_LIMIT>,
}

/// `GET /messages`.
#[derive(Deserialize)]
pub(super) struct PullAnswer<'a> {
    #[serde(default)]
    pub(super) ok: bool,
    #[serde(borrow)]
    pub(super) messages: RawList<'a, MAX_RELAY_OBJECTS_PER_ANSWER>,
    #[serde(borrow)]
    pub(super) server_time: Option<&'a RawValue>,
    #[serde(borrow)]
    pub(super) cursor: Option<&'a RawValue>,
    #[serde(borrow)]
    pub(super) more: Option<&'a RawValue>,
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
acknowledged!(Ack, PushAnswer<'_>, PeersAnswer<'_>, PullAnswer<'_>);

/// Reads an answer in place; it must be the expected shape and say `"ok": true`.
pub(super) fn parse<'a, T: Deserialize<'a> + Acknowledged>(
    body: &'a [u8],
) -> Result<T, RelayError> {
    let answer: T = serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "not JSON"
        } else {
            "not the expected JSON"
        };
        RelayError::BadAnswer(format!("{what} ({e})"))
    })?;
    if !answer.ok() {
        return Err(RelayError::BadAnswer("no \"ok\":true".into()));
    }
    Ok(answer)
}

/// Reads a successful answer's body, refusing (without reading on) one over
/// [`MAX_RELAY_ANSWER_BYTES`], whether it announced its size or not.
pub(super) async fn read_capped(resp: reqwest::Response) -> Result<Vec<u8>, RelayError> {
    read_capped_to(resp, MAX_RELAY_ANSWER_BYTES).await
}

/// [`read_capped`] with another cap (signalling answers are far smaller than pages).
pub(crate) async fn read_capped_to(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, RelayError> {
    let declared = resp.content_length();
    let too_large = RelayError::TooLarge { cap, declared };
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

pub(crate) fn transport(e: reqwest::Error) -> RelayError {
    RelayError::Transport(e.without_url().to_string())
}

/// One record of a `/peers` answer; other fields are ignored.
#[derive(Deserialize)]
struct PeerRecord<'a> {
    node_id: String,
    #[serde(default, borrow)]
    endpoints: RawList<'a, RELAY_ENDPOINTS_PER_PEER>,
}

/// One endpoint of a peer record, every field read leniently.
#[derive(Deserialize)]
struct Endpoint<'a> {
    #[serde(borrow)]
    transport: Option<&'a RawValue>,
    #[serde(borrow)]
    host: Option<&'a RawValue>,
    #[serde(borrow)]
    port: Option<&'a RawValue>,
}

/// The peers of a `/peers` answer other than `own_node_id` that have a usable TCP endpoint (the
/// first one), as `host:port`. Malformed records are skipped, as before any of this was bounded.
pub(super) fn tcp_peers(records: &[&RawValue], own_node_id: &str) -> Vec<RelayPeer> {
    records
        .iter()
        .filter_map(|raw| serde_json::from_str::<PeerRecord>(raw.get()).ok())
        .filter(|p| {
            p.node_id != own_node_id && !p.node_id.is_empty() && p.node_id.len() <= MAX_ID_BYTES
        })
        .filter_map(|p| {
            let addr = p.endpoints.0.iter().find_map(|e| tcp_addr(e))?;
            Some(RelayPeer {
                node_id: p.node_id,
                addr,
            })
        })
        .collect()
}

/// The node ids of a `/peers` answer other than `own_node_id` that registered as browsers
/// (`capabilities.transport` names `"ws"`; web clients register so, nodes say `"tcp"`).
pub(crate) fn browser_peers(records: &[&RawValue], own_node_id: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Record<'a> {
        node_id: String,
        #[serde(default, borrow)]
        capabilities: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Capabilities<'a> {
        #[serde(default, borrow)]
        transport: RawList<'a, RELAY_ENDPOINTS_PER_PEER>,
    }
    records
        .iter()
        .filter_map(|raw| serde_json::from_str::<Record>(raw.get()).ok())
        .filter(|p| {
            p.node_id != own_node_id && !p.node_id.is_empty() && p.node_id.len() <= MAX_ID_BYTES
        })
        .filter(|p| {
            p.capabilities
                .and_then(|c| serde_json::from_str::<Capabilities>(c.get()).ok())
                .is_some_and(|c| c.transport.0.iter().any(|t| t.get() == r#""ws""#))
        })
        .map(|p| p.node_id)
        .collect()
}

/// `host:port` (`[host]:port` for IPv6) of a TCP endpoint with a plausible host and port.
fn tcp_addr(raw: &RawValue) -> Option<String> {
    let e: Endpoint = serde_json::from_str(raw.get()).ok()?;
    let text = |r: Option<&RawValue>| r.and_then(|r| serde_json::from_str::<String>(r.get()).ok());
    if text(e.transport).as_deref() != Some("tcp") {
        return None;
    }
    let host = text(e.host).filter(|h| !h.is_empty() && h.len() <= 255)?;
    let port = int(e.port).filter(|p| (1..=65535).contains(p))?;
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder<'a> {
        #[serde(borrow)]
        list: RawList<'a, 3>,
    }

    #[test]
    fn a_raw_list_keeps_items_verbatim_up_to_its_bound() {
        let h: Holder = serde_json::from_str(r#"{"list":[1, {"a" : [2]}, "x"]}"#).unwrap();
        let raw: Vec<&str> = h.list.0.iter().map(|r| r.get()).collect();
        assert_eq!(raw, ["1", r#"{"a" : [2]}"#, r#""x""#]);
        let too_many = serde_json::from_str::<Holder>(r#"{"list":[1,2,3,4]}"#);
        assert!(too_many
            .unwrap_err()
            .to_string()
            .contains("more than 3 items"));
        assert!(serde_json::from_str::<Holder>(r#"{"list":{}}"#).is_err());
    }

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

    #[test]
    fn scalar_fields_are_read_leniently() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        assert_eq!(int(Some(&raw("42"))), Some(42));
        assert_eq!(int(Some(&raw("4.2"))), None);
        assert_eq!(int(Some(&raw("\"42\""))), None);
        assert_eq!(int(None), None);
        assert_eq!(flag(Some(&raw("true"))), Some(true));
        assert_eq!(flag(Some(&raw("1"))), None);
    }
}
