//! `RelayClient`: the relay/rendezvous HTTP API (docs/protocol.md §9) as a client, one
//! circle at a time, every request signed with the circle's API signing key. Requests and
//! answers are the relay contract's types (`felund_wire::relay_api`), which felund-relay
//! writes and reads too.
//! Everything a relay answers is treated as untrusted input: answers are read only
//! up to [`MAX_RELAY_ANSWER_BYTES`](crate::limits::MAX_RELAY_ANSWER_BYTES) and then in place (see [`answer`]), shapes are
//! checked, and a relay that lies gets a [`RelayClientError`], never a panic.

use std::time::Duration;

use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::ids::circle_hint;
use felund_wire::relay_api::{
    headers, paths, Ack, Capabilities, Endpoint, PeersPage, PeersQuery, PullPage as PullAnswer,
    PullQuery, PushAnswer, PushRequest, RegisterRequest, UnregisterRequest, WsQuery,
};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request as WsRequest;

use super::answer::{self, Objects};
use crate::limits::RELAY_PEERS_LIMIT;
use crate::model::Circle;
use crate::node::{now_ts, random_hex};

/// Time allowed for one request, reading the answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a relay request failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayClientError {
    /// The relay could not be reached or the request timed out.
    #[error("relay unreachable: {0}")]
    Transport(String),
    /// The relay answered with an error status.
    #[error("relay answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Start of the body.
        body: String,
    },
    /// The relay answered something that is not the documented shape.
    #[error("relay sent an unexpected answer: {0}")]
    BadAnswer(String),
    /// The answer is larger than any legitimate one; it was not read past the cap.
    #[error(
        "relay answer is larger than the {cap}-byte cap{}; not reading it",
        declared.map(|d| format!(" (it announced {d} bytes)")).unwrap_or_default()
    )]
    TooLarge {
        /// The cap, [`MAX_RELAY_ANSWER_BYTES`](crate::limits::MAX_RELAY_ANSWER_BYTES).
        cap: usize,
        /// The size the relay announced (`Content-Length`), if it did.
        declared: Option<u64>,
    },
}

/// One page of pulled messages.
#[derive(Debug, Default)]
pub struct PullPage {
    /// Message objects, screened by size but unverified.
    pub objects: Objects,
    /// The relay's clock.
    pub server_time: i64,
    /// felund-relay's lossless cursor (absent on reference relays).
    pub cursor: Option<i64>,
    /// More rows remain after this page (felund-relay only).
    pub more: bool,
    /// Size of the answer in bytes.
    pub bytes: usize,
}

/// A peer found through the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayPeer {
    /// Its node id.
    pub node_id: String,
    /// A TCP `host:port` it registered.
    pub addr: String,
}

/// Where the pull cursor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullCursor {
    /// Reference relays: server time of storage (pass `server_time - 1` back).
    Since(i64),
    /// felund-relay: the sequence number of the last row seen.
    AfterSeq(i64),
}

/// Client of one relay for one circle.
#[derive(Clone)]
pub struct RelayClient {
    http: reqwest::Client,
    base: String,
    circle: Circle,
    node_id: String,
    key: [u8; 32],
    hint: String,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("base", &self.base)
            .field("circle_id", &self.circle.circle_id)
            .finish_non_exhaustive()
    }
}

/// The API root for a configured base URL: a trailing `/` dropped, `/v1` appended
/// unless already there. `//host` (scheme-relative, from web clients) becomes https.
pub fn api_root(base: &str) -> String {
    let mut b = base.trim().trim_end_matches('/').to_string();
    if let Some(rest) = b.strip_prefix("//") {
        b = format!("https://{rest}");
    }
    if b.ends_with("/v1") {
        b
    } else {
        format!("{b}/v1")
    }
}

impl RelayClient {
    /// A client for `circle` on the relay at `base`, as node `node_id`.
    pub fn new(http: reqwest::Client, base: &str, circle: Circle, node_id: &str) -> Self {
        Self {
            http,
            base: api_root(base),
            key: api_signing_key(&circle.secret),
            hint: circle_hint(&circle.circle_id),
            circle,
            node_id: node_id.to_string(),
        }
    }

    /// A shared HTTP client for every relay.
    pub fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // A relay must not bounce our signed requests to somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("felundd/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    }

    /// The circle this client speaks for.
    pub fn circle(&self) -> &Circle {
        &self.circle
    }

    /// The circle's hint (what the relay sees).
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// The API root in use.
    pub fn api_root(&self) -> &str {
        &self.base
    }

    /// Sends one signed request; returns the answer's body, at most
    /// [`MAX_RELAY_ANSWER_BYTES`](crate::limits::MAX_RELAY_ANSWER_BYTES) of it.
    async fn request<Q: Serialize, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<Vec<u8>, RelayClientError> {
        let body_bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| {
                RelayClientError::BadAnswer(format!("cannot encode the request: {e}"))
            })?,
            None => Vec::new(),
        };
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(q) = query {
            req = req.query(q);
        }
        for (name, value) in self.signature(method.as_str(), path, &body_bytes) {
            req = req.header(name, value);
        }
        if body.is_some() {
            req = req
                .header("Content-Type", "application/json")
                .body(body_bytes);
        }
        let resp = req.send().await.map_err(answer::transport)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(RelayClientError::Status {
                status: status.as_u16(),
                body: answer::read_quoted(resp).await,
            });
        }
        answer::read_capped(resp).await
    }

    /// Registers presence in the circle with our TCP endpoint, for `ttl_s` seconds.
    pub async fn register(
        &self,
        advertise: &str,
        can_anchor: bool,
        ttl_s: u32,
    ) -> Result<(), RelayClientError> {
        let body = RegisterRequest {
            node_id: self.node_id.clone(),
            circle_hint: self.hint.clone(),
            endpoints: Endpoint::tcp(advertise).into_iter().collect(),
            capabilities: Capabilities {
                can_anchor: Some(can_anchor),
                ..Capabilities::default()
            },
            ttl_s: i64::from(ttl_s),
            signing_key: Some(hex::encode(self.key)),
        };
        let body = self
            .request(Method::POST, paths::REGISTER, None::<&()>, Some(&body))
            .await?;
        answer::parse::<Ack>(&body).map(|_| ())
    }

    /// Removes our presence record.
    pub async fn unregister(&self) -> Result<(), RelayClientError> {
        let body = UnregisterRequest {
            node_id: self.node_id.clone(),
            circle_hint: self.hint.clone(),
        };
        let body = self
            .request(Method::DELETE, paths::REGISTER, None::<&()>, Some(&body))
            .await?;
        answer::parse::<Ack>(&body).map(|_| ())
    }

    /// Other live nodes of the circle with a TCP endpoint.
    pub async fn peers(&self) -> Result<Vec<RelayPeer>, RelayClientError> {
        let body = self.peers_answer().await?;
        let answer: PeersPage = answer::parse(&body)?;
        Ok(answer::tcp_peers(&answer.peers.0, &self.node_id))
    }

    /// Other live nodes of the circle that registered as browsers (web clients), for the
    /// DataChannel transport.
    pub async fn browser_peers(&self) -> Result<Vec<String>, RelayClientError> {
        let body = self.peers_answer().await?;
        let answer: PeersPage = answer::parse(&body)?;
        Ok(answer::browser_peers(&answer.peers.0, &self.node_id))
    }

    /// The body of a `/peers` answer for our circle.
    async fn peers_answer(&self) -> Result<Vec<u8>, RelayClientError> {
        let query = PeersQuery {
            circle_hint: self.hint.clone(),
            limit: RELAY_PEERS_LIMIT,
        };
        self.request(Method::GET, paths::PEERS, Some(&query), None::<&()>)
            .await
    }

    /// Pushes envelopes (at most [`RELAY_PUSH_BATCH`](crate::limits::RELAY_PUSH_BATCH)).
    /// Returns how many the relay stored.
    pub async fn push(&self, envelopes: Vec<Value>) -> Result<u64, RelayClientError> {
        let body = PushRequest {
            circle_hint: self.hint.clone(),
            messages: envelopes,
        };
        let body = self
            .request(Method::POST, paths::MESSAGES, None::<&()>, Some(&body))
            .await?;
        let answer: PushAnswer = answer::parse(&body)?;
        Ok(answer.stored.map_or(0, |n| n.max(0) as u64))
    }

    /// Pulls one page of at most `limit` objects after `cursor`. Objects larger than any real
    /// message are counted and dropped unread (see [`answer::screen`]).
    pub async fn pull(&self, cursor: PullCursor, limit: u32) -> Result<PullPage, RelayClientError> {
        let (since, after_seq) = match cursor {
            PullCursor::Since(s) => (s, None),
            PullCursor::AfterSeq(n) => (0, Some(n)),
        };
        let query = PullQuery {
            circle_hint: self.hint.clone(),
            since,
            limit: i64::from(limit),
            after_seq,
        };
        let body = self
            .request(Method::GET, paths::MESSAGES, Some(&query), None::<&()>)
            .await?;
        let answer: PullAnswer = answer::parse(&body)?;
        Ok(PullPage {
            objects: answer::screen(&answer.messages.0),
            server_time: answer.server_time.unwrap_or(0),
            cursor: answer.cursor,
            more: answer.more.unwrap_or(false),
            bytes: body.len(),
        })
    }

    /// The request-signing headers for `method` on `path` (after `/v1`) with `body`.
    fn signature(&self, method: &str, path: &str, body: &[u8]) -> [(&'static str, String); 4] {
        let ts = now_ts();
        let nonce = random_hex(16);
        let sig = sign_request(&self.key, method, path, body, ts, &nonce);
        [
            (headers::NODE, self.node_id.clone()),
            (headers::TS, ts.to_string()),
            (headers::NONCE, nonce),
            (headers::SIGNATURE, sig),
        ]
    }

    /// The signed WebSocket upgrade request of the push feed: signed like every other
    /// request, so a relay that requires signatures serves it and counts it among the
    /// members' subscribers, not the unsigned ones.
    pub fn ws_request(&self) -> Result<WsRequest, RelayClientError> {
        let mut req = self
            .ws_url()
            .into_client_request()
            .map_err(|e| RelayClientError::Transport(format!("bad push URL: {e}")))?;
        for (name, value) in self.signature("GET", paths::WS, b"") {
            let value = value
                .parse()
                .map_err(|_| RelayClientError::Transport("bad signature header".into()))?;
            req.headers_mut().insert(name, value);
        }
        Ok(req)
    }

    /// The push feed's URL.
    pub fn ws_url(&self) -> String {
        let root = self
            .base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let query = WsQuery {
            circle_hint: self.hint.clone(),
            node_id: self.node_id.clone(),
        };
        // Two strings into a query string: encoding them cannot fail.
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{root}{}?{query}", paths::WS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_normalises_bases() {
        assert_eq!(api_root("http://h:1"), "http://h:1/v1");
        assert_eq!(api_root("http://h:1/api/"), "http://h:1/api/v1");
        assert_eq!(api_root("https://h/api/v1"), "https://h/api/v1");
        assert_eq!(
            api_root("//relay.example/api"),
            "https://relay.example/api/v1"
        );
    }
}
