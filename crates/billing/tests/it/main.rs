//! Integration tests of the billing crate against its contracts, under every feature set.

mod support;
#[cfg(feature = "v1")]
mod v1;
#[cfg(all(feature = "v1", feature = "v2"))]
mod v1_and_v2;
#[cfg(feature = "v2")]
mod v2;

mod domain_errors;
