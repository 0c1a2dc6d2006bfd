//! Test support only, the one copy of each chore that more than one crate's tests need:
//! felund-relay's tests and benches and the workspace tests (`felund-tests`) all use it as a
//! dev-dependency.
//!
//! - [`pg`]: a throw-away PostgreSQL cluster.
//! - [`ports`]: loopback ports for servers a test starts itself.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod pg;
pub mod ports;
