//! Shared helpers for the integration tests that talk to real mail servers.
#![allow(dead_code)]
pub mod mailservers;
