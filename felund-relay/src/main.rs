//! felund-relay: work in progress.

fn main() {}
