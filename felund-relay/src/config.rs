//! Command line and runtime configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser};

use crate::limits;
use crate::store::PgOptions;

/// Default body limit: larger request bodies are refused with 413 before they are read whole.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The `felund-relay` command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "felund-relay",
    version,
    about = "felund relay and rendezvous server"
)]
#[command(group(ArgGroup::new("database").required(true).args(["db", "database_url"])))]
pub struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "FELUND_RELAY_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// SQLite database file (created if missing; made mode 0600). One relay instance.
    #[arg(long, env = "FELUND_RELAY_DB")]
    pub db: Option<PathBuf>,

    /// PostgreSQL database (`postgres://user:password@host:port/dbname`) instead of SQLite;
    /// any number of relay instances may share it. Migrations run at start-up.
    #[arg(long, env = "FELUND_RELAY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL: most connections per instance for requests (the push feed uses one more).
    #[arg(long, env = "FELUND_RELAY_DATABASE_POOL_SIZE", default_value_t = 16)]
    pub database_pool_size: u32,

    /// PostgreSQL: how long a request waits for a database connection before it is answered
    /// 503 (milliseconds).
    #[arg(long, env = "FELUND_RELAY_DATABASE_TIMEOUT_MS", default_value_t = 5000)]
    pub database_timeout_ms: u64,

    /// Refuse message push/pull (and WebSocket subscriptions) that carry no signature headers.
    #[arg(long, env = "FELUND_RELAY_REQUIRE_SIGNATURES")]
    pub require_signatures: bool,
}

impl Cli {
    /// The PostgreSQL connection settings these arguments describe.
    pub fn pg_options(&self) -> PgOptions {
        PgOptions {
            max_connections: self.database_pool_size.max(1),
            acquire_timeout: Duration::from_millis(self.database_timeout_ms.max(1)),
        }
    }

    /// The runtime configuration these arguments describe.
    pub fn relay_config(&self) -> RelayConfig {
        RelayConfig {
            listen: self.listen,
            require_signatures: self.require_signatures,
            ..RelayConfig::default()
        }
    }
}

/// How a relay instance behaves. `Default` gives the reference relays' behaviour on
/// `127.0.0.1:8000`.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Refuse unsigned message push/pull and WebSocket subscriptions (401 `INVALID_SIGNATURE`).
    pub require_signatures: bool,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Interval between WebSocket pings; a socket silent for two intervals is closed.
    pub ws_ping_interval: Duration,
    /// Interval between retention passes (expired registrations, messages, nonces, signals).
    pub prune_interval: Duration,
    /// Signal POSTs allowed per from_node_id per window.
    pub signal_rate_limit: u32,
    /// Signal rate-limit window, seconds (also the `Retry-After` value).
    pub signal_rate_window_s: i64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            require_signatures: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ws_ping_interval: Duration::from_secs(15),
            prune_interval: Duration::from_secs(60),
            signal_rate_limit: limits::SIGNAL_RATE_LIMIT,
            signal_rate_window_s: limits::SIGNAL_RATE_WINDOW_S,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses_flags() {
        let cli = Cli::try_parse_from([
            "felund-relay",
            "--listen",
            "127.0.0.1:0",
            "--db",
            "/tmp/x.sqlite",
            "--require-signatures",
        ])
        .expect("parse");
        assert_eq!(cli.listen.port(), 0);
        assert!(cli.relay_config().require_signatures);
        assert!(cli.database_url.is_none());
    }

    #[test]
    fn cli_takes_a_database_url_instead() {
        let cli = Cli::try_parse_from([
            "felund-relay",
            "--database-url",
            "postgres://relay@127.0.0.1/felund",
            "--database-pool-size",
            "4",
            "--database-timeout-ms",
            "250",
        ])
        .expect("parse");
        assert!(cli.db.is_none());
        assert_eq!(cli.pg_options().max_connections, 4);
        assert_eq!(cli.pg_options().acquire_timeout, Duration::from_millis(250));
        // Exactly one of the two.
        assert!(Cli::try_parse_from([
            "felund-relay",
            "--db",
            "/tmp/x.sqlite",
            "--database-url",
            "postgres://relay@127.0.0.1/felund",
        ])
        .is_err());
    }
}
