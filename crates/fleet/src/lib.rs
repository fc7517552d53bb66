//! Fleet config in etcd: every gateway instance of a fleet serves the same gray fragments.
//!
//! - [`EtcdClient`] speaks etcd v3 through its JSON gateway (`/v3/kv/range`, `/v3/kv/put`,
//!   `/v3/kv/txn`, `/v3/watch`) over plain HTTP with `ureq`: no protoc, no gRPC stack, and it
//!   builds offline. It fails over between endpoints, bounds every call with timeouts and
//!   authenticates with a user and password when given one. TLS is not supported yet: use it on
//!   loopback or a private network.
//! - [`fetch_fragments`] reads the TOML fragments under a key prefix as [`gray::Fragment`]s named
//!   `etcd:<key>@<mod_revision>`; [`HeldFragments`] hands the last fetched set to every gray load
//!   ([`gray::FragmentSource`]); [`save_last_good`] and [`load_last_good`] keep a local copy for a
//!   start while etcd is unreachable.
//! - [`follow`] watches the prefix: changes settle into one re-read, a disconnect resumes the
//!   watch from the last seen revision, a compacted revision triggers a full re-read, a quiet
//!   watch is backed by a status probe with a deadline (so a frozen etcd is noticed in seconds),
//!   and an outage is reported and retried with backoff.
//! - [`EtcdClient::compare_and_swap`] writes a key only if its `mod_revision` is still the one
//!   read, so two writers racing cannot both win. [`EtcdClient::put_if`] and
//!   [`EtcdClient::delete_if`] also compare the whole prefix with the revision it was read
//!   ([`PrefixUnchanged`]), so a set validated as a whole is the set the write lands in.
//!
//! # Features
//!
//! | Feature | Default | What it enables |
//! |---------|---------|-----------------|
//! | `testing` | no | `fleet::testing`: a real etcd on loopback for tests |
//!
//! `gray` itself stays free of etcd and HTTP: this crate fetches, gray merges.
#![warn(unreachable_pub)]

mod client;
mod follow;
mod source;
#[cfg(feature = "testing")]
pub mod testing;

pub use client::{
    Cas, ClientOptions, Conditional, EtcdClient, EtcdError, Expect, KeyValue, PrefixUnchanged,
    RangeResult, WatchMessage, WatchStream,
};
pub use follow::{FollowEvent, FollowOptions, follow};
pub use source::{
    FragmentSet, HeldFragments, LastGoodError, fetch_fragments, load_last_good, save_last_good,
};
