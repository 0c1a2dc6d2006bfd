//! Client side of the felundd API.
//!
//! `felundd` owns all of felund's state and serves the `felund.v1` gRPC API
//! (see `proto/felund.proto`) on a Unix socket. This crate is what every client
//! of that API shares — `felundctl`, `felund-tui` and bots:
//!
//! - [`api`]: the generated request/response types and the [`ApiClient`] stub;
//! - [`paths`]: where the state directory and the daemon's socket live by default
//!   (the daemon uses the same functions, so both sides agree);
//! - [`connect`]: dial the socket and get a ready [`ApiClient`], with a
//!   [`ConnectError`] that tells a person what to do when the daemon is not there;
//!   [`connect_default`] dials the socket felundctl would;
//! - [`events`]: live events that resume after a daemon restart;
//! - [`bot`]: commands in, replies out — a bot in a dozen lines.
//!
//! # Example
//!
//! ```no_run
//! use felund_client::{api, connect, paths};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // `--socket` if given, else $FELUND_SOCKET, else the default location.
//! let socket = paths::resolve_socket(None);
//! let mut client = connect(&socket).await?; // fails at once if felundd is not running
//! let info = client
//!     .get_node_info(api::GetNodeInfoRequest {})
//!     .await?
//!     .into_inner();
//! println!("{} ({})", info.display_name, info.node_id);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod bot;
mod connect;
pub mod events;
pub mod limits;
pub mod paths;
pub mod retry;
pub mod text;

pub use connect::{connect, connect_default, ConnectError};

/// The generated `felund.v1` API: messages such as [`api::Message`], enums such as
/// [`api::AccessMode`], and the client stub [`api::felund_client::FelundClient`].
pub use felund_proto::v1 as api;

/// A connected client of the felundd API, as returned by [`connect`].
///
/// It is cheap to clone; clones share one connection.
pub type ApiClient = api::felund_client::FelundClient<tonic::transport::Channel>;
