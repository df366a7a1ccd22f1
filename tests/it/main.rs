//! The integration tests, in one binary (one link of the library instead of one per file) with
//! one `support` module of shared helpers. Each file is a module named as the file was when it
//! was a test binary of its own: `cargo test --test it web_browser` runs one of them.
//! `tests/encryption.rs` stays a binary of its own: it installs a process-wide tracing subscriber
//! that captures every event at TRACE, which must not see the other tests' events.
//!
//! The tests run in parallel threads of one process: a test keeps its files in its own
//! `support::Scratch` and its servers on ports from `support::free_port`.

mod support;

/// The fixture generator (the workspace's `gen-fixtures` crate), for the tests that write
/// fixtures in memory.
use gen_fixtures as gen;

/// What the fidelity bench compares, shared with `benches/fidelity.rs`.
#[allow(dead_code)]
mod score;

mod agenda_sends;
mod areas;
mod areas_mailbox;
mod audit_append_only;
mod core_is_pure;
mod data_return;
mod doctor;
mod audit_chain;
mod audit_copy;
mod backup;
mod corpus_docs;
mod corpus_eml;
mod corpus_pdf;
mod corpus_sheets;
mod fidelity;
mod fixtures_reproducible;
mod fixtures_truth;
mod fuzz_regressions;
mod logging;
mod golden;
mod mailbox;
mod mailservers;
mod metrics_rules;
mod metrics_serve;
mod no_import_circles;
mod oauth;
mod outbox;
mod postgres;
mod records;
mod retention;
mod run;
mod samples;
mod sender_trust;
mod timestamps;
mod service;
mod triage_scenarios;
mod web;
mod web_browser;
mod web_edge;
