//! The fake's data: applications, deployments, env vars, scripts, faults and recorded requests.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use coolify_client::{ApplicationUuid, DeploymentStatus, DeploymentUuid};
use tokio::time::Instant;

use crate::limiter::{DEFAULT_RATE_LIMIT, HEALTH_RATE_LIMIT, Window};
use crate::version::Version;

/// A token ability, as Coolify names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Ability {
    /// `root`: passes every check and reads sensitive fields.
    Root,
    /// `read`: every GET.
    Read,
    /// `read:sensitive`: env values and deployment logs are included.
    ReadSensitive,
    /// `write`: PATCH, POST and DELETE on applications and env vars.
    Write,
    /// `deploy`: `POST /deploy`, cancel, start/stop/restart.
    Deploy,
}

impl Ability {
    /// Coolify's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Read => "read",
            Self::ReadSensitive => "read:sensitive",
            Self::Write => "write",
            Self::Deploy => "deploy",
        }
    }
}

/// An application to create in the fake, with its deployment timing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FakeApplication {
    pub(crate) uuid: String,
    pub(crate) name: String,
    pub(crate) git_branch: String,
    pub(crate) git_commit_sha: String,
    pub(crate) branch_head: String,
    pub(crate) auto_deploy: bool,
    pub(crate) queue_time: Duration,
    pub(crate) build_time: Duration,
    pub(crate) git_repository: String,
    pub(crate) fqdn: Option<String>,
    pub(crate) health_check_path: Option<String>,
    pub(crate) project: String,
    pub(crate) environment: String,
    pub(crate) build_pack: String,
    pub(crate) image_name: Option<String>,
    pub(crate) image_tag: Option<String>,
    pub(crate) pull_time: Duration,
    pub(crate) restart_time: Duration,
    pub(crate) status: String,
    pub(crate) source: GitSource,
    pub(crate) preview_url_template: String,
    pub(crate) previews_enabled: bool,
    pub(crate) pr_deployments_public: bool,
}

impl FakeApplication {
    /// An application on branch `main`, unpinned (`HEAD`), auto-deploy on, whose deployments
    /// wait 1 s in the queue and build for 10 s; it builds `stagegate/example` through a GitHub
    /// App, answers on `https://UUID.example.test`, has no health check path, has preview
    /// deployments off (Coolify's default) with the template `{{pr_id}}.{{domain}}`, and sits
    /// in the `production` environment of the project `Example`.
    #[must_use]
    pub fn new(uuid: impl Into<String>) -> Self {
        let uuid = uuid.into();
        Self {
            name: uuid.clone(),
            git_branch: "main".to_owned(),
            git_commit_sha: "HEAD".to_owned(),
            branch_head: "a".repeat(40),
            auto_deploy: true,
            queue_time: Duration::from_secs(1),
            build_time: Duration::from_secs(10),
            fqdn: Some(format!("https://{uuid}.example.test")),
            git_repository: "stagegate/example".to_owned(),
            health_check_path: None,
            project: "Example".to_owned(),
            environment: "production".to_owned(),
            build_pack: "nixpacks".to_owned(),
            image_name: None,
            image_tag: None,
            pull_time: Duration::from_secs(3),
            restart_time: Duration::from_secs(2),
            status: "running:healthy".to_owned(),
            source: GitSource::GithubApp,
            preview_url_template: DEFAULT_PREVIEW_URL_TEMPLATE.to_owned(),
            previews_enabled: false,
            pr_deployments_public: false,
            uuid,
        }
    }

    /// The repository it builds, as Coolify stores it (`owner/repo`, an https URL or
    /// `git@host:owner/repo.git`).
    #[must_use]
    pub fn git_repository(mut self, repository: impl Into<String>) -> Self {
        self.git_repository = repository.into();
        self
    }

    /// Its domains as Coolify's `fqdn` (comma-separated, with schemes), or `None` for none.
    #[must_use]
    pub fn fqdn(mut self, fqdn: Option<&str>) -> Self {
        self.fqdn = fqdn.map(str::to_owned);
        self
    }

    /// The path of its container health check (`health_check_enabled` becomes true).
    #[must_use]
    pub fn health_check_path(mut self, path: impl Into<String>) -> Self {
        self.health_check_path = Some(path.into());
        self
    }

    /// The project and the environment of that project it belongs to; the fake lists both
    /// under `/projects`.
    #[must_use]
    pub fn environment(
        mut self,
        project: impl Into<String>,
        environment: impl Into<String>,
    ) -> Self {
        self.project = project.into();
        self.environment = environment.into();
        self
    }

    /// The application's name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The branch it builds.
    #[must_use]
    pub fn git_branch(mut self, branch: impl Into<String>) -> Self {
        self.git_branch = branch.into();
        self
    }

    /// The commit a `HEAD` deployment resolves to.
    #[must_use]
    pub fn branch_head(mut self, commit: impl Into<String>) -> Self {
        self.branch_head = commit.into();
        self
    }

    /// Whether auto-deploy starts enabled.
    #[must_use]
    pub fn auto_deploy(mut self, enabled: coolify_client::AutoDeploy) -> Self {
        self.auto_deploy = enabled == coolify_client::AutoDeploy::Enabled;
        self
    }

    /// Time a deployment stays `queued` before it may start.
    #[must_use]
    pub fn queue_time(mut self, duration: Duration) -> Self {
        self.queue_time = duration;
        self
    }

    /// Time a deployment stays `in_progress`.
    #[must_use]
    pub fn build_time(mut self, duration: Duration) -> Self {
        self.build_time = duration;
        self
    }

    /// Make it a Docker-image application (`build_pack` `dockerimage`) that runs `name:tag`:
    /// its `git_commit_sha` is `HEAD`, every deployment of it is of commit `HEAD`, and a
    /// deployment pulls the tag the application has when the deployment starts (taking
    /// [`FakeApplication::pull_time`] instead of the build time). Adding it pushes `name:tag`
    /// to the fake's registry and keeps that image on the server (the running container's).
    #[must_use]
    pub fn docker_image(mut self, name: impl Into<String>, tag: impl Into<String>) -> Self {
        self.build_pack = "dockerimage".to_owned();
        self.git_commit_sha = "HEAD".to_owned();
        self.image_name = Some(name.into());
        self.image_tag = Some(tag.into());
        self
    }

    /// Time a Docker-image deployment stays `in_progress` pulling and starting the image
    /// (default 3 s, much shorter than a build).
    #[must_use]
    pub fn pull_time(mut self, duration: Duration) -> Self {
        self.pull_time = duration;
        self
    }

    /// Time a deployment stays `in_progress` when it skips the build because the server still
    /// has the commit's image, or only restarts (`/restart`) (default 2 s), as Coolify's
    /// `should_skip_build` does. A forced rebuild, or a build time set with
    /// [`FakeCoolify::next_deployment_takes`](crate::FakeCoolify::next_deployment_takes), builds.
    #[must_use]
    pub fn restart_time(mut self, duration: Duration) -> Self {
        self.restart_time = duration;
        self
    }

    /// Where its code comes from (default [`GitSource::GithubApp`]): it decides what an
    /// API-triggered preview deployment builds.
    #[must_use]
    pub fn source(mut self, source: GitSource) -> Self {
        self.source = source;
        self
    }

    /// Turn preview deployments on (`is_preview_deployments_enabled`), so that a pull-request
    /// webhook ([`FakeCoolify::pull_request_opened`](crate::FakeCoolify::pull_request_opened))
    /// creates a preview.
    #[must_use]
    pub fn previews_enabled(mut self) -> Self {
        self.previews_enabled = true;
        self
    }

    /// The template of its previews' URLs (`preview_url_template`, default
    /// `{{pr_id}}.{{domain}}`).
    #[must_use]
    pub fn preview_url_template(mut self, template: impl Into<String>) -> Self {
        self.preview_url_template = template.into();
        self
    }

    pub(crate) fn is_image_app(&self) -> bool {
        self.build_pack == "dockerimage"
    }
}

/// Coolify's default `preview_url_template`.
pub(crate) const DEFAULT_PREVIEW_URL_TEMPLATE: &str = "{{pr_id}}.{{domain}}";

/// Where a git application's code comes from: it decides what a preview deployment started
/// through the API builds.
///
/// Coolify's job fetches the pull request's ref (`pull/N/head`) for GitHub App and public
/// github.com applications; deploy-key and plain-git applications fetch it only when the
/// deployment has a `git_type`, which webhooks set and the API does not, so an API-triggered
/// preview of such an application builds the base branch (Coolify issue #10806).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum GitSource {
    /// A GitHub App (the fake's default): previews build the pull request's head.
    #[default]
    GithubApp,
    /// A public github.com repository: previews build the pull request's head.
    PublicGithub,
    /// A private repository reached with a deploy key: an API-triggered preview builds the
    /// base branch.
    DeployKey,
    /// A public repository on another git host: an API-triggered preview builds the base
    /// branch.
    PlainGit,
}

impl GitSource {
    /// Whether a preview deployment without a `git_type` still fetches `pull/N/head`.
    pub(crate) fn fetches_pull_request_refs(self) -> bool {
        matches!(self, Self::GithubApp | Self::PublicGithub)
    }
}

/// A failure the fake answers with instead of handling a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// `401 {"message":"Unauthenticated."}`.
    Unauthenticated,
    /// `403 {"message":"Missing required permissions: <ability>"}`.
    MissingAbility(Ability),
    /// `403 {"success":true,"message":"API is disabled."}`.
    ApiDisabled,
    /// `429 {"message":"Too Many Attempts."}` with `Retry-After`.
    RateLimited {
        /// The `Retry-After` value.
        retry_after: Duration,
    },
    /// `502` with a proxy's HTML page.
    BadGatewayHtml,
    /// Handle the request normally, but only after this delay (to provoke client timeouts).
    Delay(Duration),
    /// `429 {"message":"Deployment queue is full. …"}` with `Retry-After: 60`: the server's
    /// deployment queue is at its limit.
    QueueFull,
    /// Read the request, then close the connection without answering (a proxy or server that
    /// dropped it).
    CloseConnection,
    /// `502` with a proxy's HTML page that echoes the request's headers, `Authorization`
    /// included, as some debugging proxies do.
    EchoingProxyError,
    /// Any status with this JSON body.
    Status {
        /// The HTTP status.
        status: u16,
        /// The JSON body.
        body: String,
    },
}

/// When a [`Fault`] applies: method and path fragment filters, and how many times.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FaultRule {
    pub(crate) method: Option<String>,
    pub(crate) path_contains: Option<String>,
    pub(crate) remaining: Option<usize>,
    pub(crate) application: Option<String>,
    pub(crate) fault: Fault,
}

impl FaultRule {
    /// The fault on every request, until removed.
    #[must_use]
    pub fn always(fault: Fault) -> Self {
        Self {
            method: None,
            path_contains: None,
            remaining: None,
            application: None,
            fault,
        }
    }

    /// The fault on requests whose path contains `fragment` (for example `/deploy`).
    #[must_use]
    pub fn on_path(fragment: impl Into<String>, fault: Fault) -> Self {
        Self {
            path_contains: Some(fragment.into()),
            ..Self::always(fault)
        }
    }

    /// Only for this method (`GET`, `POST`, …).
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Only for requests that concern `application` (by path, or the `uuid` of `POST /deploy`).
    #[must_use]
    pub fn application(mut self, application: &ApplicationUuid) -> Self {
        self.application = Some(application.as_str().to_owned());
        self
    }

    /// Only for the next `count` matching requests.
    #[must_use]
    pub fn times(mut self, count: usize) -> Self {
        self.remaining = Some(count);
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str, application: Option<&str>) -> bool {
        self.remaining != Some(0)
            && self
                .application
                .as_deref()
                .is_none_or(|wanted| application == Some(wanted))
            && self.method.as_deref().is_none_or(|wanted| wanted == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|fragment| path.contains(fragment))
    }
}

/// One request the fake received, with the answer's status once it was sent.
///
/// `#[non_exhaustive]` with private fields: only the fake records requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RecordedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) body: String,
    pub(crate) application: Option<ApplicationUuid>,
    pub(crate) route: String,
    pub(crate) at: Instant,
    pub(crate) status: Option<u16>,
    pub(crate) rate_limited: bool,
}

impl RecordedRequest {
    /// The method, for example `POST`.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, for example `/api/v1/deploy`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string, if any.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The body as text (empty when none).
    #[must_use]
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The body parsed as JSON, if it is JSON.
    #[must_use]
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The application the request concerns (from the path, the deploy body or query, or the
    /// deployment it names), if any.
    #[must_use]
    pub fn application(&self) -> Option<&ApplicationUuid> {
        self.application.as_ref()
    }

    /// The method and the path with its ids named as in Coolify's routes, for example
    /// `GET /api/v1/deployments/{uuid}`: what [`Traffic`](crate::Traffic) counts by.
    #[must_use]
    pub fn route(&self) -> &str {
        &self.route
    }

    /// When it arrived, on tokio's clock.
    #[must_use]
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The status of the answer; `None` while it is being handled, or when the connection was
    /// closed without one ([`Fault::CloseConnection`]).
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Whether the rate limiter refused it (`429 Too Many Attempts.`), not a full deployment
    /// queue.
    #[must_use]
    pub fn was_rate_limited(&self) -> bool {
        self.rate_limited
    }

    /// Whether it is for `/api/health`, which Coolify rate-limits apart.
    pub(crate) fn is_health(&self) -> bool {
        self.path == "/api/health" || self.path == "/api/v1/health"
    }
}

/// A deployment that reached `finished`, as given to the hook of
/// [`FakeCoolify::on_deployment_finished`](crate::FakeCoolify::on_deployment_finished).
///
/// `#[non_exhaustive]` with private fields: only the fake makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FinishedDeployment {
    pub(crate) application: ApplicationUuid,
    pub(crate) deployment: DeploymentUuid,
    pub(crate) commit: String,
    pub(crate) image_tag: Option<String>,
    pub(crate) pull_request_id: Option<u64>,
}

impl FinishedDeployment {
    /// The application.
    #[must_use]
    pub fn application(&self) -> &ApplicationUuid {
        &self.application
    }

    /// The deployment.
    #[must_use]
    pub fn deployment(&self) -> &DeploymentUuid {
        &self.deployment
    }

    /// The commit it built (`HEAD` for a Docker-image application).
    #[must_use]
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The image tag it started, for a Docker-image application (`None` for a git one); for a
    /// preview, the `docker_tag` it was deployed with.
    #[must_use]
    pub fn image_tag(&self) -> Option<&str> {
        self.image_tag.as_deref()
    }

    /// The pull request of a preview deployment; `None` for the application itself.
    #[must_use]
    pub fn pull_request_id(&self) -> Option<u64> {
        self.pull_request_id
    }
}

pub(crate) type FinishHook = Arc<dyn Fn(&FinishedDeployment) + Send + Sync>;

/// What the next deployment of an application does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Script {
    pub(crate) fails: bool,
    pub(crate) build_time: Option<Duration>,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredApplication {
    pub(crate) spec: FakeApplication,
    /// Another client racing the next pin: re-pin to this commit right after it, and deploy it
    /// when the flag is set.
    pub(crate) race: Option<(String, bool)>,
    pub(crate) scripts: VecDeque<Script>,
    /// The images on the server, oldest first.
    pub(crate) images: Vec<KeptImage>,
    /// The image tag the running container was started from.
    pub(crate) running_image: Option<String>,
    /// The container status to show after the next finished deployment, instead of
    /// `running:healthy`.
    pub(crate) status_after_next: Option<String>,
    /// Its previews (`ApplicationPreview` rows), by pull request.
    pub(crate) previews: BTreeMap<u64, StoredPreview>,
    /// The head commit of each pull request, as the last webhook reported it.
    pub(crate) pull_request_heads: BTreeMap<u64, String>,
}

/// A preview of an application (an `ApplicationPreview` row) and its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredPreview {
    /// The URL Coolify generated from the application's first domain and its template.
    pub(crate) fqdn: Option<String>,
    /// The image tag of a Docker-image application's preview.
    pub(crate) docker_tag: Option<String>,
    /// The commit (or image tag) its container runs, once a preview deployment finished.
    pub(crate) running: Option<String>,
}

/// An image on the fake's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeptImage {
    pub(crate) tag: String,
    /// Docker's text form of its creation time.
    pub(crate) created_at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredDeployment {
    pub(crate) id: u64,
    pub(crate) uuid: String,
    pub(crate) application: String,
    pub(crate) status: DeploymentStatus,
    pub(crate) commit: String,
    pub(crate) force_rebuild: bool,
    pub(crate) is_api: bool,
    pub(crate) restart_only: bool,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) finished_at: Option<String>,
    /// The image tag a Docker-image deployment pulls, read when it starts.
    pub(crate) image_tag: Option<String>,
    /// Log lines beyond the status line.
    pub(crate) logs: Vec<String>,
    /// The pull request of a preview deployment; 0 for the application itself.
    pub(crate) pull_request_id: u64,
    /// The `docker_tag` of a Docker-image preview deployment (`docker_registry_image_tag`).
    pub(crate) docker_tag: Option<String>,
    /// Set by webhooks (`github`); the API sets none.
    pub(crate) git_type: Option<String>,
    pub(crate) is_webhook: bool,
    /// Whether its queue time has passed, so it may start once the server has a free build.
    pub(crate) ready: bool,
    /// Whether it moves at all (seeded deployments keep their status).
    pub(crate) moves: bool,
    /// What it does once it starts.
    pub(crate) script: Script,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredEnv {
    pub(crate) id: u64,
    pub(crate) uuid: String,
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) is_preview: bool,
    pub(crate) is_literal: bool,
    pub(crate) is_multiline: bool,
    pub(crate) is_shown_once: bool,
    pub(crate) is_runtime: bool,
    pub(crate) is_buildtime: bool,
    pub(crate) comment: Option<String>,
}

pub(crate) struct State {
    pub(crate) token: String,
    pub(crate) abilities: Vec<Ability>,
    pub(crate) api_enabled: bool,
    pub(crate) version: String,
    pub(crate) applications: BTreeMap<String, StoredApplication>,
    pub(crate) deployments: Vec<StoredDeployment>,
    pub(crate) envs: BTreeMap<String, Vec<StoredEnv>>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) hooks: Vec<FinishHook>,
    pub(crate) next_id: u64,
    pub(crate) started: tokio::time::Instant,
    /// The registry: `(name, tag)` of every pushed image.
    pub(crate) registry: std::collections::BTreeSet<(String, String)>,
    /// The server's `concurrent_builds`.
    pub(crate) concurrent_builds: usize,
    /// The server's `deployment_queue_limit`.
    pub(crate) queue_limit: usize,
    /// The `api` limiter, when on.
    pub(crate) rate_limit: Option<Window>,
    /// The limiter of `/api/health`.
    pub(crate) health_limit: Window,
    /// Where the proxy sends the traffic of each container: `(application, pull request)`,
    /// 0 for the application itself.
    pub(crate) upstreams: BTreeMap<(String, u64), std::net::SocketAddr>,
}

impl State {
    pub(crate) fn new(token: String) -> Self {
        Self {
            token,
            abilities: vec![Ability::Read, Ability::Write, Ability::Deploy],
            api_enabled: true,
            version: "4.3.11".to_owned(),
            applications: BTreeMap::new(),
            deployments: Vec::new(),
            envs: BTreeMap::new(),
            faults: Vec::new(),
            requests: Vec::new(),
            hooks: Vec::new(),
            next_id: 1,
            started: tokio::time::Instant::now(),
            registry: std::collections::BTreeSet::new(),
            concurrent_builds: 2,
            queue_limit: 25,
            rate_limit: Some(Window::new(DEFAULT_RATE_LIMIT)),
            health_limit: Window::new(HEALTH_RATE_LIMIT),
            upstreams: BTreeMap::new(),
        }
    }

    pub(crate) fn has(&self, ability: Ability) -> bool {
        self.abilities.contains(&Ability::Root) || self.abilities.contains(&ability)
    }

    pub(crate) fn can_read_sensitive(&self) -> bool {
        self.has(Ability::ReadSensitive)
    }

    /// A fresh id and a 24-character lowercase alphanumeric uuid derived from it.
    pub(crate) fn fresh(&mut self, prefix: &str) -> (u64, String) {
        let id = self.next_id;
        self.next_id += 1;
        let mut mixed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66_D1CE_4E5B;
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut uuid = String::from(prefix);
        while uuid.len() < 24 {
            let index = usize::try_from(mixed % 36).unwrap_or(0);
            uuid.push(char::from(alphabet[index]));
            mixed = mixed / 36 + id.wrapping_mul(31);
        }
        (id, uuid)
    }

    /// Coolify-style timestamp of the fake's current tokio time (starting 2026-08-01T12:00:00Z).
    pub(crate) fn timestamp(&self) -> String {
        let elapsed = self.started.elapsed();
        let total = 12 * 3600 + elapsed.as_secs();
        let (days, rest) = (total / 86_400, total % 86_400);
        format!(
            "2026-08-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            (days % 28) + 1,
            rest / 3600,
            (rest % 3600) / 60,
            rest % 60,
            elapsed.subsec_micros()
        )
    }

    /// Docker's text form of the fake's current time: `2026-08-01 12:00:10 +0000 UTC`.
    pub(crate) fn docker_timestamp(&self) -> String {
        let total = 12 * 3600 + self.started.elapsed().as_secs();
        let (days, rest) = (total / 86_400, total % 86_400);
        format!(
            "2026-08-{:02} {:02}:{:02}:{:02} +0000 UTC",
            (days % 28) + 1,
            rest / 3600,
            (rest % 3600) / 60,
            rest % 60
        )
    }

    /// Whether the fake's version is at least `wanted`; an unreadable version counts as new.
    pub(crate) fn version_at_least(&self, wanted: Version) -> bool {
        Version::parse(&self.version) >= wanted
    }

    pub(crate) fn deployment_mut(&mut self, uuid: &str) -> Option<&mut StoredDeployment> {
        self.deployments
            .iter_mut()
            .find(|deployment| deployment.uuid == uuid)
    }

    /// The application a request path names, directly or through a deployment uuid.
    pub(crate) fn application_of_path(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix("/api/v1/")?;
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            ["applications", app, ..] | ["deployments", "applications", app] => {
                Some((*app).to_owned())
            }
            ["deployments", uuid, ..] => self
                .deployments
                .iter()
                .find(|deployment| deployment.uuid == *uuid)
                .map(|deployment| deployment.application.clone()),
            _ => None,
        }
    }
}
