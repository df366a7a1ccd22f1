//! Shared helpers of the integration tests: scratch directories and ports, the real mail servers
//! (Dovecot, Postfix), the web queue's fixture and TOTP codes.
#![allow(dead_code)]
pub mod mailservers;
pub mod postfix;
pub mod scratch;
pub mod sources;
pub mod totp;
pub mod web_fixture;

#[allow(unused_imports)]
pub use scratch::{free_port, Scratch};
