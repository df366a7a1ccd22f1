//! marac-intake's core: one message's bytes in, what it says and what to do with it out. The
//! reading stages (MIME, sniffing, the readers, the recognisers), the decision and its rules,
//! identity matching, the meeting schedule, reply composition, and the configuration's types.
//!
//! Pure by construction: this crate has no async runtime, database, network, file system or
//! clock. What the edge knows (the time, a monotonic clock for the readers' time limits, what
//! the history holds) is passed in. `tests/it/core_is_pure.rs` keeps it so.
#![forbid(unsafe_code)]

pub mod agenda;
pub mod bank_holidays;
pub mod config;
pub mod correct;
pub mod decide;
pub mod document;
pub mod identity;
pub mod inspect;
pub mod limits;
pub mod mime;
pub mod readers;
pub mod recognise;
pub mod reply;
pub mod route;
pub mod schedule;
pub mod search;
pub mod sniff;
pub mod text;
pub mod trust;
