//! Default locations of felund's state directory and of felundd's socket.
//!
//! Both the daemon and its clients call these functions, so a client finds the
//! daemon without configuration. The rules, in order of precedence:
//!
//! | what | 1st | 2nd | 3rd |
//! | --- | --- | --- | --- |
//! | state directory | `$FELUND_STATE_DIR` | `<data dir>/felund` (`~/.local/share/felund` on Linux) | `./.felund` |
//! | socket | `--socket` (explicit) | `$FELUND_SOCKET` | [`default_socket_path`] |
//! | default socket | `$XDG_RUNTIME_DIR/felund/felundd.sock` | `<state dir>/felundd.sock` | |
//!
//! Environment variables that are set but empty count as unset.
//! Nothing here touches the file system: the daemon creates the directories.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable that overrides the state directory.
pub const STATE_DIR_ENV: &str = "FELUND_STATE_DIR";

/// Environment variable that overrides the socket path.
pub const SOCKET_ENV: &str = "FELUND_SOCKET";

/// File name of the daemon's socket inside its directory.
pub const SOCKET_FILE_NAME: &str = "felundd.sock";

/// Name of felund's directory under the platform's data or runtime directory.
const APP_DIR_NAME: &str = "felund";

/// The state directory to use when none is given on the command line.
///
/// `$FELUND_STATE_DIR` if set, else `felund` under the platform's data directory
/// ([`dirs::data_dir`], e.g. `~/.local/share/felund`), else `./.felund`.
pub fn default_state_dir() -> PathBuf {
    state_dir_from(std::env::var_os(STATE_DIR_ENV), dirs::data_dir())
}

/// The default socket path for a daemon whose state lives in `state_dir`.
///
/// `$XDG_RUNTIME_DIR/felund/felundd.sock` when the platform has a runtime
/// directory ([`dirs::runtime_dir`]), else `<state_dir>/felundd.sock`.
pub fn default_socket_path(state_dir: &Path) -> PathBuf {
    socket_path_from(dirs::runtime_dir(), state_dir)
}

/// The socket a client should dial.
///
/// `explicit` (e.g. a `--socket` option) if given, else `$FELUND_SOCKET`, else
/// [`default_socket_path`] of [`default_state_dir`].
pub fn resolve_socket(explicit: Option<PathBuf>) -> PathBuf {
    resolve_socket_from(explicit, std::env::var_os(SOCKET_ENV), || {
        default_socket_path(&default_state_dir())
    })
}

/// An environment value, with "set but empty" treated as unset.
fn non_empty(value: Option<OsString>) -> Option<PathBuf> {
    value.filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// [`default_state_dir`] with its inputs passed in.
fn state_dir_from(env_state_dir: Option<OsString>, data_dir: Option<PathBuf>) -> PathBuf {
    non_empty(env_state_dir)
        .or_else(|| data_dir.map(|d| d.join(APP_DIR_NAME)))
        .unwrap_or_else(|| PathBuf::from(".felund"))
}

/// [`default_socket_path`] with its inputs passed in.
fn socket_path_from(runtime_dir: Option<PathBuf>, state_dir: &Path) -> PathBuf {
    match runtime_dir {
        Some(run) => run.join(APP_DIR_NAME).join(SOCKET_FILE_NAME),
        None => state_dir.join(SOCKET_FILE_NAME),
    }
}

/// [`resolve_socket`] with its inputs passed in; `default` is only called when needed.
fn resolve_socket_from(
    explicit: Option<PathBuf>,
    env_socket: Option<OsString>,
    default: impl FnOnce() -> PathBuf,
) -> PathBuf {
    explicit
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| non_empty(env_socket))
        .unwrap_or_else(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_sock() -> PathBuf {
        PathBuf::from("/default/felundd.sock")
    }

    #[test]
    fn explicit_socket_wins_over_env_and_default() {
        let got = resolve_socket_from(
            Some(PathBuf::from("/explicit.sock")),
            Some("/env.sock".into()),
            || panic!("default must not be computed"),
        );
        assert_eq!(got, PathBuf::from("/explicit.sock"));
    }

    #[test]
    fn env_socket_wins_over_default() {
        let got = resolve_socket_from(None, Some("/env.sock".into()), default_sock);
        assert_eq!(got, PathBuf::from("/env.sock"));
    }

    #[test]
    fn default_socket_when_nothing_given() {
        assert_eq!(
            resolve_socket_from(None, None, default_sock),
            default_sock()
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        assert_eq!(
            resolve_socket_from(None, Some("".into()), default_sock),
            default_sock()
        );
        assert_eq!(
            resolve_socket_from(Some(PathBuf::new()), Some("/env.sock".into()), default_sock),
            PathBuf::from("/env.sock")
        );
        assert_eq!(
            state_dir_from(Some("".into()), Some("/data".into())),
            PathBuf::from("/data/felund")
        );
    }

    #[test]
    fn state_dir_precedence() {
        assert_eq!(
            state_dir_from(Some("/st".into()), Some("/data".into())),
            PathBuf::from("/st")
        );
        assert_eq!(
            state_dir_from(None, Some("/data".into())),
            PathBuf::from("/data/felund")
        );
        assert_eq!(state_dir_from(None, None), PathBuf::from(".felund"));
    }

    #[test]
    fn socket_path_prefers_runtime_dir() {
        assert_eq!(
            socket_path_from(Some("/run/user/1000".into()), Path::new("/st")),
            PathBuf::from("/run/user/1000/felund/felundd.sock")
        );
        assert_eq!(
            socket_path_from(None, Path::new("/st")),
            PathBuf::from("/st/felundd.sock")
        );
    }

    #[test]
    fn real_functions_agree_with_helpers() {
        // Reads the real environment but only compares against the same inputs.
        let state = default_state_dir();
        assert_eq!(
            state,
            state_dir_from(std::env::var_os(STATE_DIR_ENV), dirs::data_dir())
        );
        assert_eq!(
            default_socket_path(&state),
            socket_path_from(dirs::runtime_dir(), &state)
        );
        assert_eq!(
            resolve_socket(Some("/x.sock".into())),
            PathBuf::from("/x.sock")
        );
    }
}
