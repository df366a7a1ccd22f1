//! marac-intake: reads MARAC referral emails, decides them, and answers the referrer.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! - [`mime`]: raw message bytes → envelope, signals and attachments.
//! - [`sniff`]: attachment bytes → file kind, from content only.
//! - [`readers`]: attachment bytes → the neutral [`document::Document`] shape.
//! - [`recognise`]: documents → a DASH RIC and a referral form.
//! - [`inspect`]: wires the stages above for one message; pure, panics contained.
//!
//! - [`trust`]: whether the sender is proven (an aligned DMARC pass the receiving server recorded,
//!   or, where it recorded nothing and the configuration asks, our own DKIM check: [`dkim`]).
//! - [`decide`] and [`triage`]: one message → a decision committed with its reply ([`store`]).
//! - [`mailbox`] (IMAP in), [`outbox`] (SMTP out) and [`service`] (`run`): the I/O edges.
//! - [`web`] (`serve`): the coordinators' queue and the admins' console over the same store.
//! - [`oauth`]: the OAuth 2.0 client-credentials token of `auth = "oauth2"`, for IMAP and SMTP.
//! - [`config`] and [`rules`]: the file, with the rule sections admins change in the web console
//!   layered over it from the database.
//!
//! - [`clock`]: the one clock, made at the edge and passed down, and the one stored form of
//!   instants (UTC, fixed width).
//!
//! The stages up to [`decide`], with identity matching, the schedule, reply composition and the
//! configuration's types, live in the core crate `marac_core` (re-exported here under the same
//! names): pure, bytes in and values out, with no runtime, database, network or clock, which the
//! compiler keeps so. [`limits`] bounds all untrusted input. This crate is the service above it.
#![forbid(unsafe_code)]

pub mod backup;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod data_return;
pub use marac_core::{bank_holidays, correct, decide, document, identity, inspect, limits, mime, readers, recognise, reply, route, schedule, sniff, text, trust};
pub mod dkim;
pub mod doctor;
pub mod import;
pub mod logging;
pub mod mailbox;
pub mod monitor;
pub mod notify;
pub mod oauth;
pub mod outbox;
pub mod rules;
pub mod report;
pub mod service;
pub mod store;
pub mod tls;

/// The integration tests' scratch directories and real PostgreSQL, so the store's own unit tests
/// run on both databases as its integration tests do.
#[cfg(test)]
#[path = "../tests/it/support"]
#[allow(dead_code)]
mod test_support {
    pub mod postgres;
    pub mod scratch;
    pub use scratch::{free_port, Scratch};
}
pub mod triage;
pub mod web;

/// Replaces the default panic message, which can quote the data being parsed (a string slice
/// panic prints the string), with one that names only the place. Panics are contained by the
/// callers; this keeps personal data out of the logs when they happen.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("marac-intake: internal error contained (a parser panicked at {at})");
    }));
}
