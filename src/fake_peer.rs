//! A scripted gossip peer for tests: speaks the direct TCP gossip of docs/protocol.md §6 over a
//! blocking `std::net::TcpStream` with read timeouts, one frame at a time, so a test can
//! check every frame a real `felundd` sends and send exactly what it wants (including
//! garbage). Frames are handled as raw JSON values so that the test sees what was on the
//! wire; `felund-wire` provides tokens, the session cipher and message MACs, and where the
//! fake plays an honest node in the sync, the sync machine itself ([`sync()`] runs
//! felund-wire's reference sequence; what a plan scripts beyond it is written raw).
//!
//! The fake never sends felundd extension keys in HELLO or WELCOME: to the daemon it looks
//! like a reference node.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use felund_wire::frame::decode_frame;
use felund_wire::handshake::{hello_auth_token, parse_nonce16, verify_hello_auth};
use felund_wire::session::{session_key, SessionCipher};
use felund_wire::{CircleSecret, Frame, WireMessage};
use rand::RngCore;
use serde_json::{json, Value};

mod background;
mod ext;
mod sync;
pub use background::{BackgroundPeer, PeerStats};
pub use ext::{ext_sync, initiate_ext, ExtSeen};
pub use sync::{shape, shape_diff, str_list, sync, SyncPlan, SyncSeen};

/// How long one read may block before the fake gives up on the daemon.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The fake refuses to buffer lines longer than this (the reference's stream limit is
/// 64 KiB; anything longer from the daemon is a bug the test should see as an error).
pub const MAX_LINE: usize = 1 << 20;

/// The ten keys of a message object (docs/protocol.md §3), sorted.
pub const MESSAGE_KEYS: [&str; 10] = [
    "author_node_id",
    "channel_id",
    "circle_id",
    "created_ts",
    "display_name",
    "enc",
    "mac",
    "msg_id",
    "schema_version",
    "text",
];

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A fresh node id shaped like the reference's (24 hex chars).
pub fn random_node_id() -> String {
    random_hex(12)
}

/// A fresh 32-byte circle secret.
pub fn random_secret() -> CircleSecret {
    let mut buf = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    CircleSecret::from_bytes(buf)
}

/// Current Unix time in seconds.
pub fn now_ts() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A v1 chat message (MAC only, `enc` null, schema 1), as typed into a reference CLI.
pub fn v1_message(
    secret: &CircleSecret,
    author: &str,
    display_name: &str,
    channel: &str,
    text: &str,
) -> WireMessage {
    let created_ts = now_ts();
    let mut m = WireMessage {
        msg_id: felund_wire::ids::msg_id(author, created_ts, &random_hex(8)),
        circle_id: secret.circle_id(),
        author_node_id: author.to_string(),
        created_ts,
        text: text.to_string(),
        channel_id: channel.to_string(),
        display_name: display_name.to_string(),
        mac: String::new(),
        schema_version: 1,
        enc: None,
        sent_ms: None,
    };
    m.mac = m.compute_mac(secret);
    m
}

/// Checks one message object a daemon sent by gossip: exactly the ten keys, strict shape,
/// the right circle, and it authenticates under `secret`. Returns the verified message.
pub fn check_sent_message(v: &Value, secret: &CircleSecret) -> Result<WireMessage, String> {
    let keys: BTreeSet<&str> = v
        .as_object()
        .ok_or_else(|| format!("message is not an object: {v}"))?
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = MESSAGE_KEYS.into_iter().collect();
    if keys != want {
        return Err(format!(
            "message keys {keys:?} are not exactly the ten of docs/protocol.md §3: {v}"
        ));
    }
    let mut m = WireMessage::from_value(v).map_err(|e| format!("from_value: {e}: {v}"))?;
    if m.circle_id != secret.circle_id() {
        return Err(format!("message of another circle: {v}"));
    }
    m.verify_gossip(secret)
        .map_err(|e| format!("verify_gossip: {e}: {v}"))?;
    Ok(m)
}

/// The frame a received JSON value is, as the daemon's side decodes it.
pub fn frame_of(v: &Value) -> Result<Frame, String> {
    decode_frame(v.to_string().as_bytes()).map_err(|e| format!("{e}: {v}"))
}

/// How a connection ended when the fake drained it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Orderly close (EOF).
    Eof,
    /// Reset / broken pipe: closed with unread data.
    Reset,
    /// Still open when the deadline passed.
    Timeout,
}

/// What [`FakeConn::drain`] saw: the lines before the end, and the end.
#[derive(Debug)]
pub struct Drained {
    /// Raw lines (without the newline).
    pub lines: Vec<Vec<u8>>,
    /// How it ended.
    pub end: End,
}

impl Drained {
    /// Whether the connection was closed (EOF or reset) rather than left open.
    pub fn closed(&self) -> bool {
        self.end != End::Timeout
    }

    /// The `err` texts of plain ERROR lines among [`Drained::lines`].
    pub fn plain_errors(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
            .filter(|v| v["t"] == "ERROR")
            .map(|v| v["err"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// One gossip connection, either side.
pub struct FakeConn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    cipher: Option<SessionCipher>,
    /// Longest line received so far, newline included (for frame-size checks).
    pub max_line_len: usize,
    /// Every frame received so far, decoded (and decrypted), in order.
    pub received: Vec<Value>,
}

impl FakeConn {
    /// Connects to a gossip port on 127.0.0.1.
    pub fn connect(port: u16) -> io::Result<Self> {
        Self::from_stream(TcpStream::connect(("127.0.0.1", port))?)
    }

    /// Wraps an accepted or connected stream (blocking, with [`READ_TIMEOUT`]).
    pub fn from_stream(stream: TcpStream) -> io::Result<Self> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_write_timeout(Some(READ_TIMEOUT))?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            cipher: None,
            max_line_len: 0,
            received: Vec::new(),
        })
    }

    /// Changes the read timeout.
    pub fn set_read_timeout(&self, t: Duration) {
        let _ = self.writer.set_read_timeout(Some(t));
    }

    /// From now on every line both ways is encrypted under `key`.
    pub fn enable_encryption(&mut self, key: [u8; 32]) {
        self.set_cipher(SessionCipher::new(key));
    }

    /// From now on every line both ways is encrypted with `cipher`.
    pub fn set_cipher(&mut self, cipher: SessionCipher) {
        self.cipher = Some(cipher);
    }

    /// Whether session encryption is on.
    pub fn encrypted(&self) -> bool {
        self.cipher.is_some()
    }

    /// Writes raw bytes, as they are.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()
    }

    /// Sends one frame (compact JSON), encrypted when the session is.
    pub fn send(&mut self, frame: &Value) -> io::Result<()> {
        let json = serde_json::to_string(frame).expect("frame serialises");
        let line = match &self.cipher {
            Some(c) => {
                let mut nonce = [0u8; 12];
                rand::thread_rng().fill_bytes(&mut nonce);
                c.seal_line(json.as_bytes(), nonce)
            }
            None => format!("{json}\n"),
        };
        self.write_raw(line.as_bytes())
    }

    /// Half-closes the connection: the daemon sees EOF.
    pub fn shutdown_write(&self) {
        let _ = self.writer.shutdown(Shutdown::Write);
    }

    /// Reads one raw line without its newline; `Ok(None)` on EOF.
    pub fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if buf.last() != Some(&b'\n') {
            if buf.len() >= MAX_LINE {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    format!("daemon sent a line over {MAX_LINE} bytes"),
                ));
            }
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("EOF in the middle of a line ({} bytes)", buf.len()),
            ));
        }
        self.max_line_len = self.max_line_len.max(buf.len());
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(buf))
    }

    /// Reads and decodes (decrypting if needed) the next frame.
    pub fn recv(&mut self) -> Result<Value, String> {
        let line = self
            .read_line()
            .map_err(|e| format!("read failed: {e}"))?
            .ok_or_else(|| "connection closed (EOF) while waiting for a frame".to_string())?;
        let json = match &self.cipher {
            Some(c) => match c.open_line(&line) {
                Ok(j) => j,
                // Errors such as `Internal error` may come plain even mid-session.
                Err(e) => match serde_json::from_slice::<Value>(&line) {
                    Ok(v) => return Err(format!("plain frame in encrypted session: {v}")),
                    Err(_) => return Err(format!("cannot open encrypted line: {e}")),
                },
            },
            None => line,
        };
        let v: Value = serde_json::from_slice(&json).map_err(|e| {
            format!(
                "frame is not JSON ({e}): {}",
                String::from_utf8_lossy(&json[..json.len().min(200)])
            )
        })?;
        if !v.is_object() || !v["t"].is_string() {
            return Err(format!("frame without type: {v}"));
        }
        self.received.push(v.clone());
        Ok(v)
    }

    /// Sends a frame one of felund-wire's machines made.
    pub fn send_frame(&mut self, frame: &Frame) -> Result<(), String> {
        let v = serde_json::to_value(frame).map_err(|e| format!("frame to JSON: {e}"))?;
        self.send(&v)
            .map_err(|e| format!("send {}: {e}", frame.type_name()))
    }

    /// Reads the next frame, decoded as the daemon's side decodes it.
    pub fn recv_frame(&mut self) -> Result<Frame, String> {
        frame_of(&self.recv()?)
    }

    /// Reads the next frame and insists on its type.
    pub fn recv_type(&mut self, t: &str) -> Result<Value, String> {
        let v = self.recv()?;
        if v["t"] != t {
            return Err(format!("expected {t}, got {v}"));
        }
        Ok(v)
    }

    /// Reads raw lines until the daemon closes the connection or `within` passes.
    pub fn drain(&mut self, within: Duration) -> Drained {
        let start = Instant::now();
        let mut lines = Vec::new();
        self.set_read_timeout(Duration::from_millis(500));
        let end = loop {
            if start.elapsed() > within {
                break End::Timeout;
            }
            match self.read_line() {
                Ok(Some(l)) => lines.push(l),
                Ok(None) => break End::Eof,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => break End::Eof,
                Err(_) => break End::Reset,
            }
        };
        self.set_read_timeout(READ_TIMEOUT);
        Drained { lines, end }
    }
}

/// Options of the fake as initiator.
#[derive(Debug, Clone)]
pub struct Initiator {
    /// Node id to present.
    pub node_id: String,
    /// `listen_addr` to advertise (None: omit the key).
    pub listen_addr: Option<String>,
    /// Send a HELLO nonce (asks for session encryption).
    pub encrypted: bool,
}

impl Initiator {
    /// A fresh node that advertises no address.
    pub fn new(encrypted: bool) -> Self {
        Self {
            node_id: random_node_id(),
            listen_addr: None,
            encrypted,
        }
    }
}

/// What a completed handshake looked like.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The HELLO (sent or received).
    pub hello: Value,
    /// The CHALLENGE.
    pub challenge: Value,
    /// The HELLO_AUTH.
    pub hello_auth: Value,
    /// The WELCOME.
    pub welcome: Value,
}

/// The HELLO the fake sends as initiator.
pub fn hello_frame(opts: &Initiator, circle_id: &str, nonce: Option<&str>) -> Value {
    let mut hello = json!({"t": "HELLO", "node_id": opts.node_id, "circle_id": circle_id});
    if let Some(addr) = &opts.listen_addr {
        hello["listen_addr"] = json!(addr);
    }
    if let Some(n) = nonce {
        hello["nonce"] = json!(n);
    }
    hello["can_anchor"] = json!(false);
    hello
}

/// Connects to `port` and completes the handshake as initiator for `secret`'s circle.
/// With encryption, the returned connection already seals and opens frames.
pub fn initiate(
    port: u16,
    secret: &CircleSecret,
    opts: &Initiator,
) -> Result<(FakeConn, Handshake), String> {
    let mut conn = FakeConn::connect(port).map_err(|e| format!("connect: {e}"))?;
    let hs = initiate_on(&mut conn, secret, opts)?;
    Ok((conn, hs))
}

/// The initiator handshake on an open connection.
pub fn initiate_on(
    conn: &mut FakeConn,
    secret: &CircleSecret,
    opts: &Initiator,
) -> Result<Handshake, String> {
    let circle_id = secret.circle_id();
    let client_nonce = opts.encrypted.then(|| random_hex(16));
    let hello = hello_frame(opts, &circle_id, client_nonce.as_deref());
    conn.send(&hello).map_err(|e| format!("send HELLO: {e}"))?;
    let challenge = conn.recv_type("CHALLENGE")?;
    let server_nonce = challenge["nonce"].as_str().unwrap_or_default().to_string();
    let server_bytes =
        parse_nonce16(&server_nonce).ok_or_else(|| format!("bad CHALLENGE nonce: {challenge}"))?;
    let token = hello_auth_token(secret, &opts.node_id, &circle_id, &server_nonce);
    let hello_auth = json!({"t": "HELLO_AUTH", "token": token});
    conn.send(&hello_auth)
        .map_err(|e| format!("send HELLO_AUTH: {e}"))?;
    let welcome = conn.recv_type("WELCOME")?;
    if welcome["enc_ready"] != json!(opts.encrypted) {
        return Err(format!(
            "WELCOME enc_ready should be {} for this HELLO: {welcome}",
            opts.encrypted
        ));
    }
    if let Some(n) = &client_nonce {
        let client_bytes = parse_nonce16(n).expect("own nonce");
        conn.enable_encryption(session_key(secret, &client_bytes, &server_bytes));
    }
    Ok(Handshake {
        hello,
        challenge,
        hello_auth,
        welcome,
    })
}

/// The fake's listening side: the daemon dials it.
pub struct FakeListener {
    listener: TcpListener,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl FakeListener {
    /// Binds a free port on 127.0.0.1.
    pub fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake listener");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("local addr").port();
        Self { listener, port }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits up to `within` for the daemon to connect.
    pub fn accept(&self, within: Duration) -> Option<FakeConn> {
        let start = Instant::now();
        while start.elapsed() < within {
            match self.listener.accept() {
                Ok((s, _)) => return FakeConn::from_stream(s).ok(),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        None
    }
}

/// Answers a HELLO as responder: checks it names `secret`'s circle, sends CHALLENGE,
/// verifies HELLO_AUTH, sends WELCOME (`enc_ready` iff the HELLO had a nonce) and switches
/// to session encryption then.
pub fn respond(
    conn: &mut FakeConn,
    secret: &CircleSecret,
    my_node_id: &str,
) -> Result<Handshake, String> {
    let hello = conn.recv_type("HELLO")?;
    let circle_id = secret.circle_id();
    if hello["circle_id"] != circle_id.as_str() {
        return Err(format!("HELLO for another circle: {hello}"));
    }
    let their_id = hello["node_id"]
        .as_str()
        .ok_or_else(|| format!("HELLO without node_id: {hello}"))?
        .to_string();
    let client_nonce = match hello.get("nonce") {
        None | Some(Value::Null) => None,
        Some(n) => Some(
            n.as_str()
                .and_then(parse_nonce16)
                .ok_or_else(|| format!("HELLO nonce is not 32 hex chars: {hello}"))?,
        ),
    };
    let server_nonce = random_hex(16);
    let challenge = json!({"t": "CHALLENGE", "nonce": server_nonce});
    conn.send(&challenge)
        .map_err(|e| format!("send CHALLENGE: {e}"))?;
    let hello_auth = conn.recv_type("HELLO_AUTH")?;
    let token = hello_auth["token"].as_str().unwrap_or_default();
    if !verify_hello_auth(secret, &their_id, &circle_id, &server_nonce, token) {
        let _ = conn.send(&json!({"t": "ERROR", "err": "Auth failed"}));
        return Err(format!("HELLO_AUTH token does not verify: {hello_auth}"));
    }
    let welcome = json!({
        "t": "WELCOME",
        "node_id": my_node_id,
        "enc_ready": client_nonce.is_some(),
        "can_anchor": false,
    });
    conn.send(&welcome)
        .map_err(|e| format!("send WELCOME: {e}"))?;
    if let Some(c) = client_nonce {
        let s = parse_nonce16(&server_nonce).expect("own nonce");
        conn.enable_encryption(session_key(secret, &c, &s));
    }
    Ok(Handshake {
        hello,
        challenge,
        hello_auth,
        welcome,
    })
}
