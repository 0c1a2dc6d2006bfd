//! The check of the `relay_request` fuzz target (`fuzz/fuzz_targets/relay_request.rs`), shared
//! with the corpus replay test `tests/fuzz_corpus.rs`.
//!
//! An input is up to [`MAX_REQUESTS`] HTTP requests separated by a line `~~~`, each written
//! like HTTP/1.1 text without the version:
//!
//! ```text
//! POST /v1/messages?x=1
//! Content-Type: application/json
//!
//! {"circle_hint":"@HINT@","messages":[]}
//! ```
//!
//! Requests that the `http` crate cannot represent (bad method token, URI or header) are
//! skipped: hyper refuses them before the relay sees them. The rest go, in order, through the
//! relay's real router (`felund_relay::routes::app`, edge layer included) on a SQLite store in a
//! temporary directory and a stopped clock, in process. Two placeholders let the fuzzer reach
//! the signed paths, since it cannot compute HMACs: `@KEY@` and `@HINT@` anywhere in the
//! request become the API signing key (hex) and circle hint of the circle [`SECRET_BYTE`], and
//! a header `X-Fuzz-Sign` (any value) is replaced by valid `X-Felund-Ts`, `X-Felund-Nonce` and
//! `X-Felund-Signature` headers for that key.
//!
//! Asserts, for every request: the relay answers (no panic), with the CORS headers; `OPTIONS`
//! gets an empty 204; `HEAD` an empty body; everything else a JSON object whose `ok` is true
//! exactly for 2xx, with a string `detail` or `code` when false; never a 500; a 429 carries
//! `Retry-After`. The pure parsing helpers of `felund_relay::input`, `signal` and `presence`
//! are run on the same request and must not panic either.
//!
//! The fuzz crate includes this file with `#[path = ...]`, so it only uses crates that both it
//! and felund-relay's tests depend on.

// The fuzz target does not use everything the replay test does.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::Response;
use felund_relay::hub::LocalHub;
use felund_relay::input::{json_object, php_int, query_map, route_path};
use felund_relay::presence::{
    is_hex_key, normalize_capabilities, observed_host, validate_endpoints,
};
use felund_relay::signal::{effective_ttl, parse_post, parse_since_id};
use felund_relay::state::AppState;
use felund_relay::{ManualClock, RelayConfig, SqliteStore};
use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::ids::circle_hint;
use felund_wire::relay_api::SignalKind;
use felund_wire::CircleSecret;
use serde_json::Value;

/// At most this many requests per input.
pub const MAX_REQUESTS: usize = 4;

/// The line between two requests of one input.
pub const SEPARATOR: &[u8] = b"\n~~~\n";

/// The circle of the placeholders: its secret is 32 bytes of this value.
pub const SECRET_BYTE: u8 = 0x42;

/// The relay's (stopped) clock.
pub const NOW: i64 = 1_763_900_000;

/// The body limit of the fuzzed relay: small, so that oversized bodies are reachable.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// WebSockets the fuzzed relay allows (none are opened in process).
pub const MAX_WEBSOCKETS: usize = 16;

/// The header that asks for a valid signature.
pub const SIGN_HEADER: &str = "x-fuzz-sign";

/// A relay router on a private store, and a runtime to drive it.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh relay: empty store, clock at [`NOW`], body limit [`MAX_BODY_BYTES`].
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("relay.sqlite")).expect("store");
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let state = AppState::new(
            Arc::new(store),
            Arc::new(ManualClock::new(NOW)),
            Arc::new(LocalHub::default()),
            RelayConfig {
                max_body_bytes: MAX_BODY_BYTES,
                ..RelayConfig::default()
            },
            shutdown_rx,
            MAX_WEBSOCKETS,
            felund_relay::metrics::Metrics::new(),
        );
        Self {
            runtime,
            app: felund_relay::routes::app(state),
            _shutdown: shutdown,
            _dir: dir,
        }
    }

    /// Sends one request through the router; returns status, headers and the whole body.
    pub fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.runtime.block_on(async {
            let response = call(self.app.clone(), req).await;
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("response body reads");
            (parts.status, parts.headers, body.to_vec())
        })
    }
}

/// `tower::ServiceExt::oneshot` without depending on tower: axum's `ServiceExt` has tower's
/// `Service` as supertrait, which makes `poll_ready`/`call` callable here.
async fn call<S>(mut svc: S, req: Request<Body>) -> Response
where
    S: axum::ServiceExt<Request<Body>, Response = Response, Error = Infallible>,
{
    match std::future::poll_fn(|cx| svc.poll_ready(cx)).await {
        Ok(()) => {}
        Err(never) => match never {},
    }
    match svc.call(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Runs every request of `data` through `h` and checks each answer (see the module docs).
pub fn relay_request(h: &Harness, data: &[u8]) {
    for raw in split(data).into_iter().take(MAX_REQUESTS) {
        let raw = substitute(raw);
        let Some(req) = parse_request(&raw) else {
            continue;
        };
        pure_checks(&req);
        let req = sign_if_asked(req);
        let method = req.method().clone();
        let (status, headers, body) = h.send(req.map(Body::from));
        check_response(&method, status, &headers, &body);
    }
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = find(rest, SEPARATOR) {
        out.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    out.push(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn secret() -> CircleSecret {
    CircleSecret::from_bytes(vec![SECRET_BYTE; 32])
}

/// Replaces `@KEY@` and `@HINT@` (see the module docs).
fn substitute(raw: &[u8]) -> Vec<u8> {
    let s = secret();
    let key = hex::encode(api_signing_key(&s));
    let hint = circle_hint(&s.circle_id());
    let mut out = raw.to_vec();
    for (placeholder, value) in [(b"@KEY@".as_slice(), key), (b"@HINT@".as_slice(), hint)] {
        while let Some(at) = find(&out, placeholder) {
            out.splice(at..at + placeholder.len(), value.bytes());
        }
    }
    out
}

/// `METHOD TARGET` line, header lines up to an empty line, then the body. A `\r` before a
/// `\n` in the head is ignored. `None` when the `http` crate cannot represent the request.
fn parse_request(raw: &[u8]) -> Option<Request<Vec<u8>>> {
    // The head ends at the first empty line (`\n\n` or `\n\r\n`).
    let (head, body) = match (find(raw, b"\n\n"), find(raw, b"\n\r\n")) {
        (Some(a), Some(b)) if b < a => (&raw[..b], raw[b + 3..].to_vec()),
        (Some(a), _) => (&raw[..a], raw[a + 2..].to_vec()),
        (None, Some(b)) => (&raw[..b], raw[b + 3..].to_vec()),
        (None, None) => (raw, Vec::new()),
    };
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let (method, target) = match first.iter().position(|&b| b == b' ') {
        Some(at) => (&first[..at], &first[at + 1..]),
        None => (first, b"/".as_slice()),
    };
    let method = if method.is_empty() {
        Method::GET
    } else {
        Method::from_bytes(method).ok()?
    };
    let uri = Uri::try_from(target).ok()?;
    let mut builder = Request::builder().method(method).uri(uri);
    for line in lines {
        let at = line.iter().position(|&b| b == b':')?;
        let name = HeaderName::from_bytes(&line[..at]).ok()?;
        let value = HeaderValue::from_bytes(line[at + 1..].trim_ascii()).ok()?;
        builder = builder.header(name, value);
    }
    builder.body(body).ok()
}

static NONCES: AtomicU64 = AtomicU64::new(0);

/// Replaces an `X-Fuzz-Sign` header by a valid signature of the request.
fn sign_if_asked(mut req: Request<Vec<u8>>) -> Request<Vec<u8>> {
    if req.headers_mut().remove(SIGN_HEADER).is_none() {
        return req;
    }
    let key = api_signing_key(&secret());
    let nonce = format!("fuzz-{:016x}", NONCES.fetch_add(1, Ordering::Relaxed));
    let path = route_path(req.uri().path());
    let sig = sign_request(&key, req.method().as_str(), &path, req.body(), NOW, &nonce);
    let headers = req.headers_mut();
    for (name, value) in [
        ("x-felund-ts", NOW.to_string()),
        ("x-felund-nonce", nonce),
        ("x-felund-signature", sig),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    req
}

/// The public parsing helpers on the parts of `req`: none may panic.
fn pure_checks(req: &Request<Vec<u8>>) {
    let routed = route_path(req.uri().path());
    assert!(routed.starts_with('/'), "route_path gave {routed:?}");
    assert!(
        routed == "/" || !routed.ends_with('/'),
        "route_path gave {routed:?}"
    );
    let query = query_map(req.uri());
    for value in query.values() {
        let _ = php_int(value);
        let _ = parse_since_id(value);
    }
    let body = req.body();
    if let Ok(data) = json_object(body) {
        let _ = validate_endpoints(&data);
        let _ = normalize_capabilities(&data);
        if let Some(Value::String(key)) = data.get("signing_key") {
            let _ = is_hex_key(key);
        }
        for kind in SignalKind::ALL {
            let ttl = effective_ttl(kind, data.get("ttl_s"));
            assert!((10..=120).contains(&ttl), "ttl {ttl} for {}", kind.as_str());
        }
    }
    if let Ok(post) = parse_post(body) {
        let ttl = post.ttl_s.expect("the effective TTL");
        assert!((10..=120).contains(&ttl), "ttl {ttl}");
    }
    let _ = observed_host(req.headers(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let _ = observed_host(req.headers(), None);
}

/// The response rules of the module docs.
fn check_response(method: &Method, status: StatusCode, headers: &HeaderMap, body: &[u8]) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        header("access-control-allow-origin"),
        Some("*"),
        "{method} answered {status} without CORS headers"
    );
    assert!(header("access-control-allow-methods").is_some());
    assert!(header("access-control-allow-headers").is_some());
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{method} answered 500: {}",
        String::from_utf8_lossy(body)
    );
    if *method == Method::OPTIONS {
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(body.is_empty());
        return;
    }
    if *method == Method::HEAD {
        assert!(body.is_empty(), "HEAD answered with a body");
        return;
    }
    assert_eq!(header("content-type"), Some("application/json"), "{status}");
    let json: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => panic!(
            "{method} answered {status} with a non-JSON body ({e}): {:?}",
            String::from_utf8_lossy(body)
        ),
    };
    let ok = json.get("ok").and_then(Value::as_bool);
    assert_eq!(
        ok,
        Some(status.is_success()),
        "{method} answered {status} with {json}"
    );
    if !status.is_success() {
        let detail = json.get("detail").map(Value::is_string);
        let code = json.get("code").map(Value::is_string);
        assert!(
            matches!((detail, code), (Some(true), None) | (None, Some(true))),
            "error body {json}"
        );
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(header("retry-after").is_some(), "429 without Retry-After");
    }
}
