//! Binding the API socket safely: private directory, mode 0600, refusing to start
//! when another felundd already serves the path, and clearing a stale file.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use tokio::net::{UnixListener, UnixStream};

use crate::store::create_private_dir;

/// Why the socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// A live felundd answers on this path.
    #[error("another felundd is already serving {0}; stop it first or pass a different --socket")]
    InUse(String),
    /// Something else is in the way or the directory is unusable.
    #[error("cannot bind the API socket {path}: {source}")]
    Io {
        /// Socket path.
        path: String,
        /// Underlying error.
        source: io::Error,
    },
}

/// Binds `path` as a Unix socket with mode 0600 in a 0700 directory.
pub async fn bind_api_socket(path: &Path) -> Result<UnixListener, SocketError> {
    let shown = path.display().to_string();
    let io_err = |source| SocketError::Io {
        path: shown.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            create_private_dir(dir).map_err(|e| io_err(io::Error::other(e.to_string())))?;
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io_err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way; remove it or pass a different --socket",
            )));
        }
        match UnixStream::connect(path).await {
            Ok(_) => return Err(SocketError::InUse(shown)),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                tracing::info!(path = %shown, "removing stale socket file");
                std::fs::remove_file(path).map_err(io_err)?;
            }
            Err(e) => return Err(io_err(e)),
        }
    }
    let listener = UnixListener::bind(path).map_err(io_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
    Ok(listener)
}
