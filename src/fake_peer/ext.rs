//! The scripted peer as a felundd node: the handshake with the extensions announced
//! (felund-wire's [`Initiator`] machine, then `X_PROOF` both ways) and the digest sync run by
//! felund-wire's machines, as an honest felundd runs them. A test plays an attacker by
//! sending raw frames on the same connection instead ([`FakeConn::send`]).

use felund_wire::handshake::{Initiator as HandshakeInitiator, LocalNode};
use felund_wire::sync::digest::{IdsRun, ReqRun};
use felund_wire::sync::runs::Chunk;
use felund_wire::sync::{ExtSync, Step, SyncError};

use super::*;

/// What an honest digest sync with the daemon brought.
#[derive(Debug, Default)]
pub struct ExtSeen {
    /// The digests were equal: nothing else was exchanged.
    pub in_sync: bool,
    /// The message objects the daemon sent, as received.
    pub messages: Vec<Value>,
}

/// Connects to `port` as felundd node `node_id` of `secret`'s circle and completes the
/// handshake with the extensions: encrypted, transcript proofs swapped.
pub fn initiate_ext(port: u16, secret: &CircleSecret, node_id: &str) -> Result<FakeConn, String> {
    let mut conn = FakeConn::connect(port).map_err(|e| format!("connect: {e}"))?;
    let local = LocalNode {
        node_id: node_id.to_string(),
        listen_addr: String::new(),
        can_anchor: false,
        announce_ext: true,
    };
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    let (init, hello) = HandshakeInitiator::start(local, secret.clone(), nonce);
    conn.send_frame(&hello)?;
    let challenge = frame_of(&conn.recv_type("CHALLENGE")?)?;
    let (init, auth) = init.on_challenge(challenge).map_err(|e| e.to_string())?;
    conn.send_frame(&auth)?;
    let welcome = frame_of(&conn.recv_type("WELCOME")?)?;
    let est = init.on_welcome(welcome).map_err(|e| e.to_string())?;
    if !est.ext {
        return Err("the daemon did not speak the extensions".into());
    }
    conn.set_cipher(est.cipher());
    let proof = est.proof_frame().ok_or("no X_PROOF to send")?;
    conn.send_frame(&proof)?;
    est.check_proof(frame_of(&conn.recv_type("X_PROOF")?)?)
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Runs the digest sync after [`initiate_ext`], holding `messages`: each step's frames are
/// written, then the daemon's are read (the daemon writes while it reads, so this cannot
/// deadlock at the sizes tests use). Leaves the connection open, without offering a link.
pub fn ext_sync(
    conn: &mut FakeConn,
    circle_id: &str,
    messages: &[Value],
) -> Result<ExtSeen, String> {
    let ours: Vec<String> = messages
        .iter()
        .filter_map(|m| m["msg_id"].as_str().map(str::to_string))
        .collect();
    let (state, opening) = ExtSync::start(super::sync::fake_start(circle_id), ours);
    send_frames(conn, opening)?;
    let opened = feed(conn, state, ExtSync::on_frame)?;
    let Some((awaiting, buckets)) = opened.next else {
        return Ok(ExtSeen {
            in_sync: true,
            messages: Vec::new(),
        });
    };
    conn.send_frame(&buckets)?;
    let (ids, our_ids) = feed(conn, awaiting, |s, f| s.on_frame(f).map(Step::Done))?;
    send_frames(conn, our_ids)?;
    let (req, our_req) = feed(conn, ids, IdsRun::on_frame)?;
    send_frames(conn, our_req)?;
    let transfer = feed(conn, req, ReqRun::on_frame)?;
    let mut send = transfer.send;
    for id in &transfer.wanted {
        if let Some(m) = messages.iter().find(|m| m["msg_id"] == id.as_str()) {
            if let Some(chunk) = send.push(m.clone(), m.to_string().len()) {
                conn.send_frame(&chunk)?;
            }
        }
    }
    conn.send_frame(&send.finish())?;
    let mut got = Vec::new();
    let mut run = transfer.receive;
    loop {
        let Chunk { messages, next } = run.on_frame(conn.recv_frame()?).map_err(sync_err)?;
        got.extend(messages);
        match next {
            Step::More(r) => run = r,
            Step::Done(()) => {
                return Ok(ExtSeen {
                    in_sync: false,
                    messages: got,
                })
            }
        }
    }
}

/// Reads the daemon's frames into `state` until the step is complete.
fn feed<S, N>(
    conn: &mut FakeConn,
    mut state: S,
    mut step: impl FnMut(S, Frame) -> Result<Step<S, N>, SyncError>,
) -> Result<N, String> {
    loop {
        match step(state, conn.recv_frame()?).map_err(sync_err)? {
            Step::More(s) => state = s,
            Step::Done(n) => return Ok(n),
        }
    }
}

fn send_frames(conn: &mut FakeConn, frames: impl IntoIterator<Item = Frame>) -> Result<(), String> {
    frames.into_iter().try_for_each(|f| conn.send_frame(&f))
}

fn sync_err(e: SyncError) -> String {
    format!("sync: {e}")
}
