//! systemd integration without systemd: socket activation (we hand felundd a bound
//! Unix socket as fd 3 with LISTEN_FDS/LISTEN_PID, as systemd does) and Type=notify
//! readiness (we listen on NOTIFY_SOCKET).

use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::process::{Command, Stdio};

use felund_tests::{bin, free_port, DEADLINE};
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The next notification datagram, without the newline that ends each of its
/// assignments (the protocol is newline-separated `KEY=VALUE` lines). On a timeout it
/// panics with felundd's log (`log`).
fn recv_state(notify: &UnixDatagram, log: &std::path::Path) -> String {
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).unwrap_or_else(|e| {
        panic!(
            "no notification before the deadline ({e}); felundd's log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        )
    });
    String::from_utf8_lossy(&buf[..n]).trim_end().to_string()
}

/// Starts felundd with `listener` as its fd 3 and `env` (shell assignments, `$$` being
/// felundd's own pid) in its environment, its own `--socket` at `own` and readiness
/// reported to `notify_path`.
fn spawn_with_fd3(
    dir: &std::path::Path,
    listener: &UnixListener,
    env: &str,
    own: &std::path::Path,
    notify_path: &std::path::Path,
) -> std::process::Child {
    // Let the child inherit it, as systemd's fd passing does.
    fcntl(listener, FcntlArg::F_SETFD(FdFlag::empty())).expect("clear CLOEXEC");
    // The shell moves the socket to fd 3; `$$` is its pid, which felundd keeps through exec.
    let script = format!("exec 3<&{}; {env} exec \"$0\" \"$@\"", listener.as_raw_fd());
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin("felundd"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--socket")
        .arg(own)
        .args(["--bind", "127.0.0.1", "--port", &free_port().to_string()])
        .env("NOTIFY_SOCKET", notify_path)
        .env_remove("FELUND_CONFIG")
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("felundd.log")).expect("log file"))
        .spawn()
        .expect("spawn felundd")
}

/// `felundctl status` on `socket` succeeds.
fn status_ok(socket: &std::path::Path) -> bool {
    let status = Command::new(bin("felundctl"))
        .arg("--socket")
        .arg(socket)
        .args(["--json", "status"])
        .output()
        .expect("felundctl");
    status.status.success()
}

/// A notification socket in `dir`, read with the test deadline.
fn notify_socket(dir: &std::path::Path) -> (UnixDatagram, std::path::PathBuf) {
    let notify_path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).expect("bind notify socket");
    notify.set_read_timeout(Some(DEADLINE)).expect("timeout");
    (notify, notify_path)
}

#[test]
fn socket_activated_felundd_serves_the_passed_socket_and_reports_ready_and_stopping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = dir.path().join("activated.sock");
    let listener = UnixListener::bind(&api).expect("bind the API socket");
    let (notify, notify_path) = notify_socket(dir.path());
    let own = dir.path().join("not-used.sock");
    let mut child = spawn_with_fd3(
        dir.path(),
        &listener,
        "LISTEN_FDS=1 LISTEN_PID=$$",
        &own,
        &notify_path,
    );

    assert_eq!(
        recv_state(&notify, &dir.path().join("felundd.log")),
        "READY=1"
    );
    assert!(status_ok(&api), "the activated socket is served");
    assert!(!own.exists(), "--socket must not be bound when activated");

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(
        recv_state(&notify, &dir.path().join("felundd.log")),
        "STOPPING=1"
    );
    let exit = child.wait().expect("felundd exits");
    assert!(exit.success(), "{exit}");
    assert!(
        api.exists(),
        "the activated socket belongs to systemd and stays"
    );
}

/// A service manager may stop felundd the moment it reports ready: a SIGTERM sent as soon
/// as `READY=1` arrives stops it cleanly (`STOPPING=1`, exit 0), not by the signal's default.
#[test]
fn sigterm_right_after_ready_stops_felundd_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (notify, notify_path) = notify_socket(dir.path());
    let log = dir.path().join("felundd.log");
    let mut child = Command::new(bin("felundd"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--socket")
        .arg(dir.path().join("api.sock"))
        .args(["--bind", "127.0.0.1", "--port", &free_port().to_string()])
        .env("NOTIFY_SOCKET", &notify_path)
        .env_remove("FELUND_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn felundd");
    assert_eq!(recv_state(&notify, &log), "READY=1");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(recv_state(&notify, &log), "STOPPING=1");
    let exit = child.wait().expect("felundd exits");
    assert!(exit.success(), "{exit}");
}

/// `LISTEN_FDS` left in the environment by some other program (no `LISTEN_PID`, or
/// another process's) is not activation: felundd binds its own `--socket` and never
/// serves what its fd 3 happens to be.
#[test]
fn listen_fds_not_addressed_to_felundd_is_ignored_and_it_binds_its_own_socket() {
    for env in ["LISTEN_FDS=1", "LISTEN_FDS=1 LISTEN_PID=1"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let stray = dir.path().join("stray.sock");
        let listener = UnixListener::bind(&stray).expect("bind a stray socket");
        let (notify, notify_path) = notify_socket(dir.path());
        let own = dir.path().join("own.sock");
        let mut child = spawn_with_fd3(dir.path(), &listener, env, &own, &notify_path);

        assert_eq!(
            recv_state(&notify, &dir.path().join("felundd.log")),
            "READY=1",
            "with {env}"
        );
        // Taking fd 3 as activation would have left --socket unbound.
        assert!(status_ok(&own), "with {env}: its own --socket is served");
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
        assert!(child.wait().expect("felundd exits").success(), "with {env}");
    }
}

#[test]
fn print_config_shows_each_setting_and_its_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("felundd.toml");
    std::fs::write(&file, "name = \"from-file\"\nsync_interval = 7\n").expect("write config");
    let out = Command::new(bin("felundd"))
        .arg("--config")
        .arg(&file)
        .args(["--port", "4242", "--print-config"])
        .env("FELUND_API_BASE", "http://127.0.0.1:1")
        .output()
        .expect("felundd --print-config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "port = 4242  # flag",
        "relay = \"http://127.0.0.1:1\"  # environment",
        "name = \"from-file\"  # config file",
        "sync_interval = 7  # config file",
        "retention_days = 365  # default",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn a_broken_config_file_stops_felundd_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("felundd.toml");
    std::fs::write(&file, "port = \"not a number\"\n").expect("write config");
    let out = Command::new(bin("felundd"))
        .arg("--config")
        .arg(&file)
        .output()
        .expect("felundd");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("felundd.toml") && err.contains("port"),
        "{err}"
    );
}

#[test]
fn status_verbose_shows_the_daemons_settings_and_their_sources() {
    let d = felund_tests::Daemon::start_with(&["--name", "verbose"]);
    let out = d.ctl(&["status", "--verbose"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "name = \"verbose\"  # flag",
        "retention_days = 365  # default",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    let json = d.ctl_json(&["status", "--verbose"]);
    assert_eq!(json.len(), 1, "one object: {json:?}");
    assert_eq!(json[0]["settings"]["name"]["source"], "flag", "{json:?}");
}
