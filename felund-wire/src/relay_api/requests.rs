//! Request bodies and query strings: what a client writes, what a relay reads.

use serde::{Deserialize, Serialize};

/// How a node can be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Direct TCP gossip.
    Tcp,
    /// A WebSocket.
    Ws,
}

impl Transport {
    /// Every transport a relay accepts, in the order its errors list them.
    pub const ALL: [Transport; 2] = [Transport::Tcp, Transport::Ws];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ws => "ws",
        }
    }

    /// The transport of a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// The address family of an endpoint; `ipv4` when a client leaves it out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 (or a host name).
    #[default]
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl Family {
    /// Every family, in the order a relay's errors list them.
    pub const ALL: [Family; 2] = [Family::Ipv4, Family::Ipv6];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }

    /// The family of a host: IPv6 when it contains a `:`.
    pub fn of_host(host: &str) -> Self {
        if host.contains(':') {
            Family::Ipv6
        } else {
            Family::Ipv4
        }
    }
}

/// What a node knows of the NAT in front of it; `unknown` when a client leaves it out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Nat {
    /// Not known (what every reference client sends).
    #[default]
    Unknown,
    /// No NAT.
    Open,
    /// A restricted-cone NAT.
    Restricted,
    /// A symmetric NAT.
    Symmetric,
}

impl Nat {
    /// Every value, in the order a relay's errors list them.
    pub const ALL: [Nat; 4] = [Nat::Unknown, Nat::Open, Nat::Restricted, Nat::Symmetric];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Nat::Unknown => "unknown",
            Nat::Open => "open",
            Nat::Restricted => "restricted",
            Nat::Symmetric => "symmetric",
        }
    }
}

/// One way to reach a registered node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// How.
    pub transport: Transport,
    /// Host name or address (IPv6 without brackets), 1–[`MAX_HOST_LEN`] bytes.
    ///
    /// [`MAX_HOST_LEN`]: super::limits::MAX_HOST_LEN
    pub host: String,
    /// Port, 1–65535.
    pub port: u16,
    /// Address family.
    #[serde(default)]
    pub family: Family,
    /// NAT type.
    #[serde(default)]
    pub nat: Nat,
}

impl Endpoint {
    /// The TCP endpoint of a `host:port` (`[v6]:port`) address, as the reference clients
    /// register it; `None` when it is not one.
    pub fn tcp(addr: &str) -> Option<Self> {
        let (host, port) = crate::frame::parse_host_port(addr)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Some(Self {
            transport: Transport::Tcp,
            family: Family::of_host(&host),
            host,
            port,
            nat: Nat::Unknown,
        })
    }

    /// `host:port` (`[host]:port` for IPv6) of a TCP endpoint with a usable host and port.
    pub fn tcp_addr(&self) -> Option<String> {
        let usable = self.transport == Transport::Tcp
            && self.port != 0
            && !self.host.is_empty()
            && self.host.len() <= super::limits::MAX_HOST_LEN;
        usable.then(|| {
            if self.host.contains(':') {
                format!("[{}]:{}", self.host, self.port)
            } else {
                format!("{}:{}", self.host, self.port)
            }
        })
    }
}

/// A node's capabilities, as a relay keeps them: `relay` and `transport`; `can_anchor` is what
/// felundd and the reference TUI send besides, and relays drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Whether the node relays for others.
    pub relay: bool,
    /// The transports it speaks.
    pub transport: Vec<Transport>,
    /// Whether it serves ANCHOR_PUSH/PULL (not kept by relays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_anchor: Option<bool>,
}

impl Default for Capabilities {
    /// What a relay assumes when a registration has none: no relaying, TCP.
    fn default() -> Self {
        Self {
            relay: false,
            transport: vec![Transport::Tcp],
            can_anchor: None,
        }
    }
}

/// `POST /v1/register`: presence in a circle for `ttl_s` seconds. With `signing_key` (64 hex,
/// the circle's API signing key) the request must be signed with that key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The registering node.
    pub node_id: String,
    /// The circle's hint.
    pub circle_hint: String,
    /// How to reach it (at most [`MAX_ENDPOINTS`](super::limits::MAX_ENDPOINTS)).
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// What it can do.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Lifetime of the record, seconds.
    pub ttl_s: i64,
    /// The circle's API signing key, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// `DELETE /v1/register`, signed: removes the node's record (of the signing key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnregisterRequest {
    /// The node.
    pub node_id: String,
    /// The circle's hint.
    pub circle_hint: String,
}

/// `POST /v1/messages`: message objects to store under a hint, at most
/// [`MAX_MESSAGES_PER_POST`](super::limits::MAX_MESSAGES_PER_POST). `M` is how the writer
/// holds an object (the relay stores each whole and opaque).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRequest<M> {
    /// The circle's hint.
    pub circle_hint: String,
    /// The objects.
    pub messages: Vec<M>,
}

/// `GET /v1/messages?…`: a pull page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullQuery {
    /// The circle's hint.
    pub circle_hint: String,
    /// At most this many objects (1–[`PULL_LIMIT_MAX`](super::limits::PULL_LIMIT_MAX)).
    pub limit: i64,
    /// The reference cursor: messages stored after this (ignored with `after_seq`).
    pub since: i64,
    /// felund-relay's lossless cursor: messages after this seq.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<i64>,
}

/// `GET /v1/peers?…`, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeersQuery {
    /// The circle's hint.
    pub circle_hint: String,
    /// At most this many (1–[`PEERS_LIMIT_MAX`](super::limits::PEERS_LIMIT_MAX)).
    pub limit: i64,
}

/// `GET /v1/relay/ws?…`: the push feed of a circle, without the pushes of `node_id`'s posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsQuery {
    /// The circle's hint.
    pub circle_hint: String,
    /// The subscribing node.
    pub node_id: String,
}
