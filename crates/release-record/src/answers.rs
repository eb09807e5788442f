//! GitHub's answers: error statuses and bodies mapped to [`Error`], GraphQL's errors in a 200,
//! the waits rate limits ask for, and the token scrubbed from anything quoted.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::client::{Answer, Call};

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct GraphqlErrors {
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Deserialize)]
struct GraphqlError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

/// A 200 from the GraphQL API may still carry errors: rate limits, permissions, not found.
pub(crate) fn check_graphql(call: &Call, headers: &HeaderMap, body: &str) -> Result<(), Error> {
    let Ok(parsed) = serde_json::from_str::<GraphqlErrors>(body) else {
        return Ok(());
    };
    if parsed.errors.is_empty() {
        return Ok(());
    }
    let endpoint = call.label.clone();
    let messages: Vec<String> = parsed
        .errors
        .iter()
        .map(|error| error.message.clone())
        .collect();
    let kinds: Vec<&str> = parsed
        .errors
        .iter()
        .filter_map(|error| error.kind.as_deref())
        .collect();
    let message = messages.join("; ");
    if kinds.contains(&"RATE_LIMITED") {
        return Err(Error::RateLimited {
            endpoint,
            secondary: false,
            retry_after: wait_of(headers, false),
            message,
        });
    }
    if kinds.contains(&"FORBIDDEN") || message.contains("Resource not accessible") {
        return Err(Error::MissingPermission {
            endpoint,
            permission: call.access.permission(),
            message,
        });
    }
    if kinds.contains(&"NOT_FOUND") {
        return Err(Error::NotFound {
            endpoint,
            resource: call.resource.clone(),
            message,
        });
    }
    Err(Error::Graphql { endpoint, messages })
}

/// How long GitHub asked to wait: `retry-after`, else until `x-ratelimit-reset` when the budget
/// is spent, else (a secondary limit without either) one minute, as GitHub's docs advise.
pub(crate) fn wait_of(headers: &HeaderMap, secondary: bool) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header(RETRY_AFTER.as_str()).and_then(|value| value.parse().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    if header("x-ratelimit-remaining") == Some("0")
        && let Some(reset) = header("x-ratelimit-reset").and_then(|value| value.parse::<u64>().ok())
    {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
    }
    secondary.then_some(Duration::from_secs(60))
}

/// Turn an error answer into the matching [`Error`].
pub(crate) fn classify(call: &Call, status: StatusCode, headers: &HeaderMap, body: &str) -> Error {
    let endpoint = call.label.clone();
    if status.is_redirection() {
        return Error::Redirected {
            endpoint,
            status: status.as_u16(),
            location: headers
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        };
    }
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|parsed| parsed.message.clone())
        .unwrap_or_default();
    let budget_spent = headers
        .get("x-ratelimit-remaining")
        .is_some_and(|value| value.as_bytes() == b"0");
    let lowercase = message.to_ascii_lowercase();
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (headers.contains_key(RETRY_AFTER)
                || budget_spent
                || lowercase.contains("rate limit")));
    if rate_limited {
        // The hourly budget is spent only when GitHub says so; anything else is a burst limit.
        let secondary =
            lowercase.contains("secondary") || headers.contains_key(RETRY_AFTER) || !budget_spent;
        return Error::RateLimited {
            endpoint,
            secondary,
            retry_after: wait_of(headers, secondary),
            message,
        };
    }
    let Some(parsed) = parsed else {
        return Error::UnexpectedBody {
            endpoint,
            status: status.as_u16(),
            detail: format!("not a JSON error body: {}", snippet(body)),
        };
    };
    match status {
        StatusCode::UNAUTHORIZED => Error::Unauthorized { endpoint, message },
        StatusCode::FORBIDDEN if message.contains("Resource not accessible") => {
            Error::MissingPermission {
                endpoint,
                permission: call.access.permission(),
                message,
            }
        }
        StatusCode::FORBIDDEN => Error::Forbidden { endpoint, message },
        StatusCode::NOT_FOUND => Error::NotFound {
            endpoint,
            resource: call.resource.clone(),
            message,
        },
        _ => Error::Api {
            endpoint,
            status: status.as_u16(),
            message,
            errors: field_errors(parsed.errors.as_ref()),
        },
    }
}

/// GitHub's validation errors (`[{"field": "description", "message": "…"}]`) as lines.
fn field_errors(errors: Option<&serde_json::Value>) -> Vec<String> {
    let Some(serde_json::Value::Array(items)) = errors else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let field = item.get("field").and_then(serde_json::Value::as_str);
            let message = item
                .get("message")
                .and_then(serde_json::Value::as_str)
                .or_else(|| item.get("code").and_then(serde_json::Value::as_str))
                .unwrap_or_default();
            match field {
                Some(field) => format!("{field}: {message}"),
                None => message.to_owned(),
            }
        })
        .collect()
}

/// `text` with every occurrence of the token replaced by `[redacted]`.
pub(crate) fn scrub(text: &str, token: &str) -> String {
    let token = token.trim();
    if token.len() < 4 {
        return text.to_owned();
    }
    text.replace(token, "[redacted]")
}

fn snippet(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(120).collect();
    if flat.chars().count() > 120 {
        cut.push('…');
    }
    if cut.is_empty() {
        "(empty body)".to_owned()
    } else {
        format!("{cut:?}")
    }
}

/// Parse a successful answer's JSON.
pub(crate) fn parse<T: DeserializeOwned>(call: &Call, answer: &Answer) -> Result<T, Error> {
    serde_json::from_str(&answer.body).map_err(|error| Error::UnexpectedBody {
        endpoint: call.label.clone(),
        status: answer.status.as_u16(),
        detail: format!("{error} in {}", snippet(&answer.body)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_scrubbed() {
        let scrubbed = scrub(
            "Authorization: Bearer ghs_abcdef123456 seen",
            "ghs_abcdef123456",
        );
        assert_eq!(scrubbed, "Authorization: Bearer [redacted] seen");
    }

    #[test]
    fn secondary_limits_without_headers_wait_a_minute() {
        assert_eq!(
            wait_of(&HeaderMap::new(), true),
            Some(Duration::from_secs(60))
        );
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(wait_of(&headers, true), Some(Duration::from_secs(7)));
    }
}
