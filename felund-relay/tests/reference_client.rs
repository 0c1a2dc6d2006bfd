//! Reference client compatibility: the reference Python relay client
//! (`felundchat.rendezvous_client`) registers, looks up peers, pushes and pulls against
//! felund-relay, at the root and under an `/api` prefix.
//!
//! Mandatory when `FELUND_REFERENCE_PYTHON` (a python with cryptography installed) and
//! `FELUND_REFERENCE_DIR` (the reference checkout) are set; skipped with a message otherwise.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use common::since::{Rule, SinceReader};
use common::Relay;
use felund_relay::{spawn, ManualClock, RelayConfig, RelayDeps, SqliteStore};
use serde_json::{json, Value};

fn reference_env() -> Option<(String, String)> {
    let python = std::env::var("FELUND_REFERENCE_PYTHON").ok()?;
    let dir = std::env::var("FELUND_REFERENCE_DIR").ok()?;
    Some((python, dir))
}

/// Runs `reference_client.py` with `args` (its mode first); its JSON output.
async fn run_reference_client(python: &str, dir: &str, args: Vec<String>) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference_client.py");
    let (python, dir) = (python.to_owned(), dir.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(args)
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

fn basic(base: &str) -> Vec<String> {
    vec!["basic".into(), base.into()]
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
            let out = run_reference_client(&python, &dir, basic(&relay.base)).await;
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
    let out = run_reference_client(&python, &dir, basic(&base)).await;
    check(&out);
    handle.shutdown().await.expect("shutdown");
}

/// The reference Python client pushes 2,000 messages (its 100 newest per round, all in one
/// second of the relay's clock) through `relays` in turn, then pulls them with its own `since`
/// cursor, limit 200; a client following the web client's rule pulls them too.
async fn backlog_reaches_reference_clients_whole(python: &str, dir: &str, relays: &[&Relay]) {
    let mut args = vec!["backlog".to_owned(), "2000".to_owned()];
    args.extend(relays.iter().map(|r| r.base.clone()));
    let out = run_reference_client(python, dir, args).await;
    assert_eq!(out["pushed"], json!(2000), "{out}");
    // Ten full pages and the empty one; every message once, verified and merged.
    assert_eq!(out["received"], json!(2000), "{out}");
    assert_eq!(out["distinct"], json!(2000), "{out}");
    assert_eq!(out["merged"], json!(2000), "{out}");
    assert_eq!(out["all_of_alices"], json!(true), "{out}");
    assert_eq!(out["pulls"], json!(11), "{out}");
    let hint = out["circle_hint"].as_str().expect("hint");
    let mut web = SinceReader::new(Rule::Web, hint, 200);
    web.drain(relays, 20).await;
    assert_eq!(web.got.len(), 2000);
    assert_eq!(web.got.iter().collect::<HashSet<_>>().len(), 2000);
    assert_eq!(web.pulls, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_python_client_pages_a_2000_message_backlog_from_one_second() {
    let Some((python, dir)) = reference_env() else {
        eprintln!("SKIPPED reference_python_client_pages_a_2000_message_backlog_from_one_second: no reference env");
        return;
    };
    let sqlite = common::start(&common::Backend::Sqlite).await;
    backlog_reaches_reference_clients_whole(&python, &dir, &[&sqlite]).await;
    sqlite.stop().await;
    let Some(backend) = common::Backend::postgres(
        "reference_python_client_pages_a_2000_message_backlog_from_one_second (PostgreSQL)",
    ) else {
        return;
    };
    let single = common::start(&backend).await;
    backlog_reaches_reference_clients_whole(&python, &dir, &[&single]).await;
    single.stop().await;
    // Two instances on one database, the second one's clock a second behind.
    let backend = common::Backend::postgres("two instances").expect("cluster");
    let clock = Arc::new(ManualClock::starting_now());
    let a = common::start_instance(
        &backend,
        clock.clone(),
        0,
        common::Backend::pg_options(),
        |_| {},
    )
    .await;
    let b =
        common::start_instance(&backend, clock, -1, common::Backend::pg_options(), |_| {}).await;
    backlog_reaches_reference_clients_whole(&python, &dir, &[&a, &b]).await;
    a.stop().await;
    b.stop().await;
}
