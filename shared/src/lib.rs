//! Versioned contracts (traits and domain types) shared by the workspace's crates.
//!
//! - [`domain`]: money, currencies, ids, quantities and rates, parsed once at the edge.
//! - [`billing`]: the billing contract, [`billing::v1`] and [`billing::v2`] side by side, and
//!   [`billing::bridge`], which serves v1 consumers from a v2 provider.
//! - [`notification`]: the notification contract, [`notification::v1`].
//! - [`auth`]: the auth contract, [`auth::v1`].
//!
//! Each contract major version is its own module with a `VERSION` constant, so versions coexist
//! in one build. This crate does no I/O and depends on no async runtime.
#![warn(unreachable_pub)]
#![deny(missing_docs)]

#[macro_use]
mod macros;

pub mod auth;
pub mod billing;
pub mod domain;
pub mod notification;
