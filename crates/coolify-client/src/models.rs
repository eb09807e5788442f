//! Typed models of Coolify's JSON, tolerant of unknown and hidden fields.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{ApplicationUuid, CommitSha, DeploymentUuid, EnvVarUuid, Timestamp};

/// The status of a deployment, exactly as Coolify spells it.
///
/// Unknown strings are kept in [`DeploymentStatus::Other`] so a newer server never breaks
/// deserialization; they count as neither terminal nor in flight.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeploymentStatus {
    /// `queued`: waiting for a worker.
    Queued,
    /// `in_progress`: building or starting.
    InProgress,
    /// `finished`: the new container was started.
    Finished,
    /// `failed`: the build or start failed (also set on every in-flight deployment when Coolify restarts).
    Failed,
    /// `cancelled-by-user`.
    CancelledByUser,
    /// A status string this crate does not know.
    Other(String),
}

impl DeploymentStatus {
    /// The wire spelling, for example `in_progress` or `cancelled-by-user`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::CancelledByUser => "cancelled-by-user",
            Self::Other(other) => other,
        }
    }

    /// Whether the deployment can no longer change: finished, failed or cancelled.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finished | Self::Failed | Self::CancelledByUser)
    }

    /// Whether the deployment is queued or in progress.
    #[must_use]
    pub fn is_in_flight(&self) -> bool {
        matches!(self, Self::Queued | Self::InProgress)
    }
}

impl From<&str> for DeploymentStatus {
    fn from(value: &str) -> Self {
        match value {
            "queued" => Self::Queued,
            "in_progress" => Self::InProgress,
            "finished" => Self::Finished,
            "failed" => Self::Failed,
            "cancelled-by-user" => Self::CancelledByUser,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for DeploymentStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DeploymentStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::from(text.as_str()))
    }
}

/// A boolean that Coolify may send as `null`, `0`/`1` or omit; absent and `null` read as `false`.
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(serde_json::Value::Bool(flag)) => flag,
        Some(serde_json::Value::Number(number)) => number.as_i64().is_some_and(|n| n != 0),
        Some(serde_json::Value::String(text)) => matches!(text.as_str(), "1" | "true"),
        _ => false,
    })
}

/// Like [`lenient_bool`] but absent and `null` read as `true`.
fn lenient_bool_default_true<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(match value {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::Bool(flag)) => flag,
        Some(serde_json::Value::Number(number)) => number.as_i64().is_some_and(|n| n != 0),
        Some(serde_json::Value::String(text)) => matches!(text.as_str(), "1" | "true"),
        Some(_) => true,
    })
}

const fn yes() -> bool {
    true
}

/// One deployment (`ApplicationDeploymentQueue`), from `GET /deployments/{uuid}` or an app's list.
///
/// Fields Coolify may omit are optional; unknown fields are ignored.
///
/// Coolify adds fields often, so this struct is `#[non_exhaustive]`: build one with
/// [`Deployment::new`] and set fields, never with a literal.
///
/// ```compile_fail
/// # use coolify_client::{Deployment, DeploymentStatus};
/// let base = Deployment::new("d1".parse().unwrap(), DeploymentStatus::Queued);
/// let copy = Deployment { rollback: true, ..base };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deployment {
    /// The deployment's uuid.
    pub deployment_uuid: DeploymentUuid,
    /// Its status.
    pub status: DeploymentStatus,
    /// The commit: `HEAD` until Coolify resolves it, then the 40-hex SHA.
    #[serde(default)]
    pub commit: Option<String>,
    /// The commit message, filled after the clone.
    #[serde(default)]
    pub commit_message: Option<String>,
    /// The application's name.
    #[serde(default)]
    pub application_name: Option<String>,
    /// The server's name.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Path of the deployment's page in the Coolify UI (no host).
    #[serde(default)]
    pub deployment_url: Option<String>,
    /// Pull request number; `0` for a normal deployment (see [`Deployment::pull_request`]).
    #[serde(default)]
    pub pull_request_id: Option<i64>,
    /// The `docker_tag` a Docker-image application's preview was deployed with; `None` for
    /// every other deployment (Coolify leaves it empty there, even for image applications).
    #[serde(default)]
    pub docker_registry_image_tag: Option<String>,
    /// Whether the build cache was skipped.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub force_rebuild: bool,
    /// Whether a git webhook started it.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_webhook: bool,
    /// Whether the API started it.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_api: bool,
    /// Whether it only restarts the container (`/restart`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub restart_only: bool,
    /// Whether it is a rollback to an earlier image.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub rollback: bool,
    /// Creation time (see [`Timestamp`] for the forms accepted).
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// When it reached a terminal status, if it did.
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    /// The JSON-encoded log lines; present only for `read:sensitive` tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
}

impl Deployment {
    /// A deployment with only its uuid and status; every optional field empty, every flag off.
    /// For tests and fakes: the client reads deployments from Coolify's JSON.
    #[must_use]
    pub fn new(deployment_uuid: DeploymentUuid, status: DeploymentStatus) -> Self {
        Self {
            deployment_uuid,
            status,
            commit: None,
            commit_message: None,
            application_name: None,
            server_name: None,
            deployment_url: None,
            pull_request_id: None,
            docker_registry_image_tag: None,
            force_rebuild: false,
            is_webhook: false,
            is_api: false,
            restart_only: false,
            rollback: false,
            created_at: None,
            updated_at: None,
            finished_at: None,
            logs: None,
        }
    }

    /// The resolved commit: `None` while Coolify still reports `HEAD` or nothing, or when what
    /// it reports is not a full commit id.
    #[must_use]
    pub fn resolved_commit(&self) -> Option<CommitSha> {
        self.commit
            .as_deref()
            .and_then(|commit| CommitSha::new(commit).ok())
    }

    /// The pull request of a preview deployment; `None` for a deployment of the application
    /// itself (Coolify's `pull_request_id` 0).
    #[must_use]
    pub fn pull_request(&self) -> Option<crate::PullRequestId> {
        self.pull_request_id
            .and_then(|id| u64::try_from(id).ok())
            .and_then(|id| crate::PullRequestId::new(id).ok())
    }

    /// Whether it deploys a pull request's preview rather than the application itself
    /// (Coolify lists both in the application's deployments).
    #[must_use]
    pub fn is_preview(&self) -> bool {
        self.pull_request().is_some()
    }

    /// Whether this deployment built `commit`: Coolify's commit is the same id, or an
    /// abbreviation of it of at least 7 digits (compared case-insensitively).
    #[must_use]
    pub fn is_of_commit(&self, commit: &CommitSha) -> bool {
        self.commit
            .as_deref()
            .filter(|own| !own.eq_ignore_ascii_case("HEAD"))
            .is_some_and(|own| commits_match(own, commit.as_str()))
    }
}

/// Whether two commit names denote the same commit: equal, or one a prefix (≥ 7 hex) of the other.
pub(crate) fn commits_match(left: &str, right: &str) -> bool {
    let (left, right) = (left.to_ascii_lowercase(), right.to_ascii_lowercase());
    if left == right {
        return true;
    }
    let (short, long) = if left.len() < right.len() {
        (&left, &right)
    } else {
        (&right, &left)
    };
    short.len() >= 7 && long.starts_with(short.as_str())
}

/// One page of an application's deployments: `GET /deployments/applications/{uuid}`.
///
/// The OpenAPI spec documents this as an array of applications; the real shape is `{count, deployments}`.
///
/// ```
/// use coolify_client::{DeploymentPage, DeploymentStatus};
/// use coolify_client::serde_json::json;
///
/// let page: DeploymentPage = coolify_client::serde_json::from_value(json!({
///     "count": 31,
///     "deployments": [{"deployment_uuid": "d1", "status": "in_progress", "commit": "HEAD"}],
/// }))?;
/// assert_eq!(page.count, 31);
/// assert_eq!(page.deployments[0].status, DeploymentStatus::InProgress);
/// # Ok::<(), coolify_client::serde_json::Error>(())
/// ```
///
/// [`crate::Client::deployment_pages`] walks every page; `#[non_exhaustive]`: build one with
/// [`DeploymentPage::new`], a literal does not compile:
///
/// ```compile_fail
/// let page = coolify_client::DeploymentPage { count: 0, deployments: Vec::new() };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeploymentPage {
    /// Total number of deployments of the application.
    #[serde(default)]
    pub count: u64,
    /// This page, newest first.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
}

impl DeploymentPage {
    /// A page of `deployments` out of `count` in all.
    #[must_use]
    pub fn new(count: u64, deployments: Vec<Deployment>) -> Self {
        Self { count, deployments }
    }
}

/// Whether a deploy rebuilds without the build cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ForceRebuild {
    /// Use the build cache (Coolify's default).
    #[default]
    No,
    /// Rebuild without cache. Also bypasses Coolify's "already queued for this commit" dedupe.
    Yes,
}

/// What `POST /deploy` did for one application.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeployOutcome {
    /// A new deployment was queued.
    Queued(DeploymentUuid),
    /// A deployment of the same commit was already queued or running, so none was added.
    ///
    /// Coolify's answer carries a fresh uuid that does not exist; it is dropped here.
    /// Find the real deployment in the application's list (see `Client::deploy_commit`).
    AlreadyQueued,
}

/// An application (`GET /applications/{uuid}`), with the fields the release flows use typed.
///
/// Every other field is kept in `extra`, so a backup can export the whole object.
///
/// `#[non_exhaustive]`: build one with [`Application::new`] and set fields.
///
/// ```compile_fail
/// let base = coolify_client::Application::new("a1".parse().unwrap());
/// let copy = coolify_client::Application { name: None, ..base };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Application {
    /// The application's uuid.
    pub uuid: ApplicationUuid,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// The git repository (URL, or `owner/repo` for GitHub-App sources).
    #[serde(default)]
    pub git_repository: Option<String>,
    /// The branch Coolify builds.
    #[serde(default)]
    pub git_branch: Option<String>,
    /// The pinned commit; `HEAD` means the branch head.
    #[serde(default)]
    pub git_commit_sha: Option<String>,
    /// The build pack, for example `nixpacks` or `dockerfile`.
    #[serde(default)]
    pub build_pack: Option<String>,
    /// The container status, for example `running:healthy`; typed by
    /// [`Application::container_status`].
    #[serde(default)]
    pub status: Option<String>,
    /// The image repository of a Docker-image application (without a tag), for example
    /// `ghcr.io/acme/api`; for other build packs, where Coolify pushes the built image, if set.
    #[serde(default)]
    pub docker_registry_image_name: Option<String>,
    /// The image tag a Docker-image application deploys; `None` means `latest`.
    #[serde(default)]
    pub docker_registry_image_tag: Option<String>,
    /// The application's domains, comma-separated, each with its scheme; see
    /// [`Application::domains`].
    #[serde(default)]
    pub fqdn: Option<String>,
    /// The path of Coolify's own container health check (Coolify's default is `/`).
    #[serde(default)]
    pub health_check_path: Option<String>,
    /// Whether Coolify's container health check is on.
    #[serde(default)]
    pub health_check_enabled: Option<bool>,
    /// The template of its previews' URLs (Coolify 4.3.0+; `None` means Coolify's default
    /// `{{pr_id}}.{{domain}}`); see [`Application::preview_url`].
    #[serde(default)]
    pub preview_url_template: Option<String>,
    /// The numeric id of the Coolify environment (of a project) the application belongs to;
    /// [`crate::Project::environments`] names it.
    #[serde(default)]
    pub environment_id: Option<u64>,
    /// Its settings (Coolify 4.2 and later).
    #[serde(default)]
    pub settings: Option<ApplicationSettings>,
    /// Every other field, as Coolify sent it.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Application {
    /// An application with only its uuid; every other field empty. For tests and fakes: the
    /// client reads applications from Coolify's JSON.
    #[must_use]
    pub fn new(uuid: ApplicationUuid) -> Self {
        Self {
            uuid,
            name: None,
            git_repository: None,
            git_branch: None,
            git_commit_sha: None,
            build_pack: None,
            status: None,
            docker_registry_image_name: None,
            docker_registry_image_tag: None,
            fqdn: None,
            health_check_path: None,
            health_check_enabled: None,
            preview_url_template: None,
            environment_id: None,
            settings: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Whether pushes to the branch deploy automatically; `None` when the server does not say.
    #[must_use]
    pub fn is_auto_deploy_enabled(&self) -> Option<bool> {
        self.settings
            .as_ref()
            .and_then(|settings| settings.is_auto_deploy_enabled)
    }

    /// The application's domains, in Coolify's order: `fqdn` split at its commas, blanks
    /// dropped.
    ///
    /// ```
    /// # let json = r#"{"uuid": "app1", "fqdn": "https://api.example.com, https://www.example.com"}"#;
    /// let app: coolify_client::Application = serde_json::from_str(json).unwrap();
    /// assert_eq!(app.domains(), ["https://api.example.com", "https://www.example.com"]);
    /// ```
    #[must_use]
    pub fn domains(&self) -> Vec<&str> {
        self.fqdn
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|domain| !domain.is_empty())
            .collect()
    }

    /// Whether the application deploys a prebuilt Docker image (`build_pack` `dockerimage`):
    /// its deployments are all of commit `HEAD`, and [`Client::deploy_image_tag`](crate::Client::deploy_image_tag)
    /// deploys a tag.
    #[must_use]
    pub fn is_image_app(&self) -> bool {
        self.build_pack.as_deref() == Some("dockerimage")
    }

    /// The container status, parsed from `status`; [`ContainerStatus::Other`] for a form this
    /// crate does not know (and `Other("")` when Coolify sent none).
    ///
    /// ```
    /// # use coolify_client::{ContainerHealth, ContainerStatus};
    /// # let json = r#"{"uuid": "app1", "status": "running:unhealthy"}"#;
    /// let app: coolify_client::Application = serde_json::from_str(json).unwrap();
    /// let status = app.container_status();
    /// assert_eq!(status, ContainerStatus::Running { health: ContainerHealth::Unhealthy });
    /// assert!(!status.is_running_ok());
    /// ```
    #[must_use]
    pub fn container_status(&self) -> ContainerStatus {
        ContainerStatus::parse(self.status.as_deref().unwrap_or_default())
    }

    /// The pinned commit, or `None` when the application follows its branch head.
    #[must_use]
    pub fn pinned_commit(&self) -> Option<&str> {
        self.git_commit_sha
            .as_deref()
            .filter(|sha| !sha.is_empty() && !sha.eq_ignore_ascii_case("HEAD"))
    }
}

/// The health part of a container status (`running:healthy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerHealth {
    /// `healthy`: the container's health check passes.
    Healthy,
    /// `unhealthy`: the health check fails.
    Unhealthy,
    /// `unknown` or absent: no health check, or none has run yet.
    Unknown,
}

impl ContainerHealth {
    /// Coolify's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Unknown => "unknown",
        }
    }

    fn parse(text: Option<&str>) -> Self {
        // Only the first part counts: `healthy:excluded` is healthy.
        match text.and_then(|text| text.split(':').next()).map(str::trim) {
            Some("healthy") => Self::Healthy,
            Some("unhealthy") => Self::Unhealthy,
            _ => Self::Unknown,
        }
    }
}

/// The state of an application's container, from Coolify's `status` (`running:healthy`,
/// `exited:unhealthy`, `restarting:unknown`, `degraded:unhealthy`, `starting`, …).
///
/// Parsing is tolerant: the part before `:` picks the variant, the part after is the health,
/// and unknown forms are kept in [`ContainerStatus::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContainerStatus {
    /// `running:<health>`.
    Running {
        /// The container's health.
        health: ContainerHealth,
    },
    /// `starting`: the container is being started.
    Starting,
    /// `restarting`: the container keeps restarting (it crashes after it starts). Coolify
    /// versions with its container status aggregator report that as `degraded:unhealthy`.
    Restarting,
    /// `paused`: the container is paused.
    Paused,
    /// `exited` or `stopped`: no container runs.
    Exited,
    /// `degraded`: a container keeps restarting or exited after restarts (a crash loop), or
    /// some of the app's containers run and others do not.
    Degraded {
        /// The health Coolify reports with it.
        health: ContainerHealth,
    },
    /// A status this crate does not know, as Coolify sent it.
    Other(String),
}

impl ContainerStatus {
    /// Parse Coolify's `status` string.
    ///
    /// ```
    /// use coolify_client::ContainerStatus;
    ///
    /// assert!(ContainerStatus::parse("running:healthy").is_running_ok());
    /// assert!(ContainerStatus::parse("running:unknown").is_running_ok());
    /// assert_eq!(ContainerStatus::parse("restarting:unknown"), ContainerStatus::Restarting);
    /// assert_eq!(ContainerStatus::parse("exited:unhealthy"), ContainerStatus::Exited);
    /// ```
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let trimmed = text.trim();
        let (state, health) = match trimmed.split_once(':') {
            Some((state, health)) => (state, Some(health)),
            None => (trimmed, None),
        };
        let health = ContainerHealth::parse(health);
        match state.trim().to_ascii_lowercase().as_str() {
            "running" => Self::Running { health },
            "starting" | "created" => Self::Starting,
            "restarting" => Self::Restarting,
            "paused" => Self::Paused,
            "exited" | "stopped" | "dead" => Self::Exited,
            "degraded" => Self::Degraded { health },
            _ => Self::Other(trimmed.to_owned()),
        }
    }

    /// Whether the container runs and its health check does not fail (`running:healthy`, or
    /// `running:unknown` when it has no health check).
    #[must_use]
    pub fn is_running_ok(&self) -> bool {
        matches!(
            self,
            Self::Running {
                health: ContainerHealth::Healthy | ContainerHealth::Unknown
            }
        )
    }

    /// Whether the container is down or failing: exited, restarting, degraded (a crash loop),
    /// or running with a failing health check.
    #[must_use]
    pub fn is_failing(&self) -> bool {
        matches!(
            self,
            Self::Exited
                | Self::Restarting
                | Self::Degraded { .. }
                | Self::Running {
                    health: ContainerHealth::Unhealthy
                }
        )
    }
}

impl fmt::Display for ContainerStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Running { health } => write!(formatter, "running:{}", health.as_str()),
            Self::Starting => formatter.write_str("starting"),
            Self::Restarting => formatter.write_str("restarting"),
            Self::Paused => formatter.write_str("paused"),
            Self::Exited => formatter.write_str("exited"),
            Self::Degraded { health } => write!(formatter, "degraded:{}", health.as_str()),
            Self::Other(other) => formatter.write_str(other),
        }
    }
}

/// The images of an application that Coolify's server still has
/// (`GET /applications/{uuid}/rollback-images`, Coolify 4.3.0+), newest first.
///
/// For a git application the tags are commit shas (or a pinned ref such as `HEAD`); for a
/// Docker-image application, the tags pulled. Coolify removes old images in its Docker
/// cleanup, keeping the application's `docker_images_to_keep` newest, so a deploy or rollback
/// to a removed image builds or pulls it again: ask [`RollbackImages::availability`] first.
///
/// `#[non_exhaustive]`: build one with [`RollbackImages::new`] or [`RollbackImages::unsupported`].
///
/// ```
/// use coolify_client::{ImageAvailability, RollbackImage, RollbackImages};
///
/// let images = RollbackImages::new(None, vec![RollbackImage::new("1.5.0", "2026-08-22 17:22:50 +0000 UTC")]);
/// assert_eq!(images.availability("1.5.0"), ImageAvailability::Kept);
/// assert_eq!(images.availability("1.4.0"), ImageAvailability::Removed);
/// assert!(matches!(RollbackImages::unsupported().availability("1.5.0"), ImageAvailability::Unknown { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RollbackImages {
    /// The image tag of a container named exactly after the application's uuid; `None` by
    /// default, since Coolify names containers `{uuid}-<time>` unless consistent container
    /// names are on. Do not rely on it: ask the application's own health endpoint.
    #[serde(default)]
    pub current: Option<String>,
    /// The images on the server, newest first.
    #[serde(default)]
    pub images: Vec<RollbackImage>,
    /// Whether the server has the endpoint (false for Coolify before 4.3.0).
    #[serde(skip, default = "yes")]
    supported: bool,
}

impl RollbackImages {
    /// What a server with the endpoint answered.
    #[must_use]
    pub fn new(current: Option<String>, images: Vec<RollbackImage>) -> Self {
        Self {
            current,
            images,
            supported: true,
        }
    }

    /// The answer of a Coolify before 4.3.0, which has no such endpoint: nothing is known, so
    /// every [`RollbackImages::availability`] is [`ImageAvailability::Unknown`].
    #[must_use]
    pub fn unsupported() -> Self {
        Self {
            current: None,
            images: Vec::new(),
            supported: false,
        }
    }

    /// Whether the server has the endpoint (Coolify 4.3.0 and later).
    #[must_use]
    pub fn is_supported(&self) -> bool {
        self.supported
    }

    /// Whether the image tagged `tag` (a full commit sha for a git application, the image tag
    /// for a Docker-image application) is still on the server: [`ImageAvailability::Kept`]
    /// (a deploy of it only restarts), [`ImageAvailability::Removed`] (it builds or pulls
    /// again), or [`ImageAvailability::Unknown`] when the server cannot tell: it has no
    /// endpoint, or listed no image at all (Coolify answers an empty list when it cannot reach
    /// the application's server).
    #[must_use]
    pub fn availability(&self, tag: &str) -> ImageAvailability {
        if !self.supported {
            return ImageAvailability::Unknown {
                reason: UnknownImages::Unsupported,
            };
        }
        if self.images.is_empty() {
            return ImageAvailability::Unknown {
                reason: UnknownImages::NoneListed,
            };
        }
        let tag = tag.trim();
        if self.images.iter().any(|image| {
            image.tag == tag || (image.tag.len() == 40 && image.tag.eq_ignore_ascii_case(tag))
        }) {
            ImageAvailability::Kept
        } else {
            ImageAvailability::Removed
        }
    }
}

/// One image of [`RollbackImages`].
///
/// `#[non_exhaustive]`: build one with [`RollbackImage::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RollbackImage {
    /// The tag: a commit sha or ref for a git application, the pulled tag for a Docker-image one.
    pub tag: String,
    /// When the image was built, in Docker's text form (`2026-08-22 17:22:50 +0200 CEST`, not
    /// ISO 8601); for a pulled image, when it was built, not pulled.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Whether it is [`RollbackImages::current`].
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_current: bool,
}

impl RollbackImage {
    /// An image that is not the current one.
    #[must_use]
    pub fn new(tag: impl Into<String>, created_at: impl Into<String>) -> Self {
        Self {
            tag: tag.into(),
            created_at: Some(created_at.into()),
            is_current: false,
        }
    }
}

/// Whether an image is still on the application's server; from [`RollbackImages::availability`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageAvailability {
    /// The server has it: deploying it skips the build (or the pull) and only restarts.
    Kept,
    /// The server does not have it any more: deploying it builds (or pulls) it again.
    Removed,
    /// The server could not tell.
    Unknown {
        /// Why.
        reason: UnknownImages,
    },
}

/// Why [`RollbackImages`] cannot tell whether an image is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnknownImages {
    /// Coolify before 4.3.0 has no rollback-images endpoint.
    Unsupported,
    /// Coolify listed no image at all, which is also its answer when it cannot reach the
    /// application's server.
    NoneListed,
}

impl fmt::Display for UnknownImages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unsupported => "Coolify before 4.3.0 has no rollback-images endpoint",
            Self::NoneListed => "Coolify listed no images; its server may be unreachable",
        })
    }
}

/// The nested `settings` object of an application.
///
/// `#[non_exhaustive]`: build one with `ApplicationSettings::default()` and set fields.
///
/// ```compile_fail
/// let settings = coolify_client::ApplicationSettings {
///     is_auto_deploy_enabled: Some(false),
///     ..Default::default()
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApplicationSettings {
    /// Whether pushes deploy automatically.
    #[serde(default)]
    pub is_auto_deploy_enabled: Option<bool>,
    /// Whether the clone is shallow.
    #[serde(default)]
    pub is_git_shallow_clone_enabled: Option<bool>,
    /// Whether pull-request webhooks create and deploy previews.
    #[serde(default)]
    pub is_preview_deployments_enabled: Option<bool>,
    /// Every other setting, as Coolify sent it.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The fields `PATCH /applications/{uuid}` may change; unset fields are not sent.
///
/// `#[non_exhaustive]`: build one with [`ApplicationPatch::new`] and its setters.
///
/// ```compile_fail
/// let patch = coolify_client::ApplicationPatch { git_branch: None, ..Default::default() };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct ApplicationPatch {
    /// New branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    /// New commit pin (`HEAD` unpins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_commit_sha: Option<String>,
    /// New auto-deploy setting (sent as `is_auto_deploy_enabled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_auto_deploy_enabled: Option<bool>,
    /// New image repository of a Docker-image application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_registry_image_name: Option<crate::ImageName>,
    /// New image tag of a Docker-image application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_registry_image_tag: Option<crate::ImageTag>,
    /// Whether pull-request webhooks create previews.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_preview_deployments_enabled: Option<bool>,
    /// New template of the previews' URLs (Coolify 4.3.0+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_url_template: Option<String>,
}

impl ApplicationPatch {
    /// An empty patch.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the branch.
    #[must_use]
    pub fn git_branch(mut self, branch: impl Into<String>) -> Self {
        self.git_branch = Some(branch.into());
        self
    }

    /// Pin a commit (or `HEAD` to follow the branch).
    #[must_use]
    pub fn git_commit_sha(mut self, commit: impl Into<String>) -> Self {
        self.git_commit_sha = Some(commit.into());
        self
    }

    /// Set the image repository of a Docker-image application.
    #[must_use]
    pub fn docker_registry_image_name(mut self, name: &crate::ImageName) -> Self {
        self.docker_registry_image_name = Some(name.clone());
        self
    }

    /// Set the image tag a Docker-image application deploys.
    #[must_use]
    pub fn docker_registry_image_tag(mut self, tag: &crate::ImageTag) -> Self {
        self.docker_registry_image_tag = Some(tag.clone());
        self
    }

    /// Turn auto-deploy on or off.
    #[must_use]
    pub fn auto_deploy(mut self, auto_deploy: AutoDeploy) -> Self {
        self.is_auto_deploy_enabled = Some(auto_deploy == AutoDeploy::Enabled);
        self
    }

    /// Turn preview deployments from pull-request webhooks on or off.
    #[must_use]
    pub fn preview_deployments(mut self, previews: crate::PreviewDeployments) -> Self {
        self.is_preview_deployments_enabled = Some(previews == crate::PreviewDeployments::Enabled);
        self
    }

    /// Set the template of the previews' URLs, for example `pr-{{pr_id}}.{{domain}}` (Coolify
    /// 4.3.0+; older servers answer 422).
    #[must_use]
    pub fn preview_url_template(mut self, template: impl Into<String>) -> Self {
        self.preview_url_template = Some(template.into());
        self
    }

    /// Whether nothing would be sent.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Whether pushes to an application's branch deploy it automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoDeploy {
    /// Pushes deploy.
    Enabled,
    /// Only explicit deploys do.
    Disabled,
}

/// An environment variable of an application (`GET /applications/{uuid}/envs`).
///
/// `value` and `real_value` are absent unless the token has `read:sensitive`, and always for
/// `is_shown_once` variables: `None` means hidden, not empty.
///
/// `Debug` shows the key and flags and replaces the values by `[redacted]`. `Serialize` writes
/// the values (a backup of an application's variables needs them): serialize it only where the
/// values may go.
///
/// `#[non_exhaustive]`: build one with [`EnvVar::new`] and set fields.
///
/// ```compile_fail
/// let base = coolify_client::EnvVar::new("e1".parse().unwrap(), "KEY");
/// let copy = coolify_client::EnvVar { is_preview: true, ..base };
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvVar {
    /// The variable's uuid (env JSON has no `id`).
    pub uuid: EnvVarUuid,
    /// The key.
    pub key: String,
    /// The value, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The resolved value of a shared reference, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_value: Option<String>,
    /// Whether this is the preview-deployment copy.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_preview: bool,
    /// Whether `$` references are left unexpanded.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_literal: bool,
    /// Whether the value spans lines.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_multiline: bool,
    /// Whether the value is locked and never returned.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_shown_once: bool,
    /// Whether it is available at run time.
    #[serde(default = "yes", deserialize_with = "lenient_bool_default_true")]
    pub is_runtime: bool,
    /// Whether it is available at build time.
    #[serde(default = "yes", deserialize_with = "lenient_bool_default_true")]
    pub is_buildtime: bool,
    /// Whether the value references a shared variable.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_shared: bool,
    /// A comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// The longest key Coolify accepts.
const MAX_ENV_KEY_LEN: usize = 255;

/// Check an environment variable's key against Coolify's rule: a letter or `_`, then letters,
/// digits, `_` and `.`, at most 255 characters (`/\A[A-Za-z_][A-Za-z0-9_.]*\z/`).
///
/// [`Client::upsert_env_vars`](crate::Client::upsert_env_vars) checks every key with it before
/// it sends anything, because Coolify saves a bulk request's items up to the first invalid one.
///
/// ```
/// assert!(coolify_client::validate_env_key("DATABASE_URL").is_ok());
/// assert!(coolify_client::validate_env_key("app.name").is_ok());
/// assert!(coolify_client::validate_env_key("1ST").is_err());
/// assert!(coolify_client::validate_env_key("MY KEY").is_err());
/// ```
///
/// # Errors
///
/// [`Error::InvalidInput`](crate::Error::InvalidInput) naming the key and the rule.
pub fn validate_env_key(key: &str) -> Result<(), crate::Error> {
    let mut characters = key.chars();
    let reason = if key.len() > MAX_ENV_KEY_LEN {
        "at most 255 characters"
    } else if !(characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '.'
        }))
    {
        "letters, digits, `_` and `.`, not starting with a digit"
    } else {
        return Ok(());
    };
    Err(crate::Error::InvalidInput {
        what: "environment variable key",
        value: key.to_owned(),
        reason: reason.to_owned(),
    })
}

/// An environment variable to create or update, always sent with its full flag set.
///
/// Coolify's PATCH resets `is_literal`, `is_multiline` and `is_shown_once` when they are left out,
/// so this type has no way to leave them out.
///
/// `Debug` shows the key and flags and replaces the value by `[redacted]`. `Serialize` writes
/// the value, because it is the request body Coolify needs: serialize it only to send it.
///
/// `#[non_exhaustive]`: build one with [`EnvVarInput::new`] or [`EnvVarInput::updating`] and
/// set fields.
///
/// ```compile_fail
/// let base = coolify_client::EnvVarInput::new("KEY", "value");
/// let copy = coolify_client::EnvVarInput { is_preview: true, ..base };
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvVarInput {
    /// The key (`[A-Za-z_][A-Za-z0-9_.]*`).
    pub key: String,
    /// The value.
    pub value: String,
    /// Whether this targets the preview copy.
    pub is_preview: bool,
    /// Whether `$` references are left unexpanded.
    pub is_literal: bool,
    /// Whether the value spans lines.
    pub is_multiline: bool,
    /// Whether the value is locked and never returned again.
    pub is_shown_once: bool,
    /// Whether it is available at run time.
    pub is_runtime: bool,
    /// Whether it is available at build time.
    pub is_buildtime: bool,
    /// A comment; left unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Stands in for a secret value in `Debug`: `Some([redacted])` when there is one, `None` when
/// there is none, never the value.
struct Redacted(bool);

impl fmt::Debug for Redacted {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(if self.0 { "Some([redacted])" } else { "None" })
    }
}

impl EnvVar {
    /// A variable with its uuid and key, no readable value, and Coolify's default flags (run
    /// time and build time). For tests and fakes: the client reads variables from Coolify's
    /// JSON.
    #[must_use]
    pub fn new(uuid: EnvVarUuid, key: impl Into<String>) -> Self {
        Self {
            uuid,
            key: key.into(),
            value: None,
            real_value: None,
            is_preview: false,
            is_literal: false,
            is_multiline: false,
            is_shown_once: false,
            is_runtime: true,
            is_buildtime: true,
            is_shared: false,
            comment: None,
        }
    }
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EnvVar")
            .field("uuid", &self.uuid)
            .field("key", &self.key)
            .field("value", &Redacted(self.value.is_some()))
            .field("real_value", &Redacted(self.real_value.is_some()))
            .field("is_preview", &self.is_preview)
            .field("is_literal", &self.is_literal)
            .field("is_multiline", &self.is_multiline)
            .field("is_shown_once", &self.is_shown_once)
            .field("is_runtime", &self.is_runtime)
            .field("is_buildtime", &self.is_buildtime)
            .field("is_shared", &self.is_shared)
            .field("comment", &self.comment)
            .finish()
    }
}

impl fmt::Debug for EnvVarInput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EnvVarInput")
            .field("key", &self.key)
            .field("value", &"[redacted]")
            .field("is_preview", &self.is_preview)
            .field("is_literal", &self.is_literal)
            .field("is_multiline", &self.is_multiline)
            .field("is_shown_once", &self.is_shown_once)
            .field("is_runtime", &self.is_runtime)
            .field("is_buildtime", &self.is_buildtime)
            .field("comment", &self.comment)
            .finish()
    }
}

impl EnvVarInput {
    /// A plain variable with Coolify's defaults: runtime and build time, not preview, literal,
    /// multiline or locked.
    #[must_use]
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            is_preview: false,
            is_literal: false,
            is_multiline: false,
            is_shown_once: false,
            is_runtime: true,
            is_buildtime: true,
            comment: None,
        }
    }

    /// A new value for an existing variable, keeping all its flags.
    #[must_use]
    pub fn updating(existing: &EnvVar, value: impl Into<String>) -> Self {
        Self {
            key: existing.key.clone(),
            value: value.into(),
            is_preview: existing.is_preview,
            is_literal: existing.is_literal,
            is_multiline: existing.is_multiline,
            is_shown_once: existing.is_shown_once,
            is_runtime: existing.is_runtime,
            is_buildtime: existing.is_buildtime,
            comment: existing.comment.clone(),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn container_statuses_parse_from_coolifys_forms() {
        let cases = [
            (
                "running:healthy",
                ContainerStatus::Running {
                    health: ContainerHealth::Healthy,
                },
                true,
            ),
            (
                "running:unknown",
                ContainerStatus::Running {
                    health: ContainerHealth::Unknown,
                },
                true,
            ),
            (
                "running",
                ContainerStatus::Running {
                    health: ContainerHealth::Unknown,
                },
                true,
            ),
            (
                "running:unhealthy",
                ContainerStatus::Running {
                    health: ContainerHealth::Unhealthy,
                },
                false,
            ),
            ("exited:unhealthy", ContainerStatus::Exited, false),
            ("stopped", ContainerStatus::Exited, false),
            ("restarting:unknown", ContainerStatus::Restarting, false),
            ("starting", ContainerStatus::Starting, false),
            (
                "degraded:unhealthy",
                ContainerStatus::Degraded {
                    health: ContainerHealth::Unhealthy,
                },
                false,
            ),
            ("paused:unknown", ContainerStatus::Paused, false),
            (
                "running:excluded",
                ContainerStatus::Running {
                    health: ContainerHealth::Unknown,
                },
                true,
            ),
            (
                "weird:thing",
                ContainerStatus::Other("weird:thing".to_owned()),
                false,
            ),
        ];
        for (text, expected, ok) in cases {
            let status = ContainerStatus::parse(text);
            assert_eq!(status, expected, "{text}");
            assert_eq!(status.is_running_ok(), ok, "{text}");
        }
        assert!(ContainerStatus::parse("restarting:unknown").is_failing());
        assert!(!ContainerStatus::parse("starting").is_failing());
        assert_eq!(
            ContainerStatus::parse("degraded:unhealthy").to_string(),
            "degraded:unhealthy"
        );
    }

    #[test]
    fn image_apps_expose_their_image_and_patch_the_tag() {
        let json = r#"{"uuid": "app1", "build_pack": "dockerimage", "status": "exited:unhealthy",
            "docker_registry_image_name": "ghcr.io/acme/api", "docker_registry_image_tag": "1.5.0"}"#;
        let app: Application = serde_json::from_str(json).unwrap();
        assert!(app.is_image_app());
        assert_eq!(
            app.docker_registry_image_name.as_deref(),
            Some("ghcr.io/acme/api")
        );
        assert_eq!(app.docker_registry_image_tag.as_deref(), Some("1.5.0"));
        assert_eq!(app.container_status(), ContainerStatus::Exited);
        assert!(!Application::new("a2".parse().unwrap()).is_image_app());
        let patch = ApplicationPatch::new().docker_registry_image_tag(&"1.6.0".parse().unwrap());
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"docker_registry_image_tag": "1.6.0"})
        );
    }
    use super::*;

    #[test]
    fn status_round_trips_and_keeps_unknown_strings() {
        for text in [
            "queued",
            "in_progress",
            "finished",
            "failed",
            "cancelled-by-user",
            "paused",
        ] {
            let status: DeploymentStatus = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(status.as_str(), text);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{text}\"")
            );
        }
        assert_eq!(
            DeploymentStatus::from("paused"),
            DeploymentStatus::Other("paused".to_owned())
        );
        assert!(!DeploymentStatus::from("paused").is_terminal());
        assert!(DeploymentStatus::CancelledByUser.is_terminal());
        assert!(DeploymentStatus::Queued.is_in_flight());
    }

    #[test]
    fn deployment_tolerates_unknown_nulls_and_missing_fields() {
        let deployment: Deployment = serde_json::from_value(serde_json::json!({
            "id": 7, "application_id": "3", "deployment_uuid": "d1", "status": "finished",
            "commit": "HEAD", "force_rebuild": null, "is_webhook": 1, "brand_new_field": [1, 2]
        }))
        .unwrap();
        assert_eq!(deployment.resolved_commit(), None);
        assert!(deployment.is_webhook);
        assert!(!deployment.force_rebuild);
    }

    #[test]
    fn deployment_timestamps_are_typed_and_a_bad_one_does_not_fail_the_deployment() {
        let deployment: Deployment = serde_json::from_value(serde_json::json!({
            "deployment_uuid": "d1", "status": "finished",
            "created_at": "2026-08-01T12:00:00.000000Z",
            "updated_at": "not a time",
            "finished_at": null
        }))
        .unwrap();
        let created = deployment.created_at.as_ref().unwrap();
        assert_eq!(
            created.system_time(),
            Some(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_785_585_600))
        );
        let updated = deployment.updated_at.as_ref().unwrap();
        assert_eq!(updated.system_time(), None);
        assert_eq!(updated.as_str(), "not a time");
        assert_eq!(deployment.finished_at, None);
        let json = serde_json::to_value(&deployment).unwrap();
        assert_eq!(json["created_at"], "2026-08-01T12:00:00.000000Z");
        assert_eq!(json["updated_at"], "not a time");
    }

    #[test]
    fn a_resolved_commit_is_a_full_sha_and_is_of_commit_takes_one() {
        let sha: CommitSha = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
        let mut deployment = Deployment::new("d1".parse().unwrap(), DeploymentStatus::Finished);
        deployment.commit = Some("0123456789ABCDEF0123456789ABCDEF01234567".to_owned());
        assert_eq!(deployment.resolved_commit(), Some(sha.clone()));
        assert!(deployment.is_of_commit(&sha));
        // An abbreviation from Coolify is no resolved commit, but still names the same one.
        deployment.commit = Some("0123456789ab".to_owned());
        assert_eq!(deployment.resolved_commit(), None);
        assert!(deployment.is_of_commit(&sha));
        deployment.commit = Some("HEAD".to_owned());
        assert!(!deployment.is_of_commit(&sha));
    }

    #[test]
    fn env_keys_follow_coolifys_rule() {
        for good in [
            "A",
            "_",
            "DATABASE_URL",
            "app.name",
            "a1_b.c",
            &"K".repeat(255),
        ] {
            assert!(validate_env_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1ST",
            ".env",
            "MY KEY",
            "A-B",
            "ÄPFEL",
            &"K".repeat(256),
        ] {
            let error = validate_env_key(bad).unwrap_err();
            assert!(
                matches!(&error, crate::Error::InvalidInput { what: "environment variable key", value, .. } if value == bad),
                "{bad}: {error:?}"
            );
        }
    }

    #[test]
    fn commits_match_by_full_sha_or_long_prefix() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert!(commits_match(sha, &sha.to_uppercase()));
        assert!(commits_match(sha, "0123456"));
        assert!(!commits_match(sha, "012345"));
        assert!(!commits_match(sha, "1123456789"));
    }

    #[test]
    fn env_var_without_value_reads_as_hidden() {
        let env: EnvVar = serde_json::from_value(serde_json::json!({
            "uuid": "e1", "key": "TOKEN", "is_preview": false, "is_shown_once": true
        }))
        .unwrap();
        assert_eq!(env.value, None);
        assert!(env.is_runtime && env.is_buildtime && env.is_shown_once);
    }

    #[test]
    fn debug_never_shows_an_env_value() {
        let env: EnvVar = serde_json::from_value(serde_json::json!({
            "uuid": "e1", "key": "DATABASE_URL", "value": "postgres://u:hunter2@db",
            "real_value": "postgres://u:hunter2@db"
        }))
        .unwrap();
        let input = EnvVarInput::updating(&env, "hunter3");
        for text in [
            format!("{env:?}"),
            format!("{env:#?}"),
            format!("{input:?}"),
            format!("{:?}", std::slice::from_ref(&input)),
        ] {
            assert!(!text.contains("hunter"), "{text}");
            assert!(text.contains("DATABASE_URL"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
        let hidden: EnvVar = serde_json::from_value(serde_json::json!({
            "uuid": "e2", "key": "HIDDEN"
        }))
        .unwrap();
        assert!(format!("{hidden:?}").contains("value: None"), "{hidden:?}");
    }

    #[test]
    fn constructors_agree_with_the_least_json_coolify_sends() {
        let deployment: Deployment = serde_json::from_value(
            serde_json::json!({"deployment_uuid": "d1", "status": "queued"}),
        )
        .unwrap();
        assert_eq!(
            Deployment::new(DeploymentUuid::new("d1").unwrap(), DeploymentStatus::Queued),
            deployment
        );
        let application: Application =
            serde_json::from_value(serde_json::json!({"uuid": "a1"})).unwrap();
        assert_eq!(
            Application::new(ApplicationUuid::new("a1").unwrap()),
            application
        );
        let env: EnvVar =
            serde_json::from_value(serde_json::json!({"uuid": "e1", "key": "KEY"})).unwrap();
        assert_eq!(EnvVar::new(EnvVarUuid::new("e1").unwrap(), "KEY"), env);
        let page: DeploymentPage = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(DeploymentPage::new(0, Vec::new()), page);
    }

    #[test]
    fn env_input_always_sends_the_full_flag_set() {
        let body = serde_json::to_value(EnvVarInput::new("A", "1")).unwrap();
        for flag in [
            "is_preview",
            "is_literal",
            "is_multiline",
            "is_shown_once",
            "is_runtime",
            "is_buildtime",
        ] {
            assert!(body.get(flag).is_some(), "{flag} missing from {body}");
        }
    }

    #[test]
    fn application_keeps_unknown_fields_for_backups() {
        let app: Application = serde_json::from_value(serde_json::json!({
            "uuid": "a1", "git_branch": "main", "git_commit_sha": "HEAD", "ports_exposes": "3000",
            "settings": {"is_auto_deploy_enabled": true, "is_static": false}
        }))
        .unwrap();
        assert_eq!(app.pinned_commit(), None);
        assert_eq!(app.is_auto_deploy_enabled(), Some(true));
        assert_eq!(app.extra["ports_exposes"], "3000");
        let settings = app.settings.unwrap();
        assert_eq!(settings.extra["is_static"], false);
    }

    #[test]
    fn patch_sends_only_what_is_set() {
        let patch = ApplicationPatch::new().auto_deploy(AutoDeploy::Disabled);
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"is_auto_deploy_enabled": false})
        );
        assert!(ApplicationPatch::new().is_empty());
    }
}

/// A project (`GET /projects`, `GET /projects/{uuid}`); the single-project answer also lists
/// its environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Project {
    /// The project's uuid.
    pub uuid: crate::ProjectUuid,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its environments (only in `GET /projects/{uuid}`).
    #[serde(default)]
    pub environments: Vec<ProjectEnvironment>,
}

/// One environment of a project: `production`, `staging` or any name the team chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProjectEnvironment {
    /// The numeric id applications refer to as `environment_id`.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its uuid.
    #[serde(default)]
    pub uuid: Option<String>,
}
