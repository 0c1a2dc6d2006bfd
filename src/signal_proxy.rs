//! A scripted proxy in front of a real relay, for attack tests on felundd's DataChannel
//! signalling. Every request is forwarded to the relay (one request per connection, so the
//! proxy sees each one) except `/v1/signal`, which the test may have the proxy answer itself:
//! 429 with or without `Retry-After`, a poll page of its choosing, or a poll page that never
//! ends. Every `/v1/signal` request is recorded with the moment it arrived, so a test can count
//! how often felundd asks; other requests are counted by path. The relay's WebSocket push feed is refused (404), so felundd polls
//! messages through the proxy too. The proxy plays the attacker (or a relay under pressure);
//! the relay behind it and felundd are real.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::hostile_relay::{read_request, write_endless, Request};
use crate::DEADLINE;

/// How the proxy answers `/v1/signal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalAnswer {
    /// Forwarded to the relay.
    Forward,
    /// 429 to polls and posts, with this `Retry-After` (seconds) or none.
    RateLimited(Option<u64>),
    /// Polls get 200 with this JSON text; posts are forwarded.
    Poll(String),
    /// Polls get `{"ok":true,"signals":[` and junk until the client hangs up; posts are
    /// forwarded.
    Endless,
}

/// One `/v1/signal` request the proxy saw.
#[derive(Debug, Clone)]
pub struct SignalRequest {
    /// When it arrived.
    pub at: Instant,
    /// `GET` (poll) or `POST`.
    pub method: String,
    /// The status it was answered with (the relay's, when forwarded).
    pub status: u16,
}

/// A running proxy; stops when dropped.
pub struct SignalProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    stop: Arc<AtomicBool>,
    shared: Shared,
}

#[derive(Clone)]
struct Shared {
    upstream: u16,
    mode: Arc<Mutex<SignalAnswer>>,
    seen: Arc<Mutex<Vec<SignalRequest>>>,
    /// The path of every other request forwarded, in order of arrival.
    forwarded: Arc<Mutex<Vec<String>>>,
    endless_bytes: Arc<Mutex<Vec<usize>>>,
}

impl SignalProxy {
    /// Starts one in front of the relay on 127.0.0.1:`upstream`, forwarding everything.
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the signal proxy");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Shared {
            upstream,
            mode: Arc::new(Mutex::new(SignalAnswer::Forward)),
            seen: Arc::default(),
            forwarded: Arc::default(),
            endless_bytes: Arc::default(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (accepting, flag) = (shared.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let shared = accepting.clone();
                std::thread::spawn(move || shared.serve(conn));
            }
        });
        Self { port, stop, shared }
    }

    /// The base URL to give felundd as `--relay`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on, answer `/v1/signal` so.
    pub fn set(&self, answer: SignalAnswer) {
        *self.shared.mode.lock().expect("mode") = answer;
    }

    /// Every `/v1/signal` request so far, in order of arrival.
    pub fn requests(&self) -> Vec<SignalRequest> {
        self.shared.seen.lock().expect("requests").clone()
    }

    /// How many requests other than `/v1/signal` to a path ending in `suffix` were forwarded.
    pub fn forwarded_to(&self, suffix: &str) -> usize {
        self.shared
            .forwarded
            .lock()
            .expect("forwarded")
            .iter()
            .filter(|p| p.ends_with(suffix))
            .count()
    }

    /// For each endless poll answer that has ended: the body bytes written before the client
    /// hung up.
    pub fn endless_bytes(&self) -> Vec<usize> {
        self.shared.endless_bytes.lock().expect("bytes").clone()
    }
}

impl Drop for SignalProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Shared {
    fn serve(&self, conn: TcpStream) {
        let _ = conn.set_read_timeout(Some(DEADLINE));
        let Ok(reader) = conn.try_clone() else { return };
        let Some(req) = read_request(&mut BufReader::new(reader)) else {
            return;
        };
        let mut out = conn;
        let path = req.target.split('?').next().unwrap_or_default();
        let upgrade = req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("upgrade"));
        if upgrade {
            write_answer(&mut out, "404 Not Found", &[], "");
            return;
        }
        if path != "/v1/signal" {
            self.forwarded
                .lock()
                .expect("forwarded")
                .push(path.to_string());
            self.forward(&req, &mut out);
            return;
        }
        let at = Instant::now();
        let mode = self.mode.lock().expect("mode").clone();
        let status = match (mode, req.method.as_str()) {
            (SignalAnswer::RateLimited(wait), _) => {
                let after = wait.map(|s| s.to_string());
                let headers: Vec<(&str, &str)> =
                    after.iter().map(|s| ("Retry-After", s.as_str())).collect();
                let body = r#"{"ok":false,"error":"Rate limit exceeded"}"#;
                write_answer(&mut out, "429 Too Many Requests", &headers, body);
                429
            }
            (SignalAnswer::Poll(body), "GET") => {
                write_answer(&mut out, "200 OK", &[], &body);
                200
            }
            (SignalAnswer::Endless, "GET") => {
                // Recorded before the answer, which lasts until felundd hangs up.
                self.record(at, &req.method, 200);
                let written = write_endless(&mut out, "signals");
                self.endless_bytes.lock().expect("bytes").push(written);
                return;
            }
            _ => self.forward(&req, &mut out),
        };
        self.record(at, &req.method, status);
    }

    fn record(&self, at: Instant, method: &str, status: u16) {
        self.seen.lock().expect("requests").push(SignalRequest {
            at,
            method: method.to_string(),
            status,
        });
    }

    /// Sends `req` to the relay on a fresh connection that the relay closes after answering,
    /// and passes the answer back whole; returns its status (502 when the relay is away).
    fn forward(&self, req: &Request, out: &mut TcpStream) -> u16 {
        let answer = relay_answer(self.upstream, req).unwrap_or_default();
        if answer.is_empty() {
            write_answer(out, "502 Bad Gateway", &[], "");
            return 502;
        }
        let _ = out.write_all(&answer);
        String::from_utf8_lossy(&answer)
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// The relay's whole answer to `req`, asking it to close the connection after it (so the
/// client, told the same, opens a new one for its next request and the proxy sees it).
fn relay_answer(upstream: u16, req: &Request) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.set_read_timeout(Some(DEADLINE))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{upstream}\r\nConnection: close\r\n",
        req.method, req.target
    );
    for (name, value) in &req.headers {
        let hop = ["host", "connection", "keep-alive"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
        if !hop {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&req.body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let has_close = String::from_utf8_lossy(&answer)
        .split("\r\n\r\n")
        .next()
        .is_some_and(|h| h.to_ascii_lowercase().contains("\r\nconnection: close"));
    if !has_close {
        if let Some(end) = answer.windows(2).position(|w| w == b"\r\n") {
            answer.splice(end + 2..end + 2, b"Connection: close\r\n".iter().copied());
        }
    }
    Ok(answer)
}

/// A complete answer with a JSON body, closing the connection.
fn write_answer(out: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &str) {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    let _ = out.write_all(text.as_bytes());
}
