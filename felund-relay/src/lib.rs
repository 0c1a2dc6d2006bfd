//! `felund-relay`: the felund relay and rendezvous server.
//!
//! It speaks the HTTP API of the reference relays (docs/protocol.md §9 and §10) so that reference
//! Python nodes, the reference web client and `felundd` work against it unchanged:
//!
//! | endpoint | what | auth |
//! |---|---|---|
//! | `GET /v1/health` | `{"ok":true,"version":"0.1.0","time":ts}` | none |
//! | `POST /v1/register` | presence (rendezvous) | signed with the body's `signing_key` when it has one |
//! | `DELETE /v1/register` | remove presence (of the signing key) | signed |
//! | `GET /v1/peers` | live peers of a circle registered with the caller's key | signed |
//! | `POST /v1/messages` | store-and-forward push | verified if signed; unsigned served unless `--require-signatures` |
//! | `GET /v1/messages` | pull | as push |
//! | `POST /v1/signal`, `GET /v1/signal` | WebRTC signalling | none (as the aiohttp relay) |
//! | `GET /v1/relay/ws` | WebSocket push | as pull |
//! | `GET /v1/ready` | readiness for load balancers: 503 while the database is away | none |
//!
//! Everything in the path up to and including the last `/v1` is ignored and a trailing `/` is
//! dropped (`/api/v1/health/` is `/health`). Every response, errors and 404s included, carries
//! the reference CORS headers; `OPTIONS` answers 204. Errors are `{"ok":false,"code":CODE}`
//! for signature failures and `{"ok":false,"detail":msg}` otherwise. Bodies over the limit
//! (1 MiB by default) are refused with 413 before they are read whole.
//!
//! One deliberate difference from the reference relays: a register without `signing_key` no
//! longer erases a node's stored key (that let anyone lock a node out); see "Hostile clients".
//!
//! # Hostile clients
//!
//! Everything a client sends is bounded in size, count, rate and time, and the relay keeps
//! serving everyone else:
//!
//! - **Presence is partitioned by signing key.** A record is `(circle_hint, node_id, key)`;
//!   a register only creates or refreshes the record of its own key, so an outsider (who does
//!   not know the circle secret, hence not the members' key) can neither replace, erase nor
//!   redirect a member's registration, even under the member's node id. A signed request for
//!   `(hint, node)` verifies against that node's keys in the hint; `GET /v1/peers` lists only
//!   records of the caller's key, and `DELETE /v1/register` removes only those. Unsigned
//!   registrations are stored apart and never listed. Every member of a circle derives the
//!   same key, so a second key in a hint is an outsider's: one client address may use only one
//!   key per hint, a hint holds at most 32 keys (new ones are refused with 409, existing ones
//!   are never displaced) and a key at most 256 nodes (a new node displaces the least recently
//!   refreshed record *of the same key*).
//! - **Sizes.** A stored message object is at most [`limits::MAX_OBJECT_BYTES`] (the largest
//!   relay envelope a client can make, from felund-wire), else 413 for the whole batch; pull
//!   answers and the WebSocket replay are bounded in bytes as well as rows (`more`/`cursor`
//!   page on); every header read is bounded (nonce 64, node id 128, signature 64 hex...).
//! - **Rates.** Per client address (the TCP peer, or `X-Forwarded-For` with
//!   `--trust-forwarded-for`; IPv6 by /64): write requests and written bytes per minute on every
//!   write endpoint, and signal POSTs per 10 s besides the reference's per-`from_node_id`
//!   limit; 429 with `Retry-After`. WebSocket subscribers are capped per (hint, key) —
//!   unsigned ones apart, so outsiders never fill the members' share — and per address; each
//!   subscriber's queue of pushes is bounded in events and bytes ([`rooms`]), and a client's
//!   frames in bytes ([`limits::WS_MAX_CLIENT_FRAME`]).
//! - **Slow clients.** Own accept loop ([`server`]): header, body (408) and idle timeouts, at
//!   most as many connections as the open-file limit allows (less a reserve), the oldest idle
//!   connection evicted for a new one when full, and accept errors backed off.
//!
//! Every limit is a field of [`RelayConfig`] and a flag (see `--help`); defaults are in
//! [`limits`] and fit several honest nodes behind one address.
//!
//! # Running
//!
//! `felund-relay --listen 127.0.0.1:8000 --db PATH [--require-signatures]` (or the environment
//! variables `FELUND_RELAY_LISTEN`, `FELUND_RELAY_DB`, `FELUND_RELAY_REQUIRE_SIGNATURES`);
//! logging follows `RUST_LOG` (default `info`); SIGTERM or SIGINT stops it gracefully. The
//! binary prints `felund-relay listening on ADDR` on stdout once bound (useful with port 0).
//! In-process: [`spawn`] with a [`RelayConfig`] and [`RelayDeps`] (store, clock, push hub).
//!
//! # Several instances on PostgreSQL
//!
//! `--database-url postgres://…` (or `FELUND_RELAY_DATABASE_URL`) replaces `--db`: the same
//! API on [`PgStore`], whose versioned migrations run at start-up, with [`PgHub`] carrying
//! WebSocket pushes between instances through `LISTEN/NOTIFY`. Any number of instances may
//! share the database behind a load balancer and behave as one relay: seqs become visible in
//! order, the `since` cursor stays lossless across instances (see
//! [`RelayStore::pull_messages`]), nonces and rate limits are decided in the database, and
//! only one instance prunes at a time. When the database goes away, requests that need it
//! answer 503 `{"ok":false,"detail":"database unavailable"}`, WebSockets are closed with code
//! 1013 and that reason, and the relay recovers by itself once it is back. The module docs
//! of [`store::postgres`] have the details; `--database-pool-size` and
//! `--database-timeout-ms` tune the pool.
//!
//! # Operating it
//!
//! `GET /v1/health` is liveness (the process answers; no database); `GET /v1/ready` is
//! readiness ([`readiness`]: the database answers and the push feed listens, else 503).
//! `--metrics-listen ADDR` serves Prometheus metrics on an address of its own ([`metrics`]).
//! `--database-url` takes `sslmode=require` / `verify-full` (rustls, the system's CA store
//! plus `sslrootcert=PATH`). `felund-relay migrate --from-db PATH --to-database-url URL`
//! copies a SQLite relay into an empty PostgreSQL database ([`migrate`]).
//!
//! # Push at scale
//!
//! A post costs work for the WebSocket subscribers of its own circle hint only: [`rooms`] keeps
//! them by hint, the push frame is serialised once and shared, and an idle socket holds a few
//! KiB (see [`ws`]): what a post costs does not grow with the subscribers of other circles
//! (measured up to 10,000 sockets in `benches/ws_scale.rs`, see BENCHMARKS.md).
//!
//! # Lossless pull cursors
//!
//! On the reference relays the reference cursor (`since`, compared with the server time of
//! storage) loses messages stored in the same second as a pull and everything beyond one page.
//! Here the reference clients' unchanged cursor is lossless: every message gets a distinct
//! position on the `since` scale, and a `since` pull answers `server_time` = where its client
//! should resume ([`store::since_pos`] has the rule and why it holds for both the Python and
//! the web client's rule).
//!
//! Every stored message also gets a `seq`, an integer that increases with every message the
//! relay stores (across all circles) and is never reused: the extension cursor, which
//! reference clients ignore:
//!
//! - `GET /v1/messages` accepts an optional `after_seq=N` (a non-negative integer, else 400).
//!   With it the relay returns the circle's messages with `seq > N`, in seq order, at most
//!   `limit` (1–500, default 200); `since` is then ignored.
//! - Every `GET /v1/messages` response (with `since` or `after_seq`) carries two extra keys:
//!   `"cursor"`: the seq of the last returned message; when none is returned, the request's
//!   `after_seq`, or (for a `since` pull) the highest seq stored in the circle (0 if none); and
//!   `"more"`: `true` when more messages match the same request beyond this page.
//!   Messages are still the stored objects only (no `stored_at`, position or `seq`).
//! - A client pages losslessly by passing `after_seq=<cursor>` until `more` is `false`, and
//!   resumes later from the last cursor it kept.
//! - `since` pulls are in position order, which is seq order within a circle, so their
//!   `cursor` is also a valid `after_seq`.
//! - WebSocket `MESSAGES` frames carry `"cursor"` too: the seq of the last message in the
//!   frame.
//!
//! # Layout
//!
//! [`routes`] (one module per endpoint group), [`ws`] (WebSocket push), [`signal`]
//! (signalling rules), [`presence`] (registration rules), [`auth`] (signatures),
//! [`store`] ([`store::RelayStore`], [`store::SqliteStore`], [`store::PgStore`] and
//! [`store::PgHub`]), [`hub`] (push fan-out seam), [`client`] (the client address),
//! [`ratelimit`] (per-address write limits), [`subscribers`] (WebSocket caps), [`rooms`]
//! (subscribers by circle hint and their bounded push queues), [`frames`] (the push frame),
//! [`clock`] (injectable time), [`config`], [`error`], [`server`] (start, stop, connection
//! budget; the hardened accept loop is the private `serve` module), [`metrics`] (Prometheus
//! exposition, the metered store), [`readiness`], [`migrate`] (SQLite to PostgreSQL).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod frames;
pub mod hub;
pub mod input;
pub mod limits;
pub mod metrics;
pub mod migrate;
pub mod presence;
pub mod ratelimit;
pub mod readiness;
pub mod rooms;
pub mod routes;
mod serve;
pub mod server;
pub mod signal;
pub mod state;
pub mod store;
pub mod subscribers;
pub mod ws;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::RelayConfig;
pub use error::{ApiError, RelayError};
pub use server::{spawn, RelayDeps, RelayHandle};
pub use store::{PgHub, PgOptions, PgStore, RelayStore, SqliteStore};
