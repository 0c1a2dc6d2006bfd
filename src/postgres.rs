//! A throw-away PostgreSQL cluster for workspace tests (a copy of the small logic in
//! `felund-relay/tests/common/pg.rs`, which that package's tests use): `initdb` in a temp dir,
//! `postgres` on a free loopback port under a `sh` wrapper that stops it and removes the dir
//! when the harness closes its stdin or the test process dies. As root, the server binaries
//! run as the `postgres` user (`runuser`), which they require.
//!
//! Binaries: `$FELUND_PG_BIN_DIR`, else the newest `/usr/lib/postgresql/*/bin`. Unavailable →
//! [`PgCluster::start_or_skip`] prints `SKIPPED ...` and returns `None`, unless
//! `FELUND_RELAY_PG_REQUIRED=1` (CI), which fails the test instead.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{free_port, DEADLINE};

const WRAPPER: &str = r#"
"$1/postgres" -D "$2/data" -p "$3" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$2" -c fsync=off -c max_connections=100 \
    >>"$2/server.log" 2>&1 &
pg=$!
read -r cmd
kill -QUIT "$pg" 2>/dev/null
wait "$pg"
rm -rf "$2"
"#;

/// A running throw-away cluster, stopped and removed on drop.
pub struct PgCluster {
    bin: PathBuf,
    root: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    server: Option<(Child, ChildStdin)>,
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("FELUND_PG_BIN_DIR") {
        return Ok(dir.into());
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, b)| b)
        .ok_or("no /usr/lib/postgresql/*/bin/initdb".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` as the postgres user when we are root.
fn as_owner(root: bool, program: impl Into<PathBuf>) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program.into());
        c
    } else {
        Command::new(program.into())
    }
}

impl PgCluster {
    /// A started cluster, or `None` after printing `SKIPPED <test>: ...` (a panic instead when
    /// `FELUND_RELAY_PG_REQUIRED=1`).
    pub fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start() {
            Ok(cluster) => Some(cluster),
            Err(why) => {
                let required = std::env::var("FELUND_RELAY_PG_REQUIRED").is_ok_and(|v| v == "1");
                assert!(!required, "{test}: PostgreSQL required but: {why}");
                eprintln!("SKIPPED {test}: no PostgreSQL ({why})");
                None
            }
        }
    }

    /// initdb + start on a free loopback port.
    pub fn start() -> Result<Self, String> {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let bin = bin_dir()?;
        let root = PathBuf::from("/tmp").join(format!(
            "felund-ws-pg-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let as_root = is_root();
        if as_root {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(&root);
            run(chown, "chown")?;
        }
        let mut initdb = as_owner(as_root, bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(root.join("data"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .current_dir(&root);
        run(initdb, "initdb")?;
        let port = free_port();
        let mut wrapper = as_owner(as_root, "sh");
        wrapper
            .args(["-c", WRAPPER, "sh"])
            .arg(&bin)
            .arg(&root)
            .arg(port.to_string())
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = wrapper
            .spawn()
            .map_err(|e| format!("start postgres: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let cluster = Self {
            bin,
            root,
            port,
            server: Some((child, stdin)),
        };
        let started = Instant::now();
        while !cluster.ready() {
            if started.elapsed() > DEADLINE {
                return Err(format!("postgres not ready: {}", cluster.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    fn ready(&self) -> bool {
        let mut probe = Command::new(self.bin.join("pg_isready"));
        probe.args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()]);
        probe.status().is_ok_and(|s| s.success())
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    /// Creates database `name`; returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
            ])
            .arg(format!("CREATE DATABASE {name}"));
        if let Err(err) = run(psql, "CREATE DATABASE") {
            panic!("{err}; log:\n{}", self.log());
        }
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some((mut child, mut stdin)) = self.server.take() {
            let _ = writeln!(stdin, "stop");
            drop(stdin);
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
