//! Versioned contracts (traits and domain types) shared by the workspace's crates.
#![deny(missing_docs)]

pub mod auth;
