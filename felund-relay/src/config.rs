//! Command line and runtime configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::limits;
use crate::store::{PgOptions, PresenceLimits};

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
#[command(subcommand_negates_reqs = true)]
pub struct Cli {
    /// Run a maintenance command instead of the relay.
    #[command(subcommand)]
    pub command: Option<Command>,

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

    /// Take the client address from the last `X-Forwarded-For` entry (else `X-Real-IP`) instead
    /// of the TCP peer. Only behind a reverse proxy that sets it; otherwise clients could pick
    /// their own address and escape the per-address limits.
    #[arg(long, env = "FELUND_RELAY_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Most distinct signing keys registered at once in one circle (an honest circle has one).
    #[arg(long, env = "FELUND_RELAY_MAX_KEYS_PER_CIRCLE", default_value_t = limits::DEFAULT_MAX_KEYS_PER_HINT)]
    pub max_keys_per_circle: u32,

    /// Most registrations (nodes) under one signing key in one circle.
    #[arg(long, env = "FELUND_RELAY_MAX_NODES_PER_KEY", default_value_t = limits::DEFAULT_MAX_NODES_PER_KEY)]
    pub max_nodes_per_key: u32,

    /// Most signing keys one client address may register under in one circle.
    #[arg(long, env = "FELUND_RELAY_MAX_KEYS_PER_ADDRESS", default_value_t = limits::DEFAULT_MAX_KEYS_PER_ADDRESS)]
    pub max_keys_per_address: u32,

    /// Most message bytes in one pull answer (the rest follows with `more`/`cursor`).
    #[arg(long, env = "FELUND_RELAY_PULL_MAX_BYTES", default_value_t = limits::DEFAULT_PULL_MAX_BYTES)]
    pub pull_max_bytes: usize,

    /// Most message bytes replayed to a new WebSocket subscriber.
    #[arg(long, env = "FELUND_RELAY_WS_REPLAY_MAX_BYTES", default_value_t = limits::DEFAULT_WS_REPLAY_MAX_BYTES)]
    pub ws_replay_max_bytes: usize,

    /// Most WebSocket subscribers per circle and signing key (unsigned ones count apart).
    #[arg(long, env = "FELUND_RELAY_WS_MAX_PER_CIRCLE", default_value_t = limits::DEFAULT_WS_MAX_PER_HINT)]
    pub ws_max_per_circle: u32,

    /// Most WebSocket subscribers per client address.
    #[arg(long, env = "FELUND_RELAY_WS_MAX_PER_ADDRESS", default_value_t = limits::DEFAULT_WS_MAX_PER_ADDRESS)]
    pub ws_max_per_address: u32,

    /// Write requests (register, unregister, message push, signal post) per client address per
    /// minute; 0 = no limit.
    #[arg(long, env = "FELUND_RELAY_WRITE_REQUESTS_PER_MINUTE", default_value_t = limits::DEFAULT_WRITE_REQUESTS_PER_MINUTE)]
    pub write_requests_per_minute: u32,

    /// Request body bytes of write requests per client address per minute; 0 = no limit.
    #[arg(long, env = "FELUND_RELAY_WRITE_BYTES_PER_MINUTE", default_value_t = limits::DEFAULT_WRITE_BYTES_PER_MINUTE)]
    pub write_bytes_per_minute: u32,

    /// Signal POSTs per client address per signal window (10 s); 0 = no limit.
    #[arg(long, env = "FELUND_RELAY_SIGNAL_POSTS_PER_ADDRESS", default_value_t = limits::DEFAULT_SIGNAL_POSTS_PER_ADDRESS)]
    pub signal_posts_per_address: u32,

    /// Seconds a client may take to send a request's headers (also how long a keep-alive
    /// connection may wait for its next request).
    #[arg(long, env = "FELUND_RELAY_HEADER_TIMEOUT_S", default_value_t = limits::DEFAULT_HEADER_TIMEOUT_S)]
    pub header_timeout_s: u64,

    /// Seconds a client may take to send a request's body.
    #[arg(long, env = "FELUND_RELAY_BODY_TIMEOUT_S", default_value_t = limits::DEFAULT_BODY_TIMEOUT_S)]
    pub body_timeout_s: u64,

    /// Seconds a connection may make no progress reading or writing before it is closed.
    #[arg(long, env = "FELUND_RELAY_IDLE_TIMEOUT_S", default_value_t = limits::DEFAULT_IDLE_TIMEOUT_S)]
    pub idle_timeout_s: u64,

    /// Most open connections (HTTP and WebSocket together); default and upper bound: the open
    /// file limit (RLIMIT_NOFILE) minus a reserve for the database and the process.
    #[arg(long, env = "FELUND_RELAY_MAX_CONNECTIONS")]
    pub max_connections: Option<u64>,

    /// Share of the open connections (percent, 1–90) kept for WebSocket subscribers; the rest
    /// serves HTTP. Raise it for a relay whose clients are mostly push subscribers.
    #[arg(long, env = "FELUND_RELAY_WS_SHARE_PERCENT", default_value_t = limits::DEFAULT_WS_SHARE_PERCENT,
          value_parser = clap::value_parser!(u8).range(1..=i64::from(limits::MAX_WS_SHARE_PERCENT)))]
    pub ws_share_percent: u8,

    /// Serve Prometheus metrics (`GET /metrics`) on this address, apart from the API; keep it
    /// private (loopback or an internal network). Off unless set.
    #[arg(long, env = "FELUND_RELAY_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
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
        // The database pool (and its push feed) holds descriptors the connections cannot use.
        let pool_fds = match self.database_url {
            Some(_) => u64::from(self.database_pool_size) + 1,
            None => 0,
        };
        RelayConfig {
            listen: self.listen,
            require_signatures: self.require_signatures,
            trust_forwarded_for: self.trust_forwarded_for,
            presence: PresenceLimits {
                max_keys_per_hint: self.max_keys_per_circle.max(1),
                max_nodes_per_key: self.max_nodes_per_key.max(1),
                max_keys_per_address: self.max_keys_per_address.max(1),
            },
            pull_max_bytes: self.pull_max_bytes,
            ws_replay_max_bytes: self.ws_replay_max_bytes,
            ws_max_per_hint: self.ws_max_per_circle,
            ws_max_per_address: self.ws_max_per_address,
            write_requests_per_minute: self.write_requests_per_minute,
            write_bytes_per_minute: self.write_bytes_per_minute,
            signal_posts_per_address: self.signal_posts_per_address,
            timeouts: Timeouts {
                header: Duration::from_secs(self.header_timeout_s.max(1)),
                body: Duration::from_secs(self.body_timeout_s.max(1)),
                idle: Duration::from_secs(self.idle_timeout_s.max(1)),
            },
            max_connections: self.max_connections,
            ws_share_percent: self.ws_share_percent,
            reserved_fds: limits::RESERVED_FDS + pool_fds,
            metrics_listen: self.metrics_listen,
            ..RelayConfig::default()
        }
    }
}

/// Maintenance commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Copy a SQLite relay database (stop that relay first) into an empty PostgreSQL
    /// database: messages with their seqs and positions, presence, nonces, signals. Clients'
    /// cursors carry over; then start the relay with --database-url.
    Migrate(MigrateArgs),
}

/// `felund-relay migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The SQLite database file of the relay (upgraded to the current schema first).
    #[arg(long)]
    pub from_db: PathBuf,

    /// The PostgreSQL database to fill (created schema, no relay data yet); or the
    /// environment variable, which keeps the password out of `ps`.
    #[arg(
        long,
        env = "FELUND_RELAY_MIGRATE_TO_DATABASE_URL",
        hide_env_values = true
    )]
    pub to_database_url: String,
}

/// How long a client may take, per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To send a request's headers (from the connection's start or the previous response).
    pub header: Duration,
    /// To send a request's whole body (408 after it).
    pub body: Duration,
    /// Without any progress reading or writing (a stalled reader or writer is closed).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header: Duration::from_secs(limits::DEFAULT_HEADER_TIMEOUT_S),
            body: Duration::from_secs(limits::DEFAULT_BODY_TIMEOUT_S),
            idle: Duration::from_secs(limits::DEFAULT_IDLE_TIMEOUT_S),
        }
    }
}

/// How a relay instance behaves. `Default` gives the reference relays' behaviour on
/// `127.0.0.1:8000`, with the hostile-client limits of [`crate::limits`]. A limit of 0 on a
/// per-minute rate means no limit.
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
    /// How long a WebSocket may take to accept one frame before it is dropped (a stalled reader).
    pub ws_send_timeout: Duration,
    /// Interval between retention passes (expired registrations, messages, nonces, signals).
    pub prune_interval: Duration,
    /// Signal POSTs allowed per from_node_id per window.
    pub signal_rate_limit: u32,
    /// Signal rate-limit window, seconds (also the `Retry-After` value).
    pub signal_rate_window_s: i64,
    /// Take the client address from `X-Forwarded-For`/`X-Real-IP` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Registration bounds.
    pub presence: PresenceLimits,
    /// Most message bytes in one pull answer.
    pub pull_max_bytes: usize,
    /// Most message bytes replayed to a new WebSocket subscriber.
    pub ws_replay_max_bytes: usize,
    /// Most WebSocket subscribers per circle hint and signing key (unsigned apart).
    pub ws_max_per_hint: u32,
    /// Most WebSocket subscribers per client address.
    pub ws_max_per_address: u32,
    /// Write requests per client address per minute (0: no limit).
    pub write_requests_per_minute: u32,
    /// Write body bytes per client address per minute (0: no limit).
    pub write_bytes_per_minute: u32,
    /// Signal POSTs per client address per signal window (0: no limit).
    pub signal_posts_per_address: u32,
    /// Connection timeouts.
    pub timeouts: Timeouts,
    /// Most open connections; `None` derives it from RLIMIT_NOFILE (and it never exceeds that).
    pub max_connections: Option<u64>,
    /// Share of the connection budget for WebSocket subscribers, percent (at most
    /// [`limits::MAX_WS_SHARE_PERCENT`]).
    pub ws_share_percent: u8,
    /// Descriptors kept back from the connection budget.
    pub reserved_fds: u64,
    /// Where to serve the Prometheus metrics (`GET /metrics`); `None` (the default): nowhere.
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            require_signatures: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ws_ping_interval: Duration::from_secs(15),
            ws_send_timeout: Duration::from_secs(limits::DEFAULT_WS_SEND_TIMEOUT_S),
            prune_interval: Duration::from_secs(60),
            signal_rate_limit: limits::SIGNAL_RATE_LIMIT,
            signal_rate_window_s: limits::SIGNAL_RATE_WINDOW_S,
            trust_forwarded_for: false,
            presence: PresenceLimits {
                max_keys_per_hint: limits::DEFAULT_MAX_KEYS_PER_HINT,
                max_nodes_per_key: limits::DEFAULT_MAX_NODES_PER_KEY,
                max_keys_per_address: limits::DEFAULT_MAX_KEYS_PER_ADDRESS,
            },
            pull_max_bytes: limits::DEFAULT_PULL_MAX_BYTES,
            ws_replay_max_bytes: limits::DEFAULT_WS_REPLAY_MAX_BYTES,
            ws_max_per_hint: limits::DEFAULT_WS_MAX_PER_HINT,
            ws_max_per_address: limits::DEFAULT_WS_MAX_PER_ADDRESS,
            write_requests_per_minute: limits::DEFAULT_WRITE_REQUESTS_PER_MINUTE,
            write_bytes_per_minute: limits::DEFAULT_WRITE_BYTES_PER_MINUTE,
            signal_posts_per_address: limits::DEFAULT_SIGNAL_POSTS_PER_ADDRESS,
            timeouts: Timeouts::default(),
            max_connections: None,
            ws_share_percent: limits::DEFAULT_WS_SHARE_PERCENT,
            reserved_fds: limits::RESERVED_FDS,
            metrics_listen: None,
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
            "--metrics-listen",
            "127.0.0.1:9464",
        ])
        .expect("parse");
        assert_eq!(cli.listen.port(), 0);
        assert_eq!(
            cli.relay_config().metrics_listen,
            Some("127.0.0.1:9464".parse().expect("addr"))
        );
        assert!(cli.relay_config().require_signatures);
        assert!(cli.database_url.is_none());
        // Defaults are the documented limits.
        let config = cli.relay_config();
        assert_eq!(config.presence.max_keys_per_address, 1);
        assert_eq!(config.write_requests_per_minute, 1200);
        assert!(!config.trust_forwarded_for);
        assert_eq!(config.ws_share_percent, 25);
        assert_eq!(
            Cli::try_parse_from(["felund-relay", "--db", "/tmp/x.sqlite"])
                .expect("parse")
                .relay_config()
                .metrics_listen,
            None,
            "metrics are off unless asked for"
        );
    }

    #[test]
    fn the_websocket_share_is_a_percentage_that_leaves_room_for_http() {
        let parse = |share: &str| {
            Cli::try_parse_from([
                "felund-relay",
                "--db",
                "/tmp/x.sqlite",
                "--ws-share-percent",
                share,
            ])
        };
        assert_eq!(parse("60").expect("60").relay_config().ws_share_percent, 60);
        for refused in ["0", "91", "100", "-5", "half"] {
            assert!(parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn migrate_is_a_subcommand_that_needs_no_relay_database() {
        let cli = Cli::try_parse_from([
            "felund-relay",
            "migrate",
            "--from-db",
            "/var/lib/felund-relay/relay.sqlite",
            "--to-database-url",
            "postgres://relay@127.0.0.1/felund",
        ])
        .expect("parse");
        let Some(Command::Migrate(args)) = cli.command else {
            panic!("no migrate command");
        };
        assert_eq!(
            args.from_db,
            PathBuf::from("/var/lib/felund-relay/relay.sqlite")
        );
        // The source is always named.
        assert!(Cli::try_parse_from([
            "felund-relay",
            "migrate",
            "--to-database-url",
            "postgres://relay@127.0.0.1/felund",
        ])
        .is_err());
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
