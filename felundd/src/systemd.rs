//! systemd integration: socket activation (the API socket handed over as fd 3,
//! `LISTEN_PID`/`LISTEN_FDS`, through `listenfd`) and readiness notification
//! (`Type=notify`: `READY=1` / `STOPPING=1` to `$NOTIFY_SOCKET`, through
//! `sd-notify`). Both are no-ops outside systemd.

use std::io;
use std::os::unix::net::UnixListener;

/// A state change to report to the service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    /// Start-up is finished: the API socket answers.
    Ready,
    /// Shutdown has begun.
    Stopping,
}

/// Takes the API socket systemd passed, if this process was socket-activated.
/// Must run before any other thread starts: it clears the `LISTEN_*` variables so
/// they are not inherited. An fd 3 that is not a Unix stream socket is an error.
pub fn take_activated_listener() -> io::Result<Option<UnixListener>> {
    let mut fds = listenfd::ListenFd::from_env();
    // listenfd clears LISTEN_PID and LISTEN_FDS; the names go with them.
    std::env::remove_var("LISTEN_FDNAMES");
    if fds.len() > 1 {
        tracing::warn!(
            count = fds.len(),
            "systemd passed more than one socket; using the first"
        );
    }
    let Some(listener) = fds.take_unix_listener(0)? else {
        return Ok(None);
    };
    listener.set_nonblocking(true)?;
    Ok(Some(listener))
}

/// Reports `state` to the service manager, if there is one.
pub fn notify(state: ServiceState) {
    let line = match state {
        ServiceState::Ready => sd_notify::NotifyState::Ready,
        ServiceState::Stopping => sd_notify::NotifyState::Stopping,
    };
    if let Err(e) = sd_notify::notify(&[line]) {
        tracing::warn!("cannot notify systemd ({state:?}): {e}");
    }
}
