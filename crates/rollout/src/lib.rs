//! Automated gray rollout: drives one gray rule's `percent` through steps (1% → 10% → 50% →
//! 100%), verifies every gateway instance serves each step, judges v2 against v1 in Prometheus,
//! and rolls back by itself.
//!
//! The pieces, in the order a step uses them:
//! - [`Spec`]: the rollout spec (TOML) with file:line errors and production defaults;
//! - [`ConfigWriter`] and its file backend [`FileWriter`], which changes only the rule's
//!   `percent` (format-preserving, with compare-and-swap on the revision), and [`EtcdWriter`],
//!   its etcd backend (compare-and-swap on the key's `mod_revision`);
//! - [`AdminClient`]: reload every instance through its admin endpoint and verify what it
//!   serves;
//! - [`Prometheus`] and the judges ([`error_ratio`] by a two-proportion test plus margin,
//!   latency quantile by factor plus slack, custom checks);
//! - [`StateStore`]: the SQLite state, command queue and controller lock ([`ControllerLock`]);
//! - [`drive`]: the state machine that ties them together; [`Events`] and [`RolloutMetrics`]
//!   are its evidence, [`render_status`] its summary for people;
//! - [`spec_from_plan`]: a spec from an upgrade plan's gray stage (`rollout init --plan`).
//!
//! The controller talks to gateways and Prometheus over HTTP only; it depends on no service
//! crate.
#![warn(unreachable_pub)]

mod analysis;
mod controller;
mod etcd_writer;
mod events;
mod fleet;
mod fragment;
mod from_plan;
mod judge;
mod metrics;
mod prometheus;
mod spec;
mod state;
mod status;
mod writer;

pub use controller::{Context, ControllerError, Mode, drive};
pub use etcd_writer::EtcdWriter;
pub use events::Events;
pub use fleet::{AdminClient, FleetError, Served, served_from_report};
pub use fragment::{FragmentError, rule_percent};
pub use from_plan::{FromPlanError, Placement, spec_from_plan};
pub use judge::{Counts, Judgement, Verdict, error_ratio};
pub use metrics::{CheckLabels, ResultLabels, RolloutMetrics, serve as serve_metrics};
pub use prometheus::{Prometheus, QueryError};
pub use spec::{
    Analysis, Controller, CustomCheck, DurationText, ErrorRatioJudge, EtcdTarget, Instance,
    LatencyJudge, Spec, SpecError, Step,
};
pub use state::{
    AppliedStep, Command, ControllerLock, End, Phase, Queued, State, StateError, StateStore,
};
pub use status::render as render_status;
pub use writer::{ConfigWriter, FileWriter, Fragment, Revision, WriteError, Written, set_percent};
