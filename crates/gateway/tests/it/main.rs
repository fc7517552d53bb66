//! The gateway's integration tests: in process through `app(state).oneshot(..)`, and against
//! the built binary.

// A build with no billing version skips the tests that create invoices, leaving some of their
// helpers unused there.
#![cfg_attr(
    not(any(feature = "v1", feature = "v2")),
    allow(dead_code, unused_imports)
)]

mod admin;
mod binary;
mod cli;
mod config;
/// Creates must succeed, so the build needs a billing version.
#[cfg(any(feature = "v1", feature = "v2"))]
mod crash;
mod dashboard;
/// Fleet config in etcd; routing by a percentage rule needs a build with both versions.
#[cfg(all(feature = "v1", feature = "v2"))]
mod etcd_fleet;
mod hardening;
mod invoices;
/// Creates must queue notices, so the build needs a billing version.
#[cfg(any(feature = "v1", feature = "v2"))]
mod outbox;
mod process;
mod support;
/// A file system the storage tests can make read-only.
mod volume;
