//! Integration tests for the `team` commands.
