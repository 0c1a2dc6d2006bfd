//! Bounds on what the install tool reads back from disk.

/// A manifest larger than this is refused unread (a real one is a few kilobytes).
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// A manifest naming more files or directories than this is refused.
pub const MAX_MANIFEST_ENTRIES: usize = 4096;
