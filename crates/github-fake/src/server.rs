//! The fake's HTTP server, its public handle, and GitHub's REST behaviour for deployments.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::state::{
    Budget, FakeDeployment, FakeStatus, Fault, FaultRule, Permission, RecordedRequest, State,
};

/// The token [`FakeGitHub::start`] accepts.
pub const DEFAULT_TOKEN: &str = "ghs_fakeGitHubToken0123456789abcdefABCDEF";

/// The repository [`FakeGitHub::start`] serves.
pub const DEFAULT_REPOSITORY: &str = "acme/api";

/// The fake's clock starts here unless [`FakeGitHubBuilder::epoch`] says otherwise:
/// 2026-08-01T12:00:00Z.
pub const DEFAULT_EPOCH_SECONDS: u64 = 1_785_585_600;

pub(crate) const DOCS: &str = "https://docs.github.com/rest";

pub(crate) type Reply = Response<Full<Bytes>>;

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Configures a [`FakeGitHub`]; see [`FakeGitHub::builder`].
#[derive(Debug, Clone)]
pub struct FakeGitHubBuilder {
    token: String,
    repositories: Vec<String>,
    base_path: String,
    epoch: SystemTime,
    login: String,
}

impl FakeGitHubBuilder {
    /// The token it accepts (default [`DEFAULT_TOKEN`]).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// One more repository it serves, `owner/name` (default [`DEFAULT_REPOSITORY`] alone).
    #[must_use]
    pub fn repository(mut self, repository: impl Into<String>) -> Self {
        self.repositories.push(repository.into());
        self
    }

    /// Serve the REST API under this path, as GitHub Enterprise Server does under `/api/v3`
    /// (its GraphQL endpoint is then `/api/graphql`); default the root, with GraphQL at
    /// `/graphql`, as `api.github.com`.
    #[must_use]
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.base_path = format!("/{}", path.trim_matches('/'))
            .trim_end_matches('/')
            .to_owned();
        self
    }

    /// The time the fake's clock shows at start; it then moves with tokio's clock, so a paused
    /// clock gives stable times.
    #[must_use]
    pub fn epoch(mut self, epoch: SystemTime) -> Self {
        self.epoch = epoch;
        self
    }

    /// The login that creates deployments and statuses (default `stagegate-bot`).
    #[must_use]
    pub fn login(mut self, login: impl Into<String>) -> Self {
        self.login = login.into();
        self
    }

    /// Bind a loopback port and serve on the caller's tokio runtime.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(self) -> std::io::Result<FakeGitHub> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let mut repositories: BTreeSet<String> = self.repositories.into_iter().collect();
        if repositories.is_empty() {
            repositories.insert(DEFAULT_REPOSITORY.to_owned());
        }
        let state = Arc::new(Mutex::new(State {
            token: self.token,
            login: self.login,
            repositories,
            default_branch: "main".to_owned(),
            refs: BTreeMap::new(),
            permission: Permission::Write,
            status_checks_pending: true,
            deployments: Vec::new(),
            next_id: 1,
            faults: Vec::new(),
            requests: Vec::new(),
            started: tokio::time::Instant::now(),
            epoch: self.epoch,
            core: Budget::new(5000),
            graphql: Budget::new(5000),
            writes_per_minute: None,
            recent_writes: Vec::new(),
        }));
        let base_path = self.base_path;
        let server_state = Arc::clone(&state);
        let server_base = base_path.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let connection_state = Arc::clone(&server_state);
                let connection_base = server_base.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&connection_state);
                        let base = connection_base.clone();
                        async move {
                            handle(state, &base, request).await.ok_or_else(|| {
                                std::io::Error::new(
                                    std::io::ErrorKind::ConnectionAborted,
                                    "fault: connection closed without an answer",
                                )
                            })
                        }
                    });
                    if let Err(error) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(%error, "fake github connection ended");
                    }
                });
            }
        });
        Ok(FakeGitHub {
            state,
            address,
            base_path,
            server,
        })
    }
}

/// A stateful fake of GitHub's deployments API on `127.0.0.1`, on the caller's tokio runtime.
///
/// Dropping it stops the server. See the [crate docs](crate) for an example.
pub struct FakeGitHub {
    state: Arc<Mutex<State>>,
    address: SocketAddr,
    base_path: String,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeGitHub {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FakeGitHub")
            .field("address", &self.address)
            .field("base_path", &self.base_path)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGitHub {
    /// Start a fake serving [`DEFAULT_REPOSITORY`] to [`DEFAULT_TOKEN`], with
    /// `deployments: write`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        Self::builder().start().await
    }

    /// Configure a fake: token, repositories, base path, clock.
    #[must_use]
    pub fn builder() -> FakeGitHubBuilder {
        FakeGitHubBuilder {
            token: DEFAULT_TOKEN.to_owned(),
            repositories: Vec::new(),
            base_path: String::new(),
            epoch: SystemTime::UNIX_EPOCH + Duration::from_secs(DEFAULT_EPOCH_SECONDS),
            login: "stagegate-bot".to_owned(),
        }
    }

    /// The REST API root, `http://127.0.0.1:PORT` plus the base path (what `GITHUB_API_URL`
    /// would say).
    #[must_use]
    pub fn api_url(&self) -> String {
        format!("http://{}{}", self.address, self.base_path)
    }

    /// The GraphQL endpoint: `/graphql`, or `/api/graphql` under a base path ending in
    /// `/api/v3`.
    #[must_use]
    pub fn graphql_url(&self) -> String {
        format!("http://{}{}", self.address, graphql_path(&self.base_path))
    }

    /// The token it accepts.
    #[must_use]
    pub fn token(&self) -> String {
        lock(&self.state).token.clone()
    }

    /// The first repository it serves, `owner/name`.
    #[must_use]
    pub fn repository(&self) -> String {
        lock(&self.state)
            .repositories
            .iter()
            .next()
            .cloned()
            .unwrap_or_default()
    }

    /// The time the fake's clock shows now.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        lock(&self.state).now()
    }

    /// What the token may do with deployments (default [`Permission::Write`]).
    pub fn set_permission(&self, permission: Permission) {
        lock(&self.state).permission = permission;
    }

    /// The hourly budget of REST requests and of GraphQL queries (default 5,000 each); each
    /// answer carries GitHub's `x-ratelimit-*` headers, and a spent budget answers 403 (REST)
    /// or a `RATE_LIMITED` error (GraphQL) until the hour is over.
    pub fn set_rate_limit(&self, requests_per_hour: u32) {
        let mut state = lock(&self.state);
        state.core = Budget::new(requests_per_hour);
        state.graphql = Budget::new(requests_per_hour);
    }

    /// A secondary limit on content-creating requests (POST, DELETE) per minute of tokio time,
    /// as GitHub's (about 80): over it, 403 "You have exceeded a secondary rate limit" with
    /// `retry-after: 60`. Off by default.
    pub fn limit_writes_per_minute(&self, limit: Option<u32>) {
        let mut state = lock(&self.state);
        state.writes_per_minute = limit;
        state.recent_writes.clear();
    }

    /// Whether the commits carry a pending `ci` status, so that a deployment created without
    /// `required_contexts: []` is refused with 409, as GitHub does (default true).
    pub fn set_status_checks_pending(&self, pending: bool) {
        lock(&self.state).status_checks_pending = pending;
    }

    /// Make `name` (a branch or tag) resolve to `sha` as a deployment's `ref`; a full 40-digit
    /// sha always resolves to itself.
    pub fn set_ref(&self, name: impl Into<String>, sha: impl Into<String>) {
        lock(&self.state).refs.insert(name.into(), sha.into());
    }

    /// Answer matching requests with a fault.
    pub fn fail(&self, rule: FaultRule) {
        lock(&self.state).faults.push(rule);
    }

    /// Remove every fault.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Every request received, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Forget the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.state).requests.clear();
    }

    /// The deployments of every repository, oldest first, each with its statuses.
    #[must_use]
    pub fn deployments(&self) -> Vec<FakeDeployment> {
        lock(&self.state).deployments.clone()
    }

    /// Add a deployment directly (no request, no limits), as if created at the fake's current
    /// time with this payload and these statuses (`(state, description)`, oldest first, each
    /// at the current time); returns its id. For building large histories quickly.
    ///
    /// # Panics
    ///
    /// When `repository` is not one the fake serves: a mistake in the test itself.
    pub fn insert_deployment(
        &self,
        repository: &str,
        environment: &str,
        sha: &str,
        payload: Value,
        statuses: &[(&str, &str)],
    ) -> u64 {
        let mut state = lock(&self.state);
        assert!(
            state.repositories.contains(repository),
            "the fake does not serve {repository}"
        );
        let id = state.fresh_id();
        let now = state.timestamp();
        let login = state.login.clone();
        let mut deployment = FakeDeployment {
            id,
            repository: repository.to_owned(),
            sha: sha.to_owned(),
            r#ref: sha.to_owned(),
            task: "deploy".to_owned(),
            environment: environment.to_owned(),
            description: String::new(),
            payload,
            production: environment == "production",
            transient: false,
            creator: login.clone(),
            created_at: now.clone(),
            statuses: Vec::new(),
        };
        for (status_state, description) in statuses {
            let status_id = state.fresh_id();
            deployment.statuses.push(FakeStatus {
                id: status_id,
                state: (*status_state).to_owned(),
                description: (*description).to_owned(),
                environment_url: None,
                log_url: None,
                creator: login.clone(),
                created_at: now.clone(),
            });
        }
        state.deployments.push(deployment);
        id
    }
}

/// The GraphQL path for a REST base path.
pub(crate) fn graphql_path(base_path: &str) -> String {
    match base_path.strip_suffix("/api/v3") {
        Some(prefix) => format!("{prefix}/api/graphql"),
        None => format!("{base_path}/graphql"),
    }
}

pub(crate) fn reply(status: u16, body: &Value) -> Reply {
    reply_text(status, "application/json; charset=utf-8", body.to_string())
}

pub(crate) fn reply_text(status: u16, content_type: &'static str, body: String) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

pub(crate) fn message(status: u16, text: &str) -> Reply {
    reply(
        status,
        &json!({"message": text, "documentation_url": DOCS, "status": status.to_string()}),
    )
}

pub(crate) fn set_header(response: &mut Reply, name: &'static str, value: &str) {
    if let Ok(value) = hyper::header::HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn fault_reply(fault: &Fault, authorization: Option<&str>) -> Option<Reply> {
    Some(match fault {
        Fault::Status { status, body } => {
            reply_text(*status, "application/json; charset=utf-8", body.clone())
        }
        Fault::SecondaryRateLimit { retry_after } => {
            let mut response = message(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            if let Some(after) = retry_after {
                set_header(&mut response, "retry-after", &after.as_secs().to_string());
            }
            response
        }
        Fault::TooManyRequests { retry_after } => {
            let mut response = message(429, "Too Many Requests");
            set_header(
                &mut response,
                "retry-after",
                &retry_after.as_secs().to_string(),
            );
            response
        }
        Fault::BadGatewayHtml => reply_text(
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>".to_owned(),
        ),
        Fault::EchoingProxyError => reply_text(
            502,
            "text/html",
            format!(
                "<html><body><pre>upstream failed; request headers: Authorization: {}</pre></body></html>",
                authorization.unwrap_or_default()
            ),
        ),
        Fault::Delay(_) | Fault::CloseConnection | Fault::CloseAfterHandling => return None,
    })
}

/// A request as the handlers see it.
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) body: Option<Value>,
}

async fn handle(state: Arc<Mutex<State>>, base: &str, request: Request<Incoming>) -> Option<Reply> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query_text = request.uri().query().map(str::to_owned);
    let header = |name: hyper::header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header(hyper::header::AUTHORIZATION);
    let accept = header(hyper::header::ACCEPT);
    let api_version = header(hyper::header::HeaderName::from_static(
        "x-github-api-version",
    ));
    let body = match request.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let graphql = path == graphql_path(base);
    let fault = {
        let mut guard = lock(&state);
        guard.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query_text.clone(),
            body: body.clone(),
            accept,
            api_version,
            graphql,
        });
        guard
            .faults
            .iter_mut()
            .find(|rule| rule.matches(&method, &path))
            .map(|rule| {
                if let Some(remaining) = rule.remaining.as_mut() {
                    *remaining -= 1;
                }
                rule.fault.clone()
            })
    };
    let mut close_after = false;
    match &fault {
        Some(Fault::Delay(delay)) => tokio::time::sleep(*delay).await,
        Some(Fault::CloseConnection) => return None,
        Some(Fault::CloseAfterHandling) => close_after = true,
        Some(fault) => {
            if let Some(response) = fault_reply(fault, authorization.as_deref()) {
                return Some(response);
            }
        }
        None => {}
    }
    let token = lock(&state).token.clone();
    let presented = authorization.as_deref().and_then(|value| {
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("token "))
    });
    if presented != Some(token.as_str()) {
        return Some(message(401, "Bad credentials"));
    }
    let parsed: Option<Value> = serde_json::from_str(&body).ok();
    let query = query_text.as_deref().map(parse_query).unwrap_or_default();
    let incoming = Received {
        method,
        query,
        body: parsed,
    };
    let response = if graphql {
        crate::graphql::answer(&state, &incoming)
    } else {
        match path.strip_prefix(base) {
            Some(rest) if base.is_empty() || rest.starts_with('/') || rest.is_empty() => {
                crate::rest::rest_answer(&state, rest, &incoming)
            }
            _ => message(404, "Not Found"),
        }
    };
    if close_after {
        return None;
    }
    Some(response)
}

fn parse_query(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect()
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                index += 1;
            }
            (other, None) => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Counts a request against the budget; `false` when the budget is spent.
pub(crate) fn charge(budget: &mut Budget) -> bool {
    budget.roll();
    if budget.remaining() == 0 {
        return false;
    }
    budget.used += 1;
    true
}

pub(crate) fn with_limit_headers(mut response: Reply, budget: &Budget, resource: &str) -> Reply {
    set_header(
        &mut response,
        "x-ratelimit-limit",
        &budget.limit.to_string(),
    );
    set_header(
        &mut response,
        "x-ratelimit-remaining",
        &budget.remaining().to_string(),
    );
    set_header(&mut response, "x-ratelimit-used", &budget.used.to_string());
    set_header(
        &mut response,
        "x-ratelimit-reset",
        &budget.reset().to_string(),
    );
    set_header(&mut response, "x-ratelimit-resource", resource);
    response
}
