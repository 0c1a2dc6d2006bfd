//! The relay's `/v1/signal` mailbox as a client: post one signal, poll what is addressed to
//! us. Neither request is signed (no relay checks signals, and the web client signs none).
//!
//! Everything read is bounded: an answer is read only up to
//! [`DC_MAX_SIGNAL_ANSWER_BYTES`], at most the relays' page of signals is taken from it,
//! and each field is checked for type and length before the link acts on it. A poll answer
//! that goes on past either bound yields its complete signals before the cut
//! ([`super::page`]), so the cursor moves on and the next poll reads the rest. A relay without
//! `/v1/signal` (the reference PHP relay answers 404) is told apart from one that fails, so the
//! transport can stay quiet there; a 429 carries the relay's `Retry-After`.

use std::time::Duration;

use felund_wire::datachannel::signal::{is_datachannel_kind, ttl_s};
use felund_wire::limits::{MAX_ID_BYTES, MAX_SIGNAL_PAYLOAD_CHARS};
use felund_wire::relay_api::{
    SignalKind, SignalPollQuery, SignalPost, SignalPostAnswer, SignalRecord,
};

use super::page;
use crate::limits::DC_MAX_SIGNAL_ANSWER_BYTES;
use crate::relay::answer;
use crate::relay::client::{api_root, RelayClientError};

/// Longest `Retry-After` we honour; a relay asking for more is waited on this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Wait after a 429 without a usable `Retry-After` (the relays' window).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Longest session id we act on (the relays refuse longer ones).
const MAX_SESSION_ID: usize = 2 * MAX_ID_BYTES + 1;

/// Why a signal request failed.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// The relay has no `/v1/signal` (404): it serves no DataChannel signalling.
    #[error("the relay does not serve /v1/signal")]
    NotServed,
    /// The relay's rate limit: wait this long before posting again.
    #[error("the relay rate-limits signals; retrying after {0:?}")]
    RateLimited(Duration),
    /// Anything else (unreachable, bad answer, other status).
    #[error(transparent)]
    Relay(#[from] RelayClientError),
}

/// One signal addressed to us, fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The relay's increasing id (the poll cursor).
    pub id: i64,
    /// The pair's session id.
    pub session_id: String,
    /// Who sent it.
    pub from_node: String,
    /// What it is.
    pub kind: SignalKind,
    /// The JSON text it carries (at most [`MAX_SIGNAL_PAYLOAD_CHARS`]).
    pub payload: String,
    /// The relay's clock when it was stored.
    pub created_at: i64,
}

/// One poll's result.
#[derive(Debug, Default)]
pub struct Polled {
    /// Signals of the kinds this transport reads, in id order.
    pub signals: Vec<Signal>,
    /// The largest id seen, whatever its kind (the next cursor).
    pub last_id: Option<i64>,
    /// The relay's clock (for an answer cut before it: the newest signal's time).
    pub server_time: i64,
    /// The answer went on past what is read (the byte cap or a page): the rest comes with
    /// the next poll.
    pub cut: bool,
}

/// Signalling client of one relay, as one node.
#[derive(Clone)]
pub struct SignalClient {
    http: reqwest::Client,
    root: String,
    node_id: String,
}

impl SignalClient {
    /// A client of the relay at `base` for node `node_id`.
    pub fn new(http: reqwest::Client, base: &str, node_id: &str) -> Self {
        Self {
            http,
            root: api_root(base),
            node_id: node_id.to_string(),
        }
    }

    /// Posts one signal to `to`; returns the relay's clock when it stored it.
    pub async fn post(
        &self,
        to: &str,
        session_id: &str,
        circle_hint: &str,
        kind: SignalKind,
        payload: &str,
    ) -> Result<i64, SignalError> {
        let body = SignalPost {
            session_id: session_id.to_string(),
            from_node_id: self.node_id.clone(),
            to_node_id: to.to_string(),
            circle_hint: circle_hint.to_string(),
            kind,
            payload: payload.to_string(),
            ttl_s: Some(ttl_s(kind)),
        };
        let resp = self
            .http
            .post(format!("{}/signal", self.root))
            .json(&body)
            .send()
            .await
            .map_err(answer::transport)?;
        let body = answer::read_capped_to(ok(resp).await?, DC_MAX_SIGNAL_ANSWER_BYTES)
            .await
            .map_err(SignalError::from)?;
        let posted: SignalPostAnswer = serde_json::from_slice(&body)
            .map_err(|e| RelayClientError::BadAnswer(format!("signal post answer: {e}")))?;
        if !posted.ok {
            return Err(RelayClientError::BadAnswer("no \"ok\":true".into()).into());
        }
        Ok(posted.server_time.unwrap_or(0))
    }

    /// Signals addressed to us with an id above `since_id`.
    pub async fn poll(&self, since_id: i64) -> Result<Polled, SignalError> {
        let resp = self
            .http
            .get(format!("{}/signal", self.root))
            .query(&SignalPollQuery {
                to_node_id: self.node_id.clone(),
                since_id,
                session_id: None,
            })
            .send()
            .await
            .map_err(answer::transport)?;
        let (body, cut) = read_prefix(ok(resp).await?, DC_MAX_SIGNAL_ANSWER_BYTES).await?;
        parse_poll(&body, since_id, cut)
    }
}

/// The response of a successful request, or the error its status means.
async fn ok(resp: reqwest::Response) -> Result<reqwest::Response, SignalError> {
    let status = resp.status().as_u16();
    match status {
        200..=299 => Ok(resp),
        404 => Err(SignalError::NotServed),
        429 => {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs)
                .clamp(Duration::from_secs(1), MAX_RETRY_AFTER);
            Err(SignalError::RateLimited(wait))
        }
        _ => Err(RelayClientError::Status {
            status,
            body: answer::read_quoted(resp).await,
        }
        .into()),
    }
}

/// At most `cap` bytes of the body, and whether it went on past them.
async fn read_prefix(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), SignalError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(answer::transport)? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Reads a poll answer (`cut`: the body went on past what was read); signals of other kinds
/// and malformed ones are skipped but still move the cursor, so a bad signal is read once,
/// not every poll. An answer cut short, or holding more than a page, gives its complete
/// signals before the cut; one that gives none (or is malformed otherwise) is an error.
fn parse_poll(body: &[u8], since_id: i64, cut: bool) -> Result<Polled, SignalError> {
    let (answer, whole) = page::read(body);
    let cut = cut || answer.overfull;
    if let Err(e) = whole {
        if !cut || answer.signals.is_empty() {
            return Err(RelayClientError::BadAnswer(format!("signal poll answer: {e}")).into());
        }
    }
    if answer.ok != Some(true) {
        return Err(RelayClientError::BadAnswer("no \"ok\":true".into()).into());
    }
    let mut out = Polled {
        cut,
        ..Polled::default()
    };
    let mut newest = None;
    for raw in answer.signals {
        // An id we cannot read cannot move the cursor either: skip the signal.
        let Ok(s) = serde_json::from_str::<SignalRecord>(raw.get()) else {
            continue;
        };
        if s.id <= since_id {
            continue;
        }
        out.last_id = Some(out.last_id.map_or(s.id, |l: i64| l.max(s.id)));
        newest = newest.max(Some(s.created_at));
        let Some(kind) = SignalKind::parse(&s.kind).filter(|k| is_datachannel_kind(*k)) else {
            continue;
        };
        let fits = !s.from_node.is_empty()
            && s.from_node.len() <= MAX_ID_BYTES
            && !s.session_id.is_empty()
            && s.session_id.len() <= MAX_SESSION_ID
            && s.payload.chars().count() <= MAX_SIGNAL_PAYLOAD_CHARS;
        if fits {
            out.signals.push(Signal {
                id: s.id,
                session_id: s.session_id,
                from_node: s.from_node,
                kind,
                payload: s.payload,
                created_at: s.created_at,
            });
        }
    }
    // A cut answer ends before the relay's clock: its newest signal stands in for it.
    out.server_time = answer.server_time.or(newest).unwrap_or(0);
    out.signals.sort_by_key(|s| s.id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use felund_wire::relay_api::limits::SIGNAL_POLL_LIMIT;

    #[test]
    fn a_poll_keeps_our_kinds_in_id_order_and_moves_past_everything_else() {
        let body = br#"{"ok":true,"server_time":100,"signals":[
            {"id":7,"session_id":"a:b","from_node":"aaaaaaaa","to_node":"b","type":"candidate","payload":"{}","created_at":99},
            {"id":5,"session_id":"a:b","from_node":"aaaaaaaa","to_node":"b","type":"offer","payload":"{}","created_at":98},
            {"id":8,"session_id":"a:b","from_node":"aaaaaaaa","to_node":"b","type":"media-offer","payload":"{}","created_at":99},
            {"id":9,"session_id":"","from_node":"aaaaaaaa","to_node":"b","type":"offer","payload":"{}","created_at":99},
            {"id":"x"},
            {"id":3,"session_id":"a:b","from_node":"aaaaaaaa","to_node":"b","type":"offer","payload":"{}","created_at":90}
        ]}"#;
        let p = parse_poll(body, 4, false).expect("parses");
        assert_eq!(p.server_time, 100);
        assert_eq!(p.last_id, Some(9));
        let ids: Vec<i64> = p.signals.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [5, 7],
            "old, foreign-kind and malformed signals are left out"
        );
    }

    #[test]
    fn a_poll_answer_cut_short_or_over_a_page_moves_the_cursor_past_what_was_read() {
        let items: Vec<String> = (1..=SIGNAL_POLL_LIMIT as i64 + 3)
            .map(|i| {
                format!(
                    r#"{{"id":{i},"session_id":"a:b","from_node":"aaaaaaaa","type":"offer","payload":"{{}}","created_at":{i}}}"#
                )
            })
            .collect();
        let many = format!(
            r#"{{"ok":true,"signals":[{}],"server_time":900}}"#,
            items.join(",")
        );
        let p = parse_poll(many.as_bytes(), 0, false).expect("the first page");
        assert!(p.cut);
        assert_eq!(p.last_id, Some(SIGNAL_POLL_LIMIT as i64));
        assert_eq!(p.signals.len(), SIGNAL_POLL_LIMIT as usize);

        let body = format!(
            r#"{{"ok":true,"signals":[{},{},{{"id":3,"pay"#,
            items[0], items[1]
        );
        let p = parse_poll(body.as_bytes(), 0, true).expect("the complete signals");
        assert!(p.cut);
        assert_eq!(p.last_id, Some(2));
        assert_eq!(
            p.server_time, 2,
            "the newest signal stands in for the relay's clock"
        );
    }

    #[test]
    fn a_poll_answer_without_ok_or_a_complete_signal_is_refused() {
        assert!(parse_poll(br#"{"signals":[]}"#, 0, false).is_err());
        assert!(parse_poll(b"<html>", 0, false).is_err());
        assert!(parse_poll(br#"{"ok":true,"signals":[{"id":1,"pay"#, 0, true).is_err());
        assert!(parse_poll(br#"{"ok":true,"signals":[{"id":1}"#, 0, false).is_err());
        assert!(parse_poll(br#"{"signals":[{"id":1},"#, 0, true).is_err());
    }
}
