//! The API socket hands out circle secrets, so no other user may ever be served through it.
//! The attacker is `nobody` (the tests run as root in CI): it cannot win a race against
//! felundd starting with umask 000, is refused even when the socket's mode is opened to
//! everyone, and a directory where it could replace the socket is refused at start. Positive
//! controls: the owner is served, and a socket directly under the sticky `/tmp` works.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use felund_tests::other_user::Nobody;
use felund_tests::{bin, chat, eventually, free_port, wait_until, Daemon, DaemonOptions, DEADLINE};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o7777
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A socket path directly under `/tmp`, unique to this run.
fn tmp_socket(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "/tmp/felund-{name}-{}-{}.sock",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// Runs felundd with `--socket socket` where it is expected to exit by itself.
fn felundd_exits(state: &Path, socket: &Path) -> Output {
    let mut child = Command::new(bin("felundd"))
        .arg("--state-dir")
        .arg(state)
        .arg("--socket")
        .arg(socket)
        .args(["--bind", "127.0.0.1", "--port", &free_port().to_string()])
        .env_remove("FELUND_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn felundd");
    if !eventually(DEADLINE, || child.try_wait().expect("try_wait").is_some()) {
        let _ = child.kill();
        panic!("felundd kept running with --socket {}", socket.display());
    }
    child.wait_with_output().expect("felundd output")
}

#[test]
fn a_socket_directory_other_users_can_write_to_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    for open_mode in [0o777, 0o770] {
        let open = dir.path().join(format!("open-{open_mode:o}"));
        std::fs::create_dir(&open).expect("mkdir");
        chmod(&open, open_mode);
        let out = felundd_exits(&dir.path().join("state"), &open.join("felundd.sock"));
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&open.display().to_string()), "{err}");
        assert!(err.contains("not sticky"), "{err}");
        assert!(err.contains("mkdir -m 700"), "{err}");
        assert_eq!(
            std::fs::read_dir(&open).expect("read_dir").count(),
            0,
            "felundd left something in {}",
            open.display()
        );
    }
}

#[test]
fn a_socket_directly_under_tmp_is_served_and_removed_at_exit() {
    let socket = tmp_socket("plain");
    let mut d = Daemon::start_opts(DaemonOptions {
        socket: Some(socket.clone()),
        ..DaemonOptions::default()
    });
    assert!(d.ctl(&["status"]).status.success());
    assert_eq!(mode(&socket), 0o600);
    d.stop();
    assert!(!socket.exists(), "felundd left {}", socket.display());
}

#[test]
fn another_user_is_refused_even_when_the_socket_mode_lets_everyone_connect() {
    let Some(nobody) =
        Nobody::new("another_user_is_refused_even_when_the_socket_mode_lets_everyone_connect")
    else {
        return;
    };
    let d = Daemon::start();
    let circle = chat::create_circle(&d, "private");
    // Open the way to the socket and the socket itself to everyone.
    chmod(d.dir.path(), 0o755);
    chmod(d.socket.parent().expect("socket dir"), 0o755);
    chmod(&d.socket, 0o666);

    let out = nobody.felundctl(&d.socket, &["--json", "code", "--circle-id", &circle.id]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&circle.code));
    let refused = format!("uid={}", nobody.uid());
    wait_until("felundd to log the refused connection", || {
        d.log()
            .lines()
            .any(|l| l.contains("refused an API connection") && l.contains(&refused))
    });

    // The owner is still served.
    let code = d.ctl_one(&["code", "--circle-id", &circle.id]);
    assert_eq!(code["code"], circle.code.as_str());
}

#[test]
fn a_racing_other_user_is_never_served_while_felundd_starts_with_umask_000() {
    let Some(nobody) =
        Nobody::new("a_racing_other_user_is_never_served_while_felundd_starts_with_umask_000")
    else {
        return;
    };
    let socket = tmp_socket("race");
    let (stop, attempts, served) = (
        AtomicBool::new(false),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let loose_modes_seen = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        // And watches the path: the socket must never be there with a looser mode.
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                if let Ok(meta) = std::fs::symlink_metadata(&socket) {
                    let m = meta.permissions().mode() & 0o7777;
                    if m != 0o600 {
                        loose_modes_seen.lock().expect("modes").push(m);
                    }
                }
            }
        });
        // The attacker dials the path over and over, from before felundd starts.
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                if nobody
                    .felundctl(&socket, &["--json", "status"])
                    .status
                    .success()
                {
                    served.fetch_add(1, Ordering::SeqCst);
                }
                attempts.fetch_add(1, Ordering::SeqCst);
            }
        });
        let d = Daemon::start_opts(DaemonOptions {
            socket: Some(socket.clone()),
            umask: Some(0o000),
            ..DaemonOptions::default()
        });
        let at_ready = attempts.load(Ordering::SeqCst);
        wait_until("the attacker to try again while felundd serves", || {
            attempts.load(Ordering::SeqCst) >= at_ready + 10
        });
        assert_eq!(mode(&socket), 0o600, "umask 000 must not loosen the socket");
        stop.store(true, Ordering::SeqCst);
        drop(d);
    });
    assert!(attempts.load(Ordering::SeqCst) > 10);
    assert_eq!(
        served.load(Ordering::SeqCst),
        0,
        "another user was served by felundd"
    );
    let seen = loose_modes_seen.into_inner().expect("modes");
    assert!(
        seen.is_empty(),
        "the socket was visible with modes {seen:?} (decimal)"
    );
}
