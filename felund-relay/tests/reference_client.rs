//! Reference client compatibility: the reference Python relay client
//! (`felundchat.rendezvous_client`) registers, looks up peers, pushes and pulls against
//! felund-relay, at the root and under an `/api` prefix.
//!
//! Mandatory when `FELUND_REFERENCE_PYTHON` (a python with cryptography installed) and
//! `FELUND_REFERENCE_DIR` (the reference checkout) are set; skipped with a message otherwise.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use felund_relay::{spawn, RelayConfig, RelayDeps, SqliteStore};
use serde_json::{json, Value};

fn reference_env() -> Option<(String, String)> {
    let python = std::env::var("FELUND_REFERENCE_PYTHON").ok()?;
    let dir = std::env::var("FELUND_REFERENCE_DIR").ok()?;
    Some((python, dir))
}

async fn run_reference_client(python: &str, dir: &str, base: String) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference_client.py");
    let (python, dir) = (python.to_owned(), dir.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base)
            .env("FELUND_REFERENCE_DIR", dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
    })
    .await
    .expect("join")
    .expect("run python");
    assert!(
        output.status.success(),
        "reference client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "bad output ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn check(out: &Value) {
    let alice = out["alice"].as_str().expect("alice");
    let bob = out["bob"].as_str().expect("bob");
    assert_eq!(out["alice_sees"], json!([[bob, "127.0.0.1:9102"]]));
    assert_eq!(out["bob_sees"], json!([[alice, "127.0.0.1:9101"]]));
    assert_eq!(out["pushed"], json!(100));
    assert_eq!(out["pushed_again"], json!(0));
    assert_eq!(out["pulled"], json!(100));
    assert_eq!(
        out["pulled_keys"],
        json!([
            "author_node_id",
            "channel_id",
            "circle_id",
            "created_ts",
            "enc",
            "msg_id"
        ])
    );
    assert_eq!(out["merged"], json!(true));
    let texts = out["bob_texts"].as_array().expect("texts");
    assert_eq!(texts.len(), 100);
    assert!(texts.contains(&json!("hello 119 é🎉")));
    assert!(!texts.contains(&json!("hello 19 é🎉")));
    assert_eq!(out["pulled_after_cursor"], json!(0));
    assert_eq!(
        out["stranger_pull"],
        json!({"status": 401, "body": {"ok": false, "code": "INVALID_SIGNATURE"}})
    );
    assert_eq!(out["bob_sees_after_unregister"], json!([]));
}

#[tokio::test]
async fn reference_python_client_against_felund_relay() {
    let Some((python, dir)) = reference_env() else {
        eprintln!(
            "SKIPPED reference_python_client_against_felund_relay: set FELUND_REFERENCE_PYTHON \
             (python with cryptography) and FELUND_REFERENCE_DIR (reference checkout) to run it"
        );
        return;
    };
    let mut backends = vec![common::Backend::Sqlite];
    backends.extend(common::Backend::postgres(
        "reference_python_client_against_felund_relay (PostgreSQL)",
    ));
    for backend in &backends {
        for require_signatures in [false, true] {
            let relay =
                common::start_with(backend, |c| c.require_signatures = require_signatures).await;
            let out = run_reference_client(&python, &dir, relay.base.clone()).await;
            check(&out);
            relay.stop().await;
        }
    }
}

#[tokio::test]
async fn reference_python_client_under_an_api_prefix_with_system_clock() {
    let Some((python, dir)) = reference_env() else {
        eprintln!("SKIPPED reference_python_client_under_an_api_prefix_with_system_clock: no reference env");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&tmp.path().join("r.sqlite")).expect("store"));
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..RelayConfig::default()
    };
    let handle = spawn(config, RelayDeps::new(store)).await.expect("spawn");
    let base = format!("http://{}/felund/api", handle.local_addr());
    let out = run_reference_client(&python, &dir, base).await;
    check(&out);
    handle.shutdown().await.expect("shutdown");
}
