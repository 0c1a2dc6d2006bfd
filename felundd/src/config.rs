//! Command-line flags and environment of `felundd`, resolved into [`NodeSettings`].

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;
use felund_wire::limits::DEFAULT_PORT;

use crate::node::{NodeSettings, Retention};

/// The felund peer-to-peer chat daemon.
///
/// Owns the node identity, circles, the message store and sync, and serves the
/// felund.v1 gRPC API on a Unix socket (mode 0600) for felundctl, felund-tui and bots.
#[derive(Debug, Clone, Parser)]
#[command(name = "felundd", version)]
pub struct Args {
    /// Directory holding the state database (created 0700).
    #[arg(long, env = "FELUND_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Path of the API Unix socket. Default: $XDG_RUNTIME_DIR/felund/felundd.sock,
    /// or felundd.sock inside the state directory.
    #[arg(long, env = "FELUND_SOCKET")]
    pub socket: Option<PathBuf>,
    /// Address the gossip listener binds.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Port of the gossip listener.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// "host:port" written into invite codes (default: the bind address, or this
    /// machine's LAN address when binding to all interfaces).
    #[arg(long)]
    pub advertise: Option<String>,
    /// Display name to set at start.
    #[arg(long)]
    pub name: Option<String>,
    /// Relay / rendezvous base URL.
    #[arg(long, env = "FELUND_API_BASE")]
    pub relay: Option<String>,
    /// Serve as an anchor (store-and-forward for peers).
    #[arg(long)]
    pub anchor: bool,
    /// Config file (TOML) [default: $XDG_CONFIG_HOME/felund/felundd.toml if it exists].
    /// Precedence: flags > environment > file > defaults.
    #[arg(long, env = "FELUND_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print the settings in force (and where each came from), then exit.
    #[arg(long)]
    pub print_config: bool,
    /// Import a reference node's state.json (identity, circles, peers, channels,
    /// names, messages) before starting; idempotent.
    #[arg(long, value_name = "PATH")]
    pub import_state: Option<PathBuf>,
    /// Refuse direct gossip with this node id, in both directions (repeatable): to
    /// shun a misbehaving node, or to cut a link when testing partitions.
    #[arg(long = "refuse-peer", value_name = "NODE_ID")]
    pub refuse_peers: Vec<String>,
    /// Seconds between gossip sync rounds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sync_interval: u64,
    /// Prune chat messages older than this many days (0 keeps them forever).
    #[arg(long, default_value_t = Retention::default().max_age_days)]
    pub retention_days: u64,
    /// Keep at most this many chat messages per circle (0 = no cap).
    #[arg(long, default_value_t = Retention::default().max_per_circle)]
    pub max_messages_per_circle: u64,
    /// Connect directly to web clients (browsers) over WebRTC DataChannels, signalled
    /// through the relay. `--webrtc off` leaves browsers to the relay alone.
    #[arg(long, env = "FELUND_WEBRTC", default_value = "on", value_name = "on|off",
          action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub webrtc: bool,
    /// IP address the DataChannel transport binds its UDP sockets to and offers to
    /// browsers as its host candidate (default: the bind address, or this machine's LAN
    /// address when binding to all interfaces).
    #[arg(long, value_name = "IP")]
    pub webrtc_ip: Option<IpAddr>,
}

impl Args {
    /// Gossip settings matching `settings`.
    pub fn gossip(&self, settings: &NodeSettings) -> crate::gossip::GossipConfig {
        crate::gossip::GossipConfig {
            listen_addr: settings.listen_addr.clone(),
            advertise_addr: settings.advertise_addr.clone(),
            sync_interval: std::time::Duration::from_secs(self.sync_interval),
            anchor: self.anchor,
            refused: self.refuse_peers.iter().cloned().collect(),
        }
    }

    /// The state directory in force.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(felund_client::paths::default_state_dir)
    }

    /// Resolves flags, environment and defaults into node settings, for a gossip
    /// listener bound to `port` (which differs from `--port` when that is 0).
    pub fn settings(&self, port: u16) -> NodeSettings {
        let state_dir = self.state_dir();
        let socket_path = self
            .socket
            .clone()
            .unwrap_or_else(|| felund_client::paths::default_socket_path(&state_dir));
        NodeSettings {
            socket_path,
            listen_addr: format_host_port(self.bind, port),
            advertise_addr: self
                .advertise
                .clone()
                .unwrap_or_else(|| format_host_port(advertise_ip(self.bind), port)),
            relay_url: self.relay.clone().filter(|r| !r.trim().is_empty()),
            anchor: self.anchor,
            webrtc_ip: self
                .webrtc
                .then(|| self.webrtc_ip.unwrap_or_else(|| advertise_ip(self.bind))),
            retention: Retention {
                max_age_days: self.retention_days,
                max_per_circle: self.max_messages_per_circle,
            },
            config: Vec::new(),
            state_dir,
        }
    }
}

fn format_host_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The address to advertise for `bind`: itself unless it is unspecified, then the
/// first non-loopback IPv4 address of this machine (found by listing interfaces, no
/// traffic sent), else loopback.
fn advertise_ip(bind: IpAddr) -> IpAddr {
    if !bind.is_unspecified() {
        return bind;
    }
    if_addrs::get_if_addrs()
        .ok()
        .and_then(|ifs| {
            ifs.into_iter()
                .map(|i| i.ip())
                .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        })
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertise_defaults_to_a_specific_bind_address() {
        let args = Args::parse_from([
            "felundd",
            "--bind",
            "127.0.0.1",
            "--port",
            "4000",
            "--state-dir",
            "/tmp/x",
        ]);
        let s = args.settings(4000);
        assert_eq!(s.listen_addr, "127.0.0.1:4000");
        assert_eq!(s.advertise_addr, "127.0.0.1:4000");
    }

    #[test]
    fn explicit_advertise_wins() {
        let args = Args::parse_from([
            "felundd",
            "--advertise",
            "example.org:1",
            "--state-dir",
            "/tmp/x",
        ]);
        assert_eq!(args.settings(9999).advertise_addr, "example.org:1");
    }

    #[test]
    fn socket_defaults_depend_on_state_dir_when_not_given() {
        let args = Args::parse_from([
            "felundd",
            "--state-dir",
            "/tmp/felund-x",
            "--socket",
            "/tmp/s.sock",
        ]);
        assert_eq!(
            args.settings(9999).socket_path,
            PathBuf::from("/tmp/s.sock")
        );
    }
}
