//! `status`: one sentence per part of the node (who it is, gossip, peers, relay, store,
//! API), with units; `--verbose` adds every setting and where it came from.

use felund_client::{api, ApiClient};
use serde_json::{json, Map, Value};

use super::node::{live_override, relay_line};
use crate::human::{bytes, clean_line, duration, key_values, or_dash};
use crate::output::{self, Out};

/// `status [--verbose]`: GetNodeInfo.
pub async fn status(client: &mut ApiClient, out: &Out, verbose: bool) -> anyhow::Result<()> {
    let info = client
        .get_node_info(api::GetNodeInfoRequest {})
        .await?
        .into_inner();
    if out.is_json() {
        let mut v = serde_json::to_value(output::node_info(&info))?;
        if let (true, Value::Object(obj)) = (verbose, &mut v) {
            obj.insert("settings".into(), settings_json(&info));
        }
        return out.json(&v);
    }
    let now = chrono::Utc::now().timestamp();
    for line in key_values(&lines(&info, now)) {
        out.line(line)?;
    }
    if verbose {
        out.line("settings (felundd --print-config):")?;
        for c in &info.config {
            let live = match live_override(&info, &c.key) {
                Some(live) => format!(
                    "; in force now: {} (set with felundctl until the next start)",
                    or_dash(&live)
                ),
                None => String::new(),
            };
            out.line(format!(
                "  {} = {}  # {}{live}",
                c.key,
                clean_line(&c.value),
                c.source
            ))?;
        }
    }
    Ok(())
}

/// `{"port": {"value": "9999", "source": "default"}, ...}`.
fn settings_json(info: &api::NodeInfo) -> Value {
    let mut m = Map::new();
    for c in &info.config {
        m.insert(c.key.clone(), json!({"value": c.value, "source": c.source}));
    }
    Value::Object(m)
}

/// "3 s ago" for a Unix time, "never" for 0.
fn ago(ts: i64, now: i64) -> String {
    if ts <= 0 {
        return "never".to_string();
    }
    format!("{} ago", duration(now.saturating_sub(ts).max(0) as u64))
}

/// `n thing`/`n things`.
fn count(n: u64, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The status, one `(part, sentence)` per line.
fn lines(info: &api::NodeInfo, now: i64) -> Vec<(&'static str, String)> {
    let name = if info.display_name.is_empty() {
        "(no name)".to_string()
    } else {
        clean_line(&info.display_name)
    };
    vec![
        (
            "node",
            format!(
                "{name} ({}), felundd {}, up {}",
                clean_line(&info.node_id),
                clean_line(&info.version),
                duration(info.uptime_s)
            ),
        ),
        ("gossip", gossip(info, now)),
        (
            "peers",
            format!(
                "{} verified, {} not yet reached",
                info.peer_count,
                count(info.dial_candidate_count, "candidate")
            ),
        ),
        ("relay", relay_line(info)),
        ("browsers", browsers(info, now)),
        (
            "store",
            format!(
                "{}, {} in {}",
                count(info.circle_count, "circle"),
                count(info.message_count, "message"),
                or_dash(&info.state_dir)
            ),
        ),
        (
            "api",
            format!(
                "{}, {} attached",
                or_dash(&info.socket_path),
                count(info.subscriber_count, "client")
            ),
        ),
        (
            "anchor",
            if info.anchor { "serving" } else { "off" }.to_string(),
        ),
    ]
}

/// "off (felundd --webrtc off)", or "2 connected directly over WebRTC (web 1a2b3c4d at
/// 192.0.2.7:5000 since 3 s ago, 4 in, 12 out; …); 1 failed attempt".
fn browsers(info: &api::NodeInfo, now: i64) -> String {
    if !info.datachannel_enabled {
        return "off (felundd --webrtc off): browsers reach this node through the relay".into();
    }
    let mut line = if info.datachannel_peers.is_empty() {
        "none connected directly over WebRTC".to_string()
    } else {
        let who: Vec<String> = info
            .datachannel_peers
            .iter()
            .map(|p| {
                let id: String = p.node_id.chars().take(8).collect();
                let name = match p.display_name.is_empty() {
                    true => clean_line(&id),
                    false => format!("{} {}", clean_line(&p.display_name), clean_line(&id)),
                };
                format!(
                    "{name} at {} since {}, {} in, {} out",
                    or_dash(&p.remote_addr),
                    ago(p.since, now),
                    p.messages_in,
                    p.messages_out
                )
            })
            .collect();
        format!(
            "{} connected directly over WebRTC ({})",
            who.len(),
            who.join("; ")
        )
    };
    if info.datachannel_failed > 0 {
        line.push_str(&format!(
            "; {}",
            count(info.datachannel_failed, "failed attempt")
        ));
    }
    line
}

/// "listening on A (advertised as B); 2 live links; last sync 3 s ago; 1 peer
/// unreachable (bob at H:P: why); sessions 12 ok, 1 failed; 1.2 MB in, 300 kB out".
fn gossip(info: &api::NodeInfo, now: i64) -> String {
    let listening = if info.listen_addr.is_empty() {
        "not listening".to_string()
    } else if info.advertise_addr.is_empty() || info.advertise_addr == info.listen_addr {
        format!("listening on {}", clean_line(&info.listen_addr))
    } else {
        format!(
            "listening on {} (advertised as {})",
            clean_line(&info.listen_addr),
            clean_line(&info.advertise_addr)
        )
    };
    let mut parts = vec![
        listening,
        count(info.live_links, "live link"),
        format!("last sync {}", ago(info.gossip_last_sync, now)),
    ];
    if !info.unreachable_peers.is_empty() {
        let who: Vec<String> = info
            .unreachable_peers
            .iter()
            .map(|u| {
                let name = if u.node_id.is_empty() {
                    String::new()
                } else {
                    format!("{} at ", clean_line(&u.display_name))
                };
                format!(
                    "{name}{}: {}, since {}",
                    clean_line(&u.addr),
                    clean_line(&u.error),
                    ago(u.since, now)
                )
            })
            .collect();
        parts.push(format!(
            "{} unreachable ({})",
            count(who.len() as u64, "peer"),
            who.join("; ")
        ));
    }
    parts.push(format!(
        "sessions {} ok, {} failed",
        info.gossip_sessions_ok, info.gossip_sessions_failed
    ));
    parts.push(format!(
        "{} in, {} out",
        bytes(info.gossip_bytes_in),
        bytes(info.gossip_bytes_out)
    ));
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gossip_reads_as_a_sentence_with_units_and_names() {
        let info = api::NodeInfo {
            listen_addr: "0.0.0.0:9999".into(),
            advertise_addr: "10.0.0.5:9999".into(),
            live_links: 2,
            gossip_last_sync: 97,
            gossip_sessions_ok: 12,
            gossip_sessions_failed: 1,
            gossip_bytes_in: 1_234_567,
            gossip_bytes_out: 300,
            unreachable_peers: vec![api::UnreachablePeer {
                addr: "10.0.0.2:9999".into(),
                node_id: "n".into(),
                display_name: "bob".into(),
                error: "connection refused".into(),
                since: 40,
            }],
            ..Default::default()
        };
        assert_eq!(
            gossip(&info, 100),
            "listening on 0.0.0.0:9999 (advertised as 10.0.0.5:9999); 2 live links; \
             last sync 3s ago; 1 peer unreachable (bob at 10.0.0.2:9999: connection refused, \
             since 1m 0s ago); sessions 12 ok, 1 failed; 1.2 MB in, 300 B out"
        );
    }

    #[test]
    fn browsers_line_names_each_datachannel_peer_or_says_the_transport_is_off() {
        let mut info = api::NodeInfo {
            datachannel_enabled: true,
            datachannel_failed: 1,
            datachannel_peers: vec![api::DataChannelPeer {
                node_id: "0123456789abcdef".into(),
                display_name: "web".into(),
                remote_addr: "192.0.2.7:5000".into(),
                since: 97,
                messages_in: 4,
                messages_out: 12,
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            browsers(&info, 100),
            "1 connected directly over WebRTC (web 01234567 at 192.0.2.7:5000 since 3s ago, \
             4 in, 12 out); 1 failed attempt"
        );
        info.datachannel_peers.clear();
        info.datachannel_failed = 0;
        assert_eq!(browsers(&info, 100), "none connected directly over WebRTC");
        info.datachannel_enabled = false;
        assert!(browsers(&info, 100).starts_with("off (felundd --webrtc off)"));
    }
}
