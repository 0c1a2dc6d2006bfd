//! Browsers that only signal: node ids registered as browsers (signed, transport `ws`, as the
//! web client registers) in a circle at a relay, which post WebRTC offers to a node and never
//! go on to ICE — the cheapest way to make felundd open DataChannel sessions, and so the
//! attacker of its session limits. Also the raw signal post other signalling attacks use.

use std::time::{SystemTime, UNIX_EPOCH};

use felund_wire::api_sign::{api_signing_key, sign_request};
use felund_wire::datachannel::signal::{description_payload, session_id, SignalKind};
use felund_wire::ids::{circle_hint, CircleSecret};
use felund_wire::relay_api::{headers, paths};
use serde_json::{json, Value};

use crate::relays::http_request;

/// An offer as a browser makes one for a DataChannel (its candidates trickled apart): it
/// parses and can be answered, but nobody is behind it, so ICE never starts.
pub const OFFER_SDP: &str = "v=0\r\n\
o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Hn3d\r\n\
a=ice-pwd:qD0W2bZf6Jq1vmjmU9S2rdRQ\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 4F:0B:56:2C:1E:2E:39:4B:2C:9D:0A:61:7E:11:6A:53:4E:73:9C:15:6C:42:58:DB:2E:31:A4:8C:0D:77:60:5E\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";

/// `count` node ids numbered from `first`, each smaller than any random felundd id (so the
/// browser is the one that offers) and than none of the browser peer's fixed ids.
pub fn low_ids(first: u32, count: u32) -> Vec<String> {
    (first..first + count)
        .map(|i| format!("000000000000000000000000{i:08x}"))
        .collect()
}

/// Posts one signal to the relay on 127.0.0.1:`port` (unsigned, as browsers post them);
/// returns the status.
pub fn post_signal(port: u16, from: &str, to: &str, hint: &str, kind: &str, payload: &str) -> u16 {
    let body = json!({
        "session_id": session_id(from, to),
        "from_node_id": from,
        "to_node_id": to,
        "circle_hint": hint,
        "type": kind,
        "payload": payload,
        "ttl_s": 120,
    })
    .to_string();
    let (status, _) = http_request(port, "POST", "/v1/signal", &[], Some(&body))
        .expect("the relay answers signal posts");
    status
}

/// The signals addressed to `to` at the relay on 127.0.0.1:`port`.
pub fn signals_for(port: u16, to: &str) -> Vec<Value> {
    let (status, body) = http_request(
        port,
        "GET",
        &format!("/v1/signal?to_node_id={to}&since_id=0"),
        &[],
        None,
    )
    .expect("the relay answers signal polls");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("a poll answer");
    v["signals"].as_array().cloned().unwrap_or_default()
}

/// Registered browsers of one circle that only ever offer.
pub struct SignalOnlyBrowsers {
    port: u16,
    hint: String,
    /// Their node ids.
    pub ids: Vec<String>,
}

impl SignalOnlyBrowsers {
    /// Registers `ids` as browsers of the circle of `secret` at the relay on 127.0.0.1:`port`,
    /// signed with the circle's key as the web client signs.
    pub fn register(port: u16, secret: &CircleSecret, ids: Vec<String>) -> Self {
        let key = api_signing_key(secret);
        let hint = circle_hint(&secret.circle_id());
        for id in &ids {
            let body = json!({
                "node_id": id,
                "circle_hint": hint,
                "endpoints": [{"transport": "ws", "host": "127.0.0.1", "port": 80,
                               "family": "ipv4", "nat": "unknown"}],
                "capabilities": {"relay": false, "transport": ["ws"], "can_anchor": false},
                "ttl_s": 120,
                "signing_key": hex::encode(key),
            })
            .to_string();
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_secs() as i64;
            let nonce = hex::encode(rand::random::<[u8; 16]>());
            let sig = sign_request(&key, "POST", paths::REGISTER, body.as_bytes(), ts, &nonce);
            let ts = ts.to_string();
            let signed = [
                (headers::NODE, id.as_str()),
                (headers::TS, ts.as_str()),
                (headers::NONCE, nonce.as_str()),
                (headers::SIGNATURE, sig.as_str()),
            ];
            let (status, text) = http_request(port, "POST", "/v1/register", &signed, Some(&body))
                .expect("the relay answers registrations");
            assert_eq!(status, 200, "registering {id}: {text}");
        }
        Self { port, hint, ids }
    }

    /// Nodes `ids` that never registered anywhere (strangers) but signal with the circle's hint.
    pub fn unregistered(port: u16, secret: &CircleSecret, ids: Vec<String>) -> Self {
        let hint = circle_hint(&secret.circle_id());
        Self { port, hint, ids }
    }

    /// Each of them posts one offer to `node`.
    pub fn offer_to(&self, node: &str) {
        let payload = description_payload(SignalKind::Offer, OFFER_SDP);
        for id in &self.ids {
            let status = post_signal(self.port, id, node, &self.hint, "offer", &payload);
            assert_eq!(status, 200, "{id}'s offer");
        }
    }

    /// How many of them `node` has answered.
    pub fn answered_by(&self, node: &str) -> usize {
        self.ids
            .iter()
            .filter(|id| {
                signals_for(self.port, id)
                    .iter()
                    .any(|s| s["type"] == "answer" && s["from_node"] == node)
            })
            .count()
    }
}
