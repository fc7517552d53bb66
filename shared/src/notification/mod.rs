//! The `notification` contract: one module per major version.

pub mod v1;
