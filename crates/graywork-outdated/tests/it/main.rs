//! `outdated` against a registry and workspaces the tests build: reports, plans and errors.

mod fixture;
mod plans;
mod reports;
mod support;
