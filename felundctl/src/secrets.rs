//! Secrets given without putting them on the command line, where `ps` and shell history would
//! show them: `-` in place of the value reads it from the first line of standard input, or an
//! environment variable holds it. This covers invite codes (`join`) and channel keys
//! (`channel create|join --key`). Giving a secret both ways is refused rather than guessed at.
//!
//! [`resolve`] runs before felundd is dialed and leaves every secret in the command filled in.

use std::io::{BufRead, BufReader, Read};

use crate::cli::{Access, ChannelCommand, Command};

/// The variable `join` reads an invite code from.
pub const INVITE_CODE_VAR: &str = "FELUND_INVITE_CODE";

/// The variable `channel create --access key` and `channel join` read a channel key from.
pub const CHANNEL_KEY_VAR: &str = "FELUND_CHANNEL_KEY";

/// Most bytes read from standard input for one secret (an invite code is a few hundred).
const MAX_STDIN_SECRET_BYTES: u64 = 64 * 1024;

/// Why a secret could not be had.
#[derive(Debug, PartialEq, Eq)]
pub enum SecretError {
    /// The command line gives it twice or not at all: a usage error (exit 2).
    Usage {
        /// Whether it is missing (else given twice).
        missing: bool,
        /// What to tell the user.
        message: String,
    },
    /// Standard input could not be read or holds no secret (exit 1).
    Input(String),
}

/// What a secret is called and where else it may come from.
struct Secret {
    /// In words, e.g. "the invite code".
    what: &'static str,
    /// The command-line form, e.g. "CODE".
    flag: &'static str,
    /// The environment variable.
    var: &'static str,
    /// Surrounding whitespace is not part of it (invite codes); keys are taken as typed.
    trim: bool,
}

const INVITE_CODE: Secret = Secret {
    what: "the invite code",
    flag: "CODE",
    var: INVITE_CODE_VAR,
    trim: true,
};

const CHANNEL_KEY: Secret = Secret {
    what: "the channel key",
    flag: "--key KEY",
    var: CHANNEL_KEY_VAR,
    trim: false,
};

/// Where `-` reads from: standard input, and whether a person is typing into it (then they
/// are asked for the secret on stderr).
pub struct Input<'a> {
    /// The stream.
    pub reader: &'a mut dyn Read,
    /// It is a terminal.
    pub interactive: bool,
}

/// Fills in every secret of `command`: `-` is replaced by the first line of `stdin`, and an
/// absent one is taken from the environment (`env` looks a variable up; empty means unset).
pub fn resolve(
    command: &mut Command,
    env: impl Fn(&str) -> Option<String>,
    stdin: &mut Input<'_>,
) -> Result<(), SecretError> {
    let env = |var: &str| env(var).filter(|v| !v.is_empty());
    match command {
        Command::Join(j) => {
            let code = pick(&INVITE_CODE, j.given(), env(INVITE_CODE_VAR), stdin)?;
            let code = code.ok_or_else(|| missing(&INVITE_CODE))?;
            j.set_code(code);
        }
        Command::Channel(ChannelCommand::Create { access, key, .. }) if *access == Access::Key => {
            let found = pick(&CHANNEL_KEY, key.as_deref(), env(CHANNEL_KEY_VAR), stdin)?;
            *key = Some(found.ok_or_else(|| missing(&CHANNEL_KEY))?);
        }
        Command::Channel(ChannelCommand::Join { key, .. }) => {
            *key = pick(&CHANNEL_KEY, key.as_deref(), env(CHANNEL_KEY_VAR), stdin)?;
        }
        _ => {}
    }
    Ok(())
}

/// The secret from the command line (`-`: standard input) or the variable; both is an error.
fn pick(
    secret: &Secret,
    arg: Option<&str>,
    from_env: Option<String>,
    stdin: &mut Input<'_>,
) -> Result<Option<String>, SecretError> {
    match (arg, from_env) {
        (Some(_), Some(_)) => Err(SecretError::Usage {
            missing: false,
            message: format!(
                "{} is given both on the command line and in {}; give it one way",
                secret.what, secret.var
            ),
        }),
        (Some("-"), None) => read_first_line(secret, stdin).map(Some),
        (Some(value), None) => Ok(Some(value.to_string())),
        (None, from_env) => Ok(from_env),
    }
}

fn missing(secret: &Secret) -> SecretError {
    SecretError::Usage {
        missing: true,
        message: format!(
            "{} is missing: give it as {}, as `-` to read it from standard input, or in {}",
            secret.what, secret.flag, secret.var
        ),
    }
}

/// The first line of standard input, read up to [`MAX_STDIN_SECRET_BYTES`] (and no further,
/// so a person need not end their input).
fn read_first_line(secret: &Secret, stdin: &mut Input<'_>) -> Result<String, SecretError> {
    if stdin.interactive {
        eprint!("Paste {} and press Enter: ", secret.what);
    }
    let mut bytes = Vec::new();
    BufReader::new((&mut *stdin.reader).take(MAX_STDIN_SECRET_BYTES + 1))
        .read_until(b'\n', &mut bytes)
        .map_err(|e| {
            SecretError::Input(format!(
                "cannot read {} from standard input: {e}",
                secret.what
            ))
        })?;
    if bytes.len() as u64 > MAX_STDIN_SECRET_BYTES {
        return Err(SecretError::Input(format!(
            "the first line of standard input is longer than {MAX_STDIN_SECRET_BYTES} bytes; \
             is it {}?",
            secret.what
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        SecretError::Input(format!("{} on standard input is not UTF-8", secret.what))
    })?;
    let line = text.trim_end_matches(['\n', '\r']);
    let line = if secret.trim { line.trim() } else { line };
    if line.is_empty() {
        return Err(SecretError::Input(format!(
            "no {} on standard input; it goes on the first line",
            secret.what.trim_start_matches("the ")
        )));
    }
    Ok(line.to_string())
}

#[cfg(test)]
mod tests;
