//! `RelayClient`: the relay/rendezvous HTTP API (PROTOCOL.md §8) as a client, one
//! circle at a time, every request signed with the circle's API signing key.
//! Everything a relay answers is treated as untrusted input: shapes are checked
//! and a relay that lies gets a [`RelayError`], never a panic.

use std::time::Duration;

use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::ids::circle_hint;
use reqwest::Method;
use serde_json::{json, Value};

use crate::model::Circle;
use crate::node::{now_ts, random_hex};

/// Time allowed for one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest pull page we ask for (the reference relays' maximum).
pub const PULL_LIMIT: u32 = 500;
/// Most messages per push (the relay's limit).
pub const PUSH_BATCH: usize = 50;

/// Why a relay request failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
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
}

/// One page of pulled messages.
#[derive(Debug, Clone)]
pub struct PullPage {
    /// Message objects, unverified.
    pub messages: Vec<Value>,
    /// The relay's clock.
    pub server_time: i64,
    /// felund-relay's lossless cursor (absent on reference relays).
    pub cursor: Option<i64>,
    /// More rows remain after this page (felund-relay only).
    pub more: bool,
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
            .user_agent(concat!("felundd/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    }

    /// The circle's hint (what the relay sees).
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// The API root in use.
    pub fn api_root(&self) -> &str {
        &self.base
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, RelayError> {
        let body_bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let ts = now_ts();
        let nonce = random_hex(16);
        let sig = sign_request(&self.key, method.as_str(), path, &body_bytes, ts, &nonce);
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .query(query)
            .header("X-Felund-Node", &self.node_id)
            .header("X-Felund-Ts", ts.to_string())
            .header("X-Felund-Nonce", nonce)
            .header("X-Felund-Signature", sig);
        if body.is_some() {
            req = req
                .header("Content-Type", "application/json")
                .body(body_bytes);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| RelayError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| RelayError::Transport(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(RelayError::Status {
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            });
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|_| RelayError::BadAnswer("not JSON".into()))?;
        if v.get("ok") != Some(&Value::Bool(true)) {
            return Err(RelayError::BadAnswer("no \"ok\":true".into()));
        }
        Ok(v)
    }

    /// Registers presence in the circle with our TCP endpoint, for `ttl_s` seconds.
    pub async fn register(
        &self,
        advertise: &str,
        can_anchor: bool,
        ttl_s: u32,
    ) -> Result<(), RelayError> {
        let endpoints = match felund_wire::frame::parse_host_port(advertise) {
            Some((host, port)) => {
                let host = host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string();
                let family = if host.contains(':') { "ipv6" } else { "ipv4" };
                vec![
                    json!({"transport": "tcp", "host": host, "port": port, "family": family, "nat": "unknown"}),
                ]
            }
            None => Vec::new(),
        };
        let body = json!({
            "node_id": self.node_id,
            "circle_hint": self.hint,
            "endpoints": endpoints,
            "capabilities": {"relay": false, "transport": ["tcp"], "can_anchor": can_anchor},
            "ttl_s": ttl_s,
            "signing_key": hex::encode(self.key),
        });
        self.request(Method::POST, "/register", &[], Some(&body))
            .await
            .map(|_| ())
    }

    /// Removes our presence record.
    pub async fn unregister(&self) -> Result<(), RelayError> {
        let body = json!({"node_id": self.node_id, "circle_hint": self.hint});
        self.request(Method::DELETE, "/register", &[], Some(&body))
            .await
            .map(|_| ())
    }

    /// Other live nodes of the circle with a TCP endpoint.
    pub async fn peers(&self) -> Result<Vec<RelayPeer>, RelayError> {
        let v = self
            .request(
                Method::GET,
                "/peers",
                &[("circle_hint", self.hint.clone()), ("limit", "200".into())],
                None,
            )
            .await?;
        let list = v
            .get("peers")
            .and_then(Value::as_array)
            .ok_or_else(|| RelayError::BadAnswer("peers is not a list".into()))?;
        let mut out = Vec::new();
        for p in list {
            let Some(node_id) = p.get("node_id").and_then(Value::as_str) else {
                continue;
            };
            if node_id == self.node_id || node_id.is_empty() || node_id.len() > 128 {
                continue;
            }
            let endpoints = p
                .get("endpoints")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for e in endpoints {
                if e.get("transport").and_then(Value::as_str) != Some("tcp") {
                    continue;
                }
                let host = e.get("host").and_then(Value::as_str).unwrap_or_default();
                let port = e
                    .get("port")
                    .and_then(Value::as_u64)
                    .filter(|p| (1..=65535).contains(p));
                if let (false, Some(port)) = (host.is_empty() || host.len() > 255, port) {
                    let addr = if host.contains(':') {
                        format!("[{host}]:{port}")
                    } else {
                        format!("{host}:{port}")
                    };
                    out.push(RelayPeer {
                        node_id: node_id.to_string(),
                        addr,
                    });
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Pushes envelopes (at most [`PUSH_BATCH`]). Returns how many the relay stored.
    pub async fn push(&self, envelopes: Vec<Value>) -> Result<u64, RelayError> {
        let body = json!({"circle_hint": self.hint, "messages": envelopes});
        let v = self
            .request(Method::POST, "/messages", &[], Some(&body))
            .await?;
        Ok(v.get("stored").and_then(Value::as_u64).unwrap_or(0))
    }

    /// Pulls one page after `cursor`.
    pub async fn pull(&self, cursor: PullCursor) -> Result<PullPage, RelayError> {
        let mut query = vec![
            ("circle_hint", self.hint.clone()),
            ("limit", PULL_LIMIT.to_string()),
        ];
        match cursor {
            PullCursor::Since(s) => query.push(("since", s.to_string())),
            PullCursor::AfterSeq(n) => {
                query.push(("since", "0".into()));
                query.push(("after_seq", n.to_string()));
            }
        }
        let v = self.request(Method::GET, "/messages", &query, None).await?;
        let messages = v
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| RelayError::BadAnswer("messages is not a list".into()))?;
        Ok(PullPage {
            messages,
            server_time: v.get("server_time").and_then(Value::as_i64).unwrap_or(0),
            cursor: v.get("cursor").and_then(Value::as_i64),
            more: v.get("more").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    /// The WebSocket push URL for this circle.
    pub fn ws_url(&self) -> String {
        let root = self
            .base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        format!(
            "{root}/relay/ws?circle_hint={}&node_id={}",
            self.hint, self.node_id
        )
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
