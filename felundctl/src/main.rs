//! felundctl: a scriptable command-line client of felundd.
//!
//! Every subcommand is one (or, for `send -`, a series of) gRPC request(s) over
//! felundd's Unix socket; see `felundctl --help`.
//!
//! # Exit status
//!
//! | code | meaning | stderr |
//! | --- | --- | --- |
//! | 0 | success (also: `watch` ended by Ctrl-C or by felundd; stdout closed early) | nothing |
//! | 1 | felundd refused the request, or another error (e.g. unreadable stdin) | `error: <reason>` |
//! | 2 | felundd is not running or cannot be reached, or the connection to it was lost; or a usage error (clap) | one line saying so |
//!
//! Errors are one line for people, never a debug dump or a panic.

mod commands;
mod human;
mod local;
mod output;
mod secrets;

use std::error::Error as StdError;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use felund_client::{connect, paths, ConnectError};

use crate::output::Out;
use felundctl::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let mut cli = Cli::parse(); // usage errors exit 2, --help/--version exit 0
    let socket = paths::resolve_socket(cli.socket.clone());
    // Commands about felundctl itself never dial the daemon.
    let local = match &cli.command {
        Command::Completions { shell } => Some(local::completions(*shell)),
        Command::Manpages { dir } => Some(local::manpages(dir, &Out::new(cli.json))),
        _ => None,
    };
    if let Some(result) = local {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report(&e, &socket),
        };
    }
    // Secrets kept off the command line are read before felundd is dialed.
    if let Err(code) = take_secrets(&mut cli.command) {
        return code;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(&anyhow::Error::new(e), &socket),
    };
    let result = runtime.block_on(async {
        let mut client = connect(&socket).await?;
        commands::run(cli.command, &mut client, &socket, &Out::new(cli.json)).await
    });
    // Don't wait for a blocked read of stdin (`send -`) to finish.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, &socket),
    }
}

/// Fills in the secrets `command` takes from standard input or the environment (see
/// [`secrets`]). A usage error exits like clap's own (2); unreadable input is reported and
/// gives exit code 1.
fn take_secrets(command: &mut Command) -> Result<(), ExitCode> {
    let env = |var: &str| std::env::var(var).ok();
    // The lock is released at once: `send -` reads standard input later, on another thread.
    let resolved = {
        let mut stdin = io::stdin().lock();
        let mut input = secrets::Input {
            interactive: stdin.is_terminal(),
            reader: &mut stdin,
        };
        secrets::resolve(command, env, &mut input)
    };
    match resolved {
        Ok(()) => Ok(()),
        Err(secrets::SecretError::Usage { missing, message }) => {
            let kind = if missing {
                ErrorKind::MissingRequiredArgument
            } else {
                ErrorKind::ArgumentConflict
            };
            Cli::command().error(kind, message).exit()
        }
        Err(secrets::SecretError::Input(message)) => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&message));
            Err(ExitCode::from(1))
        }
    }
}

/// Print `err` as one line on stderr and choose the exit code for it.
fn report(err: &anyhow::Error, socket: &Path) -> ExitCode {
    let (code, line) = classify(err, socket);
    if let Some(line) = line {
        let _ = writeln!(io::stderr(), "{line}");
    }
    ExitCode::from(code)
}

/// The exit code and the stderr line (if any) for an error.
fn classify(err: &anyhow::Error, socket: &Path) -> (u8, Option<String>) {
    let chain = || err.chain();
    if let Some(e) = chain().find_map(|e| e.downcast_ref::<ConnectError>()) {
        return (2, Some(e.to_string()));
    }
    if let Some(status) = chain().find_map(|e| e.downcast_ref::<tonic::Status>()) {
        if is_transport_failure(status) {
            return (
                2,
                Some(format!(
                    "lost the connection to felundd at {}: {}",
                    socket.display(),
                    status_text(status)
                )),
            );
        }
        return (1, Some(format!("error: {}", status_text(status))));
    }
    // Checked after the connection's own errors: felundd closing the socket is a broken pipe
    // too, and must not pass for a closed stdout.
    if chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    }) {
        // stdout was closed (e.g. `| head`): nothing more to say to anyone.
        return (0, None);
    }
    (1, Some(format!("error: {}", one_line(&format!("{err:#}")))))
}

/// Whether a status was made on this side because the connection failed, rather
/// than sent by felundd: such statuses carry the underlying error as their source.
/// A connection felundd closes at once (another user's) ends as a broken pipe or as a
/// cancelled request, depending on timing.
fn is_transport_failure(status: &tonic::Status) -> bool {
    StdError::source(status).is_some()
        && matches!(
            status.code(),
            tonic::Code::Unavailable
                | tonic::Code::Unknown
                | tonic::Code::Internal
                | tonic::Code::Cancelled
        )
}

/// A status's message as one line; its code's description when the message is empty.
fn status_text(status: &tonic::Status) -> String {
    let message = one_line(status.message());
    if message.is_empty() {
        status.code().description().to_string()
    } else {
        message
    }
}

/// Text squeezed to one line, with control characters defused.
fn one_line(text: &str) -> String {
    human::clean_line(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_status(status: tonic::Status) -> (u8, Option<String>) {
        classify(&anyhow::Error::new(status), Path::new("/s.sock"))
    }

    #[test]
    fn daemon_refusals_exit_1_with_the_message() {
        let (code, line) = classify_status(tonic::Status::not_found("no circle matches \"x\""));
        assert_eq!(code, 1);
        assert_eq!(line.as_deref(), Some("error: no circle matches \"x\""));
        let (code, line) = classify_status(tonic::Status::invalid_argument("two\nlines"));
        assert_eq!((code, line.as_deref()), (1, Some("error: two lines")));
        let (_, line) = classify_status(tonic::Status::failed_precondition(""));
        assert_eq!(
            line.as_deref(),
            Some(format!("error: {}", tonic::Code::FailedPrecondition.description()).as_str())
        );
    }

    #[test]
    fn connect_errors_exit_2_with_their_line() {
        let err = ConnectError::NotRunning {
            path: "/s.sock".into(),
        };
        let (code, line) = classify(&anyhow::Error::new(err), Path::new("/s.sock"));
        assert_eq!(code, 2);
        assert!(line
            .unwrap()
            .starts_with("felundd is not running at /s.sock;"));
    }

    #[test]
    fn felundd_closing_the_connection_is_a_lost_connection_not_a_closed_stdout() {
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        let status = tonic::Status::from_error(Box::new(pipe));
        let (code, line) = classify_status(status);
        assert_eq!(code, 2);
        assert!(line
            .unwrap()
            .starts_with("lost the connection to felundd at /s.sock"));
        // The same, seen as the request being cancelled.
        let mut cancelled = tonic::Status::cancelled("operation was canceled");
        cancelled.set_source(std::sync::Arc::new(io::Error::from(
            io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(classify_status(cancelled).0, 2);
        // felundd's own refusals carry no source and stay exit 1.
        assert_eq!(classify_status(tonic::Status::cancelled("x")).0, 1);
    }

    #[test]
    fn broken_pipe_is_quiet_success() {
        let err = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(classify(&err, Path::new("/s")), (0, None));
    }

    #[test]
    fn other_errors_exit_1() {
        let err = anyhow::Error::new(io::Error::new(io::ErrorKind::InvalidData, "bad utf-8"));
        assert_eq!(
            classify(&err, Path::new("/s")),
            (1, Some("error: bad utf-8".to_string()))
        );
    }
}
