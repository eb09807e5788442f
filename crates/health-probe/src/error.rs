//! The one error type of the crate: everything that can be wrong before a probe starts.

/// What went wrong while turning configuration into a probe, or while building the prober.
///
/// A probe that runs never fails with this type: its result is an [`Outcome`](crate::Outcome),
/// healthy or not, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL to probe is not usable.
    #[error("invalid health url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused and what to use instead.
        reason: String,
    },
    /// A setting has a value the prober cannot work with.
    #[error("invalid probe setting `{key}` = {value}: {reason}")]
    InvalidSetting {
        /// The setting: its [`ProbeConfig`](crate::ProbeConfig) field, which is also the
        /// [`ProbeSpecBuilder`](crate::ProbeSpecBuilder) method that sets it.
        key: &'static str,
        /// The offending value.
        value: String,
        /// Why it was refused and what to write instead.
        reason: String,
    },
    /// A header name or value cannot be sent.
    #[error("invalid probe header `{name}`: {reason}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// Why it was refused (the value itself is never shown, it may be a secret).
        reason: String,
    },
    /// A JSON pointer does not start with `/`.
    #[error(
        "invalid json pointer `{pointer}`: a pointer is empty or starts with `/`, e.g. `/commit`"
    )]
    InvalidPointer {
        /// The pointer as given.
        pointer: String,
    },
    /// An expected value names a placeholder the caller did not supply.
    #[error(
        "unknown placeholder `{{{name}}}` in the expected value at `{pointer}`: known placeholders are {known}"
    )]
    UnknownPlaceholder {
        /// The placeholder's name, without braces.
        name: String,
        /// The JSON pointer whose expected value contains it.
        pointer: String,
        /// The names that are available, comma separated.
        known: String,
    },
    /// An expected value has a `{` without its closing `}`.
    #[error(
        "unclosed placeholder in the expected value at `{pointer}`: `{value}` has a `{{` without `}}`"
    )]
    UnclosedPlaceholder {
        /// The JSON pointer whose expected value contains it.
        pointer: String,
        /// The value as written.
        value: String,
    },
    /// The HTTP client could not be built (for example no TLS roots on this system).
    #[error("cannot build the http client for probing: {reason}")]
    Client {
        /// The underlying reason.
        reason: String,
    },
}
