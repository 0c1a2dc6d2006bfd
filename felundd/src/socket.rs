//! The API socket, which hands out circle secrets to whoever connects, so no other user may
//! ever be served through it:
//!
//! - **Binding.** The socket is bound inside a fresh private (0700) directory next to the
//!   target, set to 0600 there, and only then renamed into place, so it never exists at the
//!   target path with a looser mode, whatever the umask. (Changing the umask instead would
//!   affect every thread of the process.)
//! - **Its directory.** felundd refuses to start when the socket's directory, or one above it,
//!   is writable by other users and not sticky (they could replace the socket with their own),
//!   or when the socket's directory belongs to another user. A sticky directory such as `/tmp`
//!   is fine.
//! - **Each connection.** [`owner_only`] checks the peer's uid (`SO_PEERCRED`) and closes
//!   connections from any other user at once, even should the file's mode be loosened later.
//!   root is let in too: it can read the state directory anyway.
//!
//! It also refuses to start when another felundd already serves the path, and clears a stale
//! socket file.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tokio_stream::{Stream, StreamExt};

use crate::store::create_private_dir;

/// Refused connections are logged at most this often (with a count), so another user cannot
/// fill the log by connecting in a loop.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(60);

/// Why the socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// A live felundd answers on this path.
    #[error("another felundd is already serving {0}; stop it first or pass a different --socket")]
    InUse(String),
    /// Another user could replace the socket in this directory.
    #[error(
        "refusing to put the API socket in {dir} (mode {mode:04o}): {why}, so another user could \
         replace the socket and impersonate felundd to your clients; use a directory only you \
         can write to (e.g. `mkdir -m 700 DIR`), a sticky one such as /tmp, or the default \
         --socket"
    )]
    UnsafeDir {
        /// The offending directory.
        dir: String,
        /// Its permission bits.
        mode: u32,
        /// What is wrong with it, in words.
        why: &'static str,
    },
    /// Something else is in the way or the directory is unusable.
    #[error("cannot bind the API socket {path}: {source}")]
    Io {
        /// Socket path.
        path: String,
        /// Underlying error.
        source: io::Error,
    },
}

/// Binds `path` as a Unix socket with mode 0600 that no other user could reach at any moment.
pub async fn bind_api_socket(path: &Path) -> Result<UnixListener, SocketError> {
    let shown = path.display().to_string();
    let io_err = |source| SocketError::Io {
        path: shown.clone(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        create_private_dir(&dir).map_err(|e| io_err(io::Error::other(e.to_string())))?;
    }
    check_dir(&dir)?;
    clear_stale(path, &shown).await?;
    let staging = staging_dir(&dir).map_err(io_err)?;
    let bound = bind_privately(&staging, path);
    // Only our socket was ever in it (0700); after the rename it is empty.
    let _ = std::fs::remove_dir_all(&staging);
    bound.map_err(io_err)
}

/// Refuses a directory (or one above it) where another user could replace the socket.
fn check_dir(dir: &Path) -> Result<(), SocketError> {
    let io_err = |d: &Path, source| SocketError::Io {
        path: d.display().to_string(),
        source,
    };
    let me = nix::unistd::geteuid().as_raw();
    let dir = std::fs::canonicalize(dir).map_err(|e| io_err(dir, e))?;
    for (i, d) in dir.ancestors().enumerate() {
        let meta = std::fs::metadata(d).map_err(|e| io_err(d, e))?;
        // Only the socket's own directory must belong to us (or root); above it, the usual
        // owners of /home and the like are fine as long as they do not let others write.
        let owner = if i == 0 { meta.uid() } else { me };
        if let Some(why) = unsafe_dir(meta.mode(), owner, me) {
            return Err(SocketError::UnsafeDir {
                dir: d.display().to_string(),
                mode: meta.mode() & 0o7777,
                why,
            });
        }
    }
    Ok(())
}

/// What makes a directory with `mode`, owned by `owner`, unsafe for user `me`'s socket.
fn unsafe_dir(mode: u32, owner: u32, me: u32) -> Option<&'static str> {
    const WRITABLE_BY_OTHERS: u32 = 0o022;
    const STICKY: u32 = 0o1000;
    if owner != me && owner != 0 {
        Some("it belongs to another user")
    } else if mode & WRITABLE_BY_OTHERS != 0 && mode & STICKY == 0 {
        Some("other users can write to it and it is not sticky")
    } else {
        None
    }
}

/// Refuses a live felundd at `path` or something that is not a socket; removes a stale socket.
async fn clear_stale(path: &Path, shown: &str) -> Result<(), SocketError> {
    let io_err = |source| SocketError::Io {
        path: shown.to_string(),
        source,
    };
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(io_err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a file that is not a socket is in the way; remove it or pass a different --socket",
        )));
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(SocketError::InUse(shown.to_string())),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(path = %shown, "removing stale socket file");
            std::fs::remove_file(path).map_err(io_err)
        }
        Err(e) => Err(io_err(e)),
    }
}

/// A new directory in `dir` that only we can enter, with an unguessable name.
/// Names are short on purpose: a Unix socket path has at most 107 bytes, and
/// `DIR/.fXXXXXX/s` is no longer than `DIR/felundd.sock`, so any socket path that fits
/// can be staged.
fn staging_dir(dir: &Path) -> io::Result<PathBuf> {
    let mut attempt = 0;
    let staging = loop {
        // A leftover of a crash may hold a name: draw another.
        let candidate = dir.join(format!(".f{}", crate::node::random_hex(3)));
        match std::fs::DirBuilder::new().mode(0o700).create(&candidate) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    // The umask may have taken bits away; it cannot have added any.
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))?;
    Ok(staging)
}

/// Binds inside `staging`, restricts the socket to 0600, then moves it to `path` (same
/// filesystem, so the rename is atomic and the socket keeps working).
fn bind_privately(staging: &Path, path: &Path) -> io::Result<UnixListener> {
    let inner = staging.join("s");
    let listener = UnixListener::bind(&inner)?;
    std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&inner, path)?;
    Ok(listener)
}

/// The connections of `listener` that come from this process's user (or root); any other is
/// closed at once and logged (at most once a minute, with a count).
pub fn owner_only(listener: UnixListener) -> impl Stream<Item = io::Result<UnixStream>> {
    let me = nix::unistd::geteuid().as_raw();
    let mut log = RefusalLog::default();
    UnixListenerStream::new(listener).filter_map(move |conn| match conn {
        Ok(stream) => {
            let peer = stream.peer_cred().map(|c| (c.uid(), c.pid()));
            match peer {
                Ok((uid, _)) if uid == me || uid == 0 => Some(Ok(stream)),
                Ok((uid, pid)) => {
                    log.refused(Some(uid), pid);
                    None
                }
                Err(_) => {
                    log.refused(None, None);
                    None
                }
            }
        }
        Err(e) => Some(Err(e)),
    })
}

/// Rate-limited logging of refused connections.
#[derive(Default)]
struct RefusalLog {
    last: Option<Instant>,
    unlogged: u64,
}

impl RefusalLog {
    fn refused(&mut self, uid: Option<u32>, pid: Option<i32>) {
        self.unlogged += 1;
        if self.last.is_some_and(|t| t.elapsed() < REFUSAL_LOG_EVERY) {
            return;
        }
        tracing::warn!(
            uid = %uid.map_or_else(|| "unknown".to_string(), |u| u.to_string()),
            pid = %pid.map_or_else(|| "unknown".to_string(), |p| p.to_string()),
            refused = self.unlogged,
            "refused an API connection from another user (only this user and root are served)"
        );
        self.last = Some(Instant::now());
        self.unlogged = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_unsafe_when_others_can_write_to_it_without_the_sticky_bit() {
        let me = 1000;
        for safe in [0o700, 0o755, 0o750, 0o1777, 0o1770] {
            assert_eq!(unsafe_dir(safe, me, me), None, "{safe:o}");
        }
        assert_eq!(unsafe_dir(0o1777, 0, me), None, "/tmp");
        for unsafe_mode in [0o777, 0o775, 0o757, 0o722] {
            assert!(unsafe_dir(unsafe_mode, me, me).is_some(), "{unsafe_mode:o}");
        }
        assert_eq!(
            unsafe_dir(0o700, 1001, me),
            Some("it belongs to another user")
        );
    }

    /// The staging path is never longer than the socket's own, so a socket path of the
    /// kernel's maximum, 107 bytes, still binds.
    #[tokio::test]
    async fn a_socket_path_near_the_length_limit_binds() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().as_os_str().len();
        let fill = 107 - base - "/felundd.sock".len() - 1;
        let sub = dir.path().join("d".repeat(fill));
        std::fs::DirBuilder::new().mode(0o700).create(&sub).unwrap();
        let path = sub.join("felundd.sock");
        assert_eq!(path.as_os_str().len(), 107);
        let _listener = bind_api_socket(&path).await.unwrap();
        assert!(std::fs::metadata(&path).is_ok());
    }

    #[tokio::test]
    async fn the_socket_is_bound_0600_with_nothing_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.sock");
        let _listener = bind_api_socket(&path).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["api.sock"]);
    }
}
