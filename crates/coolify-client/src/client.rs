//! The HTTP client: configuration, one method per endpoint, retries and error mapping.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::error::Resource;
use crate::models::{
    Application, ApplicationPatch, DeployOutcome, Deployment, DeploymentPage, EnvVar, EnvVarInput,
    ForceRebuild, Project, RollbackImages,
};
use crate::pacing::{DEFAULT_SHARE, Pacer};
use crate::{ApplicationUuid, DeploymentUuid, EnvVarUuid, Error, ProjectUuid};

/// The exact message Coolify returns when it skipped a deploy because one of the same commit is queued.
pub(crate) const ALREADY_QUEUED: &str = "Deployment already queued for this commit.";

/// The start of the message of Coolify's 429 when a server's deployment queue is full.
const QUEUE_FULL: &str = "Deployment queue is full";

/// How failed idempotent requests are retried.
///
/// Only GETs are retried on transport errors, timeouts, 5xx and 429; `POST /deploy` and the
/// start/restart/stop actions only on 429 (nothing was queued); PATCH, other POSTs and DELETE never.
/// A `Retry-After` header replaces the computed delay; no retry starts past the deadline.
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

    /// The largest computed backoff delay (a server's `Retry-After` may exceed it).
    #[must_use]
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// No retry is started when its delay would end later than this after the first attempt.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

/// Which failures a request may be replayed after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Safe to repeat: transport errors, timeouts, 5xx and 429.
    Idempotent,
    /// A write where only a 429 proves nothing happened.
    OnlyWhenRateLimited,
    /// Never replayed.
    Never,
}

impl Replay {
    fn allows(self, error: &Error) -> bool {
        match self {
            Self::Idempotent => match error {
                Error::Transport { .. }
                | Error::ConnectionClosed { .. }
                | Error::Timeout { .. }
                | Error::RateLimited { .. }
                | Error::QueueFull { .. } => true,
                Error::Api { status, .. } | Error::UnexpectedBody { status, .. } => *status >= 500,
                _ => false,
            },
            Self::OnlyWhenRateLimited => {
                matches!(error, Error::RateLimited { .. } | Error::QueueFull { .. })
            }
            Self::Never => false,
        }
    }
}

/// Whether a [`Client`] may send its token over plain http to a host other than this machine.
///
/// The API token travels in every request's `Authorization` header: over plain http anyone on
/// the network path can read it and act on Coolify with its abilities. Coolify's own install
/// serves its API on `http://<server-ip>:8000`; put it behind https (Coolify's proxy does this
/// for a domain) rather than allowing plain http, and allow it only on a network you trust,
/// such as a private link to the server.
///
/// ```
/// use coolify_client::{Client, PlainHttp};
/// use coolify_client::secrecy::SecretString;
///
/// let token = SecretString::from("1|token");
/// // Refused by default: the token would cross the network in clear text.
/// assert!(Client::builder("http://10.0.0.5:8000", token.clone()).build().is_err());
/// // Allowed when asked for; the client says so, so a caller can warn on every run.
/// let client = Client::builder("http://10.0.0.5:8000", token)
///     .plain_http(PlainHttp::AnyHost)
///     .build()?;
/// assert!(client.sends_token_in_clear_text());
/// # Ok::<(), coolify_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlainHttp {
    /// https for every host; plain http only for a loopback host (`localhost`, `127.0.0.1`,
    /// `[::1]`), where the token never leaves the machine. The default.
    #[default]
    LoopbackOnly,
    /// Plain http to any host too: the token crosses the network in clear text.
    /// [`ClientBuilder::build`] logs a warning (`tracing`) when it builds such a client, and
    /// [`Client::sends_token_in_clear_text`] tells it.
    AnyHost,
}

/// Builds a [`Client`]; see [`Client::builder`].
pub struct ClientBuilder {
    base_url: String,
    token: SecretString,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    plain_http: PlainHttp,
    #[cfg(feature = "rustls")]
    trusted: Vec<reqwest::Certificate>,
    http_client: Option<reqwest::Client>,
    rate_limit_share: u8,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &"[redacted]")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("plain_http", &self.plain_http)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "caller's"),
            )
            .field("rate_limit_share", &self.rate_limit_share)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Time allowed to open a connection (default 10 s); not applied to a client given with
    /// [`ClientBuilder::http_client`], which keeps its own.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one request from sending to the end of the body (default 30 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `coolify-client/<version>`); not applied to a client
    /// given with [`ClientBuilder::http_client`], which keeps its own.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How idempotent requests are retried (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The share of Coolify's rate limit this client keeps to, in percent (default 50): its
    /// requests stay within that part of the limit Coolify announces in any minute, leaving
    /// the rest to the other tools of the same Coolify user; see [`Client`] for how it paces.
    /// Every clone of the client shares it.
    #[must_use]
    pub fn rate_limit_share(mut self, percent: u8) -> Self {
        self.rate_limit_share = percent;
        self
    }

    /// Whether plain http to a host other than this machine is allowed (default
    /// [`PlainHttp::LoopbackOnly`]); see [`PlainHttp`] for what it exposes.
    #[must_use]
    pub fn plain_http(mut self, plain_http: PlainHttp) -> Self {
        self.plain_http = plain_http;
        self
    }

    /// Trust this certificate as a root, besides the platform's: the certificate of a private
    /// CA that signed Coolify's, or a self-signed Coolify's own. Not applied to a client given
    /// with [`ClientBuilder::http_client`] (build that one with
    /// `reqwest::ClientBuilder::tls_certs_merge`).
    ///
    /// ```
    /// use coolify_client::{Client, reqwest::Certificate};
    /// use coolify_client::secrecy::SecretString;
    ///
    /// # fn run(pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// // The PEM file of the CA, for example read with std::fs::read.
    /// let ca = Certificate::from_pem(pem)?;
    /// let client = Client::builder("https://coolify.internal", SecretString::from("1|token"))
    ///     .trust_certificate(ca)
    ///     .build()?;
    /// # drop(client);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn trust_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.trusted.push(certificate);
        self
    }

    /// Send the requests with this `reqwest` client instead of one built here: to share a
    /// connection pool, use a proxy, or choose the TLS setup.
    ///
    /// Its connect timeout, user agent, TLS and redirect policy are its own; the request
    /// timeout, the retries and the `Authorization` and `Accept` headers of each request still
    /// come from this builder. Build it with `redirect(reqwest::redirect::Policy::none())`:
    /// this crate reports a redirect as [`Error::Redirected`] and never means to follow one.
    ///
    /// With the default `rustls` feature, a client built with [`reqwest::Client::builder`]
    /// works as it is: reqwest uses rustls with its aws-lc-rs provider, or the process-wide
    /// default provider if the program installed one, and nothing needs installing first.
    /// Without the feature this crate enables no TLS in reqwest: enable a TLS feature of
    /// `reqwest` in your own manifest (`rustls` or `native-tls`) for https, or the requests to
    /// an https base URL fail with [`Error::Transport`].
    ///
    /// ```
    /// use coolify_client::{Client, reqwest};
    /// use coolify_client::secrecy::SecretString;
    ///
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()?;
    /// let client = Client::builder("https://coolify.example.com", SecretString::from("1|token"))
    ///     .http_client(http)
    ///     .build()?;
    /// # drop(client);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn http_client(mut self, http_client: reqwest::Client) -> Self {
        self.http_client = Some(http_client);
        self
    }

    /// Validate the settings and build the client.
    ///
    /// Unless [`ClientBuilder::http_client`] gave one, the HTTP client verifies TLS against
    /// the platform's roots (and those of [`ClientBuilder::trust_certificate`]) with rustls,
    /// on reqwest's default provider (aws-lc-rs), chosen for this client only: the process-wide
    /// default provider is never installed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the base URL does not parse, uses `http` for a host that is
    /// not loopback without [`PlainHttp::AnyHost`], carries a query, fragment or credentials,
    /// when the user agent or a timeout is unusable, or the rate limit share is not 1 to 100
    /// percent; [`Error::TlsUnavailable`] for an https URL when the crate was built without its
    /// `rustls` feature and no HTTP client was given; [`Error::Transport`] when the HTTP client
    /// cannot be initialised (for example when the platform's certificate roots cannot be
    /// loaded).
    pub fn build(self) -> Result<Client, Error> {
        let api_base = api_base(&self.base_url, self.plain_http)?;
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
        if !(1..=100).contains(&self.rate_limit_share) {
            return Err(Error::InvalidConfig {
                field: "rate_limit_share",
                value: self.rate_limit_share.to_string(),
                reason: "a percentage of Coolify's rate limit from 1 to 100; the default is 50"
                    .to_owned(),
            });
        }
        if self.token.expose_secret().trim().is_empty() {
            return Err(Error::InvalidConfig {
                field: "token",
                value: String::new(),
                reason: "the API token is empty; create one in Coolify under Keys & Tokens"
                    .to_owned(),
            });
        }
        let http = match self.http_client {
            Some(http) => http,
            None => {
                let builder = reqwest::Client::builder()
                    .user_agent(self.user_agent.clone())
                    .connect_timeout(self.connect_timeout)
                    .timeout(self.request_timeout)
                    .redirect(reqwest::redirect::Policy::none());
                #[cfg(feature = "rustls")]
                let builder = builder
                    .tls_backend_rustls()
                    .tls_certs_merge(self.trusted.iter().cloned());
                #[cfg(not(feature = "rustls"))]
                if api_base.scheme() == "https" {
                    return Err(Error::TlsUnavailable {
                        base_url: api_base.to_string(),
                    });
                }
                builder.build().map_err(|source| Error::Transport {
                    endpoint: "building the HTTP client".to_owned(),
                    source,
                })?
            }
        };
        let clear_text = api_base.scheme() == "http" && !is_loopback(&api_base);
        if clear_text {
            tracing::warn!(
                api_base = %api_base,
                "plain http to a host that is not this machine: the coolify API token crosses the network in clear text"
            );
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                api_base,
                token: self.token,
                retry: self.retry,
                request_timeout: self.request_timeout,
                pacer: Pacer::new(self.rate_limit_share),
                clear_text,
            }),
        })
    }
}

/// The API root (`…/api/v1/`) of a Coolify base URL, checked as [`ClientBuilder::build`]
/// checks it with the same [`PlainHttp`] setting, so a caller can refuse a bad URL when it
/// reads its configuration, before any token is read or request is made.
///
/// The base URL is the address of the Coolify instance, with or without a trailing `/api/v1`.
///
/// ```
/// use coolify_client::{PlainHttp, api_base_url};
///
/// let api = api_base_url("https://coolify.example.com", PlainHttp::LoopbackOnly)?;
/// assert_eq!(api.as_str(), "https://coolify.example.com/api/v1/");
/// assert!(api_base_url("http://127.0.0.1:8000", PlainHttp::LoopbackOnly).is_ok());
/// assert!(api_base_url("http://coolify.example.com", PlainHttp::LoopbackOnly).is_err());
/// assert!(api_base_url("http://coolify.example.com", PlainHttp::AnyHost).is_ok());
/// # Ok::<(), coolify_client::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidConfig`] for the field `base_url` when the text is not a URL, its scheme is
/// neither https nor http, it is http for a host that is not loopback with
/// [`PlainHttp::LoopbackOnly`] (plain http would send the token in clear text), it has no
/// host, or it holds credentials, a query or a fragment.
pub fn api_base_url(base_url: &str, plain_http: PlainHttp) -> Result<Url, Error> {
    api_base(base_url, plain_http)
}

/// The API root (`…/api/v1/`) of a Coolify base URL, validated.
fn api_base(base_url: &str, plain_http: PlainHttp) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidConfig {
        field: "base_url",
        value: base_url.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(base_url.trim()).map_err(|error| {
        invalid(&format!(
            "{error}; use for example https://coolify.example.com"
        ))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) || plain_http == PlainHttp::AnyHost => {}
        "http" => {
            return Err(invalid(
                "plain http would send the token in clear text to another machine; use https, or allow plain http explicitly (PlainHttp::AnyHost) on a network you trust",
            ));
        }
        _ => {
            return Err(invalid(
                "the scheme must be https (or http for a loopback host)",
            ));
        }
    }
    if url.host().is_none() {
        return Err(invalid("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // The value is quoted without them: the error must not carry a password.
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(Error::InvalidConfig {
            field: "base_url",
            value: shown.to_string(),
            reason: "credentials in the URL are not allowed; the token goes in its own setting"
                .to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("remove the query and fragment"));
    }
    let mut path = url.path().trim_end_matches('/').to_owned();
    if let Some(stripped) = path.strip_suffix("/api/v1") {
        path = stripped.to_owned();
    }
    let mut api = url;
    api.set_path(&format!("{path}/api/v1/"));
    Ok(api)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// An async client for one Coolify instance; cheap to clone, `Send + Sync`.
///
/// # Pacing
///
/// Coolify allows each user a number of requests a minute (200 by default, shared by all the
/// user's tokens) and tells how many on every answer. A client reads that and keeps its own
/// requests within its share of it ([`ClientBuilder::rate_limit_share`], half by default): a
/// burst of a quarter of the share, then evenly spaced. When the user's budget is nearly spent
/// (by another tool too) it waits for Coolify's window to end, and after a `429` every request
/// of the client waits out the one `Retry-After` together. All clones share the pacing. A
/// request bounded by a deadline (following a deployment) is never held past it: it fails with
/// [`Error::Throttled`] instead.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_base: Url,
    token: SecretString,
    retry: RetryPolicy,
    request_timeout: Duration,
    pacer: Pacer,
    /// Plain http to a host that is not loopback ([`PlainHttp::AnyHost`]).
    clear_text: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Client")
            .field("api_base", &self.inner.api_base.as_str())
            .field("token", &"[redacted]")
            .field("retry", &self.inner.retry)
            .field("sends_token_in_clear_text", &self.inner.clear_text)
            .finish_non_exhaustive()
    }
}

/// One endpoint call: method, path segments under `/api/v1/`, and how it is named in errors.
///
/// The segments are pushed onto the API root one by one ([`Endpoint::url`]), so a value in a
/// segment can never change the path: a `/` is percent-encoded, `.` and `..` are dropped.
pub(crate) struct Endpoint {
    method: Method,
    segments: Vec<String>,
    label: String,
}

impl Endpoint {
    pub(crate) fn new(method: Method, segments: &[&str]) -> Self {
        let label = format!("{method} /api/v1/{}", segments.join("/"));
        Self {
            method,
            segments: segments.iter().map(|&segment| segment.to_owned()).collect(),
            label,
        }
    }

    /// The request URL: `api_base` (which ends in `/api/v1/`) with each segment pushed.
    fn url(&self, api_base: &Url) -> Result<Url, Error> {
        let mut url = api_base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::InvalidConfig {
                field: "base_url",
                value: api_base.to_string(),
                reason: "the URL cannot have a path; use for example https://coolify.example.com"
                    .to_owned(),
            })?
            .pop_if_empty()
            .extend(&self.segments);
        Ok(url)
    }

    pub(crate) fn with_subject(mut self, subject: &str) -> Self {
        self.label = format!("{} ({subject})", self.label);
        self
    }
}

/// A successful response: status and body text.
pub(crate) struct Raw {
    body: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DeployBody {
    deployments: Vec<DeployEntry>,
}

#[derive(Deserialize)]
struct DeployEntry {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    resource_uuid: Option<String>,
    #[serde(default)]
    deployment_uuid: Option<String>,
}

/// What `POST /deploy` answered for one application.
pub(crate) struct DeployAnswer {
    /// The endpoint, as errors name it.
    pub(crate) endpoint: String,
    /// Coolify's message for the application.
    pub(crate) message: String,
    /// The deployment uuid it gave, if any (for "already queued", one that does not exist).
    pub(crate) deployment: Option<DeploymentUuid>,
}

impl DeployAnswer {
    /// The answer as a refusal: Coolify queued nothing and said why.
    pub(crate) fn rejected(self) -> Error {
        Error::DeployRejected {
            endpoint: self.endpoint,
            message: self.message,
        }
    }
}

#[derive(Deserialize)]
struct ActionBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    deployment_uuid: Option<String>,
}

#[derive(Deserialize)]
struct UuidBody {
    uuid: String,
}

impl Client {
    /// Start configuring a client for the Coolify at `base_url` (for example
    /// `https://coolify.example.com`; a trailing `/api/v1` is accepted) with an API token.
    #[must_use]
    pub fn builder(base_url: impl Into<String>, token: SecretString) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            token,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("coolify-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            plain_http: PlainHttp::default(),
            #[cfg(feature = "rustls")]
            trusted: Vec::new(),
            http_client: None,
            rate_limit_share: DEFAULT_SHARE,
        }
    }

    /// The API root this client calls, ending in `/api/v1/`.
    #[must_use]
    pub fn api_base(&self) -> &Url {
        &self.inner.api_base
    }

    /// Whether every request carries the token in clear text: plain http to a host that is not
    /// this machine, allowed with [`PlainHttp::AnyHost`]. A program should say so on every run.
    #[must_use]
    pub fn sends_token_in_clear_text(&self) -> bool {
        self.inner.clear_text
    }

    /// The server's version, for example `4.3.11` (`GET /version`, plain text).
    ///
    /// # Errors
    ///
    /// Any request error of this crate's [`Error`]; the token needs the `read` ability.
    pub async fn version(&self) -> Result<String, Error> {
        let endpoint = Endpoint::new(Method::GET, &["version"]);
        let raw = self.call(&endpoint, &[], None, Replay::Idempotent).await?;
        Ok(raw.body.trim().trim_matches('"').to_owned())
    }

    /// Queue a deployment of an application at its configured branch and pinned commit (`POST /deploy`).
    ///
    /// Sent exactly once unless Coolify answers 429 (then nothing was queued and it is retried
    /// within the retry policy, honouring `Retry-After`).
    ///
    /// # Errors
    ///
    /// [`Error::DeployRejected`] when Coolify answers 200 without queuing this application,
    /// [`Error::NotFound`] for an unknown application, and any request error of this crate; the
    /// token needs the `deploy` ability.
    pub async fn deploy(
        &self,
        application: &ApplicationUuid,
        force: ForceRebuild,
    ) -> Result<DeployOutcome, Error> {
        let body = serde_json::json!({
            "uuid": application.as_str(),
            "force": force == ForceRebuild::Yes,
        });
        let answer = self.post_deploy(application, body).await?;
        if answer.message.trim() == ALREADY_QUEUED {
            tracing::info!(%application, "coolify already has a deployment of this commit in flight");
            return Ok(DeployOutcome::AlreadyQueued);
        }
        match answer.deployment {
            Some(uuid) => {
                tracing::info!(%application, deployment = %uuid, "deployment queued");
                Ok(DeployOutcome::Queued(uuid))
            }
            None => Err(answer.rejected()),
        }
    }

    /// `POST /deploy` of one application with `body` (sent exactly once unless Coolify answers
    /// 429): the entry Coolify answered for it.
    pub(crate) async fn post_deploy(
        &self,
        application: &ApplicationUuid,
        body: serde_json::Value,
    ) -> Result<DeployAnswer, Error> {
        let endpoint = Endpoint::new(Method::POST, &["deploy"])
            .with_subject(&format!("application {application}"));
        let raw = self
            .call(&endpoint, &[], Some(body), Replay::OnlyWhenRateLimited)
            .await?;
        let parsed: DeployBody = parse(&endpoint, &raw)?;
        let entry = parsed
            .deployments
            .iter()
            .find(|entry| entry.resource_uuid.as_deref() == Some(application.as_str()))
            .or_else(|| match parsed.deployments.as_slice() {
                [only] if only.resource_uuid.is_none() => Some(only),
                _ => None,
            })
            .ok_or_else(|| Error::DeployRejected {
                endpoint: endpoint.label.clone(),
                message: "the answer lists no deployment for this application".to_owned(),
            })?;
        let deployment = match entry.deployment_uuid.as_deref() {
            Some(uuid) => Some(
                DeploymentUuid::new(uuid).map_err(|_| Error::UnexpectedBody {
                    endpoint: endpoint.label.clone(),
                    status: 200,
                    detail: format!("malformed deployment_uuid {uuid:?}"),
                })?,
            ),
            None => None,
        };
        Ok(DeployAnswer {
            endpoint: endpoint.label,
            message: entry.message.clone().unwrap_or_default(),
            deployment,
        })
    }

    /// One deployment (`GET /deployments/{uuid}`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown deployment, and any request error of this crate.
    pub async fn deployment(&self, deployment: &DeploymentUuid) -> Result<Deployment, Error> {
        self.deployment_until(deployment, None).await
    }

    /// [`Client::deployment`], with every attempt and retry ending by `until`.
    pub(crate) async fn deployment_until(
        &self,
        deployment: &DeploymentUuid,
        until: Option<Instant>,
    ) -> Result<Deployment, Error> {
        let endpoint = Endpoint::new(Method::GET, &["deployments", deployment.as_str()]);
        let raw = self
            .call_until(&endpoint, &[], None, Replay::Idempotent, until)
            .await?;
        parse(&endpoint, &raw)
    }

    /// The team's queued and in-progress deployments, across its servers (`GET /deployments`):
    /// what a full deployment queue holds, and what [`Client::watch`] polls.
    ///
    /// # Errors
    ///
    /// Any request error of this crate; the token needs `read`.
    pub async fn deployments_in_flight(&self) -> Result<Vec<Deployment>, Error> {
        self.deployments_in_flight_until(None).await
    }

    /// [`Client::deployments_in_flight`], with every attempt and retry ending by `until`.
    pub(crate) async fn deployments_in_flight_until(
        &self,
        until: Option<Instant>,
    ) -> Result<Vec<Deployment>, Error> {
        let endpoint = Endpoint::new(Method::GET, &["deployments"]);
        let raw = self
            .call_until(&endpoint, &[], None, Replay::Idempotent, until)
            .await?;
        // Coolify may serialise the list as an object keyed "0", "1", … (seen in Coolify's source).
        let value: serde_json::Value = parse(&endpoint, &raw)?;
        let items = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(fields) => fields.into_iter().map(|(_, item)| item).collect(),
            _ => Vec::new(),
        };
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|error| Error::UnexpectedBody {
                    endpoint: endpoint.label.clone(),
                    status: 200,
                    detail: error.to_string(),
                })
            })
            .collect()
    }

    /// Check, without changing anything, that the token may deploy: an empty `POST /deploy`,
    /// which Coolify refuses with 400 ("You must provide uuid or tag.") once its `deploy`
    /// ability check passed, and with 403 when it did not.
    ///
    /// [`Client::deploy_commit`] pins before it deploys, and a token with `write` but not
    /// `deploy` would leave the pin behind; a missing `write` fails the pin itself, which
    /// changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::MissingAbility`] when the token lacks `deploy`, and any request error of this
    /// crate.
    pub async fn check_deploy_ability(&self) -> Result<(), Error> {
        let endpoint =
            Endpoint::new(Method::POST, &["deploy"]).with_subject("ability check, no application");
        match self
            .call(
                &endpoint,
                &[],
                Some(serde_json::json!({})),
                Replay::OnlyWhenRateLimited,
            )
            .await
        {
            Ok(_)
            | Err(Error::Api {
                status: 400 | 422, ..
            }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A page of an application's deployments, newest first
    /// (`GET /deployments/applications/{uuid}?skip=&take=`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `take` is 0, [`Error::NotFound`] for an unknown application,
    /// and any request error of this crate.
    pub async fn deployments(
        &self,
        application: &ApplicationUuid,
        skip: u32,
        take: u32,
    ) -> Result<DeploymentPage, Error> {
        if take == 0 {
            return Err(Error::InvalidInput {
                what: "page size",
                value: take.to_string(),
                reason: "take must be at least 1".to_owned(),
            });
        }
        let endpoint = Endpoint::new(
            Method::GET,
            &["deployments", "applications", application.as_str()],
        );
        let query = [("skip", skip.to_string()), ("take", take.to_string())];
        let raw = self
            .call(&endpoint, &query, None, Replay::Idempotent)
            .await?;
        parse(&endpoint, &raw)
    }

    /// An application with its settings (`GET /applications/{uuid}`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown application, and any request error of this crate.
    pub async fn application(&self, application: &ApplicationUuid) -> Result<Application, Error> {
        let endpoint = Endpoint::new(Method::GET, &["applications", application.as_str()]);
        let raw = self.call(&endpoint, &[], None, Replay::Idempotent).await?;
        parse(&endpoint, &raw)
    }

    /// The images of an application still on its server, newest first
    /// (`GET /applications/{uuid}/rollback-images`, Coolify 4.3.0+): which commits (or image
    /// tags) a deploy can start without building (or pulling) again.
    ///
    /// A Coolify before 4.3.0 has no such endpoint and answers its catch-all 404
    /// (`Not found.`); that gives [`RollbackImages::unsupported`], whose every availability is
    /// unknown. An unknown application (`Application not found.`) stays an error.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown application, and any request error of this crate;
    /// the token needs `read`.
    pub async fn rollback_images(
        &self,
        application: &ApplicationUuid,
    ) -> Result<RollbackImages, Error> {
        let endpoint = Endpoint::new(
            Method::GET,
            &["applications", application.as_str(), "rollback-images"],
        );
        match self.call(&endpoint, &[], None, Replay::Idempotent).await {
            Ok(raw) => parse(&endpoint, &raw),
            Err(Error::NotFound { message, .. }) if is_catch_all_not_found(&message) => {
                tracing::info!(%application, "coolify has no rollback-images endpoint (before 4.3.0)");
                Ok(RollbackImages::unsupported())
            }
            Err(error) => Err(error),
        }
    }

    /// Every application the token's team has, as one list (`GET /applications`; Coolify does
    /// not paginate it). To find those of a repository, compare
    /// [`crate::RepositoryId::parse`] of their `git_repository`.
    ///
    /// # Errors
    ///
    /// Any request error of this crate; the token needs the `read` ability.
    pub async fn applications(&self) -> Result<Vec<Application>, Error> {
        let endpoint = Endpoint::new(Method::GET, &["applications"]);
        let raw = self.call(&endpoint, &[], None, Replay::Idempotent).await?;
        parse(&endpoint, &raw)
    }

    /// Every project, without environments (`GET /projects`).
    ///
    /// # Errors
    ///
    /// Any request error of this crate; the token needs the `read` ability.
    pub async fn projects(&self) -> Result<Vec<Project>, Error> {
        let endpoint = Endpoint::new(Method::GET, &["projects"]);
        let raw = self.call(&endpoint, &[], None, Replay::Idempotent).await?;
        parse(&endpoint, &raw)
    }

    /// One project with its environments (`GET /projects/{uuid}`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown project, and any request error of this crate.
    pub async fn project(&self, project: &ProjectUuid) -> Result<Project, Error> {
        let endpoint = Endpoint::new(Method::GET, &["projects", project.as_str()]);
        let raw = self.call(&endpoint, &[], None, Replay::Idempotent).await?;
        parse(&endpoint, &raw)
    }

    /// The names of the Coolify environments, by the id applications carry as
    /// `environment_id` (`GET /projects`, then `GET /projects/{uuid}` for each).
    ///
    /// # Errors
    ///
    /// Any error of [`Client::projects`] and [`Client::project`].
    pub async fn environment_names(
        &self,
    ) -> Result<std::collections::BTreeMap<u64, String>, Error> {
        let mut names = std::collections::BTreeMap::new();
        for listed in self.projects().await? {
            let project = self.project(&listed.uuid).await?;
            for environment in project.environments {
                names.insert(environment.id, environment.name);
            }
        }
        Ok(names)
    }

    /// Change an application's branch, commit pin or auto-deploy setting (`PATCH /applications/{uuid}`).
    ///
    /// Never retried: a timeout leaves it unknown whether the change was applied.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty patch, [`Error::Api`] (422) for a value Coolify
    /// rejects, [`Error::NotFound`], and any request error of this crate; the token needs `write`.
    pub async fn update_application(
        &self,
        application: &ApplicationUuid,
        patch: &ApplicationPatch,
    ) -> Result<(), Error> {
        if patch.is_empty() {
            return Err(Error::InvalidInput {
                what: "application patch",
                value: format!("{patch:?}"),
                reason: "nothing to change; Coolify rejects an empty body".to_owned(),
            });
        }
        let endpoint = Endpoint::new(Method::PATCH, &["applications", application.as_str()]);
        let body = serde_json::to_value(patch).map_err(|error| Error::InvalidInput {
            what: "application patch",
            value: format!("{patch:?}"),
            reason: error.to_string(),
        })?;
        self.call(&endpoint, &[], Some(body), Replay::Never).await?;
        Ok(())
    }

    /// Start (deploy) an application (`POST /applications/{uuid}/start`).
    ///
    /// # Errors
    ///
    /// As [`Client::deploy`]; the token needs `deploy`.
    pub async fn start_application(
        &self,
        application: &ApplicationUuid,
        force: ForceRebuild,
    ) -> Result<DeployOutcome, Error> {
        let endpoint = Endpoint::new(
            Method::POST,
            &["applications", application.as_str(), "start"],
        );
        let query = [("force", (force == ForceRebuild::Yes).to_string())];
        let raw = self
            .call(&endpoint, &query, None, Replay::OnlyWhenRateLimited)
            .await?;
        action_outcome(&endpoint, &raw)
    }

    /// Restart an application's container; creates a `restart_only` deployment (`POST /applications/{uuid}/restart`).
    ///
    /// # Errors
    ///
    /// As [`Client::deploy`]; the token needs `deploy`.
    pub async fn restart_application(
        &self,
        application: &ApplicationUuid,
    ) -> Result<DeployOutcome, Error> {
        let endpoint = Endpoint::new(
            Method::POST,
            &["applications", application.as_str(), "restart"],
        );
        let raw = self
            .call(&endpoint, &[], None, Replay::OnlyWhenRateLimited)
            .await?;
        action_outcome(&endpoint, &raw)
    }

    /// Stop an application's container (`POST /applications/{uuid}/stop`); asynchronous on Coolify's side.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] and any request error of this crate; the token needs `deploy`.
    pub async fn stop_application(&self, application: &ApplicationUuid) -> Result<(), Error> {
        let endpoint = Endpoint::new(
            Method::POST,
            &["applications", application.as_str(), "stop"],
        );
        self.call(&endpoint, &[], None, Replay::OnlyWhenRateLimited)
            .await?;
        Ok(())
    }

    /// An application's environment variables, non-preview first, then the preview copies
    /// (`GET /applications/{uuid}/envs`). Values are `None` unless the token has `read:sensitive`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] and any request error of this crate.
    pub async fn env_vars(&self, application: &ApplicationUuid) -> Result<Vec<EnvVar>, Error> {
        let endpoint = Endpoint::new(Method::GET, &["applications", application.as_str(), "envs"]);
        let raw = self.call(&endpoint, &[], None, Replay::Idempotent).await?;
        parse(&endpoint, &raw)
    }

    /// Create a variable (`POST /applications/{uuid}/envs`); Coolify adds the preview copy itself.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with status 409 when the key exists (use [`Client::update_env_var`]),
    /// 422 for an invalid key, and any request error of this crate; the token needs `write`.
    pub async fn create_env_var(
        &self,
        application: &ApplicationUuid,
        variable: &EnvVarInput,
    ) -> Result<EnvVarUuid, Error> {
        let endpoint = Endpoint::new(
            Method::POST,
            &["applications", application.as_str(), "envs"],
        )
        .with_subject(&format!("key {}", variable.key));
        let raw = self
            .call(&endpoint, &[], Some(to_json(variable)?), Replay::Never)
            .await?;
        let parsed: UuidBody = parse(&endpoint, &raw)?;
        EnvVarUuid::new(parsed.uuid).map_err(|error| Error::UnexpectedBody {
            endpoint: endpoint.label.clone(),
            status: 201,
            detail: error.to_string(),
        })
    }

    /// Update a variable found by key and `is_preview`, sending the full flag set
    /// (`PATCH /applications/{uuid}/envs`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the key does not exist, and any request error of this crate.
    pub async fn update_env_var(
        &self,
        application: &ApplicationUuid,
        variable: &EnvVarInput,
    ) -> Result<EnvVar, Error> {
        let endpoint = Endpoint::new(
            Method::PATCH,
            &["applications", application.as_str(), "envs"],
        )
        .with_subject(&format!("key {}", variable.key));
        let raw = self
            .call(&endpoint, &[], Some(to_json(variable)?), Replay::Never)
            .await?;
        parse(&endpoint, &raw)
    }

    /// Create or update several variables at once (`PATCH /applications/{uuid}/envs/bulk`).
    /// An empty slice sends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when a key breaks Coolify's rule ([`crate::validate_env_key`]),
    /// before anything is sent; [`Error::Api`] (422) at the first item Coolify refuses otherwise
    /// (earlier items are already saved), and any request error of this crate; the token needs
    /// `write`.
    pub async fn upsert_env_vars(
        &self,
        application: &ApplicationUuid,
        variables: &[EnvVarInput],
    ) -> Result<Vec<EnvVar>, Error> {
        if variables.is_empty() {
            return Ok(Vec::new());
        }
        // Coolify saves the items before the first invalid one: refuse them all up front.
        for variable in variables {
            crate::validate_env_key(&variable.key)?;
        }
        let endpoint = Endpoint::new(
            Method::PATCH,
            &["applications", application.as_str(), "envs", "bulk"],
        );
        let body = serde_json::json!({ "data": to_json(&variables)? });
        let raw = self.call(&endpoint, &[], Some(body), Replay::Never).await?;
        parse(&endpoint, &raw)
    }

    /// Delete a variable by uuid (`DELETE /applications/{uuid}/envs/{env_uuid}`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] and any request error of this crate; the token needs `write`.
    pub async fn delete_env_var(
        &self,
        application: &ApplicationUuid,
        variable: &EnvVarUuid,
    ) -> Result<(), Error> {
        let endpoint = Endpoint::new(
            Method::DELETE,
            &[
                "applications",
                application.as_str(),
                "envs",
                variable.as_str(),
            ],
        );
        self.call(&endpoint, &[], None, Replay::Never).await?;
        Ok(())
    }

    /// Send a request with the retry rules of `replay`.
    pub(crate) async fn call(
        &self,
        endpoint: &Endpoint,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
        replay: Replay,
    ) -> Result<Raw, Error> {
        self.call_until(endpoint, query, body, replay, None).await
    }

    /// [`Client::call`] bounded by `until`: each attempt's timeout is cut to the time left,
    /// and no retry is slept for that would end past it.
    async fn call_until(
        &self,
        endpoint: &Endpoint,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
        replay: Replay,
        until: Option<Instant>,
    ) -> Result<Raw, Error> {
        let policy = &self.inner.retry;
        let started = Instant::now();
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_retries);
        let attempt = || async {
            let turn = self
                .inner
                .pacer
                .reserve(until)
                .map_err(|wait| Error::Throttled {
                    endpoint: endpoint.label.clone(),
                    wait,
                })?;
            tokio::time::sleep_until(turn).await;
            let timeout = match until {
                Some(until) => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout {
                            endpoint: endpoint.label.clone(),
                            after: Duration::ZERO,
                        });
                    }
                    left.min(self.inner.request_timeout)
                }
                None => self.inner.request_timeout,
            };
            self.attempt(endpoint, query, body.as_ref(), timeout).await
        };
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|error| replay.allows(error))
            .adjust(|error, planned| {
                let delay = match (error.retry_after(), planned) {
                    (_, None) => return None,
                    (Some(after), Some(_)) => after,
                    (None, Some(planned)) => planned,
                };
                let within_deadline = until.is_none_or(|until| Instant::now() + delay < until);
                (started.elapsed() + delay <= policy.deadline && within_deadline).then_some(delay)
            })
            .notify(|error, delay| {
                let cause = causes(error);
                tracing::warn!(endpoint = %endpoint.label, ?delay, %error, %cause, "retrying coolify request");
            })
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(endpoint = %endpoint.label))]
    async fn attempt(
        &self,
        endpoint: &Endpoint,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Result<Raw, Error> {
        let url = endpoint.url(&self.inner.api_base)?;
        let mut request = self
            .inner
            .http
            .request(endpoint.method.clone(), url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .timeout(timeout)
            .bearer_auth(self.inner.token.expose_secret());
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |source: reqwest::Error| {
            if let Some(problem) = tls_problem(&source) {
                Error::Tls {
                    endpoint: endpoint.label.clone(),
                    problem,
                    source: source.without_url(),
                }
            } else if source.is_timeout() {
                Error::Timeout {
                    endpoint: endpoint.label.clone(),
                    after: timeout,
                }
            } else if !source.is_connect() && !source.is_builder() {
                Error::ConnectionClosed {
                    endpoint: endpoint.label.clone(),
                    source: source.without_url(),
                }
            } else {
                Error::Transport {
                    endpoint: endpoint.label.clone(),
                    source: source.without_url(),
                }
            }
        };
        let sent = Instant::now();
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        self.inner.pacer.observe(sent, &headers);
        // A proxy's error page may echo the request, `Authorization` header included.
        let text = scrub(
            &response.text().await.map_err(transport)?,
            self.inner.token.expose_secret(),
        );
        tracing::debug!(status = status.as_u16(), "coolify answered");
        if status.is_success() {
            return Ok(Raw { body: text });
        }
        let error = classify(&endpoint.label, &endpoint.segments, status, &headers, &text);
        if let Error::RateLimited { retry_after, .. } = &error {
            self.inner.pacer.rate_limited(*retry_after);
        }
        Err(error)
    }
}

/// The messages of an error's causes, joined like a path; empty when it has none.
fn causes(error: &Error) -> String {
    let mut parts = Vec::new();
    let mut cause = std::error::Error::source(error);
    while let Some(current) = cause {
        parts.push(current.to_string());
        cause = current.source();
    }
    parts.join(": ")
}

/// Turn an error response into the matching [`Error`] variant.
fn classify(
    label: &str,
    segments: &[String],
    status: StatusCode,
    headers: &HeaderMap,
    text: &str,
) -> Error {
    let endpoint = label.to_owned();
    if status.is_redirection() {
        let location = headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        return Error::Redirected {
            endpoint,
            status: status.as_u16(),
            location,
        };
    }
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let parsed = serde_json::from_str::<ErrorBody>(text).ok();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let message = parsed.as_ref().map(message_of).unwrap_or_default();
        if message.contains(QUEUE_FULL) {
            return Error::QueueFull {
                endpoint,
                retry_after,
                message,
            };
        }
        return Error::RateLimited {
            endpoint,
            retry_after,
            message,
        };
    }
    let Some(parsed) = parsed else {
        return Error::UnexpectedBody {
            endpoint,
            status: status.as_u16(),
            detail: format!("not a JSON error body: {}", snippet(text)),
        };
    };
    let message = message_of(&parsed);
    match status {
        StatusCode::UNAUTHORIZED => Error::Unauthenticated { endpoint, message },
        StatusCode::FORBIDDEN => {
            if let Some(abilities) = message.strip_prefix("Missing required permissions:") {
                Error::MissingAbility {
                    endpoint,
                    ability: abilities.trim().trim_end_matches('.').to_owned(),
                }
            } else if message == "API is disabled."
                || message.contains("not allowed to access the API")
            {
                Error::ApiDisabled { endpoint, message }
            } else {
                Error::Api {
                    endpoint,
                    status: 403,
                    message,
                    errors: field_errors(&parsed),
                }
            }
        }
        StatusCode::NOT_FOUND => Error::NotFound {
            endpoint,
            resource: resource_of(segments),
            message,
        },
        _ => Error::Api {
            endpoint,
            status: status.as_u16(),
            message,
            errors: field_errors(&parsed),
        },
    }
}

/// Whether a 404's message is Coolify's catch-all route (`Not found.`, for a path it does not
/// have) rather than a controller's (`Application not found.`).
pub(crate) fn is_catch_all_not_found(message: &str) -> bool {
    message.trim() == "Not found."
}

/// `text` with every occurrence of the token (and of its secret part after `id|`) replaced.
pub(crate) fn scrub(text: &str, token: &str) -> String {
    let mut scrubbed = text.to_owned();
    let secret = token.split_once('|').map_or(token, |(_, secret)| secret);
    for needle in [token, secret] {
        if needle.trim().len() >= 4 {
            scrubbed = scrubbed.replace(needle, "[redacted]");
        }
    }
    scrubbed
}

fn message_of(body: &ErrorBody) -> String {
    let message = match &body.message {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    };
    match (&body.error, message.is_empty()) {
        (Some(error), true) => error.clone(),
        (Some(error), false) => format!("{message} ({error})"),
        (None, _) => message,
    }
}

/// Validation errors as `field: message` lines; each value may be a string or a list of strings.
fn field_errors(body: &ErrorBody) -> Vec<String> {
    let Some(serde_json::Value::Object(fields)) = &body.errors else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for (field, value) in fields {
        match value {
            serde_json::Value::String(text) => lines.push(format!("{field}: {text}")),
            serde_json::Value::Array(items) => lines.extend(
                items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(|text| format!("{field}: {text}")),
            ),
            other => lines.push(format!("{field}: {other}")),
        }
    }
    lines
}

/// What a path asks for: the deployment, application, variable or project its segments name.
///
/// The segments came from this crate's id types, so they parse again; a segment that does
/// not (which no caller can produce) leaves the path itself.
fn resource_of(segments: &[String]) -> Resource {
    let path = || Resource::Path(segments.join("/"));
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    let resource = match parts.as_slice() {
        ["deployments", "applications", app] => {
            ApplicationUuid::new(*app).ok().map(Resource::Application)
        }
        ["deployments", uuid, ..] => DeploymentUuid::new(*uuid).ok().map(Resource::Deployment),
        ["applications", app, "envs", variable] if *variable != "bulk" => {
            match (ApplicationUuid::new(*app), EnvVarUuid::new(*variable)) {
                (Ok(application), Ok(variable)) => Some(Resource::EnvVar {
                    application,
                    variable: Some(variable),
                }),
                _ => None,
            }
        }
        ["applications", app, "envs", ..] => {
            ApplicationUuid::new(*app)
                .ok()
                .map(|application| Resource::EnvVar {
                    application,
                    variable: None,
                })
        }
        ["applications", app, ..] => ApplicationUuid::new(*app).ok().map(Resource::Application),
        ["projects", project] => ProjectUuid::new(*project).ok().map(Resource::Project),
        _ => None,
    };
    resource.unwrap_or_else(path)
}

/// The TLS problem behind a transport error, if rustls (reqwest's TLS with the `rustls`
/// feature) refused the connection.
#[cfg(feature = "rustls")]
fn tls_problem(error: &reqwest::Error) -> Option<crate::TlsProblem> {
    use tokio_rustls::rustls;

    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(tls_problem_of(found));
        }
        // rustls reports through io::Errors (nested ones, too), whose `source` skips the
        // error each wraps: step into it instead.
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

/// Without a TLS backend of its own, this crate cannot name a caller's TLS failures.
#[cfg(not(feature = "rustls"))]
fn tls_problem(_error: &reqwest::Error) -> Option<crate::TlsProblem> {
    None
}

#[cfg(feature = "rustls")]
fn tls_problem_of(error: &tokio_rustls::rustls::Error) -> crate::TlsProblem {
    use crate::TlsProblem;
    use tokio_rustls::rustls::{CertificateError, Error as Rustls};

    match error {
        Rustls::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => TlsProblem::UntrustedCertificate,
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsProblem::ExpiredCertificate
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsProblem::CertificateNotYetValid
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsProblem::CertificateForAnotherHost
            }
            CertificateError::Revoked => TlsProblem::RevokedCertificate,
            _ => TlsProblem::InvalidCertificate,
        },
        _ => TlsProblem::Handshake,
    }
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

pub(crate) fn parse<T: DeserializeOwned>(endpoint: &Endpoint, raw: &Raw) -> Result<T, Error> {
    serde_json::from_str(&raw.body).map_err(|error| Error::UnexpectedBody {
        endpoint: endpoint.label.clone(),
        status: 200,
        detail: format!("{error} in {}", snippet(&raw.body)),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|error| Error::InvalidInput {
        what: "request body",
        value: String::new(),
        reason: error.to_string(),
    })
}

fn action_outcome(endpoint: &Endpoint, raw: &Raw) -> Result<DeployOutcome, Error> {
    let parsed: ActionBody = parse(endpoint, raw)?;
    let message = parsed.message.unwrap_or_default();
    if message.trim() == ALREADY_QUEUED {
        return Ok(DeployOutcome::AlreadyQueued);
    }
    match parsed.deployment_uuid {
        Some(uuid) => DeploymentUuid::new(uuid)
            .map(DeployOutcome::Queued)
            .map_err(|error| Error::UnexpectedBody {
                endpoint: endpoint.label.clone(),
                status: 200,
                detail: error.to_string(),
            }),
        None => Err(Error::DeployRejected {
            endpoint: endpoint.label.clone(),
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn no_value_in_a_segment_changes_the_path() {
        let api_base = api_base("https://c.example.com/sub", PlainHttp::LoopbackOnly).unwrap();
        // Built around the id types' validation, as a deserializer that skipped it would.
        let hostile = "x y/../../../version";
        let application = ApplicationUuid(hostile.to_owned());
        let deployment = DeploymentUuid(hostile.to_owned());
        let variable = EnvVarUuid(hostile.to_owned());
        for (segments, expected_prefix) in [
            (
                vec!["applications", application.as_str()],
                "/sub/api/v1/applications/",
            ),
            (
                vec!["deployments", deployment.as_str(), "cancel"],
                "/sub/api/v1/deployments/",
            ),
            (
                vec!["applications", "a1", "envs", variable.as_str()],
                "/sub/api/v1/applications/a1/envs/",
            ),
            (vec!["projects", ".."], "/sub/api/v1/projects"),
        ] {
            let url = Endpoint::new(Method::GET, &segments)
                .url(&api_base)
                .unwrap();
            assert!(url.path().starts_with(expected_prefix), "{url}");
            assert!(!url.path().contains("/../"), "{url}");
            assert_eq!(
                url.path_segments().unwrap().count(),
                3 + segments
                    .iter()
                    .filter(|s| !matches!(**s, "." | ".."))
                    .count(),
                "{url}"
            );
        }
        let url = Endpoint::new(Method::GET, &["deployments", "d1"])
            .url(&api_base)
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://c.example.com/sub/api/v1/deployments/d1"
        );
    }

    #[test]
    fn api_base_appends_api_v1_once() {
        assert_eq!(
            api_base("https://c.example.com", PlainHttp::LoopbackOnly)
                .unwrap()
                .as_str(),
            "https://c.example.com/api/v1/"
        );
        assert_eq!(
            api_base("https://c.example.com/api/v1/", PlainHttp::LoopbackOnly)
                .unwrap()
                .as_str(),
            "https://c.example.com/api/v1/"
        );
        assert_eq!(
            api_base("https://c.example.com/sub/", PlainHttp::LoopbackOnly)
                .unwrap()
                .as_str(),
            "https://c.example.com/sub/api/v1/"
        );
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(api_base("http://127.0.0.1:8000", PlainHttp::LoopbackOnly).is_ok());
        assert!(api_base("http://localhost:8000", PlainHttp::LoopbackOnly).is_ok());
        assert!(api_base("http://[::1]:8000", PlainHttp::LoopbackOnly).is_ok());
        let error = api_base("http://coolify.example.com", PlainHttp::LoopbackOnly).unwrap_err();
        assert!(error.to_string().contains("use https"), "{error}");
        assert!(api_base("ftp://coolify.example.com", PlainHttp::LoopbackOnly).is_err());
        assert!(
            api_base(
                "https://user:pw@coolify.example.com",
                PlainHttp::LoopbackOnly
            )
            .is_err()
        );
        // Only an explicit opt-in allows the token to cross the network in clear text.
        assert!(api_base("http://coolify.example.com:8000", PlainHttp::AnyHost).is_ok());
        assert!(api_base("ftp://coolify.example.com", PlainHttp::AnyHost).is_err());
    }

    #[test]
    fn a_client_tells_when_it_sends_the_token_in_clear_text() {
        let token = || SecretString::from("1|token");
        let remote = Client::builder("http://10.0.0.5:8000", token())
            .plain_http(PlainHttp::AnyHost)
            .build()
            .unwrap();
        assert!(remote.sends_token_in_clear_text());
        assert!(format!("{remote:?}").contains("sends_token_in_clear_text: true"));
        let local = Client::builder("http://127.0.0.1:8000", token())
            .plain_http(PlainHttp::AnyHost)
            .build()
            .unwrap();
        assert!(!local.sends_token_in_clear_text());
        let refused = Client::builder("http://10.0.0.5:8000", token())
            .build()
            .unwrap_err();
        assert!(
            refused.to_string().contains("PlainHttp::AnyHost"),
            "{refused}"
        );
    }

    #[test]
    fn resources_are_named_from_paths() {
        let named = |path: &str| resource_of(&segments(path)).to_string();
        assert_eq!(
            resource_of(&segments("deployments/d1")),
            Resource::Deployment(DeploymentUuid::new("d1").unwrap())
        );
        assert_eq!(named("deployments/d1"), "deployment d1");
        assert_eq!(
            resource_of(&segments("deployments/applications/a1")),
            Resource::Application(ApplicationUuid::new("a1").unwrap())
        );
        assert_eq!(
            named("applications/a1/envs/e1"),
            "environment variable e1 of application a1"
        );
        assert_eq!(
            named("applications/a1/envs/bulk"),
            "environment variable of application a1"
        );
        assert_eq!(named("applications/a1"), "application a1");
        assert_eq!(
            resource_of(&segments("projects/p1")),
            Resource::Project(ProjectUuid::new("p1").unwrap())
        );
        assert_eq!(named("servers/s1"), "/api/v1/servers/s1");
    }

    #[test]
    fn forbidden_messages_are_told_apart() {
        let headers = HeaderMap::new();
        let missing = classify(
            "GET x",
            &segments("x"),
            StatusCode::FORBIDDEN,
            &headers,
            r#"{"message":"Missing required permissions: read"}"#,
        );
        assert!(matches!(missing, Error::MissingAbility { ref ability, .. } if ability == "read"));
        let disabled = classify(
            "GET x",
            &segments("x"),
            StatusCode::FORBIDDEN,
            &headers,
            r#"{"success":true,"message":"API is disabled."}"#,
        );
        assert!(matches!(disabled, Error::ApiDisabled { .. }));
        let html = classify(
            "GET x",
            &segments("x"),
            StatusCode::BAD_GATEWAY,
            &headers,
            "<html><body>502 Bad Gateway</body></html>",
        );
        assert!(matches!(html, Error::UnexpectedBody { status: 502, .. }));
    }

    #[test]
    fn a_full_deployment_queue_is_not_a_rate_limit() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, reqwest::header::HeaderValue::from_static("60"));
        let full = classify(
            "POST /api/v1/deploy",
            &segments("deploy"),
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            r#"{"message":"Deployment queue is full. Please wait for existing deployments to complete."}"#,
        );
        assert!(matches!(full, Error::QueueFull { .. }), "{full:?}");
        assert_eq!(full.retry_after(), Some(Duration::from_secs(60)));
        assert!(full.to_string().contains("deployment queue"), "{full}");
        let limited = classify(
            "GET /api/v1/version",
            &segments("version"),
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            r#"{"message":"Too Many Attempts."}"#,
        );
        assert!(matches!(limited, Error::RateLimited { .. }), "{limited:?}");
    }

    #[test]
    fn the_token_is_scrubbed_from_echoed_bodies() {
        let echoed = "headers: Authorization: Bearer 69|very-secret-token and very-secret-token";
        let scrubbed = scrub(echoed, "69|very-secret-token");
        assert!(!scrubbed.contains("very-secret"), "{scrubbed}");
        assert!(scrubbed.contains("Bearer [redacted]"), "{scrubbed}");
    }

    #[test]
    fn retry_warnings_name_the_causes_an_error_no_longer_prints() {
        let inner = Error::DeployRejected {
            endpoint: "POST /api/v1/deploy".to_owned(),
            message: "queue closed".to_owned(),
        };
        let outer = Error::PinRestored {
            application: ApplicationUuid::new("a1").unwrap(),
            pin: crate::PinKind::Commit,
            restored: "HEAD".to_owned(),
            source: Box::new(inner),
        };
        assert_eq!(
            causes(&outer),
            "POST /api/v1/deploy: coolify did not queue a deployment: queue closed"
        );
        assert_eq!(
            causes(&Error::Timeout {
                endpoint: "GET x".to_owned(),
                after: Duration::from_secs(1)
            }),
            ""
        );
    }

    #[test]
    fn a_base_url_with_credentials_is_refused_without_quoting_them() {
        let error = api_base_url(
            "https://admin:hunter22@c.example.com",
            PlainHttp::LoopbackOnly,
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("credentials in the URL"), "{message}");
        assert!(message.contains("c.example.com"), "{message}");
        assert!(!message.contains("hunter22"), "{message}");
        assert!(!message.contains("admin"), "{message}");
    }

    #[test]
    fn api_base_url_checks_as_build_does() {
        assert_eq!(
            api_base_url("https://c.example.com/api/v1", PlainHttp::LoopbackOnly)
                .unwrap()
                .as_str(),
            "https://c.example.com/api/v1/"
        );
        let message = api_base_url("http://c.example.com", PlainHttp::LoopbackOnly)
            .unwrap_err()
            .to_string();
        assert!(message.contains("clear text"), "{message}");
        assert!(api_base_url("ftp://c.example.com", PlainHttp::LoopbackOnly).is_err());
        assert!(api_base_url("https://c.example.com/?a=1", PlainHttp::LoopbackOnly).is_err());
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn building_clients_leaves_the_process_tls_provider_alone() {
        for base_url in ["https://c.example.com", "http://127.0.0.1:8000"] {
            Client::builder(base_url, SecretString::from("1|token"))
                .build()
                .unwrap();
        }
        assert!(tokio_rustls::rustls::crypto::CryptoProvider::get_default().is_none());
    }

    #[cfg(not(feature = "rustls"))]
    #[test]
    fn without_a_tls_backend_https_needs_a_callers_client() {
        let error = Client::builder("https://c.example.com", SecretString::from("1|token"))
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::TlsUnavailable { .. }), "{error:?}");
        assert!(error.to_string().contains("`rustls` feature"), "{error}");
        Client::builder("https://c.example.com", SecretString::from("1|token"))
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
        Client::builder("http://127.0.0.1:8000", SecretString::from("1|token"))
            .build()
            .unwrap();
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder = Client::builder(
            "http://127.0.0.1:8000",
            SecretString::from("69|very-secret"),
        );
        assert!(!format!("{builder:?}").contains("very-secret"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("very-secret"));
    }
}
