//! What a probe found: the verdict and the evidence of every attempt, serializable to JSON.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::{Glob, serde_duration};

/// Why one attempt did not pass; for an unhealthy outcome, why the target was judged unhealthy.
///
/// Serialized with a `class` tag (`"wrong_version"`, `"status"`, `"timeout"`, ...) that names the
/// error class in evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Failure {
    /// A JSON value that identifies the version (an assertion marked with
    /// [`Assertion::identifying_version`](crate::Assertion::identifying_version)) differs from
    /// the expected one: another version is answering, typically the previous one.
    WrongVersion {
        /// The JSON pointer, e.g. `/commit`.
        pointer: String,
        /// What the probe expected there.
        expected: Value,
        /// What the endpoint answered.
        actual: Value,
    },
    /// Any other JSON value differs from the expected one (say `/status` is `"degraded"`).
    ValueMismatch {
        /// The JSON pointer, e.g. `/status`.
        pointer: String,
        /// What the probe expected there.
        expected: Value,
        /// What the endpoint answered.
        actual: Value,
    },
    /// A status that is neither accepted nor fatal (or fatal: see [`Stop::FatalStatus`]).
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The attempt did not finish in time (its own timeout or the overall deadline).
    Timeout {
        /// How long the attempt ran before it was abandoned.
        #[serde(rename = "after_ms", with = "serde_duration::millis")]
        after: Duration,
    },
    /// Nothing listens at the address.
    ConnectionRefused,
    /// Any other transport failure: reset, closed early, DNS, TLS, a malformed answer.
    Connection {
        /// The transport's description.
        detail: String,
    },
    /// A redirect could not be followed: too many, or without a usable `Location`.
    Redirect {
        /// What was wrong with it.
        detail: String,
    },
    /// A JSON assertion met a body that is not JSON (or is too large to read).
    NotJson {
        /// The parser's description.
        detail: String,
    },
    /// A JSON assertion's pointer resolves to nothing in the body.
    PointerMissing {
        /// The JSON pointer.
        pointer: String,
    },
    /// A JSON value does not match the expected pattern.
    PatternMismatch {
        /// The JSON pointer.
        pointer: String,
        /// The glob it had to match.
        pattern: Glob,
        /// What the endpoint answered.
        actual: Value,
    },
    /// The body does not contain the expected text.
    BodyMissingText {
        /// The text it had to contain.
        text: String,
    },
    /// The answer passed every other check but took longer than the latency budget.
    TooSlow {
        /// How long the attempt took.
        #[serde(rename = "latency_ms", with = "serde_duration::millis")]
        latency: Duration,
        /// The budget.
        #[serde(rename = "budget_ms", with = "serde_duration::millis")]
        budget: Duration,
    },
    /// The deadline came while the last attempts passed, but fewer than the success threshold.
    Unconfirmed {
        /// Consecutive passes at the deadline.
        passes: u32,
        /// The success threshold.
        needed: u32,
    },
}

impl Failure {
    /// The error class, as serialized in the `class` field.
    pub fn class(&self) -> &'static str {
        match self {
            Self::WrongVersion { .. } => "wrong_version",
            Self::ValueMismatch { .. } => "value_mismatch",
            Self::Status { .. } => "status",
            Self::Timeout { .. } => "timeout",
            Self::ConnectionRefused => "connection_refused",
            Self::Connection { .. } => "connection",
            Self::Redirect { .. } => "redirect",
            Self::NotJson { .. } => "not_json",
            Self::PointerMissing { .. } => "pointer_missing",
            Self::PatternMismatch { .. } => "pattern_mismatch",
            Self::BodyMissingText { .. } => "body_missing_text",
            Self::TooSlow { .. } => "too_slow",
            Self::Unconfirmed { .. } => "unconfirmed",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongVersion {
                pointer,
                expected,
                actual,
            } => write!(
                f,
                "`{pointer}` is {actual}, expected {expected}: another version is still answering"
            ),
            Self::ValueMismatch {
                pointer,
                expected,
                actual,
            } => write!(f, "`{pointer}` is {actual}, expected {expected}"),
            Self::Status { status } => write!(f, "status {status}"),
            Self::Timeout { after } => {
                write!(f, "no answer within {}", human(*after))
            }
            Self::ConnectionRefused => f.write_str("connection refused: nothing listens there yet"),
            Self::Connection { detail } => write!(f, "connection failed: {detail}"),
            Self::Redirect { detail } => write!(f, "redirect not followed: {detail}"),
            Self::NotJson { detail } => write!(f, "body is not json: {detail}"),
            Self::PointerMissing { pointer } => write!(f, "`{pointer}` is missing from the body"),
            Self::PatternMismatch {
                pointer,
                pattern,
                actual,
            } => {
                write!(
                    f,
                    "`{pointer}` is {actual}, which does not match `{pattern}`"
                )
            }
            Self::BodyMissingText { text } => write!(f, "body does not contain {text:?}"),
            Self::TooSlow { latency, budget } => write!(
                f,
                "answered in {} ms, over the latency budget of {} ms",
                latency.as_millis(),
                budget.as_millis()
            ),
            Self::Unconfirmed { passes, needed } => write!(
                f,
                "only {passes} of {needed} consecutive passes before the deadline: raise `deadline`"
            ),
        }
    }
}

/// What ended an unhealthy probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stop {
    /// The overall deadline passed (or no further attempt could start before it).
    Deadline,
    /// `failure_threshold` consecutive failures.
    FailureThreshold,
    /// A fatal status (401, 403, 404 by default) ended the probe at once.
    FatalStatus,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deadline => "deadline reached",
            Self::FailureThreshold => "failure threshold reached",
            Self::FatalStatus => "fatal status",
        })
    }
}

/// The verdict of a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// `success_threshold` consecutive attempts passed.
    Healthy,
    /// The probe gave up.
    Unhealthy {
        /// Why the last failing attempt failed (what a person should look at).
        reason: Failure,
        /// What ended the probe.
        stopped_by: Stop,
    },
    /// The caller cancelled the probe.
    Cancelled,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy => f.write_str("healthy"),
            Self::Unhealthy { reason, stopped_by } => {
                write!(f, "unhealthy ({stopped_by}): {reason}")
            }
            Self::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// The evidence of one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When the attempt started, counted from the start of the probe.
    #[serde(rename = "offset_ms", with = "serde_duration::millis")]
    pub offset: Duration,
    /// How long the attempt took, until the body was read or it failed.
    #[serde(rename = "latency_ms", with = "serde_duration::millis")]
    pub latency: Duration,
    /// The final HTTP status, if an answer came.
    pub status: Option<u16>,
    /// Why it did not pass; `None` for a pass.
    pub failure: Option<Failure>,
    /// The start of the body, at most [`BODY_EXCERPT_BYTES`](crate::BODY_EXCERPT_BYTES) bytes,
    /// decoded lossily as UTF-8. Every header value of the spec found in the body (a server
    /// may echo the request's headers) is replaced by `[redacted]` before the body is cut, so
    /// that no part of a value is left at the cut either.
    pub body_excerpt: Option<String>,
    /// Whether the body (with header values redacted) was longer than the excerpt.
    pub body_truncated: bool,
}

impl Attempt {
    /// Whether the attempt passed every check.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt {}", self.number)?;
        if let Some(status) = self.status {
            write!(f, ": {status} in {} ms", self.latency.as_millis())?;
        }
        match &self.failure {
            None => f.write_str(", passed"),
            Some(failure) => write!(f, ", {failure}"),
        }
    }
}

/// The result of probing one target: the verdict and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The probed URL.
    pub url: Url,
    /// Healthy, unhealthy with a reason, or cancelled.
    pub verdict: Verdict,
    /// From the start of the probe (including the initial delay) to the verdict.
    #[serde(rename = "elapsed_ms", with = "serde_duration::millis")]
    pub elapsed: Duration,
    /// Every attempt in order (the oldest are dropped past
    /// [`MAX_ATTEMPTS_KEPT`](crate::MAX_ATTEMPTS_KEPT); see `attempts_dropped`).
    pub attempts: Vec<Attempt>,
    /// How many of the oldest attempts were dropped to bound memory.
    pub attempts_dropped: u32,
}

impl Outcome {
    /// Whether the verdict is [`Verdict::Healthy`].
    pub fn is_healthy(&self) -> bool {
        self.verdict == Verdict::Healthy
    }

    /// The total number of attempts made, including dropped ones.
    pub fn attempt_count(&self) -> u32 {
        self.attempts_dropped
            .saturating_add(u32::try_from(self.attempts.len()).unwrap_or(u32::MAX))
    }
}

/// A duration rounded for people: `250ms`, `1.0s`, `2m`, `1m 30s`.
pub(crate) fn human(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        let seconds = (millis + 500) / 1000;
        match (seconds / 60, seconds % 60) {
            (minutes, 0) => format!("{minutes}m"),
            (minutes, rest) => format!("{minutes}m {rest}s"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} after {} attempt(s) in {}",
            self.url,
            self.verdict,
            self.attempt_count(),
            human(self.elapsed)
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Outcome {
        Outcome {
            url: Url::parse("http://127.0.0.1:8080/healthz").unwrap(),
            verdict: Verdict::Unhealthy {
                reason: Failure::WrongVersion {
                    pointer: "/commit".into(),
                    expected: json!("new"),
                    actual: json!("old"),
                },
                stopped_by: Stop::Deadline,
            },
            elapsed: Duration::from_millis(300_000),
            attempts: vec![Attempt {
                number: 1,
                offset: Duration::from_millis(0),
                latency: Duration::from_millis(12),
                status: Some(200),
                failure: Some(Failure::WrongVersion {
                    pointer: "/commit".into(),
                    expected: json!("new"),
                    actual: json!("old"),
                }),
                body_excerpt: Some(r#"{"commit":"old"}"#.into()),
                body_truncated: false,
            }],
            attempts_dropped: 0,
        }
    }

    #[test]
    fn only_a_version_identity_mismatch_says_another_version_answers() {
        let wrong_version = Failure::WrongVersion {
            pointer: "/commit".into(),
            expected: json!("new"),
            actual: json!("old"),
        };
        let value_mismatch = Failure::ValueMismatch {
            pointer: "/status".into(),
            expected: json!("ok"),
            actual: json!("degraded"),
        };
        assert!(wrong_version.to_string().contains("another version"));
        assert_eq!(
            value_mismatch.to_string(),
            r#"`/status` is "degraded", expected "ok""#
        );
        assert_eq!(value_mismatch.class(), "value_mismatch");
        assert_eq!(
            serde_json::to_value(&value_mismatch).unwrap()["class"],
            "value_mismatch"
        );
    }

    #[test]
    fn serializes_evidence_with_classes_and_milliseconds() {
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(value["verdict"]["verdict"], "unhealthy");
        assert_eq!(value["verdict"]["stopped_by"], "deadline");
        assert_eq!(value["verdict"]["reason"]["class"], "wrong_version");
        assert_eq!(value["elapsed_ms"], 300_000);
        assert_eq!(value["attempts"][0]["latency_ms"], 12);
        assert_eq!(value["attempts"][0]["failure"]["actual"], "old");
    }

    #[test]
    fn json_round_trips() {
        let outcome = sample();
        let text = serde_json::to_string(&outcome).unwrap();
        assert_eq!(serde_json::from_str::<Outcome>(&text).unwrap(), outcome);
    }

    #[test]
    fn class_matches_the_serialized_tag() {
        let failures = [
            Failure::Status { status: 503 },
            Failure::Timeout {
                after: Duration::from_secs(5),
            },
            Failure::ConnectionRefused,
            Failure::TooSlow {
                latency: Duration::from_millis(900),
                budget: Duration::from_millis(500),
            },
            Failure::Unconfirmed {
                passes: 1,
                needed: 2,
            },
        ];
        for failure in failures {
            let value = serde_json::to_value(&failure).unwrap();
            assert_eq!(value["class"], failure.class());
        }
    }

    #[test]
    fn display_names_the_value_and_the_expectation() {
        assert_eq!(
            sample().verdict.to_string(),
            "unhealthy (deadline reached): `/commit` is \"old\", expected \"new\": another version is still answering"
        );
        assert_eq!(
            sample().to_string(),
            format!(
                "http://127.0.0.1:8080/healthz: {} after 1 attempt(s) in 5m",
                sample().verdict
            )
        );
    }
}
