//! Dialing felundd's Unix socket.

use std::error::Error as StdError;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Endpoint, Uri};

use crate::{api::felund_client::FelundClient, ApiClient};

/// How long to wait for the socket to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to start a felundd that serves `path`: the plain command (or the systemd unit)
/// for the default socket, `felundd --socket PATH` for any other.
fn start_hint(path: &std::path::Path) -> String {
    let default = crate::paths::default_socket_path(&crate::paths::default_state_dir());
    if path == default {
        "`felundd` (or `systemctl --user start felundd`)".to_string()
    } else {
        format!("`felundd --socket {}`", path.display())
    }
}

/// Why [`connect`] could not reach felundd.
///
/// The `Display` text of each variant is a complete sentence meant for a person,
/// naming the socket path and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing listens at the socket path: the file is missing, or it is a stale
    /// socket left by a daemon that has exited (the connection is refused).
    #[error("felundd is not running at {}; start it with {}", path.display(), start_hint(path))]
    NotRunning {
        /// The socket path that was dialed.
        path: PathBuf,
    },

    /// The socket (or a directory on the way to it) is not accessible to this user.
    #[error(
        "permission denied connecting to felundd at {}; run this as the user that runs felundd",
        path.display()
    )]
    PermissionDenied {
        /// The socket path that was dialed.
        path: PathBuf,
    },

    /// Something other than a socket (e.g. a plain file or a directory) is at the path.
    #[error(
        "{} is not a socket, so felundd cannot be listening there; check --socket / FELUND_SOCKET",
        path.display()
    )]
    NotASocket {
        /// The socket path that was dialed.
        path: PathBuf,
    },

    /// Any other failure (timeout, path too long, protocol error, ...).
    #[error("cannot connect to felundd at {}: {}", path.display(), error_chain(source))]
    Other {
        /// The socket path that was dialed.
        path: PathBuf,
        /// The underlying transport error.
        #[source]
        source: tonic::transport::Error,
    },
}

impl ConnectError {
    /// The socket path this error is about.
    pub fn path(&self) -> &Path {
        match self {
            ConnectError::NotRunning { path }
            | ConnectError::PermissionDenied { path }
            | ConnectError::NotASocket { path }
            | ConnectError::Other { path, .. } => path,
        }
    }
}

/// Connect to felundd's API on the Unix socket at `socket`.
///
/// The connection is made eagerly, so a daemon that is not running is reported
/// here rather than at the first request. Should the connection drop later, the
/// returned client re-dials the same path on its next request.
///
/// # Errors
///
/// [`ConnectError::NotRunning`] when the socket file is missing or refuses the
/// connection, [`ConnectError::PermissionDenied`], [`ConnectError::NotASocket`]
/// when some other kind of file is at the path, and [`ConnectError::Other`] for
/// anything else.
pub async fn connect(socket: &Path) -> Result<ApiClient, ConnectError> {
    let path = socket.to_path_buf();
    let dial_path = path.clone();
    // The URI is never used to route anything; its authority must still be a valid
    // host name, because h2 sends it as `:authority` and rejects a file path.
    let channel = Endpoint::from_static("http://localhost")
        .connect_timeout(CONNECT_TIMEOUT)
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let dial_path = dial_path.clone();
            async move { UnixStream::connect(dial_path).await.map(TokioIo::new) }
        }))
        .await
        .map_err(|source| classify(path.clone(), source))?;
    Ok(FelundClient::new(channel))
}

/// Connect to felundd on the socket felundctl would use: `$FELUND_SOCKET`, else the
/// daemon's default ([`crate::paths::resolve_socket`]).
///
/// # Errors
///
/// As [`connect`].
pub async fn connect_default() -> Result<ApiClient, ConnectError> {
    connect(&crate::paths::resolve_socket(None)).await
}

/// Turn a failed connection attempt into the [`ConnectError`] a person can act on.
fn classify(path: PathBuf, source: tonic::transport::Error) -> ConnectError {
    if let Ok(meta) = std::fs::metadata(&path) {
        if !meta.file_type().is_socket() {
            return ConnectError::NotASocket { path };
        }
    }
    match find_io_error(&source).map(io::Error::kind) {
        Some(io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused) => {
            ConnectError::NotRunning { path }
        }
        Some(io::ErrorKind::PermissionDenied) => ConnectError::PermissionDenied { path },
        _ => ConnectError::Other { path, source },
    }
}

/// The first `std::io::Error` in an error's chain of sources, if any.
fn find_io_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io);
        }
        cur = e.source();
    }
    None
}

/// An error and its sources joined with ": ", skipping repeats.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_socket_gets_the_plain_start_hint() {
        let default = crate::paths::default_socket_path(&crate::paths::default_state_dir());
        assert_eq!(
            start_hint(&default),
            "`felundd` (or `systemctl --user start felundd`)"
        );
    }

    #[tokio::test]
    async fn missing_socket_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.sock");
        let err = connect(&path).await.expect_err("nothing listens there");
        assert!(
            matches!(&err, ConnectError::NotRunning { path: p } if *p == path),
            "{err:?}"
        );
        // A socket other than the default: the hint names it.
        assert_eq!(
            err.to_string(),
            format!(
                "felundd is not running at {0}; start it with `felundd --socket {0}`",
                path.display()
            )
        );
        assert_eq!(err.path(), path);
    }

    #[tokio::test]
    async fn missing_directory_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/felundd.sock");
        let err = connect(&path).await.expect_err("nothing listens there");
        assert!(matches!(err, ConnectError::NotRunning { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn stale_socket_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        // Bind and drop: the socket file stays, but nobody listens on it.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let err = connect(&path).await.expect_err("nobody listens");
        assert!(matches!(err, ConnectError::NotRunning { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn plain_file_is_not_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        std::fs::write(&path, b"not a socket").unwrap();
        let err = connect(&path).await.expect_err("a file is not a socket");
        assert!(matches!(err, ConnectError::NotASocket { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("is not a socket"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
    }

    #[tokio::test]
    async fn directory_is_not_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let err = connect(dir.path()).await.expect_err("a directory");
        assert!(matches!(err, ConnectError::NotASocket { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn too_long_path_is_other_with_detail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x".repeat(200));
        let err = connect(&path)
            .await
            .expect_err("path too long for sockaddr_un");
        // Whatever the OS says, the message names the path and is one line.
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[tokio::test]
    async fn listening_socket_connects() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ok.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        // Accept and hold connections open; no gRPC is spoken in this test.
        let accept = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let client = tokio::time::timeout(Duration::from_secs(10), connect(&path))
            .await
            .expect("connect must not hang");
        assert!(client.is_ok(), "{:?}", client.err());
        accept.abort();
    }
}
