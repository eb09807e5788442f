//! The harness of the stagegate scenario suite.
//!
//! A [`World`] is everything a flow touches, built fresh for each scenario: a temporary git
//! repository with fixed author and dates, the fake Coolify of `coolify-client` with two apps
//! and a recognizable token, a local health server per environment that reports the commit it
//! runs (switching over a moment after each finished deployment, like a real container), and a
//! `deploy.toml` with short probe intervals. Flows run through the `stagegate` library with
//! captured output; the scenario then asserts the exit code, the message and the requests each
//! app received.
//!
//! Everything runs on the test's tokio runtime, so `#[tokio::test(start_paused = true)]`
//! drives deployments, switch-overs and probe deadlines without real waiting.
//!
//! # Example
//!
//! ```no_run
//! use stagegate_tests::{Env, World};
//!
//! # async fn scenario() -> anyhow::Result<()> {
//! let world = World::new().await?;
//! world.repo.commit("src/app.txt", "feat: greet users")?;
//! let run = world.deploy_staging().await;
//! assert_eq!(run.exit(), stagegate::Exit::Done);
//! assert!(run.writes_to(&world.app(Env::Production)).is_empty());
//! world.assert_token_never_leaked();
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use coolify_client::ApplicationUuid;
use coolify_fake::{FakeApplication, FakeCoolify, GitSource, RecordedRequest};
pub use github_fake::{FakeGitHub, Permission};
use stagegate::ProcessEnv;
use stagegate::deploy::{DeployReport, ProductionOptions, StagingOptions};
use stagegate::output::{Format, Output, Style, Verbosity};
use stagegate::preview::{DeployOptions, ListReport, PreviewReport, RemoveOptions, RemoveReport};
use stagegate::release::{Level, ReleaseOptions, ReleaseReport};
use stagegate::rollback::RollbackOptions;
use stagegate::{Exit, Session};

pub mod adopting;
mod health;
mod repo;

pub use crate::health::{HealthMode, HealthServer, PROXY_UNAVAILABLE};
pub use crate::repo::FixtureRepo;

/// The token every scenario uses: recognizable, so a leak anywhere is found.
pub const TOKEN: &str = "1|stagegate-scenario-SECRET-token";

/// The part of [`TOKEN`] searched for in every output (a leak may drop the `1|` prefix).
pub const TOKEN_NEEDLE: &str = "stagegate-scenario-SECRET-token";

/// The workspace root: the parent of this package.
pub fn workspace_root() -> std::path::PathBuf {
    let package = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    package.parent().map_or_else(
        || std::path::PathBuf::from(".."),
        std::path::Path::to_path_buf,
    )
}

/// The staging app's uuid in the fake.
pub const STAGING_APP: &str = "staging-app";

/// The production app's uuid in the fake.
pub const PRODUCTION_APP: &str = "production-app";

/// The staging worker's uuid in a [`World::with_worker`] world.
pub const STAGING_WORKER: &str = "staging-worker";

/// The production worker's uuid in a [`World::with_worker`] world.
pub const PRODUCTION_WORKER: &str = "production-worker";

/// The image of a [`World::with_images`] world's apps.
pub const IMAGE: &str = "ghcr.io/acme/api";

/// The tag a [`World::with_images`] world's apps run before their first deployment.
pub const FIRST_IMAGE_TAG: &str = "bootstrap";

/// The staging app's domain in a [`World::with_previews`] world: its previews answer on
/// `http://N.staging.scenario.test`, through the fake's proxy.
pub const STAGING_DOMAIN: &str = "http://staging.scenario.test";

/// How long a fake deployment stays queued.
pub const QUEUE_TIME: Duration = Duration::from_millis(50);

/// How long a fake deployment builds.
pub const BUILD_TIME: Duration = Duration::from_millis(150);

/// How long a health server keeps reporting the old commit after a finished deployment.
pub const SWITCH_OVER: Duration = Duration::from_millis(100);

/// Whether a world starts before adoption (no `deploy.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adopting {
    No,
    Yes,
}

/// Whether a world's environments have workers next to their web app, or run images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workers {
    No,
    /// This many workers per environment: one is `worker` ([`STAGING_WORKER`]), more are
    /// `worker-1`, `worker-2`, ... (`staging-worker-1`, ...).
    Yes(usize),
    /// Docker-image apps; production's `image_tag` template.
    Images(&'static str),
}

/// The staging app of a [`World::with_previews`] world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewApp {
    /// An app that builds from git, reached as `source`, with preview deployments on or off.
    Git {
        /// Where Coolify gets its code: it decides what an API-triggered preview builds.
        source: GitSource,
        /// `is_preview_deployments_enabled`.
        enabled: bool,
    },
    /// A Docker-image app, as in [`World::with_images`] (previews need no setting).
    Image,
}

/// Which environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Env {
    /// Staging.
    Staging,
    /// Production.
    Production,
}

/// A scenario's world: repository, fake Coolify, health servers, config and captured output.
pub struct World {
    /// The git repository the flows run in.
    pub repo: FixtureRepo,
    /// The fake Coolify.
    pub fake: FakeCoolify,
    /// The fake GitHub that keeps the release record.
    pub github: FakeGitHub,
    /// The staging app's health server.
    pub staging_health: HealthServer,
    /// The production app's health server.
    pub production_health: HealthServer,
    staging: ApplicationUuid,
    production: ApplicationUuid,
    /// The workers (staging, production) of a [`World::with_worker`] or [`World::with_apps`]
    /// world, in config order.
    workers: Vec<(ApplicationUuid, ApplicationUuid)>,
    /// Production's `image_tag` template in a [`World::with_images`] world.
    production_image_tag: Option<&'static str>,
    /// The commit each pushed image tag was built from.
    image_commits: Arc<Mutex<std::collections::HashMap<String, String>>>,
    /// The health server of each pull request's preview, by number.
    previews: Arc<Mutex<std::collections::HashMap<u64, HealthServer>>>,
    environment: Mutex<ProcessEnv>,
    transcript: Arc<Mutex<String>>,
    // Kept last so the directories outlive everything that writes into them.
    outside: tempfile::TempDir,
    _directory: tempfile::TempDir,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("repo", &self.repo)
            .field("fake", &self.fake)
            .finish_non_exhaustive()
    }
}

/// What one flow did: its result, what it printed, and the requests the fake got meanwhile.
#[derive(Debug)]
pub struct Run<T> {
    /// The flow's result.
    pub result: anyhow::Result<T>,
    /// What it wrote to stdout.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
    /// The requests the fake received while it ran, in order.
    pub requests: Vec<RecordedRequest>,
}

impl<T: std::fmt::Debug> Run<T> {
    /// The exit code the command line would give.
    pub fn exit(&self) -> Exit {
        match &self.result {
            Ok(_) => Exit::Done,
            Err(error) => Exit::of(error),
        }
    }

    /// The `error:` line the command line would print (without the prefix).
    ///
    /// # Panics
    ///
    /// When the flow succeeded.
    pub fn message(&self) -> String {
        match &self.result {
            Ok(value) => panic!(
                "the flow succeeded, with {value:?}\nstderr:\n{}",
                self.stderr
            ),
            Err(error) => stagegate::exit::message(error),
        }
    }

    /// The successful result.
    ///
    /// # Panics
    ///
    /// When the flow failed.
    pub fn value(&self) -> &T {
        match &self.result {
            Ok(value) => value,
            Err(error) => panic!(
                "the flow failed (exit {:?}): {}\nstderr:\n{}",
                Exit::of(error),
                stagegate::exit::message(error),
                self.stderr
            ),
        }
    }

    /// Assert the exit code and that the message contains every word of `words`.
    ///
    /// # Panics
    ///
    /// When either differs.
    pub fn assert_failed(&self, exit: Exit, words: &[&str]) {
        let message = self.message();
        assert_eq!(
            self.exit(),
            exit,
            "exit code of: {message}\nstderr:\n{}",
            self.stderr
        );
        for word in words {
            assert!(
                message.contains(word),
                "the message lacks {word:?}: {message}"
            );
        }
    }

    /// The requests that concern `app`.
    pub fn requests_to(&self, app: &ApplicationUuid) -> Vec<&RecordedRequest> {
        self.requests
            .iter()
            .filter(|request| request.application() == Some(app))
            .collect()
    }

    /// The requests that change something about `app` (anything but `GET`).
    pub fn writes_to(&self, app: &ApplicationUuid) -> Vec<&RecordedRequest> {
        self.requests_to(app)
            .into_iter()
            .filter(|request| request.method() != "GET")
            .collect()
    }

    /// The `POST /api/v1/deploy` requests for `app`.
    pub fn deploys_of(&self, app: &ApplicationUuid) -> Vec<&RecordedRequest> {
        self.requests_to(app)
            .into_iter()
            .filter(|request| request.method() == "POST" && request.path() == "/api/v1/deploy")
            .collect()
    }

    /// The commits `app` was pinned to, in order (`PATCH` with `git_commit_sha`).
    pub fn pins_of(&self, app: &ApplicationUuid) -> Vec<String> {
        self.requests_to(app)
            .into_iter()
            .filter(|request| request.method() == "PATCH")
            .filter_map(|request| {
                request.json()?["git_commit_sha"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }
}

type Buffer = Arc<Mutex<Vec<u8>>>;

fn text(buffer: &Buffer) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
}

impl World {
    /// A world with the standard `deploy.toml` committed as the repository's first commit.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn new() -> anyhow::Result<Self> {
        Self::configured(Workers::No).await
    }

    /// A world as a team has it before adopting stagegate: no `deploy.toml`; a first commit
    /// with a README; the remote `origin` is `https://github.com/acme/api.git` (pushing goes
    /// to a bare repository outside, [`World::pushed_tags`]); the apps `api-staging` and
    /// `api-production` build `acme/api` (stored as an https URL and as `git@...`), sit in the
    /// Coolify environments `staging` and `production` of project `API`, deploy on push, and
    /// answer on their health servers' origins with the health check path `/healthz`.
    /// `COOLIFY_URL` is set to the fake.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn adopting() -> anyhow::Result<Self> {
        let world = Self::start(Adopting::Yes, Workers::No, None).await?;
        world
            .repo
            .commit_file("README.md", "# api\n", "chore: start the service")?;
        let bare = world.outside.path().join("origin.git");
        git2::Repository::init_bare(&bare)?;
        world
            .repo
            .git()
            .remote("origin", "https://github.com/acme/api.git")?;
        world
            .repo
            .git()
            .config()?
            .set_str("remote.origin.pushurl", &bare.display().to_string())?;
        Ok(world)
    }

    /// A world whose environments each run two apps that move together: `web` (the app of
    /// [`World::new`], with its health server) and `worker` ([`STAGING_WORKER`],
    /// [`PRODUCTION_WORKER`]: no health URL, so its deployment and container status are the
    /// evidence). The config lists staging's apps as an inline array and production's as
    /// `[[environments.production.apps]]` tables.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn with_worker() -> anyhow::Result<Self> {
        Self::configured(Workers::Yes(1)).await
    }

    /// A world whose environments each run `count` apps that move together: `web` (with its
    /// health server, as in [`World::new`]) and `count - 1` workers without a health URL,
    /// `worker-1`, `worker-2`, ... ([`World::workers`]), each deployed in the fake's default
    /// times. The config lists staging's apps as an inline array and production's as
    /// `[[environments.production.apps]]` tables, with the default `max_parallel`.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn with_apps(count: usize) -> anyhow::Result<Self> {
        Self::configured(Workers::Yes(count.saturating_sub(1))).await
    }

    /// A world whose apps are Docker-image applications of [`IMAGE`] (set to
    /// [`FIRST_IMAGE_TAG`]), with `image = "ghcr.io/acme/api"` in both environments and the
    /// default `image_tag` (`sha-{commit}`). [`World::push_image`] plays CI pushing a commit's
    /// image; a health server reports the commit of the image its app last started.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn with_images() -> anyhow::Result<Self> {
        Self::with_images_tagged("sha-{commit}").await
    }

    /// [`World::with_images`] with production's `image_tag` set to `template`.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn with_images_tagged(template: &'static str) -> anyhow::Result<Self> {
        Self::configured(Workers::Images(template)).await
    }

    /// A world whose staging app makes pull-request previews: it answers on [`STAGING_DOMAIN`],
    /// so a preview of pull request N answers on `http://N.staging.scenario.test`, which the
    /// flows reach through the fake's proxy (`HTTP_PROXY`); [`World::serve_preview`] starts the
    /// server that stands for a preview's container. `app` says what kind of app it is.
    ///
    /// # Errors
    ///
    /// When a server cannot start or the repository cannot be written.
    pub async fn with_previews(app: PreviewApp) -> anyhow::Result<Self> {
        let workers = match app {
            PreviewApp::Image => Workers::Images("sha-{commit}"),
            PreviewApp::Git { .. } => Workers::No,
        };
        let world = Self::start(Adopting::No, workers, Some(app)).await?;
        world.repo.commit_file(
            "deploy.toml",
            &world.config(),
            "chore: add the deploy config",
        )?;
        Ok(world)
    }

    /// Start the health server that stands for the container of pull request `number`'s
    /// preview: the fake's proxy forwards the preview's URL to it once a preview deployment
    /// finished, and it reports each finished preview deployment's commit a moment later.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn serve_preview(&self, number: u64) -> anyhow::Result<HealthServer> {
        let server = HealthServer::start("staging", SWITCH_OVER).await?;
        self.fake
            .serve_preview_from(&self.staging, number, server.address());
        self.previews
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(number, server.clone());
        Ok(server)
    }

    /// Push `ghcr.io/acme/api:sha-COMMIT` to the fake's registry, as CI does for each commit.
    pub fn push_image(&self, commit: &str) {
        self.push_image_tag(&format!("sha-{commit}"), commit);
    }

    /// Push `ghcr.io/acme/api:TAG`, built from `commit`.
    pub fn push_image_tag(&self, tag: &str, commit: &str) {
        self.fake.push_image(IMAGE, tag);
        self.image_commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tag.to_owned(), commit.to_owned());
    }

    /// The image tag an app is set to in the fake.
    pub fn image_tag(&self, app: &ApplicationUuid) -> Option<String> {
        self.fake
            .application(app)
            .and_then(|application| application.docker_registry_image_tag)
    }

    /// The tags pushed to `origin` of an [`World::adopting`] world.
    pub fn pushed_tags(&self) -> Vec<String> {
        git2::Repository::open_bare(self.outside.path().join("origin.git"))
            .and_then(|bare| {
                bare.tag_names(None).map(|names| {
                    (0..names.len())
                        .filter_map(|index| names.get(index).ok().flatten().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// A world with its standard `deploy.toml` committed as the repository's first commit.
    async fn configured(workers: Workers) -> anyhow::Result<Self> {
        let world = Self::start(Adopting::No, workers, None).await?;
        world.repo.commit_file(
            "deploy.toml",
            &world.config(),
            "chore: add the deploy config",
        )?;
        Ok(world)
    }

    async fn start(
        adopting: Adopting,
        workers: Workers,
        preview: Option<PreviewApp>,
    ) -> anyhow::Result<Self> {
        let directory = tempfile::Builder::new()
            .prefix("stagegate-scenario-")
            .tempdir()?;
        let outside = tempfile::Builder::new()
            .prefix("stagegate-scenario-ci-")
            .tempdir()?;
        let repo = FixtureRepo::init(directory.path())?;
        let fake = FakeCoolify::start_with_token(TOKEN).await?;
        let images = matches!(workers, Workers::Images(_));
        let app = |uuid: &str| {
            let app = FakeApplication::new(uuid)
                .name(uuid)
                .auto_deploy(coolify_client::AutoDeploy::Disabled)
                .queue_time(QUEUE_TIME)
                .build_time(BUILD_TIME);
            if images {
                app.docker_image(IMAGE, FIRST_IMAGE_TAG)
                    .pull_time(BUILD_TIME)
            } else {
                app
            }
        };
        let staging_health = HealthServer::start("staging", SWITCH_OVER).await?;
        let production_health = HealthServer::start("production", SWITCH_OVER).await?;
        let (staging, production) = match adopting {
            Adopting::No => {
                let staging = match preview {
                    None => app(STAGING_APP),
                    Some(PreviewApp::Image) => app(STAGING_APP).fqdn(Some(STAGING_DOMAIN)),
                    Some(PreviewApp::Git { source, enabled }) => {
                        let staging = app(STAGING_APP).fqdn(Some(STAGING_DOMAIN)).source(source);
                        if enabled {
                            staging.previews_enabled()
                        } else {
                            staging
                        }
                    }
                };
                (
                    fake.add_application(staging),
                    fake.add_application(app(PRODUCTION_APP)),
                )
            }
            Adopting::Yes => {
                let origin =
                    |health: &HealthServer| health.url().trim_end_matches("/healthz").to_owned();
                let adopting_app = |uuid: &str,
                                    name: &str,
                                    repository: &str,
                                    environment: &str,
                                    health: &HealthServer| {
                    app(uuid)
                        .name(name)
                        .auto_deploy(coolify_client::AutoDeploy::Enabled)
                        .git_repository(repository)
                        .fqdn(Some(&origin(health)))
                        .health_check_path("/healthz")
                        .environment("API", environment)
                };
                (
                    fake.add_application(adopting_app(
                        STAGING_APP,
                        "api-staging",
                        "https://github.com/acme/api",
                        "staging",
                        &staging_health,
                    )),
                    fake.add_application(adopting_app(
                        PRODUCTION_APP,
                        "api-production",
                        "git@github.com:acme/api.git",
                        "production",
                        &production_health,
                    )),
                )
            }
        };
        let production_image_tag = match workers {
            Workers::Images(template) => Some(template),
            _ => None,
        };
        let image_commits: Arc<Mutex<std::collections::HashMap<String, String>>> = Arc::default();
        let workers = match workers {
            Workers::No | Workers::Images(_) => Vec::new(),
            Workers::Yes(1) => vec![(
                fake.add_application(app(STAGING_WORKER)),
                fake.add_application(app(PRODUCTION_WORKER)),
            )],
            Workers::Yes(count) => (1..=count)
                .map(|number| {
                    (
                        fake.add_application(app(&format!("{STAGING_WORKER}-{number}"))),
                        fake.add_application(app(&format!("{PRODUCTION_WORKER}-{number}"))),
                    )
                })
                .collect(),
        };
        let previews: Arc<Mutex<std::collections::HashMap<u64, HealthServer>>> = Arc::default();
        {
            let staging_health = staging_health.clone();
            let production_health = production_health.clone();
            let staging = staging.clone();
            let production = production.clone();
            let image_commits = image_commits.clone();
            let previews = previews.clone();
            fake.on_deployment_finished(move |finished| {
                // An image app's deployment says HEAD: its image knows the commit.
                let commit = match finished.image_tag() {
                    Some(tag) => image_commits
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(tag)
                        .cloned()
                        .unwrap_or_else(|| tag.to_owned()),
                    None => finished.commit().to_owned(),
                };
                // A preview's deployment is not the app's own: its container runs beside it.
                if let Some(number) = finished.pull_request_id() {
                    if let Some(server) = previews
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&number)
                    {
                        server.deployment_finished(&commit);
                    }
                } else if finished.application() == &staging {
                    staging_health.deployment_finished(&commit);
                } else if finished.application() == &production {
                    production_health.deployment_finished(&commit);
                }
            });
        }
        // The record's clock starts now, so that `history --since` windows hold its runs, on
        // a whole second: GitHub's timestamps are whole seconds, and a random fraction would
        // make the difference of two of them vary by one from run to run.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let github = FakeGitHub::builder()
            .epoch(std::time::UNIX_EPOCH + Duration::from_secs(now.as_secs()))
            .start()
            .await?;
        // Health URLs on loopback are asked directly; a preview's host only the fake's proxy
        // (Coolify's) knows.
        let mut environment = ProcessEnv::from_pairs([
            ("COOLIFY_TOKEN", TOKEN.to_owned()),
            ("GITHUB_REPOSITORY", github.repository()),
            ("GITHUB_API_URL", github.api_url()),
            ("GITHUB_TOKEN", github.token()),
            ("HTTP_PROXY", fake.proxy_url()),
            ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
        ]);
        if adopting == Adopting::Yes {
            environment = environment.with("COOLIFY_URL", fake.base_url());
        }
        Ok(Self {
            repo,
            fake,
            github,
            staging_health,
            production_health,
            staging,
            production,
            workers,
            production_image_tag,
            image_commits,
            previews,
            environment: Mutex::new(environment),
            transcript: Arc::new(Mutex::new(String::new())),
            outside,
            _directory: directory,
        })
    }

    /// The standard `deploy.toml` of this world.
    pub fn config(&self) -> String {
        if !self.workers.is_empty() {
            let name = |number: usize| {
                if self.workers.len() == 1 {
                    "worker".to_owned()
                } else {
                    format!("worker-{number}")
                }
            };
            let staging_workers: String = self
                .workers
                .iter()
                .enumerate()
                .map(|(index, (staging, _))| {
                    format!(
                        "  {{ app = \"{staging}\", name = \"{}\" }},\n",
                        name(index + 1)
                    )
                })
                .collect();
            let production_workers: String = self
                .workers
                .iter()
                .enumerate()
                .map(|(index, (_, production))| {
                    format!(
                        "\n[[environments.production.apps]]\napp = \"{production}\"\nname = \"{}\"\n",
                        name(index + 1)
                    )
                })
                .collect();
            return format!(
                r#"[coolify]
url = "{coolify}"
token_env = "COOLIFY_TOKEN"

[deploy]
timeout = "2m"

[probe]
interval = "50ms"
attempt_timeout = "1s"
deadline = "3s"
success_threshold = 2
expect_json = {{ "/commit" = "{{commit}}", "/environment" = "{{environment}}" }}

[environments.staging]
apps = [
  {{ app = "{staging}", name = "web", health_url = "{staging_url}" }},
{staging_workers}]

[environments.production]

[[environments.production.apps]]
app = "{production}"
name = "web"
health_url = "{production_url}"
{production_workers}"#,
                coolify = self.fake.base_url(),
                staging = self.staging,
                production = self.production,
                staging_url = self.staging_health.url(),
                production_url = self.production_health.url(),
            );
        }
        format!(
            r#"[coolify]
url = "{coolify}"
token_env = "COOLIFY_TOKEN"

[deploy]
timeout = "2m"

[probe]
interval = "50ms"
attempt_timeout = "1s"
deadline = "3s"
success_threshold = 2
expect_json = {{ "/commit" = "{{commit}}", "/environment" = "{{environment}}" }}

[environments.staging]
app = "{staging}"
health_url = "{staging_url}"
{staging_image}
[environments.production]
app = "{production}"
health_url = "{production_url}"
{production_image}"#,
            staging_image = if self.production_image_tag.is_some() {
                format!("image = \"{IMAGE}\"\n")
            } else {
                String::new()
            },
            production_image = match self.production_image_tag {
                Some(template) => format!("image = \"{IMAGE}\"\nimage_tag = \"{template}\"\n"),
                None => String::new(),
            },
            coolify = self.fake.base_url(),
            staging = self.staging,
            production = self.production,
            staging_url = self.staging_health.url(),
            production_url = self.production_health.url(),
        )
    }

    /// An environment's app uuid.
    pub fn app(&self, env: Env) -> ApplicationUuid {
        match env {
            Env::Staging => self.staging.clone(),
            Env::Production => self.production.clone(),
        }
    }

    /// An environment's worker app, in a [`World::with_worker`] world.
    ///
    /// # Panics
    ///
    /// In a world without workers.
    pub fn worker(&self, env: Env) -> ApplicationUuid {
        #[allow(clippy::expect_used)]
        let (staging, production) = self.workers.first().expect("a world with workers");
        match env {
            Env::Staging => staging.clone(),
            Env::Production => production.clone(),
        }
    }

    /// An environment's workers, in config order (none in a world without workers).
    pub fn workers(&self, env: Env) -> Vec<ApplicationUuid> {
        self.workers
            .iter()
            .map(|(staging, production)| match env {
                Env::Staging => staging.clone(),
                Env::Production => production.clone(),
            })
            .collect()
    }

    /// Every app of an environment, in config order: the web app, then the workers.
    pub fn apps(&self, env: Env) -> Vec<ApplicationUuid> {
        std::iter::once(self.app(env))
            .chain(self.workers(env))
            .collect()
    }

    /// An environment's health server.
    pub fn health(&self, env: Env) -> &HealthServer {
        match env {
            Env::Staging => &self.staging_health,
            Env::Production => &self.production_health,
        }
    }

    /// The repository's work tree.
    pub fn root(&self) -> &Path {
        self.repo.root()
    }

    /// The following flows keep no release record: no GitHub repository or token in their
    /// environment (a team on another forge, or without a token).
    pub fn forget_github(&self) {
        let mut environment = self
            .environment
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *environment = environment
            .clone()
            .without("GITHUB_REPOSITORY")
            .without("GITHUB_API_URL")
            .without("GITHUB_TOKEN");
    }

    /// The environment the flows see: the Coolify token, and the fake GitHub's repository,
    /// API and token (never the process's `COOLIFY_URL`).
    pub fn environment(&self) -> ProcessEnv {
        self.environment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Run the following flows as GitHub Actions would: `GITHUB_ACTIONS=true` with
    /// `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files outside the repository; returns their
    /// paths.
    pub fn enable_github_actions(&self) -> (PathBuf, PathBuf) {
        let output = self.outside.path().join("github-output");
        let summary = self.outside.path().join("github-step-summary");
        let mut environment = self
            .environment
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *environment = environment
            .clone()
            .with("GITHUB_ACTIONS", "true")
            .with("GITHUB_OUTPUT", output.display().to_string())
            .with("GITHUB_STEP_SUMMARY", summary.display().to_string());
        (output, summary)
    }

    /// Set a variable of the environment the following flows see.
    pub fn set_variable(&self, name: &str, value: &str) {
        let mut environment = self
            .environment
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *environment = environment.clone().with(name, value);
    }

    /// Run the following flows as a GitHub Actions run of `octocat` (run 4711) triggered by
    /// `event`, written to a file outside the repository as `GITHUB_EVENT_PATH`; returns the
    /// `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files.
    ///
    /// # Errors
    ///
    /// When the event file cannot be written.
    pub fn run_as_workflow(&self, event: &serde_json::Value) -> anyhow::Result<(PathBuf, PathBuf)> {
        let path = self.outside.path().join("github-event.json");
        std::fs::write(&path, event.to_string())?;
        let files = self.enable_github_actions();
        for (name, value) in [
            ("GITHUB_EVENT_PATH", path.display().to_string()),
            ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
            ("GITHUB_ACTOR", "octocat".to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
            ("GITHUB_RUN_ID", "4711".to_owned()),
        ] {
            self.set_variable(name, &value);
        }
        Ok(files)
    }

    /// `preview deploy --pr NUMBER` of the pull request's head (`HEAD`, or the event's).
    pub async fn preview_deploy(&self, number: u64) -> Run<PreviewReport> {
        self.preview_deploy_with(DeployOptions::pull_request(number))
            .await
    }

    /// `preview deploy` with options.
    pub async fn preview_deploy_with(&self, options: DeployOptions) -> Run<PreviewReport> {
        self.run(|session| async move { stagegate::preview::deploy(&session, &options).await })
            .await
    }

    /// `preview remove --pr NUMBER`.
    pub async fn preview_remove(&self, number: u64) -> Run<RemoveReport> {
        let options = RemoveOptions::pull_request(number);
        self.run(|session| async move { stagegate::preview::remove(&session, &options).await })
            .await
    }

    /// `preview list`.
    pub async fn preview_list(&self) -> Run<ListReport> {
        self.run(|session| async move { stagegate::preview::list(&session).await })
            .await
    }

    /// Run a flow with a session on this world's repository and captured plain output.
    pub async fn run<T, F, Fut>(&self, flow: F) -> Run<T>
    where
        F: FnOnce(Session) -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let stdout: Buffer = Arc::new(Mutex::new(Vec::new()));
        let stderr: Buffer = Arc::new(Mutex::new(Vec::new()));
        let environment = self.environment();
        let output = Output::new(
            Format::Text,
            Verbosity::Verbose,
            Style::Plain,
            &environment,
            stdout.clone(),
            stderr.clone(),
        );
        let session = Session::new(environment, output.clone()).with_repo(self.root());
        let before = self.fake.requests().len();
        let result = flow(session).await;
        if let Err(error) = &result {
            // What the command line prints last.
            output.error(stagegate::exit::message(error));
        }
        let requests = self.fake.requests().split_off(before);
        let run = Run {
            stdout: text(&stdout),
            stderr: text(&stderr),
            result,
            requests,
        };
        let mut transcript = self
            .transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        transcript.push_str(&run.stdout);
        transcript.push_str(&run.stderr);
        if let Err(error) = &run.result {
            transcript.push_str(&format!("{error:?}\n{error:#}\n"));
        }
        run
    }

    /// `deploy staging` of `HEAD`.
    pub async fn deploy_staging(&self) -> Run<DeployReport> {
        self.deploy_staging_with(StagingOptions::head()).await
    }

    /// `deploy staging` with options.
    pub async fn deploy_staging_with(&self, options: StagingOptions) -> Run<DeployReport> {
        self.run(|session| async move { stagegate::deploy::staging(&session, &options).await })
            .await
    }

    /// `deploy production --tag TAG`.
    pub async fn deploy_production(&self, tag: &str) -> Run<DeployReport> {
        self.deploy_production_with(ProductionOptions::tag(tag))
            .await
    }

    /// `deploy production` with options.
    pub async fn deploy_production_with(&self, options: ProductionOptions) -> Run<DeployReport> {
        self.run(|session| async move { stagegate::deploy::production(&session, &options).await })
            .await
    }

    /// `deploy production --tag TAG --auto-rollback`.
    pub async fn deploy_production_rolling_back(&self, tag: &str) -> Run<DeployReport> {
        self.deploy_production_with(ProductionOptions {
            auto_rollback: stagegate::deploy::AutoRollback::On,
            ..ProductionOptions::tag(tag)
        })
        .await
    }

    /// `release` with options.
    pub async fn release_with(&self, options: ReleaseOptions) -> Run<ReleaseReport> {
        self.run(|session| async move { stagegate::release::release(&session, &options).await })
            .await
    }

    /// `release X.Y.Z`.
    ///
    /// # Panics
    ///
    /// When `version` is not a version.
    pub async fn release_version(&self, version: &str) -> Run<ReleaseReport> {
        #[allow(clippy::expect_used)]
        let level: Level = version.parse().expect("a release level or version");
        self.release_with(ReleaseOptions {
            level,
            ..ReleaseOptions::default()
        })
        .await
    }

    /// `rollback [--to TAG]`.
    pub async fn rollback(&self, to: Option<&str>) -> Run<DeployReport> {
        let options = RollbackOptions {
            to: to.map(str::to_owned),
            ..RollbackOptions::default()
        };
        self.run(|session| async move { stagegate::rollback::rollback(&session, &options).await })
            .await
    }

    /// Production runs v1.0.0 (shipped with [`World::ship`]); then v1.1.0 is committed, its
    /// image pushed in a world of image apps (only the commit's tag, not the release's), deployed
    /// to staging and released, but not deployed to production. Returns (v1.0.0's commit,
    /// v1.1.0's commit).
    ///
    /// # Errors
    ///
    /// When any step fails.
    pub async fn v1_0_live_and_v1_1_staged(&self) -> anyhow::Result<(String, String)> {
        let first = self.ship("feat: greet users", "1.0.0").await?;
        let second = self.repo.commit("src/app.txt", "feat: say goodbye")?;
        if self.production_image_tag.is_some() {
            self.push_image(&second);
        }
        self.deploy_staging()
            .await
            .result
            .map_err(|error| error.context("stage v1.1.0: deploy staging"))?;
        let released = self
            .release_version("1.1.0")
            .await
            .result
            .map_err(|error| error.context("stage v1.1.0: release"))?;
        anyhow::ensure!(released.tag == "v1.1.0", "released {}", released.tag);
        Ok((first, second))
    }

    /// A change on `main` shipped all the way: commit, deploy staging, release `version`,
    /// deploy production. Returns the commit.
    ///
    /// # Errors
    ///
    /// When any step fails.
    pub async fn ship(&self, message: &str, version: &str) -> anyhow::Result<String> {
        let commit = self.repo.commit("src/app.txt", message)?;
        if self.production_image_tag.is_some() {
            self.push_image(&commit);
            self.push_image_tag(&version.replace('v', ""), &commit);
        }
        let staged = self.deploy_staging().await;
        staged
            .result
            .map_err(|error| error.context(format!("ship {version}: deploy staging")))?;
        let released = self.release_version(version).await;
        let tag = released
            .result
            .map_err(|error| error.context(format!("ship {version}: release")))?
            .tag;
        self.deploy_production(&tag)
            .await
            .result
            .map_err(|error| error.context(format!("ship {version}: deploy production")))?;
        Ok(commit)
    }

    /// Every file under `directory` whose bytes contain the token.
    pub fn files_containing_token(directory: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut pending = vec![directory.to_path_buf()];
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                if let Ok(entries) = std::fs::read_dir(&path) {
                    pending.extend(entries.flatten().map(|entry| entry.path()));
                }
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes
                    .windows(TOKEN_NEEDLE.len())
                    .any(|window| window == TOKEN_NEEDLE.as_bytes())
            {
                found.push(path);
            }
        }
        found
    }

    /// Everything the flows of this world printed, and every error in full.
    pub fn transcript(&self) -> String {
        self.transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Assert that the token appears in no output, no error, no tag message, no file of the
    /// repository and no GitHub Actions file.
    ///
    /// # Panics
    ///
    /// When it does.
    pub fn assert_token_never_leaked(&self) {
        let transcript = self.transcript();
        assert!(
            !transcript.contains(TOKEN_NEEDLE),
            "the token leaked into the output:\n{transcript}"
        );
        let github_token = self.github.token();
        assert!(
            !transcript.contains(&github_token),
            "the GitHub token leaked into the output:\n{transcript}"
        );
        for tag in self.repo.tags() {
            let message = self.repo.tag_message(&tag).unwrap_or_default();
            assert!(
                !message.contains(&github_token),
                "tag {tag} holds the GitHub token"
            );
        }
        for tag in self.repo.tags() {
            let message = self.repo.tag_message(&tag).unwrap_or_default();
            assert!(!message.contains(TOKEN_NEEDLE), "tag {tag} holds the token");
        }
        let leaked: Vec<PathBuf> = Self::files_containing_token(self.root())
            .into_iter()
            .chain(Self::files_containing_token(self.outside.path()))
            .collect();
        assert!(leaked.is_empty(), "files hold the token: {leaked:?}");
    }

    /// Append text to the transcript checked by [`World::assert_token_never_leaked`] (for
    /// output captured elsewhere, such as a child process).
    pub fn record(&self, text: &str) {
        self.transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_str(text);
    }

    /// Write a file into the work tree without committing it.
    ///
    /// # Errors
    ///
    /// When it cannot be written.
    pub fn write_file(&self, file: &str, contents: &str) -> anyhow::Result<()> {
        let path = self.root().join(file);
        let mut handle =
            std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))?;
        handle.write_all(contents.as_bytes())?;
        Ok(())
    }
}
