//! Integration tests for the `contracts` commands.
