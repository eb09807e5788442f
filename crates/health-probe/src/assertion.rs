//! Assertions on the body of an answer.

use std::fmt;

use serde_json::Value;

use crate::{Error, Failure, Glob};

/// One check on the body of an answer; an attempt passes only if all of its assertions hold.
///
/// ```
/// use health_probe::{Assertion, Glob};
///
/// let commit = Assertion::json_equals("/commit", "4f2a9c1".into())?;
/// let version = Assertion::json_matches("/version", Glob::new("1.4.*"))?;
/// let ready = Assertion::body_contains("ready");
/// assert_eq!(commit.to_string(), "`/commit` == \"4f2a9c1\"");
/// # let _ = (version, ready);
/// # Ok::<(), health_probe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    kind: Kind,
    identity: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    JsonEquals { pointer: String, expected: Value },
    JsonMatches { pointer: String, pattern: Glob },
    BodyContains { text: String },
}

fn validate_pointer(pointer: &str) -> Result<String, Error> {
    if pointer.is_empty() || pointer.starts_with('/') {
        Ok(pointer.to_owned())
    } else {
        Err(Error::InvalidPointer {
            pointer: pointer.to_owned(),
        })
    }
}

impl Assertion {
    /// The JSON value at `pointer` (RFC 6901, e.g. `/commit`, `/build/version`) equals `expected`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPointer`] if `pointer` is neither empty nor starts with `/`.
    pub fn json_equals(pointer: &str, expected: Value) -> Result<Self, Error> {
        let pointer = validate_pointer(pointer)?;
        Ok(Self {
            kind: Kind::JsonEquals { pointer, expected },
            identity: false,
        })
    }

    /// The JSON value at `pointer` matches the glob `pattern`; a string is matched as is, any
    /// other value by its JSON text (so `/build` = `4?` matches the number 42).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPointer`] if `pointer` is neither empty nor starts with `/`.
    pub fn json_matches(pointer: &str, pattern: Glob) -> Result<Self, Error> {
        let pointer = validate_pointer(pointer)?;
        Ok(Self {
            kind: Kind::JsonMatches { pointer, pattern },
            identity: false,
        })
    }

    /// The body, decoded lossily as UTF-8, contains `text`.
    pub fn body_contains(text: impl Into<String>) -> Self {
        Self {
            kind: Kind::BodyContains { text: text.into() },
            identity: false,
        }
    }

    /// This assertion, marked as identifying the version under probe (the expected commit or
    /// release). An answer that fails it with another value comes from *another version*, for
    /// example the previous container during a rolling update: the attempt does not pass, but
    /// it never counts toward the failure threshold. A missing value or a body that is not JSON
    /// names no version, and counts like any other failure.
    ///
    /// [`ProbeConfig::to_spec`](crate::ProbeConfig::to_spec) marks every assertion whose
    /// expected value uses a variable added with
    /// [`Variables::with_identity`](crate::Variables::with_identity).
    ///
    /// ```
    /// use health_probe::Assertion;
    ///
    /// let commit = Assertion::json_equals("/commit", "4f2a9c1".into())?.identifying_version();
    /// assert!(commit.identifies_version());
    /// # Ok::<(), health_probe::Error>(())
    /// ```
    #[must_use]
    pub fn identifying_version(mut self) -> Self {
        self.identity = true;
        self
    }

    /// Whether this assertion identifies the version under probe.
    pub fn identifies_version(&self) -> bool {
        self.identity
    }

    /// Whether `failure`, from this assertion, says that another version answered.
    pub(crate) fn names_another_version(&self, failure: &Failure) -> bool {
        self.identity
            && matches!(
                failure,
                Failure::WrongVersion { .. }
                    | Failure::PatternMismatch { .. }
                    | Failure::BodyMissingText { .. }
            )
    }

    /// Whether this assertion reads the body as JSON.
    pub(crate) fn needs_json(&self) -> bool {
        !matches!(self.kind, Kind::BodyContains { .. })
    }

    /// Checks the body; `json` is the body parsed once per attempt (an error if it is not JSON).
    pub(crate) fn check(&self, body: &str, json: &Result<Value, String>) -> Result<(), Failure> {
        let resolve = |pointer: &str| -> Result<Value, Failure> {
            let document = json.as_ref().map_err(|detail| Failure::NotJson {
                detail: detail.clone(),
            })?;
            document
                .pointer(pointer)
                .cloned()
                .ok_or_else(|| Failure::PointerMissing {
                    pointer: pointer.to_owned(),
                })
        };
        match &self.kind {
            Kind::JsonEquals { pointer, expected } => {
                let actual = resolve(pointer)?;
                if &actual == expected {
                    Ok(())
                } else if self.identity {
                    Err(Failure::WrongVersion {
                        pointer: pointer.clone(),
                        expected: expected.clone(),
                        actual,
                    })
                } else {
                    Err(Failure::ValueMismatch {
                        pointer: pointer.clone(),
                        expected: expected.clone(),
                        actual,
                    })
                }
            }
            Kind::JsonMatches { pointer, pattern } => {
                let actual = resolve(pointer)?;
                let matched = match &actual {
                    Value::String(text) => pattern.is_match(text),
                    other => pattern.is_match(&other.to_string()),
                };
                if matched {
                    Ok(())
                } else {
                    Err(Failure::PatternMismatch {
                        pointer: pointer.clone(),
                        pattern: pattern.clone(),
                        actual,
                    })
                }
            }
            Kind::BodyContains { text } => {
                if body.contains(text.as_str()) {
                    Ok(())
                } else {
                    Err(Failure::BodyMissingText { text: text.clone() })
                }
            }
        }
    }
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::JsonEquals { pointer, expected } => write!(f, "`{pointer}` == {expected}"),
            Kind::JsonMatches { pointer, pattern } => write!(f, "`{pointer}` matches `{pattern}`"),
            Kind::BodyContains { text } => write!(f, "body contains {text:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(assertion: &Assertion, body: &str) -> Result<(), Failure> {
        let json = serde_json::from_str::<Value>(body).map_err(|error| error.to_string());
        assertion.check(body, &json)
    }

    #[test]
    fn json_equals_reports_expected_and_actual() {
        let assertion = Assertion::json_equals("/status", json!("ok")).unwrap();
        assert_eq!(run(&assertion, r#"{"status":"ok"}"#), Ok(()));
        assert_eq!(
            run(&assertion, r#"{"status":"degraded"}"#),
            Err(Failure::ValueMismatch {
                pointer: "/status".into(),
                expected: json!("ok"),
                actual: json!("degraded"),
            })
        );
        let assertion = Assertion::json_equals("/commit", json!("new"))
            .unwrap()
            .identifying_version();
        assert_eq!(run(&assertion, r#"{"commit":"new"}"#), Ok(()));
        assert_eq!(
            run(&assertion, r#"{"commit":"old"}"#),
            Err(Failure::WrongVersion {
                pointer: "/commit".into(),
                expected: json!("new"),
                actual: json!("old"),
            })
        );
    }

    #[test]
    fn missing_pointer_and_non_json_are_their_own_failures() {
        let assertion = Assertion::json_equals("/commit", json!("new")).unwrap();
        assert_eq!(
            run(&assertion, r#"{"version":"1"}"#),
            Err(Failure::PointerMissing {
                pointer: "/commit".into()
            })
        );
        assert!(matches!(
            run(&assertion, "<html>502</html>"),
            Err(Failure::NotJson { .. })
        ));
    }

    #[test]
    fn json_matches_uses_the_glob_on_strings_and_json_text() {
        let version = Assertion::json_matches("/version", Glob::new("1.4.*")).unwrap();
        assert_eq!(run(&version, r#"{"version":"1.4.2"}"#), Ok(()));
        assert!(matches!(
            run(&version, r#"{"version":"1.5.0"}"#),
            Err(Failure::PatternMismatch { .. })
        ));
        let build = Assertion::json_matches("/build", Glob::new("4?")).unwrap();
        assert_eq!(run(&build, r#"{"build":42}"#), Ok(()));
    }

    #[test]
    fn body_contains_needs_no_json() {
        let assertion = Assertion::body_contains("ok");
        assert!(!assertion.needs_json());
        assert_eq!(run(&assertion, "all ok"), Ok(()));
        assert_eq!(
            run(&assertion, "starting"),
            Err(Failure::BodyMissingText { text: "ok".into() })
        );
    }

    #[test]
    fn only_a_different_value_from_an_identity_assertion_names_another_version() {
        let commit = Assertion::json_equals("/commit", json!("new"))
            .unwrap()
            .identifying_version();
        let other = run(&commit, r#"{"commit":"old"}"#).unwrap_err();
        assert!(commit.names_another_version(&other));
        let missing = run(&commit, r#"{"status":"ok"}"#).unwrap_err();
        assert!(!commit.names_another_version(&missing));
        let not_json = run(&commit, "<html>502</html>").unwrap_err();
        assert!(!commit.names_another_version(&not_json));
        let plain = Assertion::json_equals("/status", json!("ok")).unwrap();
        let degraded = run(&plain, r#"{"status":"degraded"}"#).unwrap_err();
        assert!(!plain.names_another_version(&degraded));
    }

    #[test]
    fn pointers_must_start_with_a_slash() {
        assert_eq!(
            Assertion::json_equals("commit", json!("x")),
            Err(Error::InvalidPointer {
                pointer: "commit".into()
            })
        );
        assert!(Assertion::json_equals("", json!({})).is_ok());
    }
}
