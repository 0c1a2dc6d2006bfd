//! The real `felund-relay` binary under `ulimit -n 1024` against 1,100 connections that each
//! send half a request header and stop (on today's main this made it refuse everyone with
//! "accept error: Too many open files"). Its connection cap stays below the file limit and the
//! oldest idle connections make room, so a fresh client's `/v1/health` is answered and accept
//! never fails; afterwards SIGTERM still stops it cleanly.

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::RelayProcess;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const ATTACKERS: usize = 1100;

#[tokio::test]
async fn half_sent_headers_beyond_the_file_limit_do_not_lock_clients_out() {
    // This process holds the attack's sockets: make sure it may.
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < 4096 {
        setrlimit(Resource::RLIMIT_NOFILE, hard.min(8192), hard).expect("raise our file limit");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("relay.log");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -n 1024 && exec "$0" --listen 127.0.0.1:0 --db "$1" 2>"$2""#)
        .arg(RelayProcess::bin())
        .arg(dir.path().join("relay.sqlite"))
        .arg(&log);
    let mut relay = RelayProcess::spawn(cmd).await;
    let addr = relay.addr.clone();

    let mut attack = Vec::with_capacity(ATTACKERS);
    for _ in 0..ATTACKERS {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        // Errors mean the relay already closed it to make room: that is the point.
        let _ = stream
            .write_all(b"GET /v1/health HTTP/1.1\r\nHost: relay\r\n")
            .await;
        attack.push(stream);
    }

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let health = relay.get_json(&client, "/v1/health").await;
    assert_eq!(health["ok"], serde_json::json!(true));
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !stderr.contains("accept failed"),
        "accept failed:\n{stderr}"
    );
    assert!(!stderr.contains("Too many open files"), "{stderr}");

    drop(attack);
    let status = relay.stop().await;
    assert!(status.success(), "{status:?}");
}
