//! The lines library events become: the same shape as the flows' own lines (see
//! [`Output`](crate::output::Output)), so a CI log reads as one stream.
//!
//! `2026-11-26T18:07:32Z warning: GET /api/v1/... failed, retrying in 2s` in CI or a pipe,
//! `warning: ...` on a terminal; colour only on a terminal and never with `NO_COLOR` set.

use std::fmt;
use std::time::SystemTime;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::output::{Output, Style, timestamp};

/// One event's line, held until it is complete, then written with every secret the
/// [`Output`] knows replaced (a library may log an answer that echoes a credential).
pub(crate) struct ScrubbedLine<W: std::io::Write> {
    output: Output,
    line: Vec<u8>,
    destination: W,
}

impl<W: std::io::Write> ScrubbedLine<W> {
    pub(crate) fn new(output: Output, destination: W) -> Self {
        Self {
            output,
            line: Vec::new(),
            destination,
        }
    }
}

impl<W: std::io::Write> std::io::Write for ScrubbedLine<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let text = self.output.scrub(&String::from_utf8_lossy(&self.line));
        self.line.clear();
        self.destination.write_all(text.as_bytes())?;
        self.destination.flush()
    }
}

impl<W: std::io::Write> Drop for ScrubbedLine<W> {
    fn drop(&mut self) {
        // tracing-subscriber writes one event, then drops the writer.
        let _ = std::io::Write::flush(self);
    }
}

/// Whether the lines may carry colour escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Colour {
    /// A terminal, and `NO_COLOR` is not set.
    On,
    /// Anything else: a pipe, a file, a CI log.
    Off,
}

/// One event, one line: `[timestamp ]level: message fields`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogLines {
    pub(crate) style: Style,
    pub(crate) colour: Colour,
}

impl LogLines {
    fn level(level: Level) -> (&'static str, &'static str) {
        // The words the flows use (`warning:`, `error:`), with an ANSI colour for terminals.
        match level {
            Level::ERROR => ("error", "\x1b[31m"),
            Level::WARN => ("warning", "\x1b[33m"),
            Level::INFO => ("info", "\x1b[32m"),
            Level::DEBUG => ("debug", "\x1b[34m"),
            Level::TRACE => ("trace", "\x1b[35m"),
        }
    }
}

impl<S, N> FormatEvent<S, N> for LogLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if self.style == Style::Plain {
            write!(writer, "{} ", timestamp(SystemTime::now()))?;
        }
        let (word, colour) = Self::level(*event.metadata().level());
        match self.colour {
            Colour::On => write!(writer, "{colour}{word}\x1b[0m: ")?,
            Colour::Off => write!(writer, "{word}: ")?,
        }
        context.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn a_logged_secret_is_replaced_before_the_line_is_written() {
        let environment = crate::process_env::ProcessEnv::default();
        let output = Output::new(
            crate::output::Format::Text,
            crate::output::Verbosity::Normal,
            Style::Plain,
            &environment,
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(Mutex::new(Vec::new())),
        );
        output.add_secret("7|coolify-token-value");
        let written = Buffer::default();
        {
            let mut line = ScrubbedLine::new(output, written.clone());
            std::io::Write::write_all(
                &mut line,
                b"warning: 502 from proxy: Authorization: Bearer 7|coolify-token-value\n",
            )
            .unwrap();
        }
        let text = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "warning: 502 from proxy: Authorization: Bearer [redacted]\n"
        );
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn warn_with(style: Style, colour: Colour) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(colour == Colour::On)
            .event_format(LogLines { style, colour })
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(attempt = 2, "GET /api/v1/version failed, retrying");
        });
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn plain_lines_look_like_the_flows_lines() {
        let line = warn_with(Style::Plain, Colour::Off);
        assert!(!line.contains('\x1b'), "{line:?}");
        let (stamp, rest) = line.split_once(' ').unwrap();
        assert!(
            stamp.len() == "2026-11-26T18:07:32Z".len() && stamp.ends_with('Z'),
            "{line:?}"
        );
        assert_eq!(
            rest,
            "warning: GET /api/v1/version failed, retrying attempt=2\n"
        );
    }

    #[test]
    fn terminals_get_colour_and_no_timestamp() {
        let line = warn_with(Style::Terminal, Colour::On);
        assert!(line.starts_with("\x1b[33mwarning\x1b[0m: "), "{line:?}");
        let line = warn_with(Style::Terminal, Colour::Off);
        assert!(line.starts_with("warning: GET"), "{line:?}");
    }
}
