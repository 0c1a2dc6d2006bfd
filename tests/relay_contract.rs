//! The relay contract (`felund_wire::relay_api`) against what relays actually answer: the
//! reference PHP relay, the reference aiohttp relay and felund-relay, each a real process
//! driven over real HTTP and WebSocket. Requests are written from the contract's request
//! types (bodies as JSON, queries URL-encoded) and every answer is decoded with its reader
//! types, so a shape that drifts from any relay fails here.

use felund_tests::reference::Reference;
use felund_tests::relays::{http_request, RelayKind, RelayProcess};
use felund_tests::DEADLINE;
use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::ids::{circle_hint, CircleSecret};
use felund_wire::relay_api::{
    headers, limits, paths, Capabilities, Endpoint, ErrorAnswer, Family, HealthAnswer, PeerRecord,
    PeersPage, PeersQuery, PullPage, PullQuery, PushAnswer, PushRequest, PushedFrame,
    RegisterAnswer, RegisterRequest, SignalKind, SignalPollPage, SignalPollQuery, SignalPost,
    SignalPostAnswer, SignalRecord, Transport, UnregisterAnswer, UnregisterRequest, WsQuery,
};
use serde::Serialize;
use serde_json::Value;

/// One node of one circle, speaking to one relay.
struct Node {
    id: String,
    hint: String,
    key: [u8; 32],
    port: u16,
}

impl Node {
    fn new(secret: &CircleSecret, port: u16, id: &str) -> Self {
        Self {
            id: id.to_string(),
            hint: circle_hint(&secret.circle_id()),
            key: api_signing_key(secret),
            port,
        }
    }

    /// A request signed with `key` (the circle's, unless a test plays an attacker);
    /// `(status, body)`.
    fn send_with_key<Q: Serialize, B: Serialize>(
        &self,
        key: &[u8; 32],
        method: &str,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> (u16, String) {
        let body = body.map(|b| serde_json::to_string(b).expect("body"));
        let ts = now().to_string();
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let sig = sign_request(
            key,
            method,
            path,
            body.as_deref().unwrap_or("").as_bytes(),
            ts.parse().expect("ts"),
            &nonce,
        );
        let mut target = format!("/v1{path}");
        if let Some(q) = query {
            target.push('?');
            target.push_str(&serde_urlencoded::to_string(q).expect("query"));
        }
        let signed = [
            (headers::NODE, self.id.as_str()),
            (headers::TS, ts.as_str()),
            (headers::NONCE, nonce.as_str()),
            (headers::SIGNATURE, sig.as_str()),
        ];
        http_request(self.port, method, &target, &signed, body.as_deref())
            .unwrap_or_else(|| panic!("{method} {target}: relay unreachable"))
    }

    fn send<Q: Serialize, B: Serialize>(
        &self,
        method: &str,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> (u16, String) {
        self.send_with_key(&self.key, method, path, query, body)
    }

    fn register(&self, advertise: &str) -> RegisterAnswer {
        let body = RegisterRequest {
            node_id: self.id.clone(),
            circle_hint: self.hint.clone(),
            endpoints: Endpoint::tcp(advertise).into_iter().collect(),
            capabilities: Capabilities {
                can_anchor: Some(true),
                ..Capabilities::default()
            },
            ttl_s: 120,
            signing_key: Some(hex::encode(self.key)),
        };
        decode_ok(self.send("POST", paths::REGISTER, None::<&()>, Some(&body)))
    }

    fn pull(&self, limit: i64) -> (String, Vec<Value>, PullPageFields) {
        let query = PullQuery {
            circle_hint: self.hint.clone(),
            since: 0,
            limit,
            after_seq: None,
        };
        let (status, text) = self.send("GET", paths::MESSAGES, Some(&query), None::<&()>);
        assert_eq!(status, 200, "pull: {text}");
        let page: PullPage = serde_json::from_str(&text).expect("a pull page");
        assert!(page.ok, "{text}");
        let objects = page
            .messages
            .0
            .iter()
            .map(|raw| serde_json::from_str(raw.get()).expect("a message object"))
            .collect();
        let fields = PullPageFields {
            server_time: page.server_time,
            cursor: page.cursor,
            more: page.more,
        };
        (text.clone(), objects, fields)
    }
}

/// The scalars of a pull page.
#[derive(Debug)]
struct PullPageFields {
    server_time: Option<i64>,
    cursor: Option<i64>,
    more: Option<bool>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A 200 answer, decoded as `T`.
fn decode_ok<T: serde::de::DeserializeOwned>((status, text): (u16, String)) -> T {
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// An error answer with `status`, decoded as the contract's [`ErrorAnswer`].
fn decode_error((status, text): (u16, String), expected: u16) -> ErrorAnswer<'static> {
    assert_eq!(status, expected, "{text}");
    let e: ErrorAnswer = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(!e.ok, "{text}");
    ErrorAnswer {
        ok: e.ok,
        code: e.code.map(|c| c.into_owned().into()),
        detail: e.detail.map(|d| d.into_owned().into()),
    }
}

fn message(n: u32) -> Value {
    serde_json::json!({
        "msg_id": format!("contract-msg-{n:04}"),
        "created_ts": 1_700_000_000 + n,
        "text": format!("hello {n}"),
        "channel": "general",
    })
}

/// Every route of the contract on one relay, each answer decoded with the shared types.
fn every_answer_decodes(kind: RelayKind, reference: Option<&Reference>) {
    let relay = match kind {
        RelayKind::Felund => RelayProcess::start_felund(&[]),
        _ => RelayProcess::start(kind, reference),
    };
    let secret = CircleSecret::from_bytes(rand::random::<[u8; 32]>().to_vec());
    let alice = Node::new(&secret, relay.port, "alice-node-0001");
    let bob = Node::new(&secret, relay.port, "bob-node-0002");

    let (status, text) = http_request(
        relay.port,
        "GET",
        &format!("/v1{}", paths::HEALTH),
        &[],
        None,
    )
    .expect("up");
    assert_eq!(status, 200, "{text}");
    let health: HealthAnswer = serde_json::from_str(&text).expect("a health answer");
    assert!(health.ok && health.time > 0 && !health.version.is_empty());
    if kind != RelayKind::AioHttp {
        assert_eq!(health.version, limits::API_VERSION);
    }

    for (node, advertise) in [(&alice, "127.0.0.1:7001"), (&bob, "[::1]:7002")] {
        let answer = node.register(advertise);
        assert!(
            answer.ok && answer.expires_at > answer.server_time,
            "{answer:?}"
        );
        let observed = answer.observed_host.expect("the relay saw our address");
        assert_eq!(
            (observed.host.as_str(), observed.family),
            ("127.0.0.1", Family::Ipv4)
        );
    }

    // Peers as alice: bob, with the endpoint and transport he registered.
    let query = PeersQuery {
        circle_hint: alice.hint.clone(),
        limit: limits::PEERS_LIMIT_MAX,
    };
    let (status, text) = alice.send("GET", paths::PEERS, Some(&query), None::<&()>);
    assert_eq!(status, 200, "{text}");
    let page: PeersPage = serde_json::from_str(&text).expect("a peers page");
    assert!(page.ok);
    let records: Vec<PeerRecord> = page
        .peers
        .0
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).expect("a peer record"))
        .collect();
    assert_eq!(records.len(), 1, "{text}");
    let peer = &records[0];
    assert_eq!(peer.node_id, bob.id);
    let addrs: Vec<String> = peer.endpoints().filter_map(|e| e.tcp_addr()).collect();
    assert_eq!(addrs, ["[::1]:7002"]);
    assert_eq!(peer.transports(), [Transport::Tcp]);
    assert!(
        peer.expires_at.is_some() && peer.observed_at.is_some(),
        "{text}"
    );

    // Push two objects, then the same two again: stored counts only new ones.
    let push = PushRequest {
        circle_hint: alice.hint.clone(),
        messages: vec![message(1), message(2)],
    };
    for expected in [2, 0] {
        let answer: PushAnswer =
            decode_ok(alice.send("POST", paths::MESSAGES, None::<&()>, Some(&push)));
        assert!(answer.ok);
        assert_eq!(answer.stored, Some(expected));
    }

    // Pull: the objects as pushed; felund-relay adds its cursor and `more`.
    let (text, objects, fields) = bob.pull(limits::PULL_LIMIT_MAX);
    assert_eq!(objects, push.messages, "{text}");
    assert!(fields.server_time.is_some_and(|t| t > 0), "{text}");
    let (_, first, one) = bob.pull(1);
    assert_eq!(first, push.messages[..1]);
    if kind == RelayKind::Felund {
        assert!(
            fields.cursor.is_some() && fields.more == Some(false),
            "{text}"
        );
        assert_eq!(one.more, Some(true));
        assert!(one.cursor < fields.cursor);
    } else {
        assert_eq!((fields.cursor, fields.more), (None, None), "{text}");
    }

    // The push feed: on connect, the recent objects are replayed in one MESSAGES frame.
    if kind != RelayKind::Php {
        let frame = first_push_frame(relay.port, &bob);
        let pushed: PushedFrame = serde_json::from_str(&frame).expect("a MESSAGES frame");
        let pushed: Vec<Value> = pushed
            .messages
            .0
            .iter()
            .map(|raw| serde_json::from_str(raw.get()).expect("object"))
            .collect();
        assert_eq!(pushed, push.messages, "{frame}");
    }

    signals(kind, &alice, &bob);

    // Errors: a bad body is a `detail`, a forged signature a `code` (the aiohttp relay
    // checks no signatures).
    let bad = serde_json::json!({"node_id": "short", "circle_hint": alice.hint});
    let e = decode_error(
        alice.send("POST", paths::REGISTER, None::<&()>, Some(&bad)),
        400,
    );
    assert!(e.detail.is_some_and(|d| d.contains("node_id")));
    if kind != RelayKind::AioHttp {
        let forged = alice.send_with_key(&[7; 32], "GET", paths::PEERS, Some(&query), None::<&()>);
        let e = decode_error(forged, 401);
        assert_eq!(e.code.as_deref(), Some("INVALID_SIGNATURE"));
    }

    let gone = UnregisterRequest {
        node_id: alice.id.clone(),
        circle_hint: alice.hint.clone(),
    };
    let answer: UnregisterAnswer =
        decode_ok(alice.send("DELETE", paths::REGISTER, None::<&()>, Some(&gone)));
    assert!(answer.ok && answer.removed);
}

/// `/v1/signal`: served by the aiohttp relay and felund-relay; the PHP relay has none.
fn signals(kind: RelayKind, alice: &Node, bob: &Node) {
    let post = SignalPost {
        session_id: format!("{}:{}", alice.id, bob.id),
        from_node_id: alice.id.clone(),
        to_node_id: bob.id.clone(),
        circle_hint: alice.hint.clone(),
        kind: SignalKind::Offer,
        payload: r#"{"type":"offer","sdp":"v=0"}"#.into(),
        ttl_s: Some(60),
    };
    let posted = alice.send("POST", paths::SIGNAL, None::<&()>, Some(&post));
    if kind == RelayKind::Php {
        decode_error(posted, 404);
        return;
    }
    let answer: SignalPostAnswer = decode_ok(posted);
    assert!(answer.ok && answer.server_time.is_some());

    let query = SignalPollQuery {
        to_node_id: bob.id.clone(),
        since_id: 0,
        session_id: None,
    };
    let (status, text) = bob.send("GET", paths::SIGNAL, Some(&query), None::<&()>);
    assert_eq!(status, 200, "{text}");
    let page: SignalPollPage = serde_json::from_str(&text).expect("a poll page");
    assert!(page.ok && page.server_time.is_some());
    let records: Vec<SignalRecord> = page
        .signals
        .0
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).expect("a signal record"))
        .collect();
    assert_eq!(records.len(), 1, "{text}");
    let s = &records[0];
    assert!(s.id > 0 && s.created_at > 0, "{text}");
    assert_eq!(SignalKind::parse(&s.kind), Some(SignalKind::Offer));
    assert_eq!(
        (&s.session_id, &s.from_node, &s.to_node, &s.payload),
        (&post.session_id, &alice.id, &bob.id, &post.payload)
    );
}

/// The first text frame of a push connection opened as `node`, signed like felundd's.
fn first_push_frame(port: u16, node: &Node) -> String {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let query = WsQuery {
        circle_hint: node.hint.clone(),
        node_id: node.id.clone(),
    };
    let url = format!(
        "ws://127.0.0.1:{port}/v1{}?{}",
        paths::WS,
        serde_urlencoded::to_string(&query).expect("query")
    );
    let mut request = url.into_client_request().expect("request");
    let ts = now();
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let sig = sign_request(&node.key, "GET", paths::WS, b"", ts, &nonce);
    for (name, value) in [
        (headers::NODE, node.id.clone()),
        (headers::TS, ts.to_string()),
        (headers::NONCE, nonce),
        (headers::SIGNATURE, sig),
    ] {
        request
            .headers_mut()
            .insert(name, value.parse().expect("header"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        tokio::time::timeout(DEADLINE, async {
            let (mut ws, _) = tokio_tungstenite::connect_async(request)
                .await
                .expect("push connection");
            loop {
                match ws.next().await.expect("a frame").expect("frame") {
                    Message::Text(text) => return text.to_string(),
                    Message::Close(c) => panic!("closed before a frame: {c:?}"),
                    _ => continue,
                }
            }
        })
        .await
        .expect("a push frame before the deadline")
    })
}

#[test]
fn every_felund_relay_answer_decodes_with_the_relay_contract() {
    every_answer_decodes(RelayKind::Felund, None);
}

#[test]
fn every_reference_php_relay_answer_decodes_with_the_relay_contract() {
    let Some(r) =
        Reference::from_env("every_reference_php_relay_answer_decodes_with_the_relay_contract")
    else {
        return;
    };
    every_answer_decodes(RelayKind::Php, Some(&r));
}

#[test]
fn every_reference_aiohttp_relay_answer_decodes_with_the_relay_contract() {
    let Some(r) =
        Reference::from_env("every_reference_aiohttp_relay_answer_decodes_with_the_relay_contract")
    else {
        return;
    };
    every_answer_decodes(RelayKind::AioHttp, Some(&r));
}
