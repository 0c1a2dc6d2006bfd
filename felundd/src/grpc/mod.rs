//! The gRPC edge: serving the `felund.v1` API on the Unix socket.

mod convert;
mod service;

pub use service::FelundService;

use std::future::Future;

use felund_proto::v1::felund_server::FelundServer;
use tokio::net::UnixListener;
use tokio::sync::watch;
use tokio_stream::wrappers::UnixListenerStream;

use crate::node::Node;

/// Serves the API for `node` on `listener` until `shutdown` completes.
pub async fn serve(
    node: Node,
    listener: UnixListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (stopping_tx, stopping) = watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        // Ends every Subscribe stream; in-flight unary calls still complete.
        let _ = stopping_tx.send(true);
    };
    tonic::transport::Server::builder()
        .add_service(FelundServer::new(FelundService::new(node, stopping)))
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await
}
