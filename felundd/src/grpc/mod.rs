//! The gRPC edge: serving the `felund.v1` API on the Unix socket.

mod convert;
mod send_stream;
mod service;

pub use service::FelundService;

use std::future::Future;
use std::time::Duration;

use felund_proto::v1::felund_server::FelundServer;
use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::node::Node;

/// Largest request accepted (ImportState carries a whole state file).
const MAX_REQUEST_BYTES: usize = 256 * 1024 * 1024;

/// How long attached clients get to go after the stop signal. A client that ignores its
/// stream (a subscription or a send stream whose answers it never reads) holds its
/// connection open for good, and must not keep the daemon from stopping: past this, felundd
/// stops without it. Whatever felundd acknowledged is already committed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the API for `node` on `listener` until `shutdown` completes and every client has
/// gone, or [`SHUTDOWN_GRACE`] after it at most.
pub async fn serve(
    node: Node,
    listener: UnixListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (stopping_tx, stopping) = watch::channel(false);
    let grace_over = grace_over(stopping.clone());
    let shutdown = async move {
        shutdown.await;
        // Ends every Subscribe stream; in-flight unary calls still complete.
        let _ = stopping_tx.send(true);
    };
    // Reflection lets grpcurl and other tools discover the API (`grpcurl -plaintext
    // -authority localhost -unix SOCKET list`).
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(felund_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| {
            tracing::warn!("gRPC reflection unavailable: {e}");
            e
        })
        .ok();
    let server = tonic::transport::Server::builder()
        .add_optional_service(reflection)
        .add_service(
            FelundServer::new(FelundService::new(node, stopping))
                // ImportState carries a whole reference state file.
                .max_decoding_message_size(MAX_REQUEST_BYTES),
        )
        // Only this user (and root) is ever served: see `crate::socket::owner_only`.
        .serve_with_incoming_shutdown(crate::socket::owner_only(listener), shutdown);
    tokio::select! {
        served = server => served,
        () = grace_over => {
            tracing::warn!(
                "clients still attached {SHUTDOWN_GRACE:?} after the stop signal; stopping without them"
            );
            Ok(())
        }
    }
}

/// Completes [`SHUTDOWN_GRACE`] after `stopping` turns true (never, if it cannot).
async fn grace_over(mut stopping: watch::Receiver<bool>) {
    if stopping.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(SHUTDOWN_GRACE).await;
}
