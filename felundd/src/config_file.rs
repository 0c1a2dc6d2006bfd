//! The optional TOML config file (`$XDG_CONFIG_HOME/felund/felundd.toml`, or
//! `--config PATH`) and the precedence rule: flags > environment > file > defaults.
//!
//! Keys are the long flag names with `_` for `-`:
//!
//! ```toml
//! state_dir = "/home/me/.local/share/felund"
//! port = 9999
//! name = "alice"
//! relay = "https://relay.example/api"
//! sync_interval = 5
//! webrtc = false   # no direct DataChannels to browsers
//! ```

use std::fmt::Display;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use serde::Deserialize;

use crate::config::Args;

/// Values the config file may set (every one optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    state_dir: Option<PathBuf>,
    socket: Option<PathBuf>,
    bind: Option<std::net::IpAddr>,
    port: Option<u16>,
    advertise: Option<String>,
    name: Option<String>,
    relay: Option<String>,
    anchor: Option<bool>,
    sync_interval: Option<u64>,
    retention_days: Option<u64>,
    max_messages_per_circle: Option<u64>,
    webrtc: Option<bool>,
    webrtc_ip: Option<std::net::IpAddr>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env,
    /// The config file.
    File,
    /// The built-in default.
    Default,
}

impl Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Flag => "flag",
            Source::Env => "environment",
            Source::File => "config file",
            Source::Default => "default",
        })
    }
}

/// Flags resolved with the config file, and where each setting came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The settings in force.
    pub args: Args,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    /// `(key, value, source)` for every setting, in flag order.
    pub sources: Vec<(String, String, Source)>,
}

impl Resolved {
    /// The settings as `key = value  # source` lines (for `--print-config`).
    pub fn describe(&self) -> String {
        let mut out = match &self.file {
            Some(f) => format!("# config file: {}\n", f.display()),
            None => "# no config file\n".to_string(),
        };
        for (k, v, s) in &self.sources {
            out.push_str(&format!("{k} = {v}  # {s}\n"));
        }
        out
    }
}

/// The default config file location.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("felund").join("felundd.toml"))
}

/// Parses the process's arguments and layers the config file under them.
pub fn load() -> anyhow::Result<Resolved> {
    let matches = Args::command().get_matches();
    resolve(&matches)
}

/// Layers the config file under already parsed `matches`.
pub fn resolve(matches: &ArgMatches) -> anyhow::Result<Resolved> {
    let mut args = Args::from_arg_matches(matches)?;
    let (file, path) = read_file(args.config.as_deref())?;
    let mut sources = Vec::new();
    let source = |id: &str| match matches.value_source(id) {
        Some(ValueSource::CommandLine) => Source::Flag,
        Some(ValueSource::EnvVariable) => Source::Env,
        _ => Source::Default,
    };
    macro_rules! layer {
        ($field:ident, $show:expr) => {{
            let mut src = source(stringify!($field));
            if src == Source::Default {
                if let Some(v) = file.$field.clone() {
                    args.$field = v.into();
                    src = Source::File;
                }
            }
            let shown: String = $show(&args.$field);
            sources.push((stringify!($field).to_string(), shown, src));
        }};
    }
    let opt_str = |s: &Option<String>| {
        s.as_ref()
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| "(unset)".into())
    };
    // Paths are shown resolved, so `--print-config` tells where things really are.
    let quoted = |p: PathBuf| format!("{:?}", p.display().to_string());
    layer!(state_dir, |p: &Option<PathBuf>| quoted(
        p.clone()
            .unwrap_or_else(felund_client::paths::default_state_dir)
    ));
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(felund_client::paths::default_state_dir);
    layer!(socket, |p: &Option<PathBuf>| quoted(
        p.clone()
            .unwrap_or_else(|| felund_client::paths::default_socket_path(&state_dir))
    ));
    layer!(bind, |b: &std::net::IpAddr| format!("\"{b}\""));
    layer!(port, |p: &u16| p.to_string());
    layer!(advertise, opt_str);
    layer!(name, opt_str);
    layer!(relay, opt_str);
    layer!(anchor, |a: &bool| a.to_string());
    layer!(sync_interval, |v: &u64| v.to_string());
    layer!(retention_days, |v: &u64| v.to_string());
    layer!(max_messages_per_circle, |v: &u64| v.to_string());
    layer!(webrtc, |v: &bool| if *v { "\"on\"" } else { "\"off\"" }
        .to_string());
    layer!(webrtc_ip, |v: &Option<std::net::IpAddr>| v
        .map(|ip| format!("\"{ip}\""))
        .unwrap_or_else(|| "(unset)".into()));
    if args.sync_interval == 0 || args.sync_interval > 3600 {
        anyhow::bail!(
            "sync_interval must be 1–3600 seconds (got {})",
            args.sync_interval
        );
    }
    Ok(Resolved {
        args,
        file: path,
        sources,
    })
}

/// Reads the config file: `explicit` must exist; the default location may not.
fn read_file(explicit: Option<&Path>) -> anyhow::Result<(FileConfig, Option<PathBuf>)> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok((FileConfig::default(), None)),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
    let file: FileConfig = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("config file {} is not valid: {e}", path.display()))?;
    Ok((file, Some(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(argv: &[&str], file: &str) -> Resolved {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("felundd.toml");
        std::fs::write(&path, file).expect("write config");
        let mut full = vec!["felundd", "--config", path.to_str().expect("utf-8")];
        full.extend_from_slice(argv);
        let matches = Args::command()
            .try_get_matches_from(full)
            .expect("args parse");
        resolve(&matches).expect("resolve")
    }

    fn source_of(r: &Resolved, key: &str) -> Source {
        r.sources
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, s)| *s)
            .expect("key listed")
    }

    #[test]
    fn file_values_fill_in_what_flags_do_not_set() {
        let r = resolved(
            &["--port", "4000"],
            "port = 5000\nname = \"filey\"\nsync_interval = 2\n",
        );
        assert_eq!(r.args.port, 4000);
        assert_eq!(source_of(&r, "port"), Source::Flag);
        assert_eq!(r.args.name.as_deref(), Some("filey"));
        assert_eq!(source_of(&r, "name"), Source::File);
        assert_eq!(r.args.sync_interval, 2);
        assert_eq!(source_of(&r, "retention_days"), Source::Default);
        assert!(r.describe().contains("port = 4000  # flag"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "prot = 1\n").expect("write");
        let argv = ["felundd", "--config", path.to_str().expect("utf-8")];
        let matches = Args::command()
            .try_get_matches_from(argv)
            .expect("args parse");
        let err = resolve(&matches).unwrap_err().to_string();
        assert!(err.contains("bad.toml") && err.contains("prot"), "{err}");
    }

    #[test]
    fn a_missing_explicit_config_file_is_an_error() {
        let matches = Args::command()
            .try_get_matches_from(["felundd", "--config", "/nonexistent/felundd.toml"])
            .expect("args parse");
        assert!(resolve(&matches)
            .unwrap_err()
            .to_string()
            .contains("cannot read config file"));
    }
}
