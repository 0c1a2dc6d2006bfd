//! The core's error type. Every variant's message is written for the person who
//! typed the command; the gRPC edge maps variants to status codes.

use crate::store::StoreError;

/// Why a node operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The named circle, channel, node or request does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed (bad code, bad name, empty text, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// The thing to create exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// This node may not do that (wrong channel key, not the channel owner, ...).
    #[error("{0}")]
    PermissionDenied(String),
    /// The state does not allow it right now (e.g. posting to a channel not joined).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The store failed; the operation did not take effect.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result alias for node operations.
pub type NodeResult<T> = Result<T, NodeError>;
