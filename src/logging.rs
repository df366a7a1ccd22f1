//! The service's logs: one line per event on standard error, in one of three forms chosen by
//! `MARAC_LOG_FORMAT`:
//! - `text` (the default on a terminal): a timestamp, the level and the event;
//! - `journald` (the default under systemd, where `JOURNAL_STREAM` is set): the same line
//!   without the timestamp (journald adds its own), prefixed with the syslog priority (`<3>`
//!   error, `<4>` warning, `<6>` info, `<7>` debug) that journald records as the entry's
//!   priority, so `journalctl -p warning` shows the warnings and errors;
//! - `json`: one JSON object per line (`timestamp`, `level`, `fields` with `message`), for a
//!   log shipper.
//!
//! `MARAC_LOG` sets the level of this program's events (error, warn, info, debug; default
//! info); other crates' events are shown from warn. What is logged is the same in every form:
//! references, counts, outcomes and codes, never a name, address, subject or body.

use std::fmt;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The form of the log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Journald,
    Json,
}

impl LogFormat {
    /// The form `MARAC_LOG_FORMAT` names (`text`, `journald`, `json`), or when it is unset the
    /// default for where the output goes (`journald` under systemd). An unknown name is an
    /// error that says the known ones.
    pub fn from_env(format: Option<&str>, under_journald: bool) -> Result<LogFormat, String> {
        match format.map(str::trim) {
            None | Some("") => Ok(if under_journald { LogFormat::Journald } else { LogFormat::Text }),
            Some("text") => Ok(LogFormat::Text),
            Some("journald") => Ok(LogFormat::Journald),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("MARAC_LOG_FORMAT={other:?} is not one of text, journald, json")),
        }
    }
}

/// The syslog priority journald reads from a line's `<N>` prefix (sd-daemon(3)).
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// The text form without timestamps, each line prefixed with its priority.
struct Prioritised(Format<Full, ()>);

impl<S, N> FormatEvent<S, N> for Prioritised
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// Installs the process's logger (once, at start; a second call changes nothing). Reads
/// `MARAC_LOG`, `MARAC_LOG_FORMAT` and `JOURNAL_STREAM`; an unknown format falls back to the
/// default with a warning, so a typo never stops the service.
pub fn init() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level = std::env::var("MARAC_LOG").ok().and_then(|l| l.parse::<LevelFilter>().ok()).unwrap_or(LevelFilter::INFO);
    let filter = Targets::new().with_default(LevelFilter::WARN.min(level)).with_target("marac_intake", level);
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let asked = std::env::var("MARAC_LOG_FORMAT").ok();
    let (format, problem) = match LogFormat::from_env(asked.as_deref(), under_journald) {
        Ok(f) => (f, None),
        Err(e) => (LogFormat::from_env(None, under_journald).unwrap_or(LogFormat::Text), Some(e)),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(false);
    let installed = match format {
        LogFormat::Text => registry.with(layer).try_init(),
        LogFormat::Journald => registry.with(layer.fmt_fields(DefaultFields::new()).event_format(Prioritised(Format::default().without_time().with_target(false).with_ansi(false)))).try_init(),
        LogFormat::Json => registry.with(layer.json().flatten_event(false).with_current_span(false).with_span_list(false)).try_init(),
    };
    if let (Ok(()), Some(problem)) = (installed, problem) {
        tracing::warn!("{problem}; logging as {format:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_the_one_named_or_the_default_for_where_the_lines_go() {
        assert_eq!(LogFormat::from_env(None, false), Ok(LogFormat::Text));
        assert_eq!(LogFormat::from_env(None, true), Ok(LogFormat::Journald));
        assert_eq!(LogFormat::from_env(Some("json"), true), Ok(LogFormat::Json));
        assert_eq!(LogFormat::from_env(Some("text"), true), Ok(LogFormat::Text));
        assert!(LogFormat::from_env(Some("xml"), false).unwrap_err().contains("text, journald, json"));
    }

    #[test]
    fn journald_priorities_follow_syslog() {
        assert_eq!([Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG].map(|l| priority(&l)), [3, 4, 6, 7]);
    }
}
