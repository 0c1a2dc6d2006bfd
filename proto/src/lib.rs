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
