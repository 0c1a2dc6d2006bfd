//! The systemd user units, with `ExecStart` rewritten to the installed felundd.

use std::path::Path;

use anyhow::bail;

/// `systemd/felundd.service` as shipped.
pub const SERVICE: &str = include_str!("../../systemd/felundd.service");
/// `systemd/felundd.socket` as shipped.
pub const SOCKET: &str = include_str!("../../systemd/felundd.socket");

/// The program `ExecStart=` runs in the shipped service: where `cargo install --path
/// felundd --root ~/.local` and the default install both put it.
pub const SHIPPED_EXEC: &str = "%h/.local/bin/felundd";

/// The unit file names, as installed.
pub const SERVICE_NAME: &str = "felundd.service";
/// See [`SERVICE_NAME`].
pub const SOCKET_NAME: &str = "felundd.socket";

/// The service with `ExecStart=` running `felundd` (an absolute path), marked as
/// written by the install tool.
pub fn service_for(felundd: &Path) -> anyhow::Result<String> {
    let exec = exec_path(felundd)?;
    let shipped = format!("ExecStart={SHIPPED_EXEC} ");
    if SERVICE.matches(&shipped).count() != 1 {
        bail!("systemd/felundd.service has no single `{shipped}…` line to rewrite");
    }
    let body = SERVICE.replace(&shipped, &format!("ExecStart={exec} "));
    Ok(format!(
        "# Installed by `cargo xtask install` from felund's systemd/felundd.service, with\n\
         # ExecStart on the installed felundd. `cargo xtask uninstall` removes it.\n{body}"
    ))
}

/// The socket unit, marked as written by the install tool.
pub fn socket() -> String {
    format!("# Installed by `cargo xtask install` from felund's systemd/felundd.socket.\n{SOCKET}")
}

/// `path` as written after `ExecStart=`: absolute, and without characters systemd would
/// read as quoting, specifiers (`%`), variables (`$`) or separators, which are refused
/// rather than escaped so the unit stays readable.
pub fn exec_path(path: &Path) -> anyhow::Result<String> {
    let Some(text) = path.to_str().filter(|_| path.is_absolute()) else {
        bail!(
            "the unit cannot run {}: not an absolute UTF-8 path",
            path.display()
        );
    };
    if let Some(c) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'\\%$;".contains(*c))
    {
        bail!(
            "the unit's ExecStart cannot name {text}: it contains {c:?}; install with a \
             --prefix without it, or without --systemd"
        );
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_runs_the_installed_felundd_and_keeps_its_arguments() {
        let unit = service_for(Path::new("/opt/felund/bin/felundd")).unwrap();
        assert!(
            unit.contains("\nExecStart=/opt/felund/bin/felundd --socket %t/felund/felundd.sock\n"),
            "{unit}"
        );
        assert!(!unit.contains(&format!("ExecStart={SHIPPED_EXEC}")));
    }

    #[test]
    fn paths_systemd_would_misread_are_refused() {
        for bad in [
            "/home/a b/bin/felundd",
            "/x/100%/felundd",
            "/x/$HOME/felundd",
            "rel/felundd",
        ] {
            assert!(exec_path(Path::new(bad)).is_err(), "{bad}");
        }
        assert!(exec_path(Path::new("/home/u/.local/bin/felundd")).is_ok());
    }

    #[test]
    fn the_shipped_units_need_no_network_online_target() {
        // The user manager has no network-online.target: felundd retries instead.
        for unit in [SERVICE, SOCKET] {
            let directives = unit.lines().filter(|l| !l.starts_with('#'));
            assert!(directives.clone().all(|l| !l.contains("network-online")));
        }
    }
}
