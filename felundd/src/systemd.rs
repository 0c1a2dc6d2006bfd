//! systemd integration without a library: socket activation (the API socket handed
//! over as fd 3, `LISTEN_PID`/`LISTEN_FDS`) and readiness notification
//! (`Type=notify`: `READY=1` / `STOPPING=1` datagrams to `$NOTIFY_SOCKET`).
//! Both are no-ops outside systemd.

use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixDatagram, UnixListener};

/// The first passed file descriptor (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: RawFd = 3;

/// Takes the API socket systemd passed, if this process was socket-activated.
/// Must run before any other thread starts: it clears the `LISTEN_*` variables so
/// they are not inherited.
pub fn take_activated_listener() -> io::Result<Option<UnixListener>> {
    let pid_matches = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|p| p == std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(var);
    }
    if !pid_matches || count == 0 {
        return Ok(None);
    }
    if count > 1 {
        tracing::warn!(
            count,
            "systemd passed more than one socket; using the first"
        );
    }
    // SAFETY: fd 3 belongs to this process (systemd passed it for us, LISTEN_PID
    // says so). We only borrow it here to check its type; ManuallyDrop keeps the
    // File from closing it.
    let probe = ManuallyDrop::new(unsafe { File::from_raw_fd(LISTEN_FDS_START) });
    if !probe.metadata()?.file_type().is_socket() {
        return Err(io::Error::other(
            "LISTEN_FDS is set but fd 3 is not a socket",
        ));
    }
    // SAFETY: as above; from here on the listener owns fd 3.
    let listener = unsafe { UnixListener::from_raw_fd(LISTEN_FDS_START) };
    listener.set_nonblocking(true)?;
    Ok(Some(listener))
}

/// Sends a state line (e.g. `READY=1`) to the service manager, if there is one.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let result = UnixDatagram::unbound().and_then(|sock| {
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            // An abstract socket address (Linux).
            #[cfg(target_os = "linux")]
            {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                return sock.send_to_addr(state.as_bytes(), &addr).map(|_| ());
            }
            #[cfg(not(target_os = "linux"))]
            {
                let _ = name;
                return Err(io::Error::other("abstract notify sockets need Linux"));
            }
        }
        sock.send_to(state.as_bytes(), &path).map(|_| ())
    });
    if let Err(e) = result {
        tracing::warn!("cannot notify systemd ({state}): {e}");
    }
}
