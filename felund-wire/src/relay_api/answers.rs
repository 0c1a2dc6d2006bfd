//! Answer bodies: what a relay writes, what a client reads. Every answer has `ok`; a reader
//! takes a missing `ok` as `false`. Lists are generic (see the module docs of
//! [`relay_api`](super)): a relay writes them from its rows, a reader holds them as bounded
//! [`RawList`]s.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::bounded::{lenient, RawList};
use super::limits::{MAX_CAPABILITY_TRANSPORTS, MAX_ENDPOINTS, PEERS_LIMIT_MAX, PULL_LIMIT_MAX};
use super::requests::{Endpoint, Family, Transport};

/// An answer of which only `ok` matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Whether the request succeeded.
    #[serde(default)]
    pub ok: bool,
}

/// An error answer: `code` for signature failures, `detail` for everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorAnswer<'a> {
    /// Always `false`.
    #[serde(default)]
    pub ok: bool,
    /// `INVALID_SIGNATURE`, `EXPIRED_TIMESTAMP` or `NONCE_REPLAY`.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub code: Option<Cow<'a, str>>,
    /// A message for people.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Cow<'a, str>>,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAnswer<'a> {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The API version ([`API_VERSION`](super::limits::API_VERSION)).
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    /// The relay's clock.
    pub time: i64,
}

/// `GET /v1/ready` (felund-relay) while the relay is ready; otherwise an [`ErrorAnswer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyAnswer {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// `true`.
    pub ready: bool,
    /// The relay's clock.
    pub time: i64,
}

/// The caller's address as the relay saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedHost {
    /// The address.
    pub host: String,
    /// Its family.
    pub family: Family,
}

/// `POST /v1/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterAnswer {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The relay's clock.
    pub server_time: i64,
    /// When the record expires.
    pub expires_at: i64,
    /// The caller's address, if the relay could tell.
    pub observed_host: Option<ObservedHost>,
}

/// `DELETE /v1/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnregisterAnswer {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// Whether a record was removed.
    pub removed: bool,
}

/// `POST /v1/messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAnswer {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// How many objects were new and stored (read leniently).
    #[serde(default, deserialize_with = "lenient::int")]
    pub stored: Option<i64>,
    /// The relay's clock (not sent by the PHP relay; read leniently).
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_time: Option<i64>,
}

/// `GET /v1/messages`: a page of stored message objects, oldest first. `M` is the list of
/// objects: a relay writes its rows, a reader holds a [`PullPage`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullAnswer<M> {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The objects, exactly as they were pushed.
    pub messages: M,
    /// The relay's clock; on felund-relay, for a `since` pull, where that cursor resumes.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_time: Option<i64>,
    /// felund-relay: the seq of the last object (a valid `after_seq`).
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub cursor: Option<i64>,
    /// felund-relay: more objects match the same request beyond this page.
    #[serde(
        default,
        deserialize_with = "lenient::flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub more: Option<bool>,
}

/// A pull answer as a client reads it: at most [`PULL_LIMIT_MAX`] objects, each borrowed
/// unparsed from the answer.
pub type PullPage<'a> = PullAnswer<RawList<'a, { PULL_LIMIT_MAX as usize }>>;

/// `GET /v1/peers`: live records of the caller's circle (and key), newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeersAnswer<P> {
    /// `true`.
    #[serde(default)]
    pub ok: bool,
    /// The records: a relay writes [`PeerRecord`]s, a reader holds a [`PeersPage`] and reads
    /// each record on its own.
    pub peers: P,
}

/// A peers answer as a client reads it: at most [`PEERS_LIMIT_MAX`] records, unparsed.
pub type PeersPage<'a> = PeersAnswer<RawList<'a, { PEERS_LIMIT_MAX as usize }>>;

/// One record of a peers answer. A reader parses each record on its own and skips one it
/// cannot read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerRecord<'a> {
    /// The node.
    pub node_id: String,
    /// Its circle's hint (not sent by every relay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circle_hint: Option<String>,
    /// Its endpoints, unparsed: a reader parses each as an
    /// [`Endpoint`](super::Endpoint) and skips one it cannot read.
    #[serde(default, borrow)]
    pub endpoints: RawList<'a, MAX_ENDPOINTS>,
    /// Its [`Capabilities`](super::Capabilities) as the relay keeps them, unparsed.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<&'a RawValue>,
    /// When it registered.
    #[serde(default, deserialize_with = "lenient::int")]
    pub observed_at: Option<i64>,
    /// When the record expires.
    #[serde(default, deserialize_with = "lenient::int")]
    pub expires_at: Option<i64>,
}

impl PeerRecord<'_> {
    /// Its endpoints that can be read as [`Endpoint`]s, in order; the others are skipped.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> + '_ {
        self.endpoints
            .0
            .iter()
            .filter_map(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// The known transports its capabilities name (web clients register `ws`, nodes `tcp`),
    /// read leniently: capabilities that are not an object with a list of at most
    /// [`MAX_CAPABILITY_TRANSPORTS`] items name none, and unknown names are skipped.
    pub fn transports(&self) -> Vec<Transport> {
        #[derive(Deserialize)]
        struct Listed<'a> {
            #[serde(default, borrow)]
            transport: RawList<'a, MAX_CAPABILITY_TRANSPORTS>,
        }
        self.capabilities
            .and_then(|raw| serde_json::from_str::<Listed>(raw.get()).ok())
            .map(|listed| {
                listed
                    .transport
                    .0
                    .iter()
                    .filter_map(|t| serde_json::from_str::<Cow<'_, str>>(t.get()).ok())
                    .filter_map(|t| Transport::parse(&t))
                    .collect()
            })
            .unwrap_or_default()
    }
}
