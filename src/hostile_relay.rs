//! A hostile relay for attack tests: a tiny HTTP/1.1 server on a free loopback port that
//! acknowledges presence and pushes like a relay but answers pulls (`GET /v1/messages`) the
//! way the test scripts it: a chosen JSON page, an endless body, or a body announced as huge.
//! It has no WebSocket endpoint (404), so felundd polls it. This is the attacker, so it is
//! allowed to be fake; everything on felundd's side is real.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::DEADLINE;

/// How the hostile relay answers one pull.
#[derive(Debug, Clone)]
pub enum PullAnswer {
    /// This JSON text, with its `Content-Length`.
    Json(String),
    /// `{"ok":true,"messages":[` and then junk strings for as long as the client reads (no
    /// `Content-Length`, so only the client can end it).
    Endless,
    /// A `Content-Length` of this many bytes, then a trickle of junk.
    Announced(u64),
}

/// Decides the answer to a pull from its query string (`circle_hint=…&limit=…&…`).
pub type PullScript = dyn Fn(&str) -> PullAnswer + Send + Sync;

/// A running hostile relay; stops when dropped.
pub struct HostileRelay {
    /// Its port on 127.0.0.1.
    pub port: u16,
    stop: Arc<AtomicBool>,
    pulls: Arc<Mutex<Vec<String>>>,
    endless_bytes: Arc<Mutex<Vec<usize>>>,
}

impl HostileRelay {
    /// Starts one that answers pulls with `script`.
    pub fn start(script: impl Fn(&str) -> PullAnswer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the hostile relay");
        let port = listener.local_addr().expect("local addr").port();
        let relay = Self {
            port,
            stop: Arc::new(AtomicBool::new(false)),
            pulls: Arc::default(),
            endless_bytes: Arc::default(),
        };
        let shared = Shared {
            script: Arc::new(script),
            pulls: Arc::clone(&relay.pulls),
            endless_bytes: Arc::clone(&relay.endless_bytes),
        };
        let stop = Arc::clone(&relay.stop);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || shared.serve(conn));
            }
        });
        relay
    }

    /// The base URL to give felundd as `--relay`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The query strings of every pull so far, in order.
    pub fn pulls(&self) -> Vec<String> {
        self.pulls.lock().expect("pulls").clone()
    }

    /// For each endless answer that has ended: how many body bytes it got to write before
    /// the client hung up.
    pub fn endless_bytes(&self) -> Vec<usize> {
        self.endless_bytes.lock().expect("endless bytes").clone()
    }
}

impl Drop for HostileRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// What every connection thread needs.
#[derive(Clone)]
struct Shared {
    script: Arc<PullScript>,
    pulls: Arc<Mutex<Vec<String>>>,
    endless_bytes: Arc<Mutex<Vec<usize>>>,
}

impl Shared {
    /// One request, one answer, then the connection is closed.
    fn serve(&self, conn: TcpStream) {
        let _ = conn.set_read_timeout(Some(DEADLINE));
        let mut reader = BufReader::new(match conn.try_clone() {
            Ok(c) => c,
            Err(_) => return,
        });
        let Some(Request { method, target, .. }) = read_request(&mut reader) else {
            return;
        };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut out = conn;
        let answer = match (method.as_str(), path) {
            ("GET", "/v1/messages") => {
                self.pulls.lock().expect("pulls").push(query.to_string());
                (self.script)(query)
            }
            ("POST", "/v1/messages") => PullAnswer::Json(r#"{"ok":true,"stored":0}"#.into()),
            ("GET", "/v1/peers") => PullAnswer::Json(r#"{"ok":true,"peers":[]}"#.into()),
            (_, "/v1/register") => PullAnswer::Json(r#"{"ok":true}"#.into()),
            _ => {
                let _ = out.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                return;
            }
        };
        match answer {
            PullAnswer::Json(body) => {
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            PullAnswer::Endless => {
                let written = write_endless(&mut out, "messages");
                self.endless_bytes
                    .lock()
                    .expect("endless bytes")
                    .push(written);
            }
            PullAnswer::Announced(len) => {
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                );
                let _ = write_trickle(&mut out);
            }
        }
    }
}

/// One HTTP/1.1 request as read off the wire.
pub(crate) struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The `Content-Length` body.
    pub body: Vec<u8>,
}

/// Reads the request line, the headers and a `Content-Length` body.
pub(crate) fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    let mut body_len = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            if name.eq_ignore_ascii_case("content-length") {
                body_len = value.parse().ok()?;
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; body_len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Writes a never-ending page (`{"ok":true,"<list>":[` and junk strings) until the client
/// hangs up (or the test's deadline passes); returns the body bytes written.
pub(crate) fn write_endless(out: &mut TcpStream, list: &str) -> usize {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    let open = format!(r#"{{"ok":true,"{list}":["#);
    if out.write_all(head).is_err() || out.write_all(open.as_bytes()).is_err() {
        return 0;
    }
    let chunk = format!("\"{}\",", "x".repeat(64 * 1024 - 3));
    let start = Instant::now();
    let mut written = 0;
    while start.elapsed() < DEADLINE {
        if out.write_all(chunk.as_bytes()).is_err() {
            break;
        }
        written += chunk.len();
    }
    written
}

/// A few junk bytes a second, until the client hangs up or the deadline passes.
fn write_trickle(out: &mut TcpStream) -> std::io::Result<()> {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        out.write_all(b"{\"ok\":true,\"messages\":[")?;
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
