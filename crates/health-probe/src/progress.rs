//! Progress events: what a spinner or a CI log shows while a probe waits.

use std::{fmt, time::Duration};

use serde::Serialize;
use url::Url;

use crate::{Attempt, Verdict, serde_duration};

/// Why the prober is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WaitCause {
    /// The initial delay before the first attempt.
    InitialDelay,
    /// The interval between attempts.
    Interval,
    /// The server asked for a pause with `Retry-After`.
    RetryAfter,
}

/// One step of a probe, reported to the progress callback as it happens.
///
/// `Display` renders one line, e.g. `attempt 3: 200 in 12 ms, passed (2/2)`, fit for CI logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The probe started.
    Started {
        /// The probed URL.
        url: Url,
        /// The overall deadline.
        #[serde(rename = "deadline_ms", with = "serde_duration::millis")]
        deadline: Duration,
    },
    /// The prober waits before the next attempt.
    Waiting {
        /// Time since the start of the probe.
        #[serde(rename = "offset_ms", with = "serde_duration::millis")]
        offset: Duration,
        /// How long until the next attempt.
        #[serde(rename = "wait_ms", with = "serde_duration::millis")]
        wait: Duration,
        /// Why.
        cause: WaitCause,
    },
    /// An attempt starts.
    AttemptStarted {
        /// 1 for the first attempt.
        number: u32,
        /// Time since the start of the probe.
        #[serde(rename = "offset_ms", with = "serde_duration::millis")]
        offset: Duration,
    },
    /// An attempt finished, with its evidence.
    AttemptFinished {
        /// The evidence.
        attempt: Attempt,
        /// Consecutive passes so far, this one included.
        consecutive_passes: u32,
        /// Consecutive passes needed.
        success_threshold: u32,
    },
    /// The probe ended.
    Finished {
        /// The verdict.
        verdict: Verdict,
        /// Time since the start of the probe.
        #[serde(rename = "elapsed_ms", with = "serde_duration::millis")]
        elapsed: Duration,
    },
}

impl fmt::Display for ProgressEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Started { url, deadline } => {
                write!(
                    f,
                    "probing {url} (deadline {})",
                    crate::outcome::human(*deadline)
                )
            }
            Self::Waiting { wait, cause, .. } => {
                let why = match cause {
                    WaitCause::InitialDelay => "initial delay",
                    WaitCause::Interval => "next attempt",
                    WaitCause::RetryAfter => "server asked to retry after",
                };
                write!(f, "{why}: waiting {}", crate::outcome::human(*wait))
            }
            Self::AttemptStarted { number, .. } => write!(f, "attempt {number} started"),
            Self::AttemptFinished {
                attempt,
                consecutive_passes,
                success_threshold,
            } => {
                write!(f, "{attempt}")?;
                if attempt.passed() {
                    write!(f, " ({consecutive_passes}/{success_threshold})")?;
                }
                Ok(())
            }
            Self::Finished { verdict, elapsed } => {
                write!(f, "{verdict} after {}", crate::outcome::human(*elapsed))
            }
        }
    }
}
