//! The fake's data: deployments, statuses, permissions, limits, faults and recorded requests.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// What the token may do with deployments, as a workflow's `permissions: deployments:` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Permission {
    /// `deployments: none`: every deployment request is refused with 403.
    None,
    /// `deployments: read`: lists and the GraphQL queries work; creating is refused with 403
    /// "Resource not accessible by integration".
    Read,
    /// `deployments: write` (the default): everything.
    Write,
}

/// A failure the fake answers with instead of handling a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Any status with this body (sent as JSON).
    Status {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// `403` "You have exceeded a secondary rate limit", with `retry-after` when given.
    SecondaryRateLimit {
        /// The `retry-after` value.
        retry_after: Option<Duration>,
    },
    /// `429` with `retry-after`.
    TooManyRequests {
        /// The `retry-after` value.
        retry_after: Duration,
    },
    /// `502` with a proxy's HTML page.
    BadGatewayHtml,
    /// `502` with an HTML page that echoes the request's `Authorization` header.
    EchoingProxyError,
    /// Handle the request normally after this delay.
    Delay(Duration),
    /// Read the request, then close the connection without answering.
    CloseConnection,
    /// Handle the request (its write takes effect), then close the connection without
    /// answering: the client cannot know it worked.
    CloseAfterHandling,
}

/// When a [`Fault`] applies: method and path filters, and how many times.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FaultRule {
    pub(crate) method: Option<String>,
    pub(crate) path_contains: Option<String>,
    pub(crate) remaining: Option<usize>,
    pub(crate) fault: Fault,
}

impl FaultRule {
    /// The fault on every request, until cleared.
    #[must_use]
    pub fn always(fault: Fault) -> Self {
        Self {
            method: None,
            path_contains: None,
            remaining: None,
            fault,
        }
    }

    /// The fault on requests whose path contains `fragment` (`/statuses`, `/graphql`).
    #[must_use]
    pub fn on_path(fragment: impl Into<String>, fault: Fault) -> Self {
        Self {
            path_contains: Some(fragment.into()),
            ..Self::always(fault)
        }
    }

    /// Only for this method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Only for the next `count` matching requests.
    #[must_use]
    pub fn times(mut self, count: usize) -> Self {
        self.remaining = Some(count);
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining != Some(0)
            && self.method.as_deref().is_none_or(|wanted| wanted == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|fragment| path.contains(fragment))
    }
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path, base path included.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The body as text.
    pub body: String,
    /// The `Accept` header.
    pub accept: Option<String>,
    /// The `X-GitHub-Api-Version` header.
    pub api_version: Option<String>,
    /// Whether it went to the GraphQL endpoint.
    pub graphql: bool,
}

impl RecordedRequest {
    /// The body parsed as JSON, if it is JSON.
    #[must_use]
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// A deployment as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeDeployment {
    /// Its id.
    pub id: u64,
    /// The repository, `owner/name`.
    pub repository: String,
    /// The commit `ref` resolved to.
    pub sha: String,
    /// The `ref` it was created with.
    pub r#ref: String,
    /// The task.
    pub task: String,
    /// The environment.
    pub environment: String,
    /// The description.
    pub description: String,
    /// The payload (an object, or `{}`).
    pub payload: Value,
    /// `production_environment`.
    pub production: bool,
    /// `transient_environment`.
    pub transient: bool,
    /// The creator's login.
    pub creator: String,
    /// When it was created (RFC 3339, seconds).
    pub created_at: String,
    /// Its statuses, oldest first.
    pub statuses: Vec<FakeStatus>,
}

impl FakeDeployment {
    /// The state of its newest status, or `pending` without one.
    #[must_use]
    pub fn state(&self) -> &str {
        self.statuses
            .last()
            .map_or("pending", |status| status.state.as_str())
    }

    pub(crate) fn node_id(&self) -> String {
        format!("DE_fake{}", self.id)
    }
}

/// A deployment status as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeStatus {
    /// Its id.
    pub id: u64,
    /// `error`, `failure`, `inactive`, `in_progress`, `queued`, `pending` or `success`.
    pub state: String,
    /// The description.
    pub description: String,
    /// The environment URL.
    pub environment_url: Option<String>,
    /// The log URL.
    pub log_url: Option<String>,
    /// The creator's login.
    pub creator: String,
    /// When it was created (RFC 3339, seconds).
    pub created_at: String,
}

/// An hourly request budget, as GitHub's primary rate limit.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub(crate) limit: u32,
    pub(crate) used: u32,
    pub(crate) window_start: tokio::time::Instant,
}

impl Budget {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit,
            used: 0,
            window_start: tokio::time::Instant::now(),
        }
    }

    /// Start a new window when the hour is over.
    pub(crate) fn roll(&mut self) {
        if self.window_start.elapsed() >= Duration::from_secs(3600) {
            self.used = 0;
            self.window_start = tokio::time::Instant::now();
        }
    }

    pub(crate) fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }

    /// The wall-clock time (Unix seconds) the window ends, as `x-ratelimit-reset` says it.
    pub(crate) fn reset(&self) -> u64 {
        let left = Duration::from_secs(3600).saturating_sub(self.window_start.elapsed());
        (SystemTime::now() + left)
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }
}

pub(crate) struct State {
    pub(crate) token: String,
    pub(crate) login: String,
    pub(crate) repositories: BTreeSet<String>,
    pub(crate) default_branch: String,
    pub(crate) refs: BTreeMap<String, String>,
    pub(crate) permission: Permission,
    pub(crate) status_checks_pending: bool,
    pub(crate) deployments: Vec<FakeDeployment>,
    pub(crate) next_id: u64,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) started: tokio::time::Instant,
    pub(crate) epoch: SystemTime,
    pub(crate) core: Budget,
    pub(crate) graphql: Budget,
    pub(crate) writes_per_minute: Option<u32>,
    pub(crate) recent_writes: Vec<tokio::time::Instant>,
}

impl State {
    pub(crate) fn now(&self) -> SystemTime {
        self.epoch + self.started.elapsed()
    }

    /// GitHub's form of the fake's current time: `2026-08-01T12:00:00Z`.
    pub(crate) fn timestamp(&self) -> String {
        humantime::format_rfc3339_seconds(self.now()).to_string()
    }

    pub(crate) fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Whether a content-creating request is over the secondary limit; counts it otherwise.
    pub(crate) fn over_write_limit(&mut self) -> bool {
        let Some(limit) = self.writes_per_minute else {
            return false;
        };
        let now = tokio::time::Instant::now();
        self.recent_writes
            .retain(|at| now.duration_since(*at) < Duration::from_secs(60));
        if self.recent_writes.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return true;
        }
        self.recent_writes.push(now);
        false
    }
}
