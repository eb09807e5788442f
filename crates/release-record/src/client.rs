//! The HTTP side: configuration, requests, retries and error mapping for GitHub's REST and
//! GraphQL APIs.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use url::Url;

use crate::answers::{check_graphql, classify, scrub};
use crate::{Error, Repository};

/// GitHub's REST API version this crate speaks.
pub(crate) const API_VERSION: &str = "2022-11-28";

/// How failed requests are retried.
///
/// Reads (listing deployments, the GraphQL queries) and deployment statuses (an append-only
/// log, where a repeated status changes nothing a reader sees) are retried on transport errors,
/// timeouts, 5xx and rate limits. Creating a deployment is retried only when GitHub proves it
/// did nothing: a rate-limit refusal, or a connection that never opened; a timeout or a 5xx
/// could have created it, and a retry would make a second one. A rate limit's `retry-after` (or
/// `x-ratelimit-reset`) replaces the computed delay; no retry starts past the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    max_retries: usize,
    min_delay: Duration,
    max_delay: Duration,
    deadline: Duration,
}

impl Default for RetryPolicy {
    /// Up to 4 retries, 500 ms doubling to 8 s with jitter, all within 90 s.
    fn default() -> Self {
        Self {
            max_retries: 4,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            deadline: Duration::from_secs(90),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How many retries after the first attempt.
    #[must_use]
    pub fn max_retries(mut self, max_retries: usize) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The first backoff delay (doubling, jittered, up to `max_delay`).
    #[must_use]
    pub fn min_delay(mut self, min_delay: Duration) -> Self {
        self.min_delay = min_delay;
        self
    }

    /// The largest computed delay (a rate limit's wait may exceed it, within the deadline).
    #[must_use]
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// No retry starts when its delay would end later than this after the first attempt: give
    /// the time a run may spend on its record (for example what is left of a deploy deadline).
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

/// Which failures a request may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// A read, or an append-only write: transport errors, timeouts, 5xx and rate limits.
    Safe,
    /// A write that must not happen twice: only when GitHub proves nothing happened.
    WhenNothingHappened,
}

impl Replay {
    fn allows(self, error: &Error) -> bool {
        match (self, error) {
            (_, Error::RateLimited { .. }) => true,
            (Self::Safe, Error::Transport { .. } | Error::Timeout { .. }) => true,
            (Self::Safe, Error::Api { status, .. } | Error::UnexpectedBody { status, .. }) => {
                *status >= 500
            }
            (Self::WhenNothingHappened, Error::Transport { source, .. }) => source.is_connect(),
            _ => false,
        }
    }
}

/// What a request needs of the token, for the 403 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Access {
    pub(crate) fn permission(self) -> &'static str {
        match self {
            Self::Read => "deployments: read",
            Self::Write => "deployments: write",
        }
    }
}

/// Builds a [`Recorder`](crate::Recorder); see [`Recorder::builder`](crate::Recorder::builder).
pub struct RecorderBuilder {
    pub(crate) repository: Repository,
    pub(crate) token: SecretString,
    pub(crate) api_url: String,
    pub(crate) graphql_url: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) redact: Option<Redact>,
}

/// A caller's redaction: what it returns is sent in place of the text it was given.
pub(crate) type Redact = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// What every text a recorder writes goes through before it leaves: its own token is replaced
/// by `[redacted]`, then the caller's redaction applies. Texts are redacted before they are
/// cut to GitHub's length, so a cut cannot leave part of a secret.
#[derive(Clone)]
pub(crate) struct Redactor {
    token: SecretString,
    custom: Option<Redact>,
}

impl Redactor {
    pub(crate) fn new(token: SecretString, custom: Option<Redact>) -> Self {
        Self { token, custom }
    }

    /// `text` as it may be sent.
    pub(crate) fn text(&self, text: &str) -> String {
        let token = self.token.expose_secret();
        let mut text = if token.is_empty() {
            text.to_owned()
        } else {
            text.replace(token, "[redacted]")
        };
        if let Some(custom) = &self.custom {
            text = custom(&text);
        }
        text
    }

    /// Every string of `value` (keys kept), as it may be sent.
    pub(crate) fn value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => *text = self.text(text),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            serde_json::Value::Object(fields) => {
                fields.values_mut().for_each(|field| self.value(field));
            }
            _ => {}
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Redactor")
            .field("custom", &self.custom.as_ref().map(|_| "caller's"))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RecorderBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RecorderBuilder")
            .field("repository", &self.repository)
            .field("token", &"[redacted]")
            .field("api_url", &self.api_url)
            .field("graphql_url", &self.graphql_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "caller's"),
            )
            .field("redact", &self.redact.as_ref().map(|_| "caller's"))
            .finish()
    }
}

impl RecorderBuilder {
    /// The REST API's root (default `https://api.github.com`): `GITHUB_API_URL` under Actions,
    /// `https://HOST/api/v3` for GitHub Enterprise Server.
    #[must_use]
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into();
        self
    }

    /// The GraphQL endpoint, when it is not the one the API URL implies (`https://api.github.com/graphql`;
    /// `https://HOST/api/graphql` for an API URL ending in `/api/v3`).
    #[must_use]
    pub fn graphql_url(mut self, url: impl Into<String>) -> Self {
        self.graphql_url = Some(url.into());
        self
    }

    /// Time allowed to open a connection (default 10 s); not applied to a client given with
    /// [`RecorderBuilder::http_client`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one request, body included (default 30 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The `User-Agent` GitHub requires (default `release-record/<version>`); not applied to a
    /// client given with [`RecorderBuilder::http_client`].
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Send the requests with this `reqwest` client (a shared pool, a proxy, another TLS
    /// setup). Build it with `redirect(reqwest::redirect::Policy::none())` and a user agent.
    #[must_use]
    pub fn http_client(mut self, http_client: reqwest::Client) -> Self {
        self.http_client = Some(http_client);
        self
    }

    /// Apply `redact` to every text the recorder writes to GitHub (the deployment's payload and
    /// description, each status's description) before it is sent, and before a description is
    /// cut to GitHub's 140 characters: for example, to replace the credentials of a program
    /// that evidence may quote. The recorder's own token is always replaced by `[redacted]`.
    ///
    /// ```
    /// use release_record::{Recorder, Repository};
    ///
    /// let recorder = Recorder::builder(Repository::new("acme", "api")?, "ghs_example".into())
    ///     .redact(|text| text.replace("probe-header-value", "[redacted]"))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn redact(mut self, redact: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.redact = Some(Arc::new(redact));
        self
    }

    /// Check the settings and build the recorder.
    ///
    /// Unless [`RecorderBuilder::http_client`] gave one, TLS is reqwest's rustls (its
    /// aws-lc-rs provider and the platform's certificate roots, with the default `rustls`
    /// feature), for this client only: the process-wide default provider is neither read nor
    /// installed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an API or GraphQL URL that does not parse, uses `http` for
    /// a host that is not loopback, or carries credentials, a query or a fragment; for an empty
    /// token, a zero timeout or an unusable user agent; [`Error::Transport`] when the HTTP
    /// client cannot be built (for example when the platform's roots cannot be loaded).
    pub fn build(self) -> Result<crate::Recorder, Error> {
        let rest = checked_url("api_url", &self.api_url)?;
        let rest = with_trailing_slash(rest);
        let graphql = match &self.graphql_url {
            Some(url) => checked_url("graphql_url", url)?,
            None => graphql_of(&rest),
        };
        for (field, timeout) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if timeout.is_zero() {
                return Err(Error::InvalidConfig {
                    field,
                    value: format!("{timeout:?}"),
                    reason: "a zero timeout fails every request; use a positive duration"
                        .to_owned(),
                });
            }
        }
        if self.token.expose_secret().trim().is_empty() {
            return Err(Error::InvalidConfig {
                field: "token",
                value: String::new(),
                reason: "the GitHub token is empty; under Actions pass `github.token`, elsewhere a token with access to the repository".to_owned(),
            });
        }
        let http = match self.http_client {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(self.user_agent.clone())
                .connect_timeout(self.connect_timeout)
                .timeout(self.request_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|source| Error::Transport {
                    endpoint: "building the HTTP client".to_owned(),
                    source,
                })?,
        };
        Ok(crate::Recorder {
            http: Arc::new(Http {
                http,
                rest,
                graphql,
                repository: self.repository,
                redactor: Redactor::new(self.token.clone(), self.redact),
                token: self.token,
                retry: self.retry,
                request_timeout: self.request_timeout,
            }),
        })
    }
}

/// A URL checked as the token's destination: https (http only for loopback), a host, no
/// credentials, no query or fragment.
fn checked_url(field: &'static str, text: &str) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidConfig {
        field,
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(text.trim())
        .map_err(|error| invalid(&format!("{error}; use for example https://api.github.com")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => return Err(invalid("the URL has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(invalid(
                "plain http would send the token in clear text; use https (http only for a loopback host)",
            ));
        }
        _ => return Err(invalid("the scheme must be https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(Error::InvalidConfig {
            field,
            value: shown.to_string(),
            reason: "credentials in the URL are not allowed; the token is its own setting"
                .to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("remove the query and fragment"));
    }
    Ok(url)
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// The GraphQL endpoint of a REST root: `…/api/v3/` becomes `…/api/graphql` (GitHub Enterprise
/// Server), anything else gets `graphql` appended (`https://api.github.com/graphql`).
fn graphql_of(rest: &Url) -> Url {
    let mut url = rest.clone();
    let path = rest.path().trim_end_matches('/');
    let graphql = match path.strip_suffix("/api/v3") {
        Some(prefix) => format!("{prefix}/api/graphql"),
        None => format!("{path}/graphql"),
    };
    url.set_path(&graphql);
    url
}

/// The shared HTTP state of a recorder.
pub(crate) struct Http {
    http: reqwest::Client,
    rest: Url,
    graphql: Url,
    pub(crate) repository: Repository,
    /// What every text written goes through.
    pub(crate) redactor: Redactor,
    token: SecretString,
    retry: RetryPolicy,
    request_timeout: Duration,
}

impl fmt::Debug for Http {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Recorder")
            .field("repository", &self.repository)
            .field("api_url", &self.rest.as_str())
            .field("graphql_url", &self.graphql.as_str())
            .field("token", &"[redacted]")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// One request: where, what it needs of the token, and how it may be repeated.
pub(crate) struct Call {
    method: Method,
    url: Url,
    pub(crate) label: String,
    pub(crate) resource: String,
    pub(crate) access: Access,
    replay: Replay,
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
}

/// A successful answer.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
}

impl Http {
    pub(crate) fn api_url(&self) -> &Url {
        &self.rest
    }

    pub(crate) fn graphql_url(&self) -> &Url {
        &self.graphql
    }

    /// A REST call under `/repos/{owner}/{name}/`, each segment pushed (never formatted into
    /// the path, so no value can change it).
    pub(crate) fn rest(
        &self,
        method: Method,
        segments: &[&str],
        access: Access,
        replay: Replay,
    ) -> Call {
        let mut url = self.rest.clone();
        let mut all = vec!["repos", self.repository.owner(), self.repository.name()];
        all.extend_from_slice(segments);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(&all);
        }
        let resource = match segments {
            ["deployments", id, ..] => format!("deployment {id} of repository {}", self.repository),
            _ => format!("repository {}", self.repository),
        };
        Call {
            label: format!("{method} /{}", all.join("/")),
            method,
            url,
            resource,
            access,
            replay,
            query: Vec::new(),
            body: None,
        }
    }

    /// A GraphQL query (a read).
    pub(crate) fn graphql(&self, what: &str, query: &str, variables: serde_json::Value) -> Call {
        Call {
            method: Method::POST,
            url: self.graphql.clone(),
            label: format!("POST {} ({what})", self.graphql.path()),
            resource: format!("repository {}", self.repository),
            access: Access::Read,
            replay: Replay::Safe,
            query: Vec::new(),
            body: Some(serde_json::json!({ "query": query, "variables": variables })),
        }
    }

    /// Send `call`, retrying as its [`Replay`] allows; `counter` counts every attempt.
    pub(crate) async fn send(
        &self,
        call: &Call,
        counter: Option<&AtomicU32>,
    ) -> Result<Answer, Error> {
        let policy = &self.retry;
        let started = Instant::now();
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_retries);
        let attempt = || async {
            if let Some(counter) = counter {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            self.attempt(call).await
        };
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|error| call.replay.allows(error))
            .adjust(|error, planned| {
                let planned = planned?;
                let delay = error.retry_after().unwrap_or(planned);
                (started.elapsed() + delay <= policy.deadline).then_some(delay)
            })
            .notify(|error, delay| {
                tracing::warn!(endpoint = %call.label, ?delay, %error, "retrying github request");
            })
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(endpoint = %call.label))]
    async fn attempt(&self, call: &Call) -> Result<Answer, Error> {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(
                ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            )
            .header(
                "X-GitHub-Api-Version",
                HeaderValue::from_static(API_VERSION),
            )
            .timeout(self.request_timeout)
            .bearer_auth(self.token.expose_secret());
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let transport = |source: reqwest::Error| {
            if source.is_timeout() {
                Error::Timeout {
                    endpoint: call.label.clone(),
                    after: self.request_timeout,
                }
            } else {
                Error::Transport {
                    endpoint: call.label.clone(),
                    source: source.without_url(),
                }
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        // A proxy's error page may echo the request, `Authorization` header included.
        let body = scrub(
            &response.text().await.map_err(transport)?,
            self.token.expose_secret(),
        );
        tracing::debug!(status = status.as_u16(), "github answered");
        if status.is_success() {
            if call.url == self.graphql {
                check_graphql(call, &headers, &body)?;
            }
            Ok(Answer { status, body })
        } else {
            Err(classify(call, status, &headers, &body))
        }
    }
}

impl Call {
    /// With these query parameters.
    pub(crate) fn query(mut self, query: Vec<(&'static str, String)>) -> Self {
        self.query = query;
        self
    }

    /// With this JSON body.
    pub(crate) fn body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_sits_beside_the_rest_root() {
        let of =
            |text: &str| graphql_of(&with_trailing_slash(Url::parse(text).unwrap())).to_string();
        assert_eq!(
            of("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            of("https://ghe.example.com/api/v3"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            of("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            of("http://127.0.0.1:9/prefix"),
            "http://127.0.0.1:9/prefix/graphql"
        );
    }

    #[test]
    fn urls_that_would_leak_the_token_are_refused() {
        assert!(checked_url("api_url", "http://api.github.com").is_err());
        assert!(checked_url("api_url", "http://127.0.0.1:8080").is_ok());
        assert!(checked_url("api_url", "https://api.github.com/?x=1").is_err());
        let error = checked_url("api_url", "https://user:hunter22@ghe.example.com").unwrap_err();
        assert!(!error.to_string().contains("hunter22"), "{error}");
    }

    #[test]
    fn building_leaves_the_process_tls_provider_alone() {
        let recorder = crate::Recorder::builder(
            "acme/api".parse().unwrap(),
            SecretString::from("ghs_token_value"),
        )
        .build()
        .unwrap();
        assert!(tokio_rustls::rustls::crypto::CryptoProvider::get_default().is_none());
        assert!(!format!("{recorder:?}").contains("ghs_token_value"));
    }
}
