//! The `auth` contract: one module per major version.

pub mod v1;
