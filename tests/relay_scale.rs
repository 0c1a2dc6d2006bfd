//! felund-relay at scale: two `felund-relay` instances on one PostgreSQL database act as one
//! relay. Two felundd nodes with no direct path, alice registered on instance 1 and bob on
//! instance 2, chat both ways with WebSocket push (a message posted to one instance is pushed
//! to the other's subscribers through PostgreSQL `LISTEN/NOTIFY`).
//!
//! Needs PostgreSQL binaries (see `felund_tests::postgres`): skipped with a message without
//! them, mandatory when `FELUND_RELAY_PG_REQUIRED=1`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use felund_tests::relays::{daemon_behind_relay, http_get};
use felund_tests::{bin, free_port, wait_for, wait_until, Daemon};
use tempfile::TempDir;

/// One `felund-relay --database-url` process.
struct Instance {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Instance {
    fn start(database_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("relay.log")).expect("log");
        let port = free_port();
        let child = Command::new(bin("felund-relay"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .env_remove("FELUND_RELAY_DB")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn felund-relay");
        let mut instance = Self { child, port, dir };
        wait_for("felund-relay to answer", || {
            if let Ok(Some(status)) = instance.child.try_wait() {
                panic!("felund-relay exited ({status}): {}", instance.log());
            }
            match http_get(port, "/v1/health") {
                Some((200, _)) => Ok(()),
                _ => Err(format!("log: {}", instance.log())),
            }
        });
        instance
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("relay.log")).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn has_text(d: &Daemon, circle: &str, text: &str) -> bool {
    d.ctl_json(&["inbox", "--circle-id", circle, "--limit", "1000"])
        .iter()
        .any(|m| m["text"] == text)
}

/// Sends `text` from `from` and returns how long it took to show up on `to`.
fn deliver(from: &Daemon, to: &Daemon, circle: &str, text: &str) -> Duration {
    let sent = Instant::now();
    from.ctl_one(&["send", "--circle-id", circle, text]);
    wait_until(&format!("'{text}' to arrive"), || {
        has_text(to, circle, text)
    });
    sent.elapsed()
}

#[test]
fn daemons_on_two_relay_instances_sharing_postgres_chat_both_ways_with_push() {
    let test = "daemons_on_two_relay_instances_sharing_postgres_chat_both_ways_with_push";
    let Some(cluster) = felund_testkit::pg::private(test) else {
        return;
    };
    let url = cluster.create_database();
    let one = Instance::start(&url);
    let two = Instance::start(&url);
    let alice = daemon_behind_relay(&one.url(), "alice");
    let bob = daemon_behind_relay(&two.url(), "bob");

    let invite = alice.ctl_one(&["invite", "--name", "scaled"]);
    let circle = invite["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    bob.ctl_one(&["join", invite["invite_code"].as_str().expect("code")]);
    for (d, name) in [(&alice, "alice"), (&bob, "bob")] {
        wait_until(&format!("{name}'s push connection"), || {
            d.ctl_one(&["status"])["relay_push_connected"] == true
        });
    }

    let to_bob = deliver(&alice, &bob, &circle, "from alice via instance 1");
    let to_alice = deliver(&bob, &alice, &circle, "from bob via instance 2");
    println!("alice → bob {to_bob:?}, bob → alice {to_alice:?} (send to inbox, via two instances)");
    // The circle's name (a control event) crossed instances too.
    wait_until("the circle name to reach bob", || {
        bob.ctl_json(&["circles"])
            .first()
            .is_some_and(|c| c["name"] == "scaled")
    });
    // Neither learned a direct path: all of it went through the relay instances.
    for d in [&alice, &bob] {
        assert_eq!(
            d.ctl_one(&["status"])["gossip_sessions_ok"],
            0,
            "{}",
            d.log()
        );
    }
    for instance in [&one, &two] {
        assert!(!instance.log().contains("ERROR"), "{}", instance.log());
    }
}
