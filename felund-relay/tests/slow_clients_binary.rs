//! The real `felund-relay` binary under `ulimit -n 1024` against 1,100 connections that each
//! send half a request header and stop (on today's main this made it refuse everyone with
//! "accept error: Too many open files"). Its connection cap stays below the file limit and the
//! oldest idle connections make room, so a fresh client's `/v1/health` is answered and accept
//! never fails; afterwards SIGTERM still stops it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const ATTACKERS: usize = 1100;
/// Generous: the relay must answer, how fast is not asserted.
const DEADLINE: Duration = Duration::from_secs(60);

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn half_sent_headers_beyond_the_file_limit_do_not_lock_clients_out() {
    // This process holds the attack's sockets: make sure it may.
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < 4096 {
        setrlimit(Resource::RLIMIT_NOFILE, hard.min(8192), hard).expect("raise our file limit");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("relay.log");
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 1024 && exec "$0" --listen 127.0.0.1:0 --db "$1" 2>"$2""#)
        .arg(env!("CARGO_BIN_EXE_felund-relay"))
        .arg(dir.path().join("relay.sqlite"))
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn felund-relay");
    let mut guard = Guard(child);
    let stdout = guard.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read line");
    let addr = line
        .trim()
        .strip_prefix("felund-relay listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

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
    let started = Instant::now();
    let health = loop {
        match client.get(format!("http://{addr}/v1/health")).send().await {
            Ok(resp) => break resp.json::<serde_json::Value>().await.expect("json"),
            Err(err) => {
                assert!(started.elapsed() < DEADLINE, "never answered: {err}");
                assert!(
                    guard.0.try_wait().expect("wait").is_none(),
                    "the relay died"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(health["ok"], serde_json::json!(true));
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !stderr.contains("accept failed"),
        "accept failed:\n{stderr}"
    );
    assert!(!stderr.contains("Too many open files"), "{stderr}");

    drop(attack);
    let pid = Pid::from_raw(i32::try_from(guard.0.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopped.elapsed() < DEADLINE,
            "relay did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}
