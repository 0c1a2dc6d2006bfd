//! Helpers for tests that run the real felundctl: output and exit-code checks, JSON
//! lines, message-shape predicates, and `felundctl watch` processes attached to a
//! daemon (killed when a test ends early).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::{bin, wait_until, Daemon, DEADLINE};

/// The eight fields of a message's JSON, sorted.
pub const MESSAGE_KEYS: [&str; 8] = [
    "author_node_id",
    "channel_id",
    "circle_id",
    "created_ts",
    "display_name",
    "msg_id",
    "own",
    "text",
];

pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout of a run that must have succeeded (exit 0).
pub fn ok(args: &[&str], out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "felundctl {args:?} failed\nstdout: {}\nstderr: {}",
        stdout_of(out),
        stderr_of(out)
    );
    stdout_of(out)
}

/// Text output of a successful `felundctl ARGS`.
pub fn text(d: &Daemon, args: &[&str]) -> String {
    ok(args, &d.ctl(args))
}

/// Asserts that a run was refused the documented way: exit 1, nothing on stdout and
/// exactly one `error: ...` line on stderr, which is returned.
pub fn assert_refused(args: &[&str], out: &Output) -> String {
    let err = stderr_of(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "felundctl {args:?} should exit 1\nstdout: {}\nstderr: {err}",
        stdout_of(out)
    );
    assert!(
        out.stdout.is_empty(),
        "felundctl {args:?} printed on stdout: {}",
        stdout_of(out)
    );
    assert_eq!(
        err.lines().count(),
        1,
        "one stderr line for {args:?}: {err:?}"
    );
    assert!(err.starts_with("error: "), "{args:?}: {err:?}");
    assert!(err.ends_with('\n'), "{args:?}: {err:?}");
    assert_no_crash(&err);
    err
}

/// No panic message or debug dump in `stderr`.
pub fn assert_no_crash(stderr: &str) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "Status {"] {
        assert!(!stderr.contains(bad), "{bad:?} in stderr: {stderr}");
    }
}

/// Runs `felundctl ARGS` with `stdin` as its standard input (written from a thread,
/// ignoring a reader that stops early).
/// Parses every non-empty line of `text` as JSON.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort_unstable();
    k
}

pub fn is_msg_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `line` is `[YYYY-MM-DD HH:MM] ` followed by `rest`.
pub fn is_stamped(line: &str, rest: &str) -> bool {
    let b = line.as_bytes();
    if b.len() < 19 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b[0] == b'['
        && digits(1..5)
        && b[5] == b'-'
        && digits(6..8)
        && b[8] == b'-'
        && digits(9..11)
        && b[11] == b' '
        && digits(12..14)
        && b[14] == b':'
        && digits(15..17)
        && b[17] == b']'
        && b[18] == b' '
        && &line[19..] == rest
}

/// How many event subscribers the daemon reports (felundd counts its own too).
pub fn subscribers(d: &Daemon) -> u64 {
    d.ctl_one(&["status"])["subscriber_count"]
        .as_u64()
        .expect("subscriber_count")
}

/// Spawns `cmd` (a `watch`) and waits until felundd counts one more subscriber.
pub fn spawn_attached(d: &Daemon, cmd: Command) -> Running {
    let before = subscribers(d);
    let child = Running::spawn(cmd);
    wait_until("watch to subscribe", || subscribers(d) > before);
    child
}

/// A child process killed if the test ends (or fails) while it runs.
pub struct Running(Option<Child>);

impl Running {
    /// Spawns `cmd`.
    pub fn spawn(mut cmd: Command) -> Running {
        Running(Some(cmd.spawn().expect("spawn felundctl")))
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child")
    }

    pub fn take_stdout(&mut self) -> ChildStdout {
        self.child().stdout.take().expect("piped stdout")
    }

    pub fn interrupt(&mut self) {
        let pid = Pid::from_raw(self.child().id() as i32);
        kill(pid, Signal::SIGINT).expect("send SIGINT");
    }

    /// Waits (at most [`DEADLINE`]) for the process to exit; returns its status and
    /// its stderr.
    pub fn wait_exit(&mut self) -> (ExitStatus, String) {
        let child = self.child();
        let mut status = None;
        wait_until("felundctl to exit", || {
            status = child.try_wait().expect("try_wait");
            status.is_some()
        });
        let mut err = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            pipe.read_to_string(&mut err).expect("read stderr");
        }
        self.0 = None;
        (status.expect("exit status"), err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `felundctl watch` attached to a daemon, its stdout lines read by a thread.
pub struct Watch {
    proc: Running,
    lines: Receiver<String>,
}

impl Watch {
    /// Starts `felundctl ARGS` (a watch) and waits until it has subscribed.
    pub fn start(d: &Daemon, args: &[&str]) -> Watch {
        let mut cmd = d.ctl_cmd(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut proc = spawn_attached(d, cmd);
        let stdout = proc.take_stdout();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch { proc, lines }
    }

    /// The next stdout line (panics after [`DEADLINE`]).
    pub fn next_line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .expect("a line from felundctl watch")
    }

    /// The next stdout line as JSON.
    pub fn next_json(&self) -> Value {
        let line = self.next_line();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON from watch {line:?}: {e}"))
    }

    /// Waits for the watch to exit on its own; returns the exit status and stderr.
    pub fn wait_exit(mut self) -> (ExitStatus, String) {
        self.proc.wait_exit()
    }

    /// Ctrl-C; returns the exit status and stderr.
    pub fn interrupt(mut self) -> (ExitStatus, String) {
        self.proc.interrupt();
        self.proc.wait_exit()
    }
}

/// The subcommands listed under `Commands:` in a `--help` text (without `help`).
pub fn listed_subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

pub fn help_of(args: &[&str]) -> String {
    let out = Command::new(bin("felundctl"))
        .args(args)
        .arg("--help")
        .env_remove("FELUND_SOCKET")
        .output()
        .expect("felundctl --help");
    ok(args, &out)
}
