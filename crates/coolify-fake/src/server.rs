//! The fake's HTTP server, its public handle, and the Coolify behaviour it imitates.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::envs::{EnvWrite, env_input_json, envs_json, upsert_env};
use crate::lifecycle::{NewDeployment, Queueing, queue_deployment};
use crate::limiter::{EPOCH_AT_START, Throttle, Traffic, Window, route_of};
use crate::routes::{Params, QUEUE_FULL, route};
use crate::state::{
    Ability, FakeApplication, Fault, FaultRule, FinishedDeployment, KeptImage, RecordedRequest,
    Script, State, StoredApplication, StoredDeployment,
};
use crate::wire::{Reply, application_json, deployment_json, message, reply, reply_text};
use coolify_client::{
    Application, ApplicationUuid, ClientBuilder, Deployment, DeploymentStatus, DeploymentUuid,
    EnvVar, EnvVarInput, RetryPolicy,
};

/// The token [`FakeCoolify::start`] accepts.
pub const DEFAULT_TOKEN: &str = "1|fake-coolify-token";

/// A deployment uuid the fake made itself (24 lowercase alphanumerics, always valid).
#[allow(clippy::expect_used)]
pub(crate) fn generated_deployment_uuid(uuid: String) -> DeploymentUuid {
    DeploymentUuid::new(uuid).expect("the fake generates valid deployment uuids")
}

/// The uuid of an application added with [`FakeCoolify::add_application`], which validated it.
#[allow(clippy::expect_used)]
pub(crate) fn known_application_uuid(uuid: &str) -> ApplicationUuid {
    ApplicationUuid::new(uuid).expect("application uuids are validated when added")
}

/// A stateful fake Coolify server on `127.0.0.1`, running on the caller's tokio runtime.
///
/// Dropping it stops the server and its proxy. See the [crate docs](crate) for an example.
pub struct FakeCoolify {
    pub(crate) state: Arc<Mutex<State>>,
    address: SocketAddr,
    pub(crate) proxy: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    proxy_server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeCoolify {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FakeCoolify")
            .field("address", &self.address)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeCoolify {
    fn drop(&mut self) {
        self.server.abort();
        self.proxy_server.abort();
    }
}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serve HTTP/1.1 on `listener`, each request answered by `answer` (`None`: close the
/// connection without an answer).
fn serve<F, Fut>(listener: tokio::net::TcpListener, answer: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<Reply>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let answered = answer(request);
                    async move {
                        answered.await.ok_or_else(|| {
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
                    tracing::debug!(%error, "fake coolify connection ended");
                }
            });
        }
    })
}

impl FakeCoolify {
    /// Start a fake accepting [`DEFAULT_TOKEN`] with abilities `read`, `write` and `deploy`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_token(DEFAULT_TOKEN).await
    }

    /// Start a fake accepting `token` (for example a recognizable one, to assert it never leaks).
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start_with_token(token: impl Into<String>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let proxy_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let proxy = proxy_listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::new(token.into())));
        let api_state = Arc::clone(&state);
        let server = serve(listener, move |request| {
            handle(Arc::clone(&api_state), request)
        });
        let proxy_state = Arc::clone(&state);
        let proxy_server = serve(proxy_listener, move |request| {
            let state = Arc::clone(&proxy_state);
            async move { Some(crate::proxy::handle(state, request).await) }
        });
        Ok(Self {
            state,
            address,
            proxy,
            server,
            proxy_server,
        })
    }

    /// The base URL to give a client, `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The token the fake accepts.
    #[must_use]
    pub fn token(&self) -> SecretString {
        SecretString::from(lock(&self.state).token.clone())
    }

    /// A client builder for this fake with its token and a quick retry policy
    /// (3 retries from 100 ms, within 2 minutes).
    #[must_use]
    pub fn client_builder(&self) -> ClientBuilder {
        coolify_client::Client::builder(self.base_url(), self.token()).retry_policy(
            RetryPolicy::default()
                .max_retries(3)
                .min_delay(Duration::from_millis(100))
                .max_delay(Duration::from_secs(1))
                .deadline(Duration::from_secs(120)),
        )
    }

    /// Replace the token's abilities (default `read`, `write`, `deploy`); add
    /// [`Ability::ReadSensitive`] to see env values.
    pub fn set_abilities(&self, abilities: &[Ability]) {
        lock(&self.state).abilities = abilities.to_vec();
    }

    /// Switch the API off: every `/api/v1` request gets `403 API is disabled.`.
    pub fn disable_api(&self) {
        lock(&self.state).api_enabled = false;
    }

    /// Switch the API back on.
    pub fn enable_api(&self) {
        lock(&self.state).api_enabled = true;
    }

    /// The version `GET /version` reports (default `4.3.11`).
    pub fn set_version(&self, version: impl Into<String>) {
        lock(&self.state).version = version.into();
    }

    /// Create an application and return its uuid.
    ///
    /// # Panics
    ///
    /// When the uuid is not a valid [`ApplicationUuid`]: a mistake in the test itself.
    pub fn add_application(&self, application: FakeApplication) -> ApplicationUuid {
        #[allow(clippy::expect_used)]
        let uuid = ApplicationUuid::new(application.uuid.clone())
            .expect("fake application uuid must be valid");
        let mut state = lock(&self.state);
        let mut images = Vec::new();
        let mut running_image = None;
        if let (Some(name), Some(tag)) = (&application.image_name, &application.image_tag) {
            state.registry.insert((name.clone(), tag.clone()));
            images.push(KeptImage {
                tag: tag.clone(),
                created_at: state.docker_timestamp(),
            });
            running_image = Some(tag.clone());
        }
        state.applications.insert(
            application.uuid.clone(),
            StoredApplication {
                spec: application,
                scripts: std::collections::VecDeque::new(),
                race: None,
                images,
                running_image,
                status_after_next: None,
                previews: std::collections::BTreeMap::new(),
                pull_request_heads: std::collections::BTreeMap::new(),
            },
        );
        uuid
    }

    /// The application as Coolify would return it to a `read:sensitive` token.
    #[must_use]
    pub fn application(&self, application: &ApplicationUuid) -> Option<Application> {
        let state = lock(&self.state);
        let stored = state.applications.get(application.as_str())?;
        serde_json::from_value(application_json(&stored.spec, true)).ok()
    }

    /// Make the next deployment of `application` fail when its build time ends.
    pub fn fail_next_deployment(&self, application: &ApplicationUuid) {
        self.script(application, |script| script.fails = true);
    }

    /// Make the next deployment of `application` build for `duration` instead of its default.
    pub fn next_deployment_takes(&self, application: &ApplicationUuid, duration: Duration) {
        self.script(application, |script| script.build_time = Some(duration));
    }

    fn script(&self, application: &ApplicationUuid, change: impl FnOnce(&mut Script)) {
        let mut state = lock(&self.state);
        if let Some(stored) = state.applications.get_mut(application.as_str()) {
            if stored.scripts.is_empty() {
                stored.scripts.push_back(Script::default());
            }
            if let Some(script) = stored.scripts.back_mut() {
                change(script);
            }
        }
    }

    /// Imitate another client racing the next pin of `application`: right after the next
    /// `PATCH` of `git_commit_sha`, the application is re-pinned to `commit`, and with
    /// `also_deploy` a deployment of it is queued too (as a second run of a deploy would).
    pub fn race_next_pin(&self, application: &ApplicationUuid, commit: &str, also_deploy: bool) {
        if let Some(stored) = lock(&self.state).applications.get_mut(application.as_str()) {
            stored.race = Some((commit.to_owned(), also_deploy));
        }
    }

    /// The commit a `HEAD` deployment of `application` resolves to from now on.
    pub fn set_branch_head(&self, application: &ApplicationUuid, commit: impl Into<String>) {
        if let Some(stored) = lock(&self.state).applications.get_mut(application.as_str()) {
            stored.spec.branch_head = commit.into();
        }
    }

    /// Add a past deployment of `commit` with a fixed `status` to the application's history
    /// (it does not move over time); returns its uuid. A seeded `queued` deployment holds a
    /// place in the server's queue, an `in_progress` one a build, until it is cancelled.
    pub fn seed_deployment(
        &self,
        application: &ApplicationUuid,
        commit: &str,
        status: DeploymentStatus,
    ) -> DeploymentUuid {
        let mut state = lock(&self.state);
        let (id, uuid) = state.fresh("");
        let now = state.timestamp();
        let finished_at = status.is_terminal().then(|| now.clone());
        state.deployments.push(StoredDeployment {
            id,
            uuid: uuid.clone(),
            application: application.as_str().to_owned(),
            status,
            commit: commit.to_owned(),
            force_rebuild: false,
            is_api: false,
            restart_only: false,
            created_at: now.clone(),
            updated_at: now,
            finished_at,
            image_tag: None,
            logs: Vec::new(),
            pull_request_id: 0,
            docker_tag: None,
            git_type: None,
            is_webhook: true,
            ready: false,
            moves: false,
            script: Script::default(),
        });
        generated_deployment_uuid(uuid)
    }

    /// Start a deployment the way a git push would (not through the API, not recorded):
    /// of `commit`, or of the pin or branch head when `None` (always of `HEAD` for a
    /// Docker-image application, which pulls its tag). It moves over time like any other.
    ///
    /// Returns `None` for an unknown application, and, as Coolify's webhook does, when the
    /// server's deployment queue is full or a deployment of the same commit is in flight.
    /// Must be called within the tokio runtime.
    pub fn trigger_deployment(
        &self,
        application: &ApplicationUuid,
        commit: Option<&str>,
    ) -> Option<DeploymentUuid> {
        let new = NewDeployment {
            commit: commit.map(str::to_owned),
            ..NewDeployment::default()
        };
        match queue_deployment(&self.state, application.as_str(), new)? {
            Queueing::Queued(uuid) => Some(generated_deployment_uuid(uuid)),
            Queueing::AlreadyQueued | Queueing::QueueFull => None,
        }
    }

    /// The server's `concurrent_builds` (default 2): how many deployments run at once; the
    /// others wait in its queue, oldest first.
    pub fn set_concurrent_builds(&self, builds: usize) {
        lock(&self.state).concurrent_builds = builds.max(1);
        crate::lifecycle::schedule(&self.state);
    }

    /// The server's `deployment_queue_limit` (default 25): with this many deployments queued,
    /// `POST /deploy` answers `429` "Deployment queue is full." with `Retry-After: 60`.
    pub fn set_deployment_queue_limit(&self, limit: usize) {
        lock(&self.state).queue_limit = limit;
    }

    /// Coolify's `API_RATE_LIMIT`: requests a minute per user (default 200), or `None` to turn
    /// the limiter off. Setting it starts a new window.
    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        lock(&self.state).rate_limit = per_minute.map(Window::new);
    }

    /// The requests received so far, counted ([`Traffic`]).
    #[must_use]
    pub fn traffic(&self) -> Traffic {
        Traffic::of(&lock(&self.state).requests)
    }

    /// The application's deployments, newest first, as Coolify returns them.
    #[must_use]
    pub fn deployments_of(&self, application: &ApplicationUuid) -> Vec<Deployment> {
        let state = lock(&self.state);
        let mut list: Vec<&StoredDeployment> = state
            .deployments
            .iter()
            .filter(|deployment| deployment.application == application.as_str())
            .collect();
        list.sort_by_key(|deployment| std::cmp::Reverse(deployment.id));
        list.into_iter()
            .filter_map(|deployment| {
                serde_json::from_value(deployment_json(&state, deployment)).ok()
            })
            .collect()
    }

    /// Create or update a variable (and its preview copy) directly, without a request.
    pub fn set_env_var(&self, application: &ApplicationUuid, variable: &EnvVarInput) {
        let mut state = lock(&self.state);
        let _ = upsert_env(
            &mut state,
            application.as_str(),
            &env_input_json(variable),
            EnvWrite::Upsert,
        );
    }

    /// The application's variables with their values, as a `read:sensitive` token sees them
    /// (locked values stay hidden).
    #[must_use]
    pub fn env_vars_of(&self, application: &ApplicationUuid) -> Vec<EnvVar> {
        let state = lock(&self.state);
        envs_json(&state, application.as_str(), true)
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| serde_json::from_value(item.clone()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Answer matching requests with a fault (rules are checked in order; the first match wins).
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.state).faults.push(rule);
    }

    /// Remove every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Every request received so far, in order (including those answered with a fault).
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// The requests that concern `application`.
    #[must_use]
    pub fn requests_for(&self, application: &ApplicationUuid) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.application.as_ref() == Some(application))
            .collect()
    }

    /// The requests whose path contains `fragment`.
    #[must_use]
    pub fn requests_for_path(&self, fragment: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.path.contains(fragment))
            .collect()
    }

    /// Push `name:tag` to the fake's registry, so a Docker-image deployment of that tag can
    /// pull it (a deployment of a tag the registry lacks fails, and the previous container
    /// keeps running).
    pub fn push_image(&self, name: impl Into<String>, tag: impl Into<String>) {
        lock(&self.state).registry.insert((name.into(), tag.into()));
    }

    /// The tags of the application's images still on its server, newest first, as
    /// `GET /applications/{uuid}/rollback-images` lists them: full commit shas of finished
    /// builds for a git application, pulled tags for a Docker-image one.
    #[must_use]
    pub fn images_of(&self, application: &ApplicationUuid) -> Vec<String> {
        lock(&self.state)
            .applications
            .get(application.as_str())
            .map(|stored| {
                stored
                    .images
                    .iter()
                    .rev()
                    .map(|image| image.tag.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Remove one image of the application from its server (`docker rmi`), as a Docker
    /// cleanup would; a later deploy of it builds (or pulls) again. Returns whether it was there.
    pub fn remove_image(&self, application: &ApplicationUuid, tag: &str) -> bool {
        let mut state = lock(&self.state);
        let Some(stored) = state.applications.get_mut(application.as_str()) else {
            return false;
        };
        let before = stored.images.len();
        stored.images.retain(|image| image.tag != tag);
        stored.images.len() < before
    }

    /// Imitate Coolify's Docker cleanup with `docker_images_to_keep` = `keep`: keep the `keep`
    /// newest images of the application, and the one its running container uses (which
    /// `docker rmi` cannot remove); remove the rest. Returns the tags removed.
    pub fn cleanup_images(&self, application: &ApplicationUuid, keep: usize) -> Vec<String> {
        let mut state = lock(&self.state);
        let Some(stored) = state.applications.get_mut(application.as_str()) else {
            return Vec::new();
        };
        let count = stored.images.len();
        let running = stored.running_image.clone();
        let mut removed = Vec::new();
        let mut index = 0;
        stored.images.retain(|image| {
            let newest = index + keep >= count;
            index += 1;
            let stays = newest || running.as_deref() == Some(image.tag.as_str());
            if !stays {
                removed.push(image.tag.clone());
            }
            stays
        });
        removed
    }

    /// Make the application's container fail right after its next deployment finishes: the
    /// deployment ends `finished`, then the container is in a crash loop, which Coolify's
    /// container status aggregator reports as `degraded:unhealthy` (a worker that crashes on
    /// start). [`FakeCoolify::set_container_status`] sets other forms, such as the
    /// `restarting:unknown` of older versions.
    pub fn crash_after_next_deployment(&self, application: &ApplicationUuid) {
        if let Some(stored) = lock(&self.state).applications.get_mut(application.as_str()) {
            stored.status_after_next = Some("degraded:unhealthy".to_owned());
        }
    }

    /// Set the application's container status as Coolify reports it in `status` (for example
    /// `exited:unhealthy` or `running:unhealthy`); a later finished deployment sets
    /// `running:healthy` again.
    pub fn set_container_status(&self, application: &ApplicationUuid, status: &str) {
        if let Some(stored) = lock(&self.state).applications.get_mut(application.as_str()) {
            stored.spec.status = status.to_owned();
        }
    }

    /// Call `hook` each time a deployment reaches `finished`, with its commit and, for a
    /// Docker-image application, the image tag it started (a local health app can switch the
    /// commit it reports then).
    pub fn on_deployment_finished(
        &self,
        hook: impl Fn(&FinishedDeployment) + Send + Sync + 'static,
    ) {
        lock(&self.state).hooks.push(Arc::new(hook));
    }
}

fn fault_reply(fault: &Fault, authorization: Option<&str>) -> Option<Reply> {
    Some(match fault {
        Fault::Unauthenticated => message(401, "Unauthenticated."),
        Fault::MissingAbility(ability) => {
            message(403, &format!("Missing required permissions: {}", ability.as_str()))
        }
        Fault::ApiDisabled => reply(403, &json!({"success": true, "message": "API is disabled."})),
        Fault::RateLimited { retry_after } => {
            let mut response = message(429, "Too Many Attempts.");
            if let Ok(value) = hyper::header::HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                response.headers_mut().insert(hyper::header::RETRY_AFTER, value);
            }
            response
        }
        Fault::BadGatewayHtml => reply_text(
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>".to_owned(),
        ),
        Fault::QueueFull => {
            let mut response = message(429, QUEUE_FULL);
            response
                .headers_mut()
                .insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from_static("60"));
            response
        }
        Fault::EchoingProxyError => reply_text(
            502,
            "text/html",
            format!(
                "<html><body><h1>502 Bad Gateway</h1><pre>upstream failed for request with headers: Authorization: {}</pre></body></html>",
                authorization.unwrap_or_default()
            ),
        ),
        Fault::Status { status, body } => reply_text(*status, "application/json", body.clone()),
        Fault::Delay(_) | Fault::CloseConnection => return None,
    })
}

async fn handle(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Option<Reply> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = match request.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let parsed: Option<Value> = serde_json::from_str(&body).ok();
    let params = Params::new(query.as_deref(), parsed.as_ref());

    let (index, fault) = {
        let mut guard = lock(&state);
        let application = if path == "/api/v1/deploy" {
            params
                .text("uuid")
                .map(|uuid| uuid.split(',').next().unwrap_or_default().to_owned())
        } else {
            guard.application_of_path(&path)
        };
        guard.requests.push(RecordedRequest {
            route: route_of(&method, &path),
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            body: body.clone(),
            application: application
                .clone()
                .and_then(|uuid| ApplicationUuid::new(uuid).ok()),
            at: tokio::time::Instant::now(),
            status: None,
            rate_limited: false,
        });
        let index = guard.requests.len() - 1;
        let rule = guard
            .faults
            .iter_mut()
            .find(|rule| rule.matches(&method, &path, application.as_deref()));
        let fault = rule.map(|rule| {
            if let Some(remaining) = rule.remaining.as_mut() {
                *remaining -= 1;
            }
            rule.fault.clone()
        });
        (index, fault)
    };
    let answer = answer(
        &state,
        fault,
        &method,
        &path,
        authorization.as_deref(),
        &params,
        parsed.as_ref(),
    )
    .await;
    let mut guard = lock(&state);
    if let (Some(recorded), Some((response, limited))) = (guard.requests.get_mut(index), &answer) {
        recorded.status = Some(response.status().as_u16());
        recorded.rate_limited = *limited;
    }
    answer.map(|(response, _)| response)
}

/// The answer to one request, and whether the rate limiter refused it; `None` to close the
/// connection without one.
async fn answer(
    state: &Arc<Mutex<State>>,
    fault: Option<Fault>,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    params: &Params,
    body: Option<&Value>,
) -> Option<(Reply, bool)> {
    if let Some(fault) = fault {
        match fault {
            Fault::Delay(delay) => tokio::time::sleep(delay).await,
            Fault::CloseConnection => return None,
            fault => {
                if let Some(response) = fault_reply(&fault, authorization) {
                    let limited = matches!(fault, Fault::RateLimited { .. });
                    return Some((response, limited));
                }
            }
        }
    }
    if path == "/api/health" || path == "/api/v1/health" {
        let throttle = {
            let mut guard = lock(state);
            let started = guard.started;
            guard.health_limit.hit(tokio::time::Instant::now(), started)
        };
        return Some(throttled(throttle, || {
            reply_text(200, "text/html", "OK".to_owned())
        }));
    }
    let expected = format!("Bearer {}", lock(state).token);
    if authorization != Some(expected.as_str()) {
        return Some((message(401, "Unauthenticated."), false));
    }
    // Laravel runs the authentication before the throttle, and the throttle before the
    // route's own middleware (the API switch, the abilities).
    let throttle = {
        let mut guard = lock(state);
        let started = guard.started;
        guard
            .rate_limit
            .as_mut()
            .map(|window| window.hit(tokio::time::Instant::now(), started))
    };
    let handle_it = || {
        if !lock(state).api_enabled {
            return reply(
                403,
                &json!({"success": true, "message": "API is disabled."}),
            );
        }
        route(state, method, path, params, body)
    };
    Some(match throttle {
        Some(throttle) => throttled(throttle, handle_it),
        None => (handle_it(), false),
    })
}

/// The answer under the limiter's decision: `answer()` with the rate-limit headers, or
/// Laravel's `429` without handling the request.
fn throttled(throttle: Throttle, answer: impl FnOnce() -> Reply) -> (Reply, bool) {
    let header = |value: String| {
        hyper::header::HeaderValue::from_str(&value)
            .unwrap_or_else(|_| hyper::header::HeaderValue::from_static("0"))
    };
    match throttle {
        Throttle::Allowed { limit, remaining } => {
            let mut response = answer();
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", header(limit.to_string()));
            headers.insert("x-ratelimit-remaining", header(remaining.to_string()));
            (response, false)
        }
        Throttle::Refused {
            limit,
            retry_after,
            resets_after,
        } => {
            let mut response = message(429, "Too Many Attempts.");
            let headers = response.headers_mut();
            headers.insert(hyper::header::RETRY_AFTER, header(retry_after.to_string()));
            headers.insert(
                "x-ratelimit-reset",
                header((EPOCH_AT_START + resets_after.as_secs()).to_string()),
            );
            headers.insert("x-ratelimit-limit", header(limit.to_string()));
            headers.insert("x-ratelimit-remaining", header("0".to_owned()));
            (response, true)
        }
    }
}
