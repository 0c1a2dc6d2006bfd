//! Convergence under churn: five daemons on loopback with traffic on all of them
//! while nodes are stopped and restarted and links are cut (`--refuse-peer`); after
//! healing every node holds every message. The time from healing to convergence is
//! printed (the bound is stated in RELIABILITY.md; the test only has its generous
//! deadline).
//!
//! One command: `cargo test -p felund-tests --test reliability_convergence`.

use std::collections::HashSet;
use std::time::Instant;

use felund_tests::{wait_until, Daemon};

const FAST: [&str; 2] = ["--sync-interval", "1"];

fn node_id(d: &Daemon) -> String {
    d.ctl_one(&["status"])["node_id"]
        .as_str()
        .expect("node_id")
        .to_string()
}

fn ids(d: &Daemon, circle: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut before: Option<String> = None;
    loop {
        let mut args = vec!["--json", "inbox", "--circle-id", circle, "--limit", "1000"];
        if let Some(b) = before.as_deref() {
            args.extend(["--before", b]);
        }
        let o = d.ctl(&args);
        assert!(o.status.success());
        out.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|m| m["msg_id"].as_str().map(str::to_string)),
        );
        before = String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|v| v["next_before"].as_str().map(str::to_string));
        if before.is_none() {
            return out;
        }
    }
}

fn send_burst(d: &Daemon, circle: &str, tag: &str, n: usize) -> HashSet<String> {
    (0..n)
        .map(|i| {
            d.ctl_one(&["send", "--circle-id", circle, &format!("{tag} {i}")])["msg_id"]
                .as_str()
                .expect("msg_id")
                .to_string()
        })
        .collect()
}

#[test]
fn five_daemons_converge_after_restarts_and_cut_links_heal() {
    let mut nodes: Vec<Daemon> = (0..5).map(|_| Daemon::start_with(&FAST)).collect();
    let created = nodes[0].ctl_one(&["invite", "--name", "churn"]);
    let circle = created["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    // A chain: each joins the previous node's code, so paths are indirect.
    for i in 1..5 {
        let code = nodes[i - 1].ctl_one(&["code", "--circle-id", &circle])["code"]
            .as_str()
            .expect("code")
            .to_string();
        nodes[i].ctl_one(&["join", &code]);
    }
    let mut expected = HashSet::new();
    for (i, d) in nodes.iter().enumerate() {
        expected.extend(send_burst(d, &circle, &format!("warmup n{i}"), 10));
    }
    for d in &nodes {
        wait_until("warm-up convergence", || ids(d, &circle) == expected);
    }

    // Churn: node 1 goes down; nodes 2 and 3 stop talking to each other; everyone
    // else keeps sending.
    let id2 = node_id(&nodes[2]);
    let id3 = node_id(&nodes[3]);
    nodes[1].stop();
    nodes[2].set_extra_args(&["--sync-interval", "1", "--refuse-peer", &id3]);
    nodes[3].set_extra_args(&["--sync-interval", "1", "--refuse-peer", &id2]);
    nodes[2].restart();
    nodes[3].restart();
    for (i, d) in nodes.iter().enumerate() {
        if i != 1 {
            expected.extend(send_burst(d, &circle, &format!("churn n{i}"), 15));
        }
    }
    // Node 4 restarts mid-traffic, and sends again.
    nodes[4].restart();
    expected.extend(send_burst(&nodes[4], &circle, "after restart n4", 5));

    // Heal: node 1 returns, the cut link is restored.
    let healed = Instant::now();
    nodes[1].start_again();
    nodes[2].set_extra_args(&FAST);
    nodes[3].set_extra_args(&FAST);
    nodes[2].restart();
    nodes[3].restart();
    for (i, d) in nodes.iter().enumerate() {
        wait_until(
            &format!("node {i} to hold all {} messages", expected.len()),
            || ids(d, &circle).is_superset(&expected),
        );
    }
    eprintln!(
        "convergence: {} messages on 5 nodes, all converged {:.2?} after healing",
        expected.len(),
        healed.elapsed()
    );
}
