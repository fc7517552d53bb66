//! End-to-end tests of the rollout controller against the real pieces on loopback: Prometheus
//! (Debian's `prometheus`), two gateways built with `--features faults` sharing one config
//! directory, a bounded load generator, and the `rollout` binary.

mod cli;
mod dashboard;
mod docs;
mod etcd_writer;
mod readme;
mod scenarios;
mod support;
