//! Shared test harness: an in-process relay on 127.0.0.1:0 with a manual clock, on SQLite or on
//! PostgreSQL ([`Backend`], [`on_both_backends!`]), and a small signing client built on
//! felund-wire's helpers.
#![allow(dead_code)]

pub mod process;
pub mod since;

/// The throw-away PostgreSQL cluster (shared with the workspace tests).
pub use felund_testkit::pg;

use std::sync::Arc;
use std::time::Duration;

use felund_relay::store::{PgHub, PgOptions, PgStore, RelayStore};
use felund_relay::{spawn, Clock, ManualClock, RelayConfig, RelayDeps, RelayHandle, SqliteStore};
use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::ids::circle_hint;
use felund_wire::CircleSecret;
use rand::RngCore;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::{json, Value};

/// Which storage a relay under test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in the relay's temp dir.
    Sqlite,
    /// A PostgreSQL database (with the `LISTEN/NOTIFY` push hub), by URL.
    Postgres(String),
}

impl Backend {
    /// A fresh database on this test binary's shared PostgreSQL cluster; `None` (the test is
    /// skipped, with a message) when there is none and it is not required.
    pub fn postgres(test: &str) -> Option<Self> {
        pg::shared(test).map(|cluster| Self::Postgres(cluster.create_database()))
    }

    /// The PostgreSQL connection settings of test relays.
    pub fn pg_options() -> PgOptions {
        PgOptions {
            max_connections: 4,
            acquire_timeout: Duration::from_millis(1500),
        }
    }
}

/// Runs each named `async fn NAME(backend: Backend)` of the test file as two tests,
/// `sqlite::NAME` and `postgres::NAME` (skipped with a message when PostgreSQL is unavailable
/// and not required).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(backend) = $crate::common::Backend::postgres(stringify!($name))
                    else {
                        return;
                    };
                    super::$name(backend).await;
                }
            )+
        }
    };
}

/// A relay running in this process.
pub struct Relay {
    pub handle: Option<RelayHandle>,
    pub base: String,
    /// The (shared) manual clock; this relay's time is it plus `skew_s`.
    pub clock: Arc<ManualClock>,
    pub skew_s: i64,
    pub store: Arc<dyn RelayStore>,
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

pub async fn start(backend: &Backend) -> Relay {
    start_with(backend, |_| {}).await
}

pub async fn start_with(backend: &Backend, configure: impl FnOnce(&mut RelayConfig)) -> Relay {
    start_instance(
        backend,
        Arc::new(ManualClock::starting_now()),
        0,
        Backend::pg_options(),
        configure,
    )
    .await
}

/// A clock `skew_s` seconds off a shared manual clock (an instance on another host).
struct SkewedClock {
    base: Arc<ManualClock>,
    skew_s: i64,
}

impl Clock for SkewedClock {
    fn now(&self) -> i64 {
        self.base.now() + self.skew_s
    }
}

/// The store (and, for PostgreSQL, the push hub) of one relay instance on `backend`.
pub async fn deps_for(backend: &Backend, dir: &std::path::Path, options: PgOptions) -> RelayDeps {
    match backend {
        Backend::Sqlite => {
            let store = SqliteStore::open(&dir.join("relay.sqlite")).expect("sqlite store");
            RelayDeps::new(Arc::new(store))
        }
        Backend::Postgres(url) => {
            let store = PgStore::connect(url, options).await.expect("pg store");
            let hub = PgHub::start(&store).await.expect("pg hub");
            RelayDeps::new(Arc::new(store)).with_hub(Arc::new(hub))
        }
    }
}

/// One relay instance on `backend` whose time is `clock` + `skew_s` (several instances on one
/// PostgreSQL database share the clock, possibly skewed, to act as one relay).
pub async fn start_instance(
    backend: &Backend,
    clock: Arc<ManualClock>,
    skew_s: i64,
    options: PgOptions,
    configure: impl FnOnce(&mut RelayConfig),
) -> Relay {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..RelayConfig::default()
    };
    configure(&mut config);
    let relay_clock: Arc<dyn Clock> = Arc::new(SkewedClock {
        base: clock.clone(),
        skew_s,
    });
    let deps = deps_for(backend, dir.path(), options)
        .await
        .with_clock(relay_clock);
    let store = deps.store.clone();
    let handle = spawn(config, deps).await.expect("spawn relay");
    let base = format!("http://{}", handle.local_addr());
    Relay {
        handle: Some(handle),
        base,
        clock,
        skew_s,
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

/// The value of the sample `name{labels}` in a Prometheus text exposition (labels in any
/// order, all of them given), if there is one.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut wanted: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    wanted.sort();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, mut got) = match series.split_once('{') {
                Some((n, rest)) => (n, parse_labels(rest.strip_suffix('}')?)),
                None => (series, Vec::new()),
            };
            got.sort();
            (series_name == name && got == wanted).then(|| value.parse().ok())?
        })
}

fn parse_labels(text: &str) -> Vec<(String, String)> {
    text.split("\",")
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once("=\"")?;
            Some((k.to_owned(), v.trim_end_matches('"').to_owned()))
        })
        .collect()
}

/// A message object of about `size` bytes (an envelope with a long ciphertext).
pub fn sized(msg_id: &str, size: usize) -> Value {
    let mut m = message(msg_id, 1);
    m["enc"]["ciphertext"] = json!("B".repeat(size));
    m
}

impl Relay {
    pub fn now(&self) -> i64 {
        self.clock.now() + self.skew_s
    }

    /// `ws://HOST:PORT` of this relay.
    pub fn ws_base(&self) -> String {
        format!(
            "ws://{}",
            self.handle.as_ref().expect("handle").local_addr()
        )
    }

    /// `GET /metrics` from the relay's metrics listener (which must be configured).
    pub async fn metrics(&self) -> String {
        let addr = self
            .handle
            .as_ref()
            .and_then(|h| h.metrics_addr())
            .expect("metrics listener");
        let resp = self
            .http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(resp.status().as_u16(), 200);
        resp.text().await.expect("metrics text")
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
        self.signed_from(None, member, method, route, query, body)
            .await
    }

    /// [`Relay::signed`] as if from client address `from` (an `X-Forwarded-For`, which relays
    /// started with `trust_forwarded_for` take as the client address).
    pub async fn signed_from(
        &self,
        from: Option<&str>,
        member: &Member,
        method: Method,
        route: &str,
        query: &str,
        body: Option<&Value>,
    ) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json"));
        let mut headers = member.headers(
            method.as_str(),
            route,
            bytes.as_deref().unwrap_or(b""),
            self.now(),
        );
        if let Some(addr) = from {
            headers.insert(
                "x-forwarded-for",
                HeaderValue::from_str(addr).expect("addr"),
            );
        }
        self.send(method, &format!("/v1{route}{query}"), bytes, headers)
            .await
    }

    /// Registers `member` (signed, with its key) from client address `from`; any answer.
    pub async fn register_from(&self, from: Option<&str>, member: &Member) -> Reply {
        let body = member.register_body();
        self.signed_from(from, member, Method::POST, "/register", "", Some(&body))
            .await
    }

    /// `GET /v1/peers` of `member`'s circle, signed by it; the listed node ids.
    pub async fn peer_ids(&self, member: &Member) -> Vec<String> {
        let q = format!("?circle_hint={}", member.hint);
        let reply = self.signed(member, Method::GET, "/peers", &q, None).await;
        assert_eq!(reply.status, 200, "peers: {:?}", reply.json);
        reply.json["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .map(|p| p["node_id"].as_str().expect("node_id").to_owned())
            .collect()
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
        let headers = match node {
            Some(n) => header_map(&[("X-Felund-Node", n)]),
            None => HeaderMap::new(),
        };
        self.push_unsigned_with(hint, messages, headers).await
    }

    /// An unsigned push with the given headers (e.g. an `X-Forwarded-For`).
    pub async fn push_unsigned_with(
        &self,
        hint: &str,
        messages: &[Value],
        headers: HeaderMap,
    ) -> Reply {
        let body =
            serde_json::to_vec(&json!({"circle_hint": hint, "messages": messages})).expect("json");
        self.send(Method::POST, "/v1/messages", Some(body), headers)
            .await
    }

    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await.expect("shutdown");
        }
    }
}

/// A WebSocket client of a relay under test.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a socket yields next.
#[derive(Debug)]
pub enum WsEvent {
    /// A text frame, parsed.
    Json(Value),
    /// A close frame: code and reason.
    Closed(u16, String),
    /// Nothing within the wait, or the stream ended without a close frame.
    Nothing,
}

impl Relay {
    /// Opens `/v1/relay/ws` for `hint` as `node`; the HTTP status on refusal.
    pub async fn try_ws(&self, hint: &str, node: &str) -> Result<Socket, u16> {
        self.try_ws_with(hint, node, HeaderMap::new()).await
    }

    /// [`Relay::try_ws`] with extra request headers (signature, `X-Forwarded-For`).
    pub async fn try_ws_with(
        &self,
        hint: &str,
        node: &str,
        headers: HeaderMap,
    ) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Error;
        let url = format!(
            "{}/v1/relay/ws?circle_hint={hint}&node_id={node}",
            self.ws_base()
        );
        let mut request = url.into_client_request().expect("ws request");
        for (name, value) in &headers {
            let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(
                name.as_str().as_bytes(),
            )
            .expect("name");
            let value =
                tokio_tungstenite::tungstenite::http::HeaderValue::from_bytes(value.as_bytes())
                    .expect("value");
            request.headers_mut().insert(name, value);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(other) => panic!("ws connect: {other}"),
        }
    }

    /// Opens `/v1/relay/ws`, which must succeed.
    pub async fn ws(&self, hint: &str, node: &str) -> Socket {
        self.try_ws(hint, node).await.expect("ws upgrade")
    }
}

/// The next text or close frame within `wait` (pings are skipped).
pub async fn next_event(socket: &mut Socket, wait: Duration) -> WsEvent {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let Ok(Some(frame)) = tokio::time::timeout_at(deadline, socket.next()).await else {
            return WsEvent::Nothing;
        };
        match frame {
            Ok(Message::Text(text)) => {
                return WsEvent::Json(serde_json::from_str(&text).expect("json frame"))
            }
            Ok(Message::Close(frame)) => {
                return match frame {
                    Some(f) => WsEvent::Closed(u16::from(f.code), f.reason.to_string()),
                    None => WsEvent::Closed(1005, String::new()),
                }
            }
            Ok(_) => continue,
            Err(_) => return WsEvent::Nothing,
        }
    }
}

/// The msg_ids of a `MESSAGES` frame or a pull reply.
pub fn msg_ids(json: &Value) -> Vec<String> {
    json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["msg_id"].as_str().expect("msg_id").to_owned())
        .collect()
}
