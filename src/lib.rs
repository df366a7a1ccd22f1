//! marac-intake: reads MARAC referral emails, decides them, and answers the referrer.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! - [`mime`]: raw message bytes → envelope, signals and attachments.
//! - [`sniff`]: attachment bytes → file kind, from content only.
//! - [`readers`]: attachment bytes → the neutral [`document::Document`] shape.
//! - [`recognise`]: documents → a DASH RIC and a referral form.
//! - [`inspect`]: wires the stages above for one message; pure, panics contained.
//!
//! Every stage above is pure: bytes in, values out. [`limits`] bounds all untrusted input.
#![forbid(unsafe_code)]

pub mod document;
pub mod inspect;
pub mod limits;
pub mod mime;
pub mod readers;
pub mod recognise;
pub mod sniff;
