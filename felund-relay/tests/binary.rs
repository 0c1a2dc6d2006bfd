//! Runs the real `felund-relay` binary: start on a free port, health, SIGTERM, clean exit; on
//! SQLite (`--db`) and on PostgreSQL (`FELUND_RELAY_DATABASE_URL`).

mod common;

use std::process::{Command, Stdio};

use common::process::RelayProcess;

#[tokio::test]
async fn binary_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("data").join("relay.sqlite");
    let mut cmd = Command::new(RelayProcess::bin());
    cmd.args(["--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("RUST_LOG", "felund_relay=debug")
        .stderr(Stdio::null());
    let mut relay = RelayProcess::spawn(cmd).await;
    let health = relay
        .get_json(&reqwest::Client::new(), "/api/v1/health")
        .await;
    assert_eq!(health["ok"], serde_json::json!(true));
    assert_eq!(health["version"], serde_json::json!("0.1.0"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).expect("db").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let status = relay.stop().await;
    assert!(status.success(), "{status:?}");
}

#[test]
fn binary_requires_a_database() {
    let output = Command::new(RelayProcess::bin())
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
    let output = Command::new(RelayProcess::bin())
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
    let output = Command::new(RelayProcess::bin())
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
    let mut cmd = Command::new(RelayProcess::bin());
    cmd.args(["--listen", "127.0.0.1:0"])
        .env_remove("FELUND_RELAY_DB")
        .env("FELUND_RELAY_DATABASE_URL", &url)
        .stderr(Stdio::null());
    let relay = RelayProcess::spawn(cmd).await;
    let addr = &relay.addr;
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

    let status = relay.stop().await;
    assert!(status.success(), "{status:?}");
}
