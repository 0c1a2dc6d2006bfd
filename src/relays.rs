//! Relay servers for tests: the reference PHP relay (signed API), the reference
//! aiohttp relay (WebSocket push), and our `felund-relay`, each on a free loopback
//! port with its database in its own temp dir.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::reference::Reference;
use crate::{bin, free_port, Daemon, DEADLINE};

/// A daemon that syncs through the relay at `relay` and can be reached no other way: the
/// address it advertises is dead, so peers cannot gossip with it directly.
pub fn daemon_behind_relay(relay: &str, name: &str) -> Daemon {
    Daemon::start_with(&[
        "--advertise",
        "127.0.0.1:1",
        "--relay",
        relay,
        "--name",
        name,
        "--sync-interval",
        "1",
    ])
}

/// Which relay implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayKind {
    /// `api/php/rendezvous.php` under `php -S`.
    Php,
    /// `api/relay_ws.py`.
    AioHttp,
    /// Our `felund-relay` binary.
    Felund,
}

/// A running relay.
pub struct RelayProcess {
    kind: RelayKind,
    reference: Option<Reference>,
    child: Option<Child>,
    /// Extra flags for `felund-relay`.
    felund_args: Vec<String>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Temp dir with its database and log.
    pub dir: TempDir,
}

impl RelayProcess {
    /// Starts a relay of `kind` (the reference kinds need `reference`).
    pub fn start(kind: RelayKind, reference: Option<&Reference>) -> Self {
        Self::start_with(kind, reference, &[])
    }

    /// Starts our `felund-relay` with extra flags (e.g. `--require-signatures`).
    pub fn start_felund(args: &[&str]) -> Self {
        Self::start_with(RelayKind::Felund, None, args)
    }

    fn start_with(kind: RelayKind, reference: Option<&Reference>, args: &[&str]) -> Self {
        let mut r = Self {
            kind,
            reference: reference.cloned(),
            child: None,
            felund_args: args.iter().map(|a| a.to_string()).collect(),
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        r.spawn();
        r
    }

    /// The API base URL clients use.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The relay process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The relay's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("relay.log")).unwrap_or_default()
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("relay.sqlite")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("relay.log"))
            .expect("relay log");
        let port = self.port.to_string();
        let mut cmd = match self.kind {
            RelayKind::Php => {
                let r = self
                    .reference
                    .as_ref()
                    .expect("the PHP relay needs the reference");
                let mut c = Command::new("php");
                c.args(["-S", &format!("127.0.0.1:{port}"), "-t"])
                    .arg(self.dir.path())
                    .arg(r.dir().join("api/php/rendezvous.php"))
                    .env("DB_PATH", self.db());
                c
            }
            RelayKind::AioHttp => {
                let r = self
                    .reference
                    .as_ref()
                    .expect("the aiohttp relay needs the reference");
                let mut c = Command::new(r.python());
                c.arg(r.dir().join("api/relay_ws.py"))
                    .args(["--host", "127.0.0.1", "--port", &port, "--db"])
                    .arg(self.db())
                    .current_dir(self.dir.path())
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                c
            }
            RelayKind::Felund => {
                let mut c = Command::new(bin("felund-relay"));
                c.args(["--listen", &format!("127.0.0.1:{port}"), "--db"])
                    .arg(self.db())
                    .args(&self.felund_args)
                    .env("RUST_LOG", "info");
                c
            }
        };
        let log2 = log.try_clone().expect("log handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .expect("spawn relay");
        self.child = Some(child);
        let start = Instant::now();
        while http_get(self.port, "/v1/health").is_none_or(|(status, _)| status != 200) {
            assert!(
                start.elapsed() < DEADLINE,
                "{:?} relay did not come up; log:\n{}",
                self.kind,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the relay (its database stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and database.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "relay still running");
        self.spawn();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1:`port`; `(status, body)` or `None` when the
/// server is not there.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_request(port, "GET", path, &[], None)
}

/// A plain HTTP/1.0 request with extra headers and an optional JSON body, as a
/// browser's `fetch` would send it; `(status, body)` or `None` when unreachable.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let status = resp.split_whitespace().nth(1)?.parse().ok()?;
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}
