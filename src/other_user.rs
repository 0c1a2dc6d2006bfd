//! Acting as another local user, `nobody`, in access tests: the attacker who shares the
//! machine. Switching users needs root (CI runs the tests as root); elsewhere the tests that
//! need it print `SKIPPED …` and pass.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::bin;

/// The user `nobody`, with a felundctl (and any other program it is given) it can run.
pub struct Nobody {
    uid: u32,
    gid: u32,
    felundctl: PathBuf,
    _tools: TempDir,
}

impl Nobody {
    /// `nobody`, or `None` (after printing why `test` is skipped) when this process cannot
    /// switch to it.
    pub fn new(test: &str) -> Option<Self> {
        let user = nix::unistd::User::from_name("nobody").ok().flatten();
        let (true, Some(user)) = (nix::unistd::Uid::effective().is_root(), user) else {
            eprintln!("SKIPPED {test}: needs root and a `nobody` user to act as another user");
            return None;
        };
        // `nobody` may not traverse the build directory: give it its own copy of felundctl.
        let tools = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(tools.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod the tools dir");
        let felundctl = tools.path().join("felundctl");
        if std::fs::hard_link(bin("felundctl"), &felundctl).is_err() {
            std::fs::copy(bin("felundctl"), &felundctl).expect("copy felundctl");
        }
        Some(Self {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            felundctl,
            _tools: tools,
        })
    }

    /// Its uid.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// Runs `felundctl --socket SOCKET ARGS` as `nobody`.
    pub fn felundctl(&self, socket: &Path, args: &[&str]) -> Output {
        self.command(&self.felundctl)
            .arg("--socket")
            .arg(socket)
            .args(args)
            .env_remove("FELUND_SOCKET")
            .output()
            .expect("run felundctl as nobody")
    }

    /// A copy of `program` that `nobody` can run, in its own tools directory.
    pub fn tool(&self, program: &Path) -> PathBuf {
        let name = program.file_name().expect("a program's file name");
        let copy = self._tools.path().join(name);
        if std::fs::hard_link(program, &copy).is_err() {
            std::fs::copy(program, &copy).expect("copy the program");
        }
        copy
    }

    /// A command that runs `program` as `nobody`.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.uid(self.uid).gid(self.gid);
        cmd
    }
}
