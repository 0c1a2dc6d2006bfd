//! Line framing over a TCP connection: one JSON frame per line, plain or under the
//! session cipher, with a cap on line length and a timeout on every read, so a
//! stuck or hostile peer costs a bounded amount of memory and time.

use std::sync::Arc;
use std::time::Duration;

use felund_wire::frame::{decode_frame, encode_frame, FrameError};
use felund_wire::session::SessionCipher;
use felund_wire::Frame;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::counters::Counters;
use crate::node::random_nonce12;

/// What can go wrong on a gossip connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// Socket error.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// No complete line within the read timeout.
    #[error("peer sent nothing for {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection.
    #[error("peer closed the connection")]
    Closed,
    /// A line longer than allowed.
    #[error("peer sent a line longer than {0} bytes")]
    LineTooLong(usize),
    /// A line that is not a frame.
    #[error("bad frame: {0}")]
    BadFrame(#[from] FrameError),
    /// An encrypted line that does not decrypt.
    #[error("frame does not decrypt under the session key")]
    Decrypt,
    /// A frame we were about to send exceeds what the peer accepts.
    #[error("refusing to send a {0}-byte line (over the peer's limit)")]
    TooLargeToSend(usize),
}

/// Longest line buffer a connection keeps between frames.
const LINE_BUFFER_KEPT: usize = 64 * 1024;

/// Reading half: frames in.
pub struct FrameReader {
    inner: BufReader<OwnedReadHalf>,
    counters: Arc<Counters>,
    cipher: Option<Arc<SessionCipher>>,
    max_line: usize,
    timeout: Duration,
    line: Vec<u8>,
}

/// Writing half: frames out.
pub struct FrameWriter {
    inner: OwnedWriteHalf,
    counters: Arc<Counters>,
    cipher: Option<Arc<SessionCipher>>,
    max_line: usize,
}

/// Splits a connection into its framed halves, plain to begin with.
pub fn split(
    stream: TcpStream,
    max_line: usize,
    timeout: Duration,
    counters: Arc<Counters>,
) -> (FrameReader, FrameWriter) {
    let (r, w) = stream.into_split();
    (
        FrameReader {
            inner: BufReader::with_capacity(64 * 1024, r),
            counters: Arc::clone(&counters),
            cipher: None,
            max_line,
            timeout,
            line: Vec::new(),
        },
        FrameWriter {
            inner: w,
            counters,
            cipher: None,
            max_line,
        },
    )
}

impl FrameReader {
    /// From now on, lines are encrypted.
    pub fn set_cipher(&mut self, cipher: Arc<SessionCipher>) {
        self.cipher = Some(cipher);
    }

    /// Changes the longest line accepted.
    pub fn set_max_line(&mut self, max: usize) {
        self.max_line = max;
    }

    /// Changes the read timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Reads the next frame (an `ERROR` frame is returned as a frame).
    pub async fn read_frame(&mut self) -> Result<Frame, ConnError> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.read_line()).await {
            Ok(r) => r?,
            Err(_) => return Err(ConnError::Timeout(timeout)),
        }
        let plain = match &self.cipher {
            Some(c) => match c.open_line(&self.line) {
                Ok(p) => p,
                // The reference writes `Internal error` in plain even mid-session;
                // accept a plain ERROR frame, nothing else.
                Err(_) => match decode_frame(&self.line) {
                    Ok(f @ Frame::Error { .. }) => return Ok(f),
                    _ => return Err(ConnError::Decrypt),
                },
            },
            None => std::mem::take(&mut self.line),
        };
        // A catch-up's lines run to megabytes; a live link that follows it must not
        // keep that buffer for as long as it lasts.
        if self.line.capacity() > LINE_BUFFER_KEPT {
            self.line = Vec::new();
        }
        Ok(decode_frame(&plain)?)
    }

    /// Reads one line into `self.line` (without its newline), never buffering more
    /// than `max_line` bytes of it.
    async fn read_line(&mut self) -> Result<(), ConnError> {
        self.line.clear();
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                return Err(ConnError::Closed);
            }
            let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if self.line.len() + chunk.len() > self.max_line {
                return Err(ConnError::LineTooLong(self.max_line));
            }
            self.line.extend_from_slice(chunk);
            let used = done.unwrap_or(chunk.len());
            self.inner.consume(used);
            Counters::add(&self.counters.bytes_in, used as u64);
            if done.is_some() {
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                return Ok(());
            }
        }
    }
}

impl FrameWriter {
    /// From now on, lines are encrypted.
    pub fn set_cipher(&mut self, cipher: Arc<SessionCipher>) {
        self.cipher = Some(cipher);
    }

    /// Changes the longest line we may send.
    pub fn set_max_line(&mut self, max: usize) {
        self.max_line = max;
    }

    /// Encodes and sends one frame.
    pub async fn write_frame(&mut self, frame: &Frame) -> Result<(), ConnError> {
        let line = self.encode(frame);
        if line.len() > self.max_line {
            return Err(ConnError::TooLargeToSend(line.len()));
        }
        self.inner.write_all(line.as_bytes()).await?;
        Counters::add(&self.counters.bytes_out, line.len() as u64);
        Ok(())
    }

    /// Sends an `ERROR` frame, ignoring failures (the connection is ending anyway).
    pub async fn write_error(&mut self, err: &str) {
        let _ = self
            .write_frame(&Frame::Error {
                err: err.to_string(),
            })
            .await;
        let _ = self.inner.shutdown().await;
    }

    /// The line (with newline) `frame` becomes on this connection.
    fn encode(&self, frame: &Frame) -> String {
        let json = encode_frame(frame);
        match &self.cipher {
            Some(c) => c.seal_line(json.as_bytes(), random_nonce12()),
            None => {
                let mut line = json;
                line.push('\n');
                line
            }
        }
    }

    /// Closes our direction.
    pub async fn shutdown(&mut self) {
        let _ = self.inner.shutdown().await;
    }
}
