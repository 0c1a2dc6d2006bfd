//! A throw-away PostgreSQL cluster for tests: `initdb` in a temp dir, `postgres` on a free
//! loopback port, a fresh database per test.
//!
//! `initdb` and `postgres` refuse to run as root, so as root they run as the `postgres` user
//! (`runuser`), in a directory it owns. The server runs under a small `sh` wrapper that reads
//! its stdin: when the harness closes that pipe — or the test process dies — the wrapper stops
//! the server (immediate shutdown) and removes the directory, so nothing outlives the tests.
//!
//! Binaries: `$FELUND_PG_BIN_DIR`, else the newest `/usr/lib/postgresql/*/bin`. Without them
//! the tests that need PostgreSQL print `SKIPPED ...`, unless `FELUND_RELAY_PG_REQUIRED=1`
//! (CI), which makes them fail instead.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// Stops the server, then removes the cluster directory unless told `keep`.
const WRAPPER: &str = r#"
"$1/postgres" -D "$2/data" -p "$3" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$2" -c fsync=off -c full_page_writes=off \
    -c max_connections=300 -c shared_buffers=64MB >>"$2/server.log" 2>&1 &
pg=$!
read -r cmd
kill -QUIT "$pg" 2>/dev/null
wait "$pg"
[ "$cmd" = keep ] || rm -rf "$2"
"#;

/// True when PostgreSQL tests must run (CI sets `FELUND_RELAY_PG_REQUIRED=1`).
pub fn required() -> bool {
    std::env::var("FELUND_RELAY_PG_REQUIRED").is_ok_and(|v| v == "1")
}

/// A running throw-away cluster.
pub struct PgCluster {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    as_postgres: bool,
    server: Mutex<Option<(Child, ChildStdin)>>,
}

/// The cluster shared by this test binary, started on first use; `None` (after printing
/// `SKIPPED <test>: ...`) when PostgreSQL cannot be started and is not required.
pub fn shared(test: &str) -> Option<&'static PgCluster> {
    static CLUSTER: OnceLock<Result<PgCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(PgCluster::start) {
        Ok(cluster) => Some(cluster),
        Err(why) => skip(test, why),
    }
}

/// A private cluster (for tests that stop and restart it), or `None` as for [`shared`].
pub fn private(test: &str) -> Option<PgCluster> {
    match PgCluster::start() {
        Ok(cluster) => Some(cluster),
        Err(why) => skip(test, &why),
    }
}

/// A private cluster that accepts TCP connections only over TLS, with the certificate chain
/// `cert_pem` (server certificate first) and its key `key_pem`; `None` as for [`shared`].
pub fn private_tls(test: &str, cert_pem: &str, key_pem: &str) -> Option<PgCluster> {
    match PgCluster::start_tls(cert_pem, key_pem) {
        Ok(cluster) => Some(cluster),
        Err(why) => skip(test, &why),
    }
}

fn skip<T>(test: &str, why: &str) -> Option<T> {
    assert!(
        !required(),
        "{test}: PostgreSQL is required (FELUND_RELAY_PG_REQUIRED=1) but: {why}"
    );
    eprintln!("SKIPPED {test}: no PostgreSQL ({why}); set FELUND_PG_BIN_DIR or install postgresql");
    None
}

fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("FELUND_PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no /usr/lib/postgresql/*/bin/initdb".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(mut cmd: Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl PgCluster {
    /// initdb + start on a free port.
    pub fn start() -> Result<Self, String> {
        let cluster = Self::init()?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// initdb, TLS on with the given certificate and key, plaintext TCP refused (`hostssl`
    /// only), then start.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Result<Self, String> {
        let cluster = Self::init()?;
        let data = cluster.root.join("data");
        let write = |name: &str, text: &str| {
            std::fs::write(data.join(name), text).map_err(|e| format!("{name}: {e}"))
        };
        write("server.crt", cert_pem)?;
        write("server.key", key_pem)?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                data.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .map_err(|e| format!("server.key: {e}"))?;
        }
        write(
            "pg_hba.conf",
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 reject\n",
        )?;
        let conf = std::fs::read_to_string(data.join("postgresql.conf"))
            .map_err(|e| format!("postgresql.conf: {e}"))?;
        write(
            "postgresql.conf",
            &format!(
                "{conf}\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
            ),
        )?;
        if cluster.as_postgres {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(&data);
            run(chown, "chown to postgres")?;
        }
        cluster.start_server()?;
        Ok(cluster)
    }

    /// A fresh cluster directory with `initdb` run in it; not started.
    fn init() -> Result<Self, String> {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let bin = bin_dir()?;
        let as_postgres = is_root();
        let root = PathBuf::from("/tmp").join(format!(
            "felund-pg-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let cluster = Self {
            bin,
            root,
            port: crate::ports::try_free_port()?,
            as_postgres,
            server: Mutex::new(None),
        };
        if as_postgres {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(&cluster.root);
            run(chown, "chown to postgres")?;
        }
        let mut initdb = cluster.command("initdb");
        initdb
            .arg("-D")
            .arg(cluster.root.join("data"))
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"])
            .arg("--no-sync");
        run(initdb, "initdb")?;
        Ok(cluster)
    }

    /// A command for one of the server binaries, as the postgres user when we are root.
    fn command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.current_dir(&self.root);
        cmd
    }

    fn start_server(&self) -> Result<(), String> {
        let mut wrapper = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", WRAPPER, "sh"]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", WRAPPER, "sh"]);
            c
        };
        wrapper
            .arg(&self.bin)
            .arg(&self.root)
            .arg(self.port.to_string())
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = wrapper
            .spawn()
            .map_err(|e| format!("start postgres: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("postgres exited ({status}): {}", self.log()));
            }
            let mut ready = Command::new(self.bin.join("pg_isready"));
            ready.args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()]);
            if ready.status().is_ok_and(|s| s.success()) {
                break;
            }
            if started.elapsed() > READY_DEADLINE {
                let _ = child.kill();
                return Err(format!("postgres not ready: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        *self.server.lock().unwrap_or_else(|e| e.into_inner()) = Some((child, stdin));
        Ok(())
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a fresh database; returns its URL.
    pub fn create_database(&self) -> String {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}", SERIAL.fetch_add(1, Ordering::SeqCst));
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
        self.url(&name)
    }

    /// Stops the server at once (`immediate`: like a crash; committed data survives), keeping
    /// the data for [`start_again`](Self::start_again).
    pub fn stop(&self) {
        self.stop_with("keep");
    }

    fn stop_with(&self, word: &str) {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((mut child, mut stdin)) = server {
            let _ = writeln!(stdin, "{word}");
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Starts the stopped server again on the same port and data.
    pub fn start_again(&self) {
        if let Err(err) = self.start_server() {
            panic!("restarting postgres: {err}");
        }
    }

    /// The cluster directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_with("remove");
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
