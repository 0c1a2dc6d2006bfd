//! Shared test harness: an in-process relay on 127.0.0.1:0 with a manual clock, and a small
//! signing client built on felund-wire's helpers.
#![allow(dead_code)]

use std::sync::Arc;

use felund_relay::{spawn, ManualClock, RelayConfig, RelayDeps, RelayHandle, SqliteStore};
use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::ids::circle_hint;
use felund_wire::CircleSecret;
use rand::RngCore;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::{json, Value};

/// A relay running in this process.
pub struct Relay {
    pub handle: Option<RelayHandle>,
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub store: Arc<SqliteStore>,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

/// A response: status, headers and the body parsed as JSON (`Null` if it is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts status and, for errors, the `code` or `detail`.
    pub fn assert_code(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{:?}", self.json);
        assert_eq!(self.json, json!({"ok": false, "code": code}));
    }

    pub fn assert_detail(&self, status: u16, detail: &str) {
        assert_eq!(self.status, status, "{:?}", self.json);
        assert_eq!(self.json, json!({"ok": false, "detail": detail}));
    }

    pub fn assert_cors(&self) {
        assert_eq!(self.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            self.header("access-control-allow-methods"),
            Some("GET, POST, DELETE, OPTIONS")
        );
        assert_eq!(
            self.header("access-control-allow-headers"),
            Some("Content-Type, X-Felund-Node, X-Felund-Ts, X-Felund-Nonce, X-Felund-Signature")
        );
    }
}

pub async fn start() -> Relay {
    start_with(|_| {}).await
}

pub async fn start_with(configure: impl FnOnce(&mut RelayConfig)) -> Relay {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("relay.sqlite")).expect("store"));
    let clock = Arc::new(ManualClock::starting_now());
    let mut config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..RelayConfig::default()
    };
    configure(&mut config);
    let deps = RelayDeps::new(store.clone()).with_clock(clock.clone());
    let handle = spawn(config, deps).await.expect("spawn relay");
    let base = format!("http://{}", handle.local_addr());
    Relay {
        handle: Some(handle),
        base,
        clock,
        store,
        http: reqwest::Client::new(),
        dir,
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A node in a circle, able to sign its requests.
#[derive(Debug, Clone)]
pub struct Member {
    pub node_id: String,
    pub hint: String,
    pub key: [u8; 32],
}

impl Member {
    /// A node `node_id` in the circle whose secret is 32 bytes of `circle_seed`.
    pub fn new(circle_seed: u8, node_id: &str) -> Self {
        let secret = CircleSecret::from_bytes(vec![circle_seed; 32]);
        Self {
            node_id: node_id.to_owned(),
            hint: circle_hint(&secret.circle_id()),
            key: api_signing_key(&secret),
        }
    }

    pub fn key_hex(&self) -> String {
        hex::encode(self.key)
    }

    /// The four signature headers for a request at `ts` with `nonce`.
    pub fn headers_with(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        ts: i64,
        nonce: &str,
    ) -> HeaderMap {
        let sig = sign_request(&self.key, method, path, body, ts, nonce);
        header_map(&[
            ("X-Felund-Node", self.node_id.as_str()),
            ("X-Felund-Ts", &ts.to_string()),
            ("X-Felund-Nonce", nonce),
            ("X-Felund-Signature", &sig),
        ])
    }

    /// The four signature headers with a fresh nonce.
    pub fn headers(&self, method: &str, path: &str, body: &[u8], ts: i64) -> HeaderMap {
        self.headers_with(method, path, body, ts, &random_hex(16))
    }

    pub fn register_body(&self) -> Value {
        json!({
            "node_id": self.node_id,
            "circle_hint": self.hint,
            "endpoints": [{"transport": "tcp", "host": "10.1.2.3", "port": 9999,
                            "family": "ipv4", "nat": "unknown"}],
            "capabilities": {"relay": false, "transport": ["tcp"], "can_anchor": true},
            "ttl_s": 120,
            "signing_key": self.key_hex(),
        })
    }
}

pub fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    map
}

/// A message object as the reference pushes it (an envelope without text).
pub fn message(msg_id: &str, created_ts: i64) -> Value {
    json!({
        "msg_id": msg_id,
        "circle_id": "66687aadf862bd776c8fc18b",
        "channel_id": "general",
        "author_node_id": "a3f8b2c4d5e6f708192a3b4c",
        "created_ts": created_ts,
        "enc": {"alg": "AES-256-GCM", "key_id": "epoch-0", "nonce": "AAAA", "ciphertext": "BBBB"},
    })
}

impl Relay {
    pub fn now(&self) -> i64 {
        use felund_relay::Clock;
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Any request; `path` is the full path (with `/v1` and query).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: HeaderMap,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path)).headers(headers);
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, HeaderMap::new()).await
    }

    /// A request signed by `member` at the relay's current time; `route` is the path after
    /// `/v1` (what is signed), `query` is appended as is.
    pub async fn signed(
        &self,
        member: &Member,
        method: Method,
        route: &str,
        query: &str,
        body: Option<&Value>,
    ) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json"));
        let headers = member.headers(
            method.as_str(),
            route,
            bytes.as_deref().unwrap_or(b""),
            self.now(),
        );
        self.send(method, &format!("/v1{route}{query}"), bytes, headers)
            .await
    }

    pub async fn register(&self, member: &Member) -> Reply {
        let reply = self
            .signed(
                member,
                Method::POST,
                "/register",
                "",
                Some(&member.register_body()),
            )
            .await;
        assert_eq!(reply.status, 200, "register: {:?}", reply.json);
        reply
    }

    pub async fn push(&self, member: &Member, messages: &[Value]) -> Reply {
        let body = json!({"circle_hint": member.hint, "messages": messages});
        self.signed(member, Method::POST, "/messages", "", Some(&body))
            .await
    }

    pub async fn pull(&self, member: &Member, query: &str) -> Reply {
        let q = format!("?circle_hint={}{}", member.hint, query);
        self.signed(member, Method::GET, "/messages", &q, None)
            .await
    }

    pub async fn push_unsigned(&self, hint: &str, messages: &[Value], node: Option<&str>) -> Reply {
        let body =
            serde_json::to_vec(&json!({"circle_hint": hint, "messages": messages})).expect("json");
        let headers = match node {
            Some(n) => header_map(&[("X-Felund-Node", n)]),
            None => HeaderMap::new(),
        };
        self.send(Method::POST, "/v1/messages", Some(body), headers)
            .await
    }

    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await.expect("shutdown");
        }
    }
}
