//! The real `felund-relay` binary as a child process: started from a command the test builds,
//! its address read from the line it prints once bound, killed if the test ends early, and
//! stopped with SIGTERM when the test says so.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Generous: a loaded 2-core machine; how fast is never asserted.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A running `felund-relay` process.
pub struct RelayProcess {
    child: Child,
    /// The address it bound (`host:port`).
    pub addr: String,
}

impl RelayProcess {
    /// The binary, for tests that build their own command line.
    pub fn bin() -> &'static str {
        env!("CARGO_BIN_EXE_felund-relay")
    }

    /// Spawns `cmd` (a felund-relay, perhaps under a wrapper) and reads the address from its
    /// first stdout line.
    pub async fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn felund-relay");
        let stdout = child.stdout.take().expect("stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("join")
        .expect("read line");
        let addr = line
            .trim()
            .strip_prefix("felund-relay listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, addr }
    }

    /// `GET PATH` until it answers (the process must stay alive meanwhile); its JSON.
    pub async fn get_json(&mut self, client: &reqwest::Client, path: &str) -> serde_json::Value {
        let started = Instant::now();
        loop {
            match client
                .get(format!("http://{}{path}", self.addr))
                .send()
                .await
            {
                Ok(resp) => return resp.json().await.expect("json"),
                Err(err) => {
                    assert!(started.elapsed() < DEADLINE, "never answered: {err}");
                    assert!(
                        self.child.try_wait().expect("wait").is_none(),
                        "the relay died"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub async fn stop(mut self) -> ExitStatus {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        kill(pid, Signal::SIGTERM).expect("SIGTERM");
        let stopped = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                stopped.elapsed() < DEADLINE,
                "relay did not stop after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
