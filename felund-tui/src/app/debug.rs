//! The `/debug` report: sync and relay status from `GetNodeInfo`.

use crate::model::NodeView;
use crate::text::{bytes, duration, sanitize_line};
use crate::zone::DisplayZone;

/// Lines describing the node's sync state: gossip counters, live links and
/// relay health.
pub fn debug_lines(n: &NodeView, zone: DisplayZone) -> Vec<String> {
    let or_dash = |s: &str| {
        let s = sanitize_line(s);
        if s.is_empty() {
            "-".to_string()
        } else {
            s
        }
    };
    let mut lines = vec![
        format!(
            "felundd {} · node {} · up {} · {} attached client(s)",
            or_dash(&n.version),
            or_dash(&n.node_id),
            duration(n.uptime_s),
            n.subscriber_count
        ),
        format!(
            "gossip: listening on {} · invites name {} · sessions {} ok / {} failed · {} in / {} out · {} live link(s)",
            or_dash(&n.listen_addr),
            or_dash(&n.advertise_addr),
            n.gossip_ok,
            n.gossip_failed,
            bytes(n.gossip_bytes_in),
            bytes(n.gossip_bytes_out),
            n.live_links
        ),
    ];
    if n.relay_url.is_empty() {
        lines.push("relay: off (set one with F3 or /settings)".to_string());
    } else {
        let last = if n.relay_last_success > 0 {
            zone.date_time(n.relay_last_success)
        } else {
            "never".to_string()
        };
        lines.push(format!(
            "relay: {} — {} · last success {last} · push {}",
            sanitize_line(&n.relay_url),
            if n.relay_ok { "ok" } else { "failing" },
            if n.relay_push_connected {
                "connected"
            } else {
                "not connected"
            }
        ));
        if !n.relay_last_error.is_empty() {
            lines.push(format!(
                "relay error: {}",
                sanitize_line(&n.relay_last_error)
            ));
        }
    }
    lines.push(if !n.datachannel_enabled {
        "browsers: direct WebRTC off (felundd --webrtc off); they reach us through the relay"
            .to_string()
    } else {
        let who: Vec<String> = n
            .datachannel_peers
            .iter()
            .map(|(name, addr)| format!("{} at {}", or_dash(name), or_dash(addr)))
            .collect();
        format!(
            "browsers: {} connected over WebRTC DataChannels{}",
            who.len(),
            if who.is_empty() {
                String::new()
            } else {
                format!(" ({})", who.join(", "))
            }
        )
    });
    lines.push(format!(
        "store: {} message(s) · {} known peer(s)",
        n.message_count, n.peer_count
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_health_and_counters_are_reported() {
        let mut n = NodeView {
            gossip_ok: 3,
            gossip_bytes_in: 2048,
            live_links: 1,
            ..Default::default()
        };
        let text = debug_lines(&n, DisplayZone::utc()).join("\n");
        assert!(text.contains("sessions 3 ok / 0 failed"), "{text}");
        assert!(text.contains("2.0 KiB in"), "{text}");
        assert!(text.contains("1 live link(s)"), "{text}");
        assert!(text.contains("relay: off"), "{text}");
        n.relay_url = "https://relay.example".into();
        n.relay_last_error = "timeout".into();
        let text = debug_lines(&n, DisplayZone::utc()).join("\n");
        assert!(
            text.contains(
                "relay: https://relay.example — failing · last success never · push not connected"
            ),
            "{text}"
        );
        assert!(text.contains("relay error: timeout"), "{text}");
        assert!(text.contains("browsers: direct WebRTC off"), "{text}");
        n.datachannel_enabled = true;
        n.datachannel_peers = vec![("web".into(), "127.0.0.1:5000".into())];
        let text = debug_lines(&n, DisplayZone::utc()).join("\n");
        assert!(
            text.contains("browsers: 1 connected over WebRTC DataChannels (web at 127.0.0.1:5000)"),
            "{text}"
        );
    }
}
