//! The one error type of this crate.

use std::time::Duration;

/// Everything that can go wrong while writing or reading the record.
///
/// Every variant that comes from a request names it (`POST /repos/acme/api/deployments`).
/// The GitHub token never appears in any message: response bodies quoted here are scrubbed of
/// it. `Display` prints this error's own message only; the underlying error, if any, is its
/// [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value was rejected before any request was made.
    #[error("invalid recorder configuration: {field} = {value:?}: {reason}")]
    InvalidConfig {
        /// The setting, for example `api_url`.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// Why, and what to use instead.
        reason: String,
    },
    /// A value given to a method was rejected before any request was made.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidInput {
        /// What the value is, for example `repository`.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// Why.
        reason: String,
    },
    /// No answer could be had from GitHub: the connection failed or broke.
    #[error("{endpoint}: could not reach github (check the API URL and the network)")]
    Transport {
        /// The request.
        endpoint: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the request timeout.
    #[error("{endpoint}: no answer from github within {}", humantime::format_duration(*after))]
    Timeout {
        /// The request.
        endpoint: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// GitHub rejected the token (401).
    #[error(
        "{endpoint}: github rejected the token ({message}): it is wrong, expired or revoked; use a valid token"
    )]
    Unauthorized {
        /// The request.
        endpoint: String,
        /// GitHub's message, for example `Bad credentials`.
        message: String,
    },
    /// The token is valid but may not do this (403 "Resource not accessible by integration").
    #[error(
        "{endpoint}: the token may not do this ({message}): give it `{permission}` (in a workflow: `permissions:` with `{permission}` on the job)"
    )]
    MissingPermission {
        /// The request.
        endpoint: String,
        /// The permission the request needs, as a workflow's `permissions:` writes it:
        /// `deployments: write` or `deployments: read`.
        permission: &'static str,
        /// GitHub's message.
        message: String,
    },
    /// GitHub refused for another reason (403): an organization policy, SSO, a blocked user.
    #[error("{endpoint}: github refused the request (403): {message}")]
    Forbidden {
        /// The request.
        endpoint: String,
        /// GitHub's message.
        message: String,
    },
    /// The repository or deployment does not exist, or the token cannot see it (404).
    #[error(
        "{endpoint}: {resource} not found ({message}): check the name, and that the token can see the repository"
    )]
    NotFound {
        /// The request.
        endpoint: String,
        /// What was looked for, for example `repository acme/api`.
        resource: String,
        /// GitHub's message.
        message: String,
    },
    /// GitHub's rate limit (primary, or a secondary limit on bursts of writes) held for longer
    /// than the retry budget.
    #[error(
        "{endpoint}: github's {} rate limit{}: {message}",
        if *secondary { "secondary" } else { "primary" },
        retry_after.map(|after| format!(" (it said to wait {})", humantime::format_duration(after))).unwrap_or_default()
    )]
    RateLimited {
        /// The request.
        endpoint: String,
        /// Whether it is a secondary limit (bursts) rather than the hourly budget.
        secondary: bool,
        /// How long GitHub asked to wait (`retry-after`, or until `x-ratelimit-reset`).
        retry_after: Option<Duration>,
        /// GitHub's message.
        message: String,
    },
    /// GitHub did not create the deployment (202: it merged the default branch instead).
    #[error("{endpoint}: github did not create the deployment: {message}")]
    NotCreated {
        /// The request.
        endpoint: String,
        /// GitHub's message.
        message: String,
    },
    /// GitHub answered with another error status and a JSON message (409, 422, 5xx…).
    #[error(
        "{endpoint}: github answered {status}: {message}{}",
        field_errors(errors)
    )]
    Api {
        /// The request.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
        /// Validation errors, one per line (422).
        errors: Vec<String>,
    },
    /// The GraphQL API answered with errors.
    #[error("{endpoint}: github's graphql api answered with errors: {}", messages.join("; "))]
    Graphql {
        /// The request.
        endpoint: String,
        /// The error messages.
        messages: Vec<String>,
    },
    /// The answer was not what GitHub sends (HTML from a proxy, JSON of another shape).
    #[error(
        "{endpoint}: unexpected answer (status {status}): {detail}: check that the API URL points at GitHub's API"
    )]
    UnexpectedBody {
        /// The request.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// What was wrong, with the start of the body.
        detail: String,
    },
    /// GitHub answered with a redirect, which is not followed so that the token stays on its
    /// origin.
    #[error(
        "{endpoint}: github redirected ({status}) to {location:?}; not followed, to keep the token on its origin: set the API URL to the final address"
    )]
    Redirected {
        /// The request.
        endpoint: String,
        /// The status (3xx).
        status: u16,
        /// The `Location` header.
        location: String,
    },
}

impl Error {
    /// The HTTP status GitHub answered with, when the error came from an answer.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::MissingPermission { .. } | Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::NotCreated { .. } => Some(202),
            Self::Api { status, .. }
            | Self::UnexpectedBody { status, .. }
            | Self::Redirected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether GitHub (or the way to it) is failing for a while: a transport error, a timeout,
    /// a 5xx or a rate limit. The same call later may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } | Self::RateLimited { .. } => true,
            Self::Api { status, .. } | Self::UnexpectedBody { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether the token is at fault: rejected, or missing a permission.
    #[must_use]
    pub fn is_token_problem(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized { .. } | Self::MissingPermission { .. }
        )
    }

    /// The wait GitHub asked for, for a rate limit.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn field_errors(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_name_the_fix() {
        let error = Error::MissingPermission {
            endpoint: "POST /repos/acme/api/deployments".to_owned(),
            permission: "deployments: write",
            message: "Resource not accessible by integration".to_owned(),
        };
        let text = error.to_string();
        assert!(
            text.starts_with("POST /repos/acme/api/deployments: the token"),
            "{text}"
        );
        assert!(text.contains("`deployments: write`"), "{text}");
        assert!(!text.ends_with('.'), "{text}");
        assert!(error.is_token_problem());
        let limited = Error::RateLimited {
            endpoint: "POST /graphql".to_owned(),
            secondary: true,
            retry_after: Some(Duration::from_secs(60)),
            message: "You have exceeded a secondary rate limit.".to_owned(),
        };
        assert!(
            limited
                .to_string()
                .contains("secondary rate limit (it said to wait 1m)")
        );
        assert!(limited.is_transient());
    }
}
