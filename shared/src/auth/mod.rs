//! The `auth` contract: one module per major version.
