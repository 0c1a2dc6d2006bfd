//! felund-tui: the terminal chat client of felund.
//!
//! It attaches to `felundd` over its gRPC API (see `proto/felund.proto`) and
//! never touches felund's state itself, so several TUIs, `felundctl` and bots can
//! share one daemon. The design is Elm-like:
//!
//! - [`app`]: the state and `update(Action) -> Vec<Effect>`; no I/O;
//! - [`ui`]: pure render functions, one per part of the screen;
//! - [`commands`]: slash-command parsing into typed [`commands::Command`]s;
//! - [`input`]: the line editor with history and Tab completion;
//! - [`cli`]: the command line (also rendered into completions and a man page);
//! - [`client`]: async tasks that talk gRPC and feed [`event::AppEvent`]s back;
//! - [`model`] and [`event`]: the app's own view types and messages;
//! - [`text`] and [`zone`]: sanitising, widths, mentions; the time zone times are shown in.
//!
//! The binary (`main.rs`) sets up the terminal and runs the event loop.

#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod client;
pub mod commands;
pub mod event;
pub mod input;
pub mod model;
pub mod text;
pub mod ui;
pub mod zone;
