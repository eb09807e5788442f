//! The fake's HTTP server, its public handle, and the Coolify behaviour it imitates.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::state::{
    Ability, FakeApplication, Fault, FaultRule, FinishedDeployment, KeptImage, RecordedRequest,
    Script, State, StoredApplication, StoredDeployment, StoredEnv,
};
use coolify_client::{
    Application, ApplicationUuid, ClientBuilder, Deployment, DeploymentStatus, DeploymentUuid,
    EnvVar, EnvVarInput, RetryPolicy,
};

/// The token [`FakeCoolify::start`] accepts.
pub const DEFAULT_TOKEN: &str = "1|fake-coolify-token";

/// What Coolify answers when a deployment of the same commit is already queued for the app.
const ALREADY_QUEUED: &str = "Deployment already queued for this commit.";

/// A deployment uuid the fake made itself (24 lowercase alphanumerics, always valid).
#[allow(clippy::expect_used)]
fn generated_deployment_uuid(uuid: String) -> DeploymentUuid {
    DeploymentUuid::new(uuid).expect("the fake generates valid deployment uuids")
}

/// The uuid of an application added with [`FakeCoolify::add_application`], which validated it.
#[allow(clippy::expect_used)]
fn known_application_uuid(uuid: &str) -> ApplicationUuid {
    ApplicationUuid::new(uuid).expect("application uuids are validated when added")
}

/// A stateful fake Coolify server on `127.0.0.1`, running on the caller's tokio runtime.
///
/// Dropping it stops the server. See the [crate docs](crate) for an example.
pub struct FakeCoolify {
    state: Arc<Mutex<State>>,
    address: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeCoolify {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FakeCoolify")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeCoolify {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Reply = Response<Full<Bytes>>;

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
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
        let state = Arc::new(Mutex::new(State::new(token.into())));
        let server_state = Arc::clone(&state);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let connection_state = Arc::clone(&server_state);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&connection_state);
                        async move {
                            // `None`: close the connection without an answer.
                            handle(state, request).await.ok_or_else(|| {
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
        });
        Ok(Self {
            state,
            address,
            server,
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
                runner: Arc::new(tokio::sync::Mutex::new(())),
                images,
                running_image,
                status_after_next: None,
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
    /// (it does not move over time); returns its uuid.
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
        });
        generated_deployment_uuid(uuid)
    }

    /// Start a deployment the way a git push would (not through the API, not recorded):
    /// of `commit`, or of the pin or branch head when `None` (always of `HEAD` for a
    /// Docker-image application, which pulls its tag). It moves over time like any other.
    ///
    /// Returns `None` for an unknown application. Must be called within the tokio runtime.
    pub fn trigger_deployment(
        &self,
        application: &ApplicationUuid,
        commit: Option<&str>,
    ) -> Option<DeploymentUuid> {
        queue_deployment(&self.state, application.as_str(), commit, false, false)
            .map(generated_deployment_uuid)
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
        upsert_env(
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

/// Queue a deployment and spawn the task that moves it through its statuses.
/// Returns `None` for an unknown application.
fn queue_deployment(
    shared: &Arc<Mutex<State>>,
    application: &str,
    commit: Option<&str>,
    force_rebuild: bool,
    is_api: bool,
) -> Option<String> {
    let mut state = lock(shared);
    let stored = state.applications.get_mut(application)?;
    let script = stored.scripts.pop_front().unwrap_or_default();
    let queue_time = stored.spec.queue_time;
    let runner = Arc::clone(&stored.runner);
    let image_app = stored.spec.is_image_app();
    // An image application's deployments are all of `HEAD`, never rewritten.
    let commit = match commit {
        Some(_) if image_app => "HEAD".to_owned(),
        Some(commit) => commit.to_owned(),
        None => stored.spec.git_commit_sha.clone(),
    };
    let (id, uuid) = state.fresh("");
    let now = state.timestamp();
    state.deployments.push(StoredDeployment {
        id,
        uuid: uuid.clone(),
        application: application.to_owned(),
        status: DeploymentStatus::Queued,
        commit,
        force_rebuild,
        is_api,
        restart_only: false,
        created_at: now.clone(),
        updated_at: now,
        finished_at: None,
        image_tag: None,
        logs: Vec::new(),
    });
    drop(state);
    let task_state = Arc::clone(shared);
    let task_uuid = uuid.clone();
    tokio::spawn(async move {
        tokio::time::sleep(queue_time).await;
        let _turn = runner.lock().await;
        let Some(run) = start_run(&task_state, &task_uuid, script) else {
            return;
        };
        tokio::time::sleep(run.duration).await;
        finish_run(&task_state, &task_uuid, &run);
    });
    Some(uuid)
}

/// What a deployment does once it starts, decided when it moves to `in_progress`.
struct Run {
    duration: Duration,
    fails: bool,
    /// The image it leaves on the server: the commit's for a build, the tag for a pull.
    image: Option<String>,
    /// The log line of a failure.
    failure: Option<String>,
}

/// Move a queued deployment to `in_progress`: resolve `HEAD` (git apps) or read the image tag
/// (image apps), and decide whether it builds, skips the build, or pulls.
fn start_run(shared: &Mutex<State>, uuid: &str, script: Script) -> Option<Run> {
    let mut state = lock(shared);
    let now = state.timestamp();
    let deployment = state
        .deployments
        .iter()
        .find(|deployment| deployment.uuid == uuid)?;
    if deployment.status != DeploymentStatus::Queued {
        return None;
    }
    let (app, commit, force) = (
        deployment.application.clone(),
        deployment.commit.clone(),
        deployment.force_rebuild,
    );
    let stored = state.applications.get(&app)?;
    let spec = stored.spec.clone();
    let restart_only = deployment.restart_only;
    let mut logs = Vec::new();
    let mut image_tag = None;
    let run = if spec.is_image_app() {
        let name = spec.image_name.clone().unwrap_or_else(|| app.clone());
        let tag = spec
            .image_tag
            .clone()
            .unwrap_or_else(|| "latest".to_owned());
        image_tag = Some(tag.clone());
        logs.push(format!(
            "Pulling latest images from the registry: {name}:{tag}"
        ));
        let pushed = state.registry.contains(&(name.clone(), tag.clone()));
        Run {
            duration: script.build_time.unwrap_or(spec.pull_time),
            fails: script.fails || !pushed,
            image: Some(tag.clone()),
            failure: (!pushed).then(|| {
                format!(
                    "Failed to start container: Error response from daemon: manifest for {name}:{tag} not found: manifest unknown: manifest unknown"
                )
            }),
        }
    } else {
        let resolved = if commit.eq_ignore_ascii_case("HEAD") {
            spec.branch_head.clone()
        } else {
            commit
        };
        let kept = stored.images.iter().any(|image| image.tag == resolved);
        let skip = (kept || restart_only) && !force && script.build_time.is_none();
        let duration = if skip {
            logs.push(format!(
                "No build configuration changed & image found ({app}:{resolved}) with the same Git Commit SHA. Build step skipped."
            ));
            spec.restart_time
        } else {
            logs.push(format!(
                "Building docker image started for {app}:{resolved}."
            ));
            script.build_time.unwrap_or(spec.build_time)
        };
        if let Some(deployment) = state.deployment_mut(uuid) {
            deployment.commit.clone_from(&resolved);
        }
        Run {
            duration,
            fails: script.fails,
            image: Some(resolved),
            failure: None,
        }
    };
    let deployment = state.deployment_mut(uuid)?;
    deployment.status = DeploymentStatus::InProgress;
    deployment.updated_at = now;
    deployment.image_tag = image_tag;
    deployment.logs.extend(logs);
    Some(run)
}

/// End an in-progress deployment: `failed` (the previous container keeps running) or
/// `finished` (the image is kept on the server, the container runs it), then call the hooks.
fn finish_run(shared: &Mutex<State>, uuid: &str, run: &Run) {
    let (hooks, finished) = {
        let mut state = lock(shared);
        let now = state.timestamp();
        let created = state.docker_timestamp();
        let Some(deployment) = state.deployment_mut(uuid) else {
            return;
        };
        if deployment.status != DeploymentStatus::InProgress {
            return;
        }
        deployment.status = if run.fails {
            DeploymentStatus::Failed
        } else {
            DeploymentStatus::Finished
        };
        deployment.updated_at = now.clone();
        deployment.finished_at = Some(now);
        if let Some(failure) = &run.failure {
            deployment.logs.push(failure.clone());
        } else if run.fails {
            deployment.logs.push("Deployment failed.".to_owned());
        } else {
            deployment.logs.push("New container started.".to_owned());
        }
        let finished = FinishedDeployment {
            application: known_application_uuid(&deployment.application),
            deployment: generated_deployment_uuid(deployment.uuid.clone()),
            commit: deployment.commit.clone(),
            image_tag: deployment.image_tag.clone(),
        };
        if run.fails {
            return;
        }
        let app = deployment.application.clone();
        if let Some(stored) = state.applications.get_mut(&app) {
            if let Some(image) = &run.image {
                let pulled = stored.spec.is_image_app();
                let present = stored.images.iter().any(|kept| &kept.tag == image);
                // A rebuild replaces the image; a pull of a tag the server has keeps it.
                if !(pulled && present) {
                    stored.images.retain(|kept| &kept.tag != image);
                    stored.images.push(KeptImage {
                        tag: image.clone(),
                        created_at: created,
                    });
                }
                stored.running_image = Some(image.clone());
            }
            stored.spec.status = stored
                .status_after_next
                .take()
                .unwrap_or_else(|| "running:healthy".to_owned());
        }
        (state.hooks.clone(), finished)
    };
    for hook in hooks {
        hook(&finished);
    }
}

fn reply(status: u16, body: &Value) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn reply_text(status: u16, content_type: &'static str, body: String) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

fn message(status: u16, text: &str) -> Reply {
    reply(status, &json!({ "message": text }))
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
            let mut response = message(
                429,
                "Deployment queue is full. Please wait for existing deployments to complete.",
            );
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

    let fault = {
        let mut guard = lock(&state);
        let application = if path == "/api/v1/deploy" {
            params
                .text("uuid")
                .map(|uuid| uuid.split(',').next().unwrap_or_default().to_owned())
        } else {
            guard.application_of_path(&path)
        };
        guard.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            body: body.clone(),
            application: application
                .clone()
                .and_then(|uuid| ApplicationUuid::new(uuid).ok()),
        });
        let rule = guard
            .faults
            .iter_mut()
            .find(|rule| rule.matches(&method, &path, application.as_deref()));
        rule.map(|rule| {
            if let Some(remaining) = rule.remaining.as_mut() {
                *remaining -= 1;
            }
            rule.fault.clone()
        })
    };
    if let Some(fault) = fault {
        match fault {
            Fault::Delay(delay) => tokio::time::sleep(delay).await,
            Fault::CloseConnection => return None,
            fault => {
                if let Some(response) = fault_reply(&fault, authorization.as_deref()) {
                    return Some(response);
                }
            }
        }
    }
    if path == "/api/health" || path == "/api/v1/health" {
        return Some(reply_text(200, "text/html", "OK".to_owned()));
    }
    let expected = format!("Bearer {}", lock(&state).token);
    if authorization.as_deref() != Some(expected.as_str()) {
        return Some(message(401, "Unauthenticated."));
    }
    if !lock(&state).api_enabled {
        return Some(reply(
            403,
            &json!({"success": true, "message": "API is disabled."}),
        ));
    }
    Some(route(&state, &method, &path, &params, parsed.as_ref()))
}

/// Request parameters from the query string and the JSON body (Coolify merges both).
struct Params {
    pairs: Vec<(String, Value)>,
}

impl Params {
    fn new(query: Option<&str>, body: Option<&Value>) -> Self {
        let mut pairs = Vec::new();
        if let Some(Value::Object(fields)) = body {
            pairs.extend(
                fields
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
        }
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.push((key.to_owned(), Value::String(value.to_owned())));
        }
        Self { pairs }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.pairs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) => matches!(text.as_str(), "1" | "true" | "on" | "yes"),
            Some(Value::Number(number)) => number.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.text(key).and_then(|text| text.parse().ok())
    }
}

fn required(state: &Mutex<State>, ability: Ability) -> Option<Reply> {
    (!lock(state).has(ability)).then(|| {
        message(
            403,
            &format!("Missing required permissions: {}", ability.as_str()),
        )
    })
}

fn route(
    shared: &Arc<Mutex<State>>,
    method: &str,
    path: &str,
    params: &Params,
    body: Option<&Value>,
) -> Reply {
    let segments: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    let ability = match method {
        "GET" => Ability::Read,
        "POST"
            if segments.first() == Some(&"deploy")
                || path.ends_with("/cancel")
                || path.ends_with("/start")
                || path.ends_with("/stop")
                || path.ends_with("/restart") =>
        {
            Ability::Deploy
        }
        _ => Ability::Write,
    };
    if !path.starts_with("/api/v1/") {
        return reply(
            404,
            &json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
        );
    }
    if let Some(denied) = required(shared, ability) {
        return denied;
    }
    match (method, segments.as_slice()) {
        ("GET", ["version"]) => reply_text(200, "text/html", lock(shared).version.clone()),
        ("GET", ["deploy"]) => {
            let mut response = message(405, "This endpoint has changed to a POST request.");
            response.headers_mut().insert(
                hyper::header::ALLOW,
                hyper::header::HeaderValue::from_static("POST"),
            );
            response
        }
        ("POST", ["deploy"]) => deploy(shared, params),
        ("GET", ["deployments"]) => {
            let state = lock(shared);
            let mut list: Vec<&StoredDeployment> = state
                .deployments
                .iter()
                .filter(|deployment| deployment.status.is_in_flight())
                .collect();
            list.sort_by_key(|deployment| deployment.id);
            let items: Vec<Value> = list
                .into_iter()
                .map(|deployment| deployment_json(&state, deployment))
                .collect();
            reply(200, &Value::Array(items))
        }
        ("GET", ["deployments", "applications", app]) => list_deployments(shared, app, params),
        ("GET", ["deployments", uuid]) => {
            let state = lock(shared);
            match state
                .deployments
                .iter()
                .find(|deployment| deployment.uuid == *uuid)
            {
                Some(deployment) => reply(200, &deployment_json(&state, deployment)),
                None => message(404, "Deployment not found."),
            }
        }
        ("POST", ["deployments", uuid, "cancel"]) => cancel(shared, uuid),
        ("GET", ["applications"]) => {
            let state = lock(shared);
            let sensitive = state.can_read_sensitive();
            let list: Vec<Value> = state
                .applications
                .values()
                .map(|stored| application_json(&stored.spec, sensitive))
                .collect();
            reply(200, &Value::Array(list))
        }
        ("GET", ["projects"]) => {
            let state = lock(shared);
            let list: Vec<Value> = projects(&state)
                .into_iter()
                .map(|(name, _)| json!({"uuid": project_uuid(&name), "name": name, "description": null}))
                .collect();
            reply(200, &Value::Array(list))
        }
        ("GET", ["projects", uuid]) => {
            let state = lock(shared);
            match projects(&state)
                .into_iter()
                .find(|(name, _)| project_uuid(name) == *uuid)
            {
                Some((name, environments)) => reply(
                    200,
                    &json!({
                        "uuid": uuid,
                        "name": name,
                        "description": null,
                        "environments": environments
                            .into_iter()
                            .map(|environment| json!({
                                "id": environment_id(&name, &environment),
                                "name": environment,
                                "uuid": project_uuid(&format!("{name}-{environment}")),
                            }))
                            .collect::<Vec<Value>>(),
                    }),
                ),
                None => message(404, "Project not found."),
            }
        }
        ("GET", ["applications", app]) => {
            let state = lock(shared);
            match state.applications.get(*app) {
                Some(stored) => reply(
                    200,
                    &application_json(&stored.spec, state.can_read_sensitive()),
                ),
                None => message(404, "Application not found."),
            }
        }
        ("PATCH", ["applications", app]) => patch_application(shared, app, body),
        ("GET", ["applications", app, "rollback-images"]) => rollback_images(shared, app),
        ("POST", ["applications", app, action @ ("start" | "restart")]) => {
            if !lock(shared).applications.contains_key(*app) {
                return message(404, "Application not found.");
            }
            let force = params.flag("force");
            if dedupe(shared, app, force) {
                return message(200, ALREADY_QUEUED);
            }
            let Some(uuid) = queue_deployment(shared, app, None, force, true) else {
                return message(404, "Application not found.");
            };
            if *action == "restart"
                && let Some(deployment) = lock(shared).deployment_mut(&uuid)
            {
                deployment.restart_only = true;
            }
            let text = if *action == "start" {
                "Deployment request queued."
            } else {
                "Restart request queued."
            };
            reply(200, &json!({"message": text, "deployment_uuid": uuid}))
        }
        ("POST", ["applications", app, "stop"]) => {
            if lock(shared).applications.contains_key(*app) {
                message(200, "Application stopping request queued.")
            } else {
                message(404, "Application not found.")
            }
        }
        ("GET", ["applications", app, "envs"]) => {
            let state = lock(shared);
            if !state.applications.contains_key(*app) {
                return message(404, "Application not found.");
            }
            reply(200, &envs_json(&state, app, state.can_read_sensitive()))
        }
        ("POST", ["applications", app, "envs"]) => write_env(shared, app, body, EnvWrite::Create),
        ("PATCH", ["applications", app, "envs"]) => write_env(shared, app, body, EnvWrite::Update),
        ("PATCH", ["applications", app, "envs", "bulk"]) => bulk_envs(shared, app, body),
        ("DELETE", ["applications", app, "envs", env]) => {
            let mut state = lock(shared);
            if !state.applications.contains_key(*app) {
                return message(404, "Application not found.");
            }
            let list = state.envs.entry((*app).to_owned()).or_default();
            let before = list.len();
            list.retain(|variable| variable.uuid != *env);
            if list.len() < before {
                message(200, "Environment variable deleted.")
            } else {
                message(404, "Environment variable not found.")
            }
        }
        _ => reply(
            404,
            &json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
        ),
    }
}

/// Coolify's dedupe: an in-flight deployment of the same app and commit blocks a non-forced deploy.
fn dedupe(shared: &Mutex<State>, app: &str, force: bool) -> bool {
    if force {
        return false;
    }
    let state = lock(shared);
    let Some(stored) = state.applications.get(app) else {
        return false;
    };
    // An image application's deployments are all of `HEAD`, so any in flight blocks.
    let image_app = stored.spec.is_image_app();
    let commit = &stored.spec.git_commit_sha;
    state.deployments.iter().any(|deployment| {
        deployment.application == app
            && deployment.status.is_in_flight()
            && (image_app || &deployment.commit == commit)
    })
}

/// `GET /applications/{uuid}/rollback-images` (Coolify 4.3.0+; older versions answer the
/// catch-all 404). `current` is null: the fake names containers `{uuid}-<time>`, as Coolify
/// does by default.
fn rollback_images(shared: &Mutex<State>, app: &str) -> Reply {
    let state = lock(shared);
    if !state.version_at_least((4, 3, 0)) {
        return reply(
            404,
            &json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
        );
    }
    let Some(stored) = state.applications.get(app) else {
        return message(404, "Application not found.");
    };
    let images: Vec<Value> = stored
        .images
        .iter()
        .rev()
        .map(|image| json!({"tag": image.tag, "created_at": image.created_at, "is_current": false}))
        .collect();
    reply(200, &json!({"current": null, "images": images}))
}

fn deploy(shared: &Arc<Mutex<State>>, params: &Params) -> Reply {
    if params.get("tag").is_some() {
        return message(400, "Tag deploys are not supported by the fake; use uuid.");
    }
    let Some(uuids) = params.text("uuid") else {
        return message(400, "You must provide uuid or tag.");
    };
    let force = params.flag("force");
    let mut entries = Vec::new();
    // Coolify splits at commas without trimming: ` u2` matches nothing.
    for app in uuids.split(',').filter(|uuid| !uuid.is_empty()) {
        let (known, name) = {
            let state = lock(shared);
            state
                .applications
                .get(app)
                .map_or((false, String::new()), |stored| {
                    (true, stored.spec.name.clone())
                })
        };
        if !known {
            continue;
        }
        if dedupe(shared, app, force) {
            let (_, bogus) = lock(shared).fresh("");
            entries.push(json!({
                "deployment_uuid": bogus,
                "message": ALREADY_QUEUED,
                "resource_uuid": app,
            }));
            continue;
        }
        if let Some(uuid) = queue_deployment(shared, app, None, force, true) {
            entries.push(json!({
                "deployment_uuid": uuid,
                "message": format!("Application {name} deployment queued."),
                "resource_uuid": app,
            }));
        }
    }
    if entries.is_empty() {
        return message(404, "No resources found.");
    }
    reply(200, &json!({ "deployments": entries }))
}

fn list_deployments(shared: &Mutex<State>, app: &str, params: &Params) -> Reply {
    let state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found");
    }
    let skip = params.number("skip").unwrap_or(0);
    let take = params.number("take").unwrap_or(10);
    if take == 0 {
        return reply(
            422,
            &json!({"message": "The take field must be at least 1.", "errors": {"take": ["The take field must be at least 1."]}}),
        );
    }
    let mut list: Vec<&StoredDeployment> = state
        .deployments
        .iter()
        .filter(|deployment| deployment.application == app)
        .collect();
    list.sort_by_key(|deployment| std::cmp::Reverse(deployment.id));
    let count = list.len();
    let page: Vec<Value> = list
        .into_iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(take).unwrap_or(usize::MAX))
        .map(|deployment| deployment_json(&state, deployment))
        .collect();
    reply(200, &json!({"count": count, "deployments": page}))
}

fn cancel(shared: &Mutex<State>, uuid: &str) -> Reply {
    let mut state = lock(shared);
    let now = state.timestamp();
    let Some(deployment) = state.deployment_mut(uuid) else {
        return message(404, "Deployment not found.");
    };
    if !deployment.status.is_in_flight() {
        return message(
            400,
            &format!(
                "Deployment cannot be cancelled. Current status: {}",
                deployment.status
            ),
        );
    }
    deployment.status = DeploymentStatus::CancelledByUser;
    deployment.updated_at = now.clone();
    deployment.finished_at = Some(now);
    reply(
        200,
        &json!({
            "message": "Deployment cancelled successfully.",
            "deployment_uuid": uuid,
            "status": "cancelled-by-user",
        }),
    )
}

fn patch_application(shared: &Arc<Mutex<State>>, app: &str, body: Option<&Value>) -> Reply {
    let Some(Value::Object(fields)) = body else {
        return reply(
            400,
            &json!({"message": "Invalid request.", "error": "Invalid JSON."}),
        );
    };
    if fields.is_empty() {
        return reply(
            400,
            &json!({"message": "Invalid request.", "error": "Empty JSON."}),
        );
    }
    let mut state = lock(shared);
    let Some(stored) = state.applications.get_mut(app) else {
        return message(404, "Application not found");
    };
    let mut errors = serde_json::Map::new();
    for (key, value) in fields {
        let accepted = match (key.as_str(), value) {
            ("git_commit_sha", Value::String(sha)) => valid_commit(sha),
            ("git_branch", Value::String(branch)) => valid_branch(branch),
            ("is_auto_deploy_enabled", Value::Bool(_)) => true,
            ("docker_registry_image_name", Value::String(name)) => {
                coolify_client::ImageName::new(name.as_str()).is_ok()
            }
            ("docker_registry_image_tag", Value::String(tag)) => {
                coolify_client::ImageTag::new(tag.as_str()).is_ok()
            }
            (
                "git_commit_sha"
                | "git_branch"
                | "is_auto_deploy_enabled"
                | "docker_registry_image_name"
                | "docker_registry_image_tag",
                _,
            ) => false,
            _ => {
                errors.insert(key.clone(), json!(["This field is not allowed."]));
                continue;
            }
        };
        if !accepted {
            errors.insert(
                key.clone(),
                json!([format!(
                    "The {} field format is invalid.",
                    key.replace('_', " ")
                )]),
            );
        }
    }
    if !errors.is_empty() {
        return reply(
            422,
            &json!({"message": "Validation failed.", "errors": errors}),
        );
    }
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("git_commit_sha", Value::String(sha)) => stored.spec.git_commit_sha.clone_from(sha),
            ("git_branch", Value::String(branch)) => stored.spec.git_branch.clone_from(branch),
            ("is_auto_deploy_enabled", Value::Bool(flag)) => stored.spec.auto_deploy = *flag,
            ("docker_registry_image_name", Value::String(name)) => {
                stored.spec.image_name = Some(name.clone());
            }
            ("docker_registry_image_tag", Value::String(tag)) => {
                stored.spec.image_tag = Some(tag.clone());
            }
            _ => {}
        }
    }
    let race = if fields.contains_key("git_commit_sha") {
        stored.race.take()
    } else {
        None
    };
    if let Some((commit, also_deploy)) = race {
        stored.spec.git_commit_sha.clone_from(&commit);
        drop(state);
        if also_deploy {
            queue_deployment(shared, app, None, false, true);
        }
    }
    reply(200, &json!({ "uuid": app }))
}

fn valid_commit(sha: &str) -> bool {
    let mut characters = sha.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && characters.all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-' | '/')
        })
}

fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && branch != "HEAD"
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && !branch.starts_with(['/', '.'])
        && !branch.ends_with(['/', '.'])
        && branch.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '/' | '.')
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnvWrite {
    Create,
    Update,
    Upsert,
}

fn valid_key(key: &str) -> bool {
    let mut characters = key.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '.'))
        && key.len() <= 255
}

fn write_env(shared: &Mutex<State>, app: &str, body: Option<&Value>, mode: EnvWrite) -> Reply {
    let mut state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found.");
    }
    let Some(item) = body.filter(|body| body.is_object()) else {
        return reply(
            400,
            &json!({"message": "Invalid request.", "error": "Invalid JSON."}),
        );
    };
    upsert_env(&mut state, app, item, mode)
}

fn bulk_envs(shared: &Mutex<State>, app: &str, body: Option<&Value>) -> Reply {
    let mut state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found.");
    }
    let Some(Value::Array(items)) = body.and_then(|body| body.get("data")) else {
        return message(400, "Bulk data is required.");
    };
    let mut saved = Vec::new();
    for item in items {
        let response = upsert_env(&mut state, app, item, EnvWrite::Upsert);
        if response.status() != StatusCode::CREATED {
            return response;
        }
        let key = item.get("key").and_then(Value::as_str).unwrap_or_default();
        let preview = item
            .get("is_preview")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(stored) = state.envs.get(app).and_then(|list| {
            list.iter()
                .find(|variable| variable.key == key && variable.is_preview == preview)
        }) {
            saved.push(env_json(stored, state.can_read_sensitive()));
        }
    }
    reply(201, &Value::Array(saved))
}

/// Create, update or upsert one variable with Coolify's semantics; answers 201 on success.
fn upsert_env(state: &mut State, app: &str, item: &Value, mode: EnvWrite) -> Reply {
    let allowed = [
        "key",
        "value",
        "is_preview",
        "is_literal",
        "is_multiline",
        "is_shown_once",
        "is_runtime",
        "is_buildtime",
        "comment",
    ];
    if let Some(fields) = item.as_object()
        && let Some(unknown) = fields.keys().find(|key| !allowed.contains(&key.as_str()))
    {
        return reply(
            422,
            &json!({"message": "Validation failed.", "errors": {unknown: "This field is not allowed."}}),
        );
    }
    let key = item
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .replace(' ', "_");
    if !valid_key(&key) {
        return reply(
            422,
            &json!({"message": "Validation failed.", "errors": {"key": ["The key field format is invalid."]}}),
        );
    }
    let flag = |name: &str| item.get(name).and_then(Value::as_bool);
    let value = item
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let is_preview = flag("is_preview").unwrap_or(false);
    let comment = item
        .get("comment")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let sensitive = state.can_read_sensitive();
    let exists = state.envs.get(app).is_some_and(|list| {
        list.iter()
            .any(|variable| variable.key == key && variable.is_preview == is_preview)
    });
    match (mode, exists) {
        (EnvWrite::Create, true) => {
            return message(
                409,
                "Environment variable already exists. Use PATCH request to update it.",
            );
        }
        (EnvWrite::Update, false) => return message(404, "Environment variable not found."),
        (_, true) => {
            let list = state.envs.entry(app.to_owned()).or_default();
            if let Some(variable) = list
                .iter_mut()
                .find(|variable| variable.key == key && variable.is_preview == is_preview)
            {
                variable.value = value;
                variable.is_literal = flag("is_literal").unwrap_or(false);
                variable.is_multiline = flag("is_multiline").unwrap_or(false);
                variable.is_shown_once = flag("is_shown_once").unwrap_or(false);
                if let Some(runtime) = flag("is_runtime") {
                    variable.is_runtime = runtime;
                }
                if let Some(buildtime) = flag("is_buildtime") {
                    variable.is_buildtime = buildtime;
                }
                if comment.is_some() {
                    variable.comment = comment;
                }
                let updated = env_json(variable, sensitive);
                return reply(201, &updated);
            }
            return message(404, "Environment variable not found.");
        }
        (_, false) => {}
    }
    let mut created = Vec::new();
    for preview in [is_preview, true] {
        let already = state.envs.get(app).is_some_and(|list| {
            list.iter()
                .any(|variable| variable.key == key && variable.is_preview == preview)
        });
        if already || (preview && created.len() == 1 && is_preview) {
            continue;
        }
        let (id, uuid) = state.fresh("");
        created.push(uuid.clone());
        state
            .envs
            .entry(app.to_owned())
            .or_default()
            .push(StoredEnv {
                id,
                uuid,
                key: key.clone(),
                value: value.clone(),
                is_preview: preview,
                is_literal: flag("is_literal").unwrap_or(false),
                is_multiline: flag("is_multiline").unwrap_or(false),
                is_shown_once: flag("is_shown_once").unwrap_or(false),
                is_runtime: flag("is_runtime").unwrap_or(true),
                is_buildtime: flag("is_buildtime").unwrap_or(true),
                comment: comment.clone(),
            });
    }
    reply(201, &json!({ "uuid": created.first() }))
}

fn env_input_json(variable: &EnvVarInput) -> Value {
    serde_json::to_value(variable).unwrap_or(Value::Null)
}

fn env_json(variable: &StoredEnv, sensitive: bool) -> Value {
    let mut body = json!({
        "uuid": variable.uuid,
        "key": variable.key,
        "is_preview": variable.is_preview,
        "is_literal": variable.is_literal,
        "is_multiline": variable.is_multiline,
        "is_shown_once": variable.is_shown_once,
        "is_runtime": variable.is_runtime,
        "is_buildtime": variable.is_buildtime,
        "is_shared": false,
        "is_really_required": false,
        "is_buildpack_control": variable.key.starts_with("NIXPACKS_") || variable.key.starts_with("RAILPACK_"),
        "is_coolify": variable.key.starts_with("SERVICE_"),
        "comment": variable.comment,
        "version": "4.3.11",
        "created_at": "2026-08-01T12:00:00.000000Z",
        "updated_at": "2026-08-01T12:00:00.000000Z",
    });
    if sensitive
        && !variable.is_shown_once
        && let Some(fields) = body.as_object_mut()
    {
        fields.insert("value".to_owned(), json!(variable.value));
        fields.insert("real_value".to_owned(), json!(variable.value));
    }
    body
}

fn envs_json(state: &State, app: &str, sensitive: bool) -> Value {
    let list = state.envs.get(app).map(Vec::as_slice).unwrap_or_default();
    let mut ordered: Vec<&StoredEnv> = list.iter().collect();
    ordered.sort_by_key(|variable| (variable.is_preview, variable.id));
    Value::Array(
        ordered
            .into_iter()
            .map(|variable| env_json(variable, sensitive))
            .collect(),
    )
}

/// The projects the applications name, each with its environments, sorted.
fn projects(state: &State) -> Vec<(String, Vec<String>)> {
    let mut projects: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for stored in state.applications.values() {
        projects
            .entry(stored.spec.project.clone())
            .or_default()
            .insert(stored.spec.environment.clone());
    }
    projects
        .into_iter()
        .map(|(name, environments)| (name, environments.into_iter().collect()))
        .collect()
}

/// A stable uuid-like id for a project name.
fn project_uuid(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("project-{slug}")
}

/// A stable numeric id for an environment of a project.
fn environment_id(project: &str, environment: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in project.bytes().chain([0]).chain(environment.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash % 1_000_000
}

fn application_json(spec: &FakeApplication, sensitive: bool) -> Value {
    let mut body = json!({
        "uuid": spec.uuid,
        "name": spec.name,
        "description": null,
        "fqdn": spec.fqdn,
        "health_check_enabled": spec.health_check_path.is_some(),
        "health_check_path": spec.health_check_path.as_deref().unwrap_or("/"),
        "environment_id": environment_id(&spec.project, &spec.environment),
        "git_repository": spec.git_repository,
        "git_branch": spec.git_branch,
        "git_commit_sha": spec.git_commit_sha,
        "git_full_url": null,
        "build_pack": spec.build_pack,
        "ports_exposes": "3000",
        "status": spec.status,
        "watch_paths": null,
        "docker_registry_image_name": spec.image_name,
        "docker_registry_image_tag": spec.image_tag,
        "settings": {
            "is_auto_deploy_enabled": spec.auto_deploy,
            "is_git_shallow_clone_enabled": true,
            "is_static": false,
        },
        "created_at": "2026-08-01T12:00:00.000000Z",
        "updated_at": "2026-08-01T12:00:00.000000Z",
    });
    if sensitive && let Some(fields) = body.as_object_mut() {
        fields.insert(
            "manual_webhook_secret_github".to_owned(),
            json!("fake-webhook-secret"),
        );
        fields.insert("dockerfile".to_owned(), Value::Null);
    }
    body
}

fn deployment_json(state: &State, deployment: &StoredDeployment) -> Value {
    let name = state.applications.get(&deployment.application).map_or_else(
        || deployment.application.clone(),
        |stored| stored.spec.name.clone(),
    );
    let mut body = json!({
        "id": deployment.id,
        "application_id": "1",
        "deployment_uuid": deployment.uuid,
        "pull_request_id": 0,
        "docker_registry_image_tag": null,
        "force_rebuild": deployment.force_rebuild,
        "commit": deployment.commit,
        "commit_message": null,
        "status": deployment.status.as_str(),
        "is_webhook": !deployment.is_api,
        "is_api": deployment.is_api,
        "restart_only": deployment.restart_only,
        "rollback": false,
        "only_this_server": false,
        "git_type": null,
        "server_id": 0,
        "build_server_id": null,
        "server_name": "localhost",
        "application_name": name,
        "deployment_url": format!("/project/p/environment/e/application/{}/deployment/{}", deployment.application, deployment.uuid),
        "destination_id": "0",
        "current_process_id": null,
        "horizon_job_id": null,
        "horizon_job_worker": null,
        "configuration_hash": null,
        "finished_at": deployment.finished_at,
        "created_at": deployment.created_at,
        "updated_at": deployment.updated_at,
    });
    if state.can_read_sensitive()
        && let Some(fields) = body.as_object_mut()
    {
        let lines: Vec<Value> = deployment
            .logs
            .iter()
            .cloned()
            .chain([format!("status {}", deployment.status)])
            .enumerate()
            .map(|(order, output)| json!({"command": null, "output": output, "type": "stdout", "timestamp": deployment.updated_at, "hidden": false, "batch": 1, "order": order + 1}))
            .collect();
        let logs = Value::Array(lines);
        fields.insert("logs".to_owned(), Value::String(logs.to_string()));
    }
    body
}
