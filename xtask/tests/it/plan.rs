//! Integration tests for the `plan` commands.
