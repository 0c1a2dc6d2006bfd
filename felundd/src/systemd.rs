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

/// The variables of the socket-activation protocol, cleared once read.
const LISTEN_VARS: [&str; 4] = [
    "LISTEN_PID",
    "LISTEN_FDS",
    "LISTEN_FDNAMES",
    "LISTEN_FDS_FIRST_FD",
];

/// Takes the API socket systemd passed, if this process was socket-activated.
/// Must run before any other thread starts: it clears the `LISTEN_*` variables so
/// they are not inherited. An fd 3 that is not a Unix stream socket is an error.
///
/// Activation counts only when `LISTEN_PID` names this process, as `sd_listen_fds(3)`
/// requires (listenfd alone also accepts a missing `LISTEN_PID`): `LISTEN_FDS` inherited
/// from some other program must not make felundd serve whatever its fd 3 happens to be.
pub fn take_activated_listener() -> io::Result<Option<UnixListener>> {
    let for_us = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|pid| pid.parse::<u32>().ok())
        == Some(std::process::id());
    if !for_us {
        if std::env::var_os("LISTEN_FDS").is_some() {
            tracing::warn!(
                "LISTEN_FDS is set but LISTEN_PID does not name this process: not socket-activated, ignoring it"
            );
        }
        for var in LISTEN_VARS {
            std::env::remove_var(var);
        }
        return Ok(None);
    }
    let mut fds = listenfd::ListenFd::from_env();
    for var in LISTEN_VARS {
        std::env::remove_var(var);
    }
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
