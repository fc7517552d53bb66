//! Automated gray rollout: drives one gray rule's `percent` through steps (1% → 10% → 50% →
//! 100%), verifies every gateway instance serves each step, judges v2 against v1 in Prometheus,
//! and rolls back by itself.
//!
//! The pieces, in the order a step uses them:
//! - [`spec`]: the rollout spec (TOML) with file:line errors and production defaults;
//! - [`writer`] and [`fragment`]: the [`ConfigWriter`] trait and its file backend, which changes
//!   only the rule's `percent` (format-preserving, with compare-and-swap on the revision), and
//!   [`etcd_writer`], its etcd backend (compare-and-swap on the key's `mod_revision`);
//! - [`fleet`]: reload every instance through its admin endpoint and verify what it serves;
//! - [`prometheus`], [`analysis`] and [`judge`]: instant queries and the judges (error ratio by
//!   a two-proportion test plus margin, latency quantile by factor plus slack, custom checks);
//! - [`state`]: the SQLite state, command queue and controller lock;
//! - [`controller`]: the state machine that ties them together; [`events`] and [`metrics`] are
//!   its evidence, [`status`] its summary for people;
//! - [`from_plan`]: a spec from an upgrade plan's gray stage (`rollout init --plan`).
//!
//! The controller talks to gateways and Prometheus over HTTP only; it depends on no service
//! crate.

pub mod analysis;
pub mod controller;
pub mod etcd_writer;
pub mod events;
pub mod fleet;
pub mod fragment;
pub mod from_plan;
pub mod judge;
pub mod metrics;
pub mod prometheus;
pub mod spec;
pub mod state;
pub mod status;
pub mod writer;

pub use crate::controller::{Context, ControllerError, Mode, drive};
pub use crate::etcd_writer::EtcdWriter;
pub use crate::spec::{Spec, SpecError};
pub use crate::state::{Command, Phase, State};
pub use crate::writer::{ConfigWriter, FileWriter};
