//! Generated types and service stubs of the felundd API (`proto/felund.proto`,
//! package `felund.v1`). These types belong at the API edge only: the daemon's core
//! uses its own types and converts at the gRPC boundary.

#![allow(clippy::all, missing_docs)]

/// The `felund.v1` package.
pub mod v1 {
    tonic::include_proto!("felund.v1");
}

/// The encoded `FileDescriptorSet` of the API, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/felund_descriptor.bin"));

/// Bounds of the API that both felundd and its clients rely on.
pub mod limits {
    /// `ListMessages` answers at most this many messages per page; clients wanting
    /// more page through with `next_before` / `next_after`.
    pub const LIST_MESSAGES_MAX_PAGE: u32 = 1000;

    /// The page size `ListMessages` uses when the request's `limit` is 0.
    pub const LIST_MESSAGES_DEFAULT_PAGE: u32 = 50;

    /// `SearchMessages` answers at most this many matches.
    pub const SEARCH_MAX_RESULTS: u32 = 500;
}
