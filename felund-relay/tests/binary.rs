//! Runs the real `felund-relay` binary: start on a free port, health, SIGTERM, clean exit; on
//! SQLite (`--db`) and on PostgreSQL (`FELUND_RELAY_DATABASE_URL`).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("data").join("relay.sqlite");
    let child = Command::new(env!("CARGO_BIN_EXE_felund-relay"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("RUST_LOG", "felund_relay=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn felund-relay");
    let mut guard = Guard(child);

    // The binary prints one line with the address it bound.
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

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        match client
            .get(format!("http://{addr}/api/v1/health"))
            .send()
            .await
        {
            Ok(resp) => break resp.json::<serde_json::Value>().await.expect("json"),
            Err(err) if Instant::now() < deadline => {
                let _ = err;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("relay never answered: {err}"),
        }
    };
    assert_eq!(health["ok"], serde_json::json!(true));
    assert_eq!(health["version"], serde_json::json!("0.1.0"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).expect("db").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let pid = Pid::from_raw(i32::try_from(guard.0.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "relay did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn binary_requires_a_database() {
    let output = Command::new(env!("CARGO_BIN_EXE_felund-relay"))
        .env_remove("FELUND_RELAY_DB")
        .env_remove("FELUND_RELAY_DATABASE_URL")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--db"), "{stderr}");
    assert!(stderr.contains("--database-url"), "{stderr}");
}

#[test]
fn binary_refuses_both_databases_at_once() {
    let output = Command::new(env!("CARGO_BIN_EXE_felund-relay"))
        .args([
            "--db",
            "/tmp/x.sqlite",
            "--database-url",
            "postgres://x@127.0.0.1/x",
        ])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be used with"));
}

#[test]
fn binary_fails_clearly_when_postgres_is_unreachable() {
    let output = Command::new(env!("CARGO_BIN_EXE_felund-relay"))
        .args(["--listen", "127.0.0.1:0", "--database-timeout-ms", "300"])
        .env(
            "FELUND_RELAY_DATABASE_URL",
            "postgres://relay:secret@127.0.0.1:1/felund",
        )
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("opening the PostgreSQL database"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "the password leaked: {stderr}");
}

#[tokio::test]
async fn binary_serves_on_postgres_from_the_environment() {
    let Some(cluster) = common::pg::shared("binary_serves_on_postgres_from_the_environment") else {
        return;
    };
    let url = cluster.create_database();
    let child = Command::new(env!("CARGO_BIN_EXE_felund-relay"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("FELUND_RELAY_DB")
        .env("FELUND_RELAY_DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    let client = reqwest::Client::new();
    let body = serde_json::json!({"circle_hint": "circle-hint-1",
                                  "messages": [common::message("pg-binary-01", 1)]});
    let pushed: serde_json::Value = client
        .post(format!("http://{addr}/v1/messages"))
        .json(&body)
        .send()
        .await
        .expect("push")
        .json()
        .await
        .expect("json");
    assert_eq!(pushed["stored"], serde_json::json!(1));
    let pulled: serde_json::Value = client
        .get(format!(
            "http://{addr}/v1/messages?circle_hint=circle-hint-1&after_seq=0"
        ))
        .send()
        .await
        .expect("pull")
        .json()
        .await
        .expect("json");
    assert_eq!(
        pulled["messages"][0]["msg_id"],
        serde_json::json!("pg-binary-01")
    );

    let pid = Pid::from_raw(i32::try_from(guard.0.id()).expect("pid"));
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "relay did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}
