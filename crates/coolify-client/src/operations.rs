//! Higher-level operations the release flows rely on, built on the endpoint methods.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::PinKind;
use crate::models::{
    ApplicationPatch, DeployOutcome, Deployment, DeploymentStatus, ForceRebuild, commits_match,
};
use crate::{ApplicationUuid, Client, CommitSha, DeploymentUuid, Error, ImageTag};

/// How many of an application's newest deployments the lookups scan.
pub const HISTORY_WINDOW: u32 = 50;

/// Page size used while scanning an application's deployments.
const PAGE_SIZE: u32 = 25;

/// How often [`Client::follow`] polls: immediately, then `first`, growing by half each time up to `max`.
///
/// The default (500 ms growing to 1 s) keeps a follow within a second of the real end of a
/// deployment while averaging at most one request per second after the first few.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PollSchedule {
    first: Duration,
    max: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(500),
            max: Duration::from_secs(1),
        }
    }
}

impl PollSchedule {
    /// A schedule starting at `first` and backing off to `max` (raised to at least `first`).
    #[must_use]
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max: max.max(first),
        }
    }

    /// The first interval.
    #[must_use]
    pub fn first(&self) -> Duration {
        self.first
    }

    /// The longest interval.
    #[must_use]
    pub fn max(&self) -> Duration {
        self.max
    }

    pub(crate) fn next_after(&self, current: Duration) -> Duration {
        (current + current / 2).min(self.max)
    }
}

/// How [`Client::follow`] waits for a deployment.
///
/// ```
/// use std::time::Duration;
///
/// use coolify_client::{FollowOptions, PollSchedule};
///
/// let options = FollowOptions::with_deadline(Duration::from_secs(15 * 60))
///     .poll(PollSchedule::new(Duration::from_millis(250), Duration::from_secs(2)));
/// assert_eq!(options.deadline, Duration::from_secs(900));
/// assert_eq!(FollowOptions::default().deadline, Duration::from_secs(20 * 60));
/// ```
///
/// `#[non_exhaustive]`: build one with [`FollowOptions::default`] or
/// [`FollowOptions::with_deadline`], then [`FollowOptions::poll`]; a literal does not compile:
///
/// ```compile_fail
/// let options = coolify_client::FollowOptions {
///     deadline: std::time::Duration::from_secs(60),
///     poll: coolify_client::PollSchedule::default(),
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FollowOptions {
    /// Overall deadline; past it the follow stops with [`Error::DeadlineExceeded`] (default 20 min).
    pub deadline: Duration,
    /// The polling schedule.
    pub poll: PollSchedule,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(20 * 60),
            poll: PollSchedule::default(),
        }
    }
}

impl FollowOptions {
    /// The default schedule with another deadline.
    #[must_use]
    pub fn with_deadline(deadline: Duration) -> Self {
        Self {
            deadline,
            ..Self::default()
        }
    }

    /// These options with another polling schedule.
    #[must_use]
    pub fn poll(mut self, poll: PollSchedule) -> Self {
        self.poll = poll;
        self
    }
}

/// Something [`Client::follow`] observed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FollowEvent {
    /// The deployment's status changed (the first poll always reports one).
    Status {
        /// The new status.
        status: DeploymentStatus,
        /// Time since the follow started.
        elapsed: Duration,
    },
    /// Coolify resolved the commit the deployment builds (`HEAD` became a SHA).
    Commit {
        /// The commit.
        commit: CommitSha,
    },
}

/// A deployment that [`Client::deploy_commit`] started or joined.
///
/// ```no_run
/// use coolify_client::{ApplicationUuid, Client, CommitSha, DeploymentOrigin, Error, FollowOptions, ForceRebuild};
///
/// # async fn run(client: &Client, app: &ApplicationUuid, commit: &CommitSha) -> Result<(), Error> {
/// let started = client.deploy_commit(app, commit, ForceRebuild::No).await?;
/// if started.origin == DeploymentOrigin::AlreadyQueued {
///     println!("joined deployment {} of the same commit", started.deployment);
/// }
/// client.follow(&started.deployment, &FollowOptions::default(), |_| {}).await?;
/// # Ok(())
/// # }
/// ```
///
/// `#[non_exhaustive]`: only [`Client::deploy_commit`] makes one; a literal does not compile:
///
/// ```compile_fail
/// let started = coolify_client::StartedDeployment {
///     deployment: "d1".parse().unwrap(),
///     origin: coolify_client::DeploymentOrigin::Queued,
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct StartedDeployment {
    /// The real deployment to follow.
    pub deployment: DeploymentUuid,
    /// Whether it is new or was already in flight for the same commit.
    pub origin: DeploymentOrigin,
}

/// A deployment of an image tag that [`Client::deploy_image_tag`] queued.
///
/// `#[non_exhaustive]`: only [`Client::deploy_image_tag`] makes one.
///
/// ```compile_fail
/// let started = coolify_client::StartedImageDeployment {
///     deployment: "d1".parse().unwrap(),
///     origin: coolify_client::DeploymentOrigin::Queued,
///     tag: "1.5.0".parse().unwrap(),
///     previous_tag: None,
///     waited_for: Vec::new(),
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartedImageDeployment {
    /// The deployment to follow.
    pub deployment: DeploymentUuid,
    /// Always [`DeploymentOrigin::Queued`]: an image application's "already queued" is never
    /// joined (the deployment in flight would not deploy the new tag), it is waited out.
    pub origin: DeploymentOrigin,
    /// The tag deployed.
    pub tag: ImageTag,
    /// The tag the application had before this call (what a rollback goes back to); `None`
    /// when it had none, which Coolify deploys as `latest`.
    pub previous_tag: Option<ImageTag>,
    /// The deployments of the application that were queued or in progress when the call
    /// began (or raced its deploy), each followed to its end before the tag was deployed,
    /// oldest first, with the status each ended with.
    pub waited_for: Vec<Deployment>,
}

/// What an application runs and what is about to replace it; from
/// [`Client::current_deployments`].
///
/// `#[non_exhaustive]`: only this crate makes one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CurrentDeployments {
    /// The newest deployment that ended `finished`: what the application runs.
    pub finished: Option<Deployment>,
    /// The newest deployment that is queued or in progress.
    pub in_flight: Option<Deployment>,
}

/// Where a [`StartedDeployment`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeploymentOrigin {
    /// Queued by this call.
    Queued,
    /// Coolify answered "Deployment already queued for this commit."; this is the existing one.
    AlreadyQueued,
}

/// A write a method would send, described for a dry run: nothing is sent.
///
/// [`Client::planned_deploy_commit`] lists the writes of [`Client::deploy_commit`].
/// Its [`Display`](std::fmt::Display) is the method, the path under the base URL and the
/// JSON body: `POST /api/v1/deploy {"force": false, "uuid": "vgsco4o4wc8w0ok8gwgk8w0o"}`.
///
/// ```
/// use coolify_client::{ApplicationUuid, Client, CommitSha, ForceRebuild};
///
/// let app: ApplicationUuid = "vgsco4o4wc8w0ok8gwgk8w0o".parse()?;
/// let commit: CommitSha = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?;
/// let planned = Client::planned_deploy_commit(&app, &commit, ForceRebuild::No);
/// assert_eq!(planned[0].method, "PATCH");
/// assert_eq!(planned[0].path, "/api/v1/applications/vgsco4o4wc8w0ok8gwgk8w0o");
/// assert_eq!(
///     planned[1].to_string(),
///     r#"POST /api/v1/deploy {"force": false, "uuid": "vgsco4o4wc8w0ok8gwgk8w0o"}"#
/// );
/// # Ok::<(), coolify_client::Error>(())
/// ```
///
/// `#[non_exhaustive]`: only this crate makes one; a literal does not compile:
///
/// ```compile_fail
/// let request = coolify_client::PlannedRequest {
///     method: "GET",
///     path: String::new(),
///     body: None,
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedRequest {
    /// The HTTP method, for example `PATCH`.
    pub method: &'static str,
    /// The path under the base URL, for example `/api/v1/deploy`.
    pub path: String,
    /// The JSON body, if the request has one.
    pub body: Option<serde_json::Value>,
}

impl PlannedRequest {
    pub(crate) fn new(method: &'static str, segments: &[&str], body: serde_json::Value) -> Self {
        Self {
            method,
            path: format!("/api/v1/{}", segments.join("/")),
            body: Some(body),
        }
    }
}

impl std::fmt::Display for PlannedRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}", self.method, self.path)?;
        match &self.body {
            // An object's members one after the other, spaced for reading.
            Some(serde_json::Value::Object(members)) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(name, value)| {
                        format!("{}: {value}", serde_json::Value::from(name.as_str()))
                    })
                    .collect();
                write!(formatter, " {{{}}}", members.join(", "))
            }
            Some(body) => write!(formatter, " {body}"),
            None => Ok(()),
        }
    }
}

impl Client {
    /// The writes [`Client::deploy_commit`] would send, in order, for a dry run: the pin
    /// (`PATCH /applications/{uuid}`) and the deploy (`POST /deploy`).
    /// The reads it makes first (the current pin) are left out; nothing is sent.
    #[must_use]
    pub fn planned_deploy_commit(
        application: &ApplicationUuid,
        commit: &CommitSha,
        force: ForceRebuild,
    ) -> Vec<PlannedRequest> {
        vec![
            PlannedRequest::new(
                "PATCH",
                &["applications", application.as_str()],
                serde_json::json!({ "git_commit_sha": commit.as_str() }),
            ),
            PlannedRequest::new(
                "POST",
                &["deploy"],
                serde_json::json!({
                    "uuid": application.as_str(),
                    "force": force == ForceRebuild::Yes,
                }),
            ),
        ]
    }

    /// Deploy `commit` to an application: pin `git_commit_sha` (PATCH), then `POST /deploy`.
    ///
    /// The pin persists, so later deploys of the application build the same commit until the
    /// next pin. When Coolify answers "Deployment already queued for this commit." the real,
    /// already in-flight deployment of that commit is looked up in the application's list.
    ///
    /// The application's pin is read first: when Coolify refuses the deploy in a way that
    /// proves nothing was queued (a 4xx such as a missing `deploy` ability or a full queue),
    /// the pin is put back, so no change is left behind that nobody deployed.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::application`], [`Client::update_application`] and [`Client::deploy`];
    /// [`Error::PinRestored`] around the deploy's error once the pin was put back, or
    /// [`Error::PinLeft`] when putting it back failed too;
    /// [`Error::PinChanged`] when Coolify says a deployment is queued but the application was
    /// re-pinned meanwhile; [`Error::NotFound`] when it says one is queued but none of that
    /// commit is in flight.
    #[tracing::instrument(skip(self), fields(%application))]
    pub async fn deploy_commit(
        &self,
        application: &ApplicationUuid,
        commit: &CommitSha,
        force: ForceRebuild,
    ) -> Result<StartedDeployment, Error> {
        let current = self.application(application).await?;
        self.deploy_commit_pinned(application, pin_of(&current), commit, force)
            .await
    }

    /// [`Client::deploy_commit`] to an application the caller has just read (say, to check
    /// that it builds from git): its pin is the one put back when the deploy is refused, and
    /// the application is not read again (`GET /applications/{uuid}`).
    ///
    /// ```no_run
    /// # use coolify_client::{ApplicationUuid, Client, CommitSha, Error, ForceRebuild};
    /// # async fn run(client: &Client, app: &ApplicationUuid, commit: &CommitSha) -> Result<(), Error> {
    /// let application = client.application(app).await?;
    /// if !application.is_image_app() {
    ///     client.deploy_commit_to(&application, commit, ForceRebuild::No).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::deploy_commit`], without those of reading the application.
    #[tracing::instrument(skip(self, application), fields(application = %application.uuid))]
    pub async fn deploy_commit_to(
        &self,
        application: &crate::Application,
        commit: &CommitSha,
        force: ForceRebuild,
    ) -> Result<StartedDeployment, Error> {
        self.deploy_commit_pinned(&application.uuid, pin_of(application), commit, force)
            .await
    }

    /// Pin `commit` (the application was pinned to `before`) and deploy it.
    async fn deploy_commit_pinned(
        &self,
        application: &ApplicationUuid,
        before: String,
        commit: &CommitSha,
        force: ForceRebuild,
    ) -> Result<StartedDeployment, Error> {
        self.update_application(
            application,
            &ApplicationPatch::new().git_commit_sha(commit.as_str()),
        )
        .await?;
        tracing::info!(%commit, "commit pinned");
        let outcome = match self.deploy(application, force).await {
            Ok(outcome) => outcome,
            Err(error)
                if error.proves_nothing_happened() && !commits_match(&before, commit.as_str()) =>
            {
                // Nothing was queued: leave no pin behind that nobody deployed.
                let restore = ApplicationPatch::new().git_commit_sha(&before);
                return match self.update_application(application, &restore).await {
                    Ok(()) => {
                        tracing::info!(restored = %before, "deploy refused; pin put back");
                        Err(Error::PinRestored {
                            application: application.clone(),
                            pin: PinKind::Commit,
                            restored: before,
                            source: Box::new(error),
                        })
                    }
                    Err(restore_error) => Err(Error::PinLeft {
                        application: application.clone(),
                        pin: PinKind::Commit,
                        pinned: commit.to_string(),
                        previous: before,
                        restore: Box::new(restore_error),
                        source: Box::new(error),
                    }),
                };
            }
            Err(error) => return Err(error),
        };
        match outcome {
            DeployOutcome::Queued(deployment) => Ok(StartedDeployment {
                deployment,
                origin: DeploymentOrigin::Queued,
            }),
            DeployOutcome::AlreadyQueued => {
                let existing = self
                    .scan(application, |deployment| {
                        !deployment.is_preview()
                            && deployment.status.is_in_flight()
                            && deployment.is_of_commit(commit)
                    })
                    .await?;
                match existing {
                    Some(existing) => Ok(StartedDeployment {
                        deployment: existing.deployment_uuid,
                        origin: DeploymentOrigin::AlreadyQueued,
                    }),
                    None => Err(self.repinned_or(application, commit, Error::NotFound {
                        endpoint: format!("GET /api/v1/deployments/applications/{application}"),
                        resource: crate::error::Resource::InFlightDeployment {
                            application: application.clone(),
                            commit: commit.clone(),
                        },
                        message: "coolify said one is already queued, but none is queued or in progress now".to_owned(),
                    }).await),
                }
            }
        }
    }

    /// The writes [`Client::deploy_image_tag`] would send, in order, for a dry run: the tag
    /// (`PATCH /applications/{uuid}`) and the deploy (`POST /deploy`).
    /// The reads it makes first (the application, its deployments in flight) and the waits
    /// are left out; nothing is sent.
    ///
    /// ```
    /// use coolify_client::{ApplicationUuid, Client, ImageTag};
    ///
    /// let app: ApplicationUuid = "vgsco4o4wc8w0ok8gwgk8w0o".parse().unwrap();
    /// let tag: ImageTag = "1.5.0".parse().unwrap();
    /// let planned: Vec<String> = Client::planned_deploy_image_tag(&app, &tag)
    ///     .iter()
    ///     .map(ToString::to_string)
    ///     .collect();
    /// assert_eq!(planned, [
    ///     r#"PATCH /api/v1/applications/vgsco4o4wc8w0ok8gwgk8w0o {"docker_registry_image_tag": "1.5.0"}"#,
    ///     r#"POST /api/v1/deploy {"force": false, "uuid": "vgsco4o4wc8w0ok8gwgk8w0o"}"#,
    /// ]);
    /// ```
    #[must_use]
    pub fn planned_deploy_image_tag(
        application: &ApplicationUuid,
        tag: &ImageTag,
    ) -> Vec<PlannedRequest> {
        vec![
            PlannedRequest::new(
                "PATCH",
                &["applications", application.as_str()],
                serde_json::json!({ "docker_registry_image_tag": tag.as_str() }),
            ),
            PlannedRequest::new(
                "POST",
                &["deploy"],
                serde_json::json!({ "uuid": application.as_str(), "force": false }),
            ),
        ]
    }

    /// Deploy the image `tag` to a Docker-image application (`build_pack` `dockerimage`): the
    /// counterpart of [`Client::deploy_commit`] for applications that pull a prebuilt image.
    ///
    /// Every deployment of an image application is of commit `HEAD`, so Coolify skips a deploy
    /// while any deployment of the application is queued or in progress ("already queued"),
    /// and one in progress would not pick up a new tag. So this call:
    /// 1. reads the application (refusing one that builds from git) and its current tag;
    /// 2. follows each deployment of it that is queued or in progress to its end
    ///    ([`Client::wait_until_idle`]; they are listed in
    ///    [`StartedImageDeployment::waited_for`]);
    /// 3. sets `docker_registry_image_tag` (PATCH), then `POST /deploy`;
    /// 4. when Coolify still answers "already queued" (another client deployed in between),
    ///    waits for that deployment too and deploys once more.
    ///
    /// `options.deadline` bounds all the waiting; its poll schedule is used to follow.
    /// When Coolify refuses the deploy in a way that proves nothing was queued (a 4xx, a full
    /// queue), the previous tag is put back.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// use coolify_client::{ApplicationUuid, Client, Error, FollowOptions, ImageTag};
    ///
    /// # async fn run(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let app: ApplicationUuid = "vgsco4o4wc8w0ok8gwgk8w0o".parse()?;
    /// let tag: ImageTag = "1.5.0".parse()?;
    /// let options = FollowOptions::with_deadline(Duration::from_secs(600));
    /// let started = client.deploy_image_tag(&app, &tag, &options).await?;
    /// for waited in &started.waited_for {
    ///     println!("waited for {} ({})", waited.deployment_uuid, waited.status);
    /// }
    /// match client.follow(&started.deployment, &options, |_| {}).await {
    ///     Ok(_) => println!("{app} runs {tag}"),
    ///     Err(error @ Error::DeploymentFailed { .. }) => {
    ///         // What a rollback sets back.
    ///         println!("{error}; it had {:?} before", started.previous_tag);
    ///     }
    ///     Err(error) => return Err(error.into()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an application that is not a Docker-image one (before
    /// anything is changed); the errors of [`Client::wait_until_idle`] (then nothing was
    /// changed), [`Client::update_application`] and [`Client::deploy`];
    /// [`Error::PinRestored`] (with [`PinKind::ImageTag`](crate::PinKind::ImageTag)) around the
    /// deploy's error once the previous tag was put back, or [`Error::PinLeft`] when putting it
    /// back failed too; [`Error::ImageDeployBlocked`] when Coolify still answers "already
    /// queued" after the second wait.
    #[tracing::instrument(skip(self, options), fields(%application, %tag))]
    pub async fn deploy_image_tag(
        &self,
        application: &ApplicationUuid,
        tag: &ImageTag,
        options: &FollowOptions,
    ) -> Result<StartedImageDeployment, Error> {
        let deadline = Instant::now() + options.deadline;
        let current = self.application(application).await?;
        self.deploy_image_tag_by(&current, tag, options, deadline)
            .await
    }

    /// [`Client::deploy_image_tag`] to an application the caller has just read (say, to
    /// check its image): its tag is the one put back when the deploy is refused, and the
    /// application is not read again (`GET /applications/{uuid}`).
    ///
    /// # Errors
    ///
    /// As [`Client::deploy_image_tag`], without those of reading the application.
    #[tracing::instrument(skip(self, application, options), fields(application = %application.uuid, %tag))]
    pub async fn deploy_image_tag_to(
        &self,
        application: &crate::Application,
        tag: &ImageTag,
        options: &FollowOptions,
    ) -> Result<StartedImageDeployment, Error> {
        let deadline = Instant::now() + options.deadline;
        self.deploy_image_tag_by(application, tag, options, deadline)
            .await
    }

    async fn deploy_image_tag_by(
        &self,
        current: &crate::Application,
        tag: &ImageTag,
        options: &FollowOptions,
        deadline: Instant,
    ) -> Result<StartedImageDeployment, Error> {
        let application = &current.uuid;
        if !current.is_image_app() {
            return Err(Error::InvalidInput {
                what: "application",
                value: application.to_string(),
                reason: format!(
                    "it builds from git (build pack {}), not from a Docker image, so it has no image tag to deploy; deploy a commit to it instead, or pick a Docker-image application",
                    current.build_pack.as_deref().unwrap_or("unknown")
                ),
            });
        }
        let before = current
            .docker_registry_image_tag
            .clone()
            .filter(|previous| !previous.trim().is_empty());
        let previous_tag = before
            .as_deref()
            .and_then(|previous| ImageTag::new(previous).ok());
        let before = before.unwrap_or_else(|| "latest".to_owned());
        let mut waited_for = self
            .wait_until_idle_by(application, deadline, options.poll)
            .await?;
        self.update_application(
            application,
            &ApplicationPatch::new().docker_registry_image_tag(tag),
        )
        .await?;
        tracing::info!(previous = %before, "image tag set");
        for attempt in 0..2 {
            let outcome = match self.deploy(application, ForceRebuild::No).await {
                Ok(outcome) => outcome,
                Err(error) if error.proves_nothing_happened() && before != tag.as_str() => {
                    return Err(self
                        .restore_image_tag(application, tag, &before, error)
                        .await);
                }
                Err(error) => return Err(error),
            };
            match outcome {
                DeployOutcome::Queued(deployment) => {
                    return Ok(StartedImageDeployment {
                        deployment,
                        origin: DeploymentOrigin::Queued,
                        tag: tag.clone(),
                        previous_tag,
                        waited_for,
                    });
                }
                DeployOutcome::AlreadyQueued if attempt == 0 => {
                    tracing::info!("another deployment was queued meanwhile; waiting for it");
                    waited_for.extend(
                        self.wait_until_idle_by(application, deadline, options.poll)
                            .await?,
                    );
                }
                DeployOutcome::AlreadyQueued => {}
            }
        }
        let in_flight = self
            .in_flight_deployment(application)
            .await
            .ok()
            .flatten()
            .map(|deployment| deployment.deployment_uuid);
        Err(Error::ImageDeployBlocked {
            application: application.clone(),
            tag: tag.to_string(),
            in_flight,
        })
    }

    /// Put an image application's tag back after a refused deploy.
    async fn restore_image_tag(
        &self,
        application: &ApplicationUuid,
        tag: &ImageTag,
        before: &str,
        error: Error,
    ) -> Error {
        let restore = match ImageTag::new(before) {
            Ok(previous) => {
                self.update_application(
                    application,
                    &ApplicationPatch::new().docker_registry_image_tag(&previous),
                )
                .await
            }
            Err(invalid) => Err(invalid),
        };
        match restore {
            Ok(()) => {
                tracing::info!(restored = %before, "deploy refused; image tag put back");
                Error::PinRestored {
                    application: application.clone(),
                    pin: PinKind::ImageTag,
                    restored: before.to_owned(),
                    source: Box::new(error),
                }
            }
            Err(restore_error) => Error::PinLeft {
                application: application.clone(),
                pin: PinKind::ImageTag,
                pinned: tag.to_string(),
                previous: before.to_owned(),
                restore: Box::new(restore_error),
                source: Box::new(error),
            },
        }
    }

    /// Follow each queued or in-progress deployment of an application to its end, until none
    /// is left, and return them oldest first with the status each ended with (`failed` and
    /// `cancelled-by-user` count as ended). `options.deadline` bounds the whole wait.
    ///
    /// [`Client::deploy_image_tag`] does this first; call it before to report the wait as it
    /// happens ([`Client::in_flight_deployment`] names what it would wait for).
    ///
    /// # Errors
    ///
    /// [`Error::DeadlineExceeded`] (naming the deployment still running) when the deadline
    /// passes, and the errors of [`Client::deployments`] and [`Client::follow`].
    pub async fn wait_until_idle(
        &self,
        application: &ApplicationUuid,
        options: &FollowOptions,
    ) -> Result<Vec<Deployment>, Error> {
        self.wait_until_idle_by(application, Instant::now() + options.deadline, options.poll)
            .await
    }

    async fn wait_until_idle_by(
        &self,
        application: &ApplicationUuid,
        deadline: Instant,
        poll: PollSchedule,
    ) -> Result<Vec<Deployment>, Error> {
        let started = Instant::now();
        let mut ended = Vec::new();
        while let Some(in_flight) = self.in_flight_deployment(application).await? {
            if Instant::now() >= deadline {
                return Err(Error::DeadlineExceeded {
                    deployment: in_flight.deployment_uuid,
                    after: deadline.saturating_duration_since(started),
                    last_status: in_flight.status,
                });
            }
            let uuid = in_flight.deployment_uuid;
            tracing::info!(deployment = %uuid, "waiting for the application's deployment to end");
            let options =
                FollowOptions::with_deadline(deadline.saturating_duration_since(Instant::now()))
                    .poll(poll);
            ended.push(self.follow_to_end(&uuid, &options, |_| {}).await?);
        }
        Ok(ended)
    }

    /// [`Error::PinChanged`] when the application is no longer pinned to `commit`, else `otherwise`.
    pub(crate) async fn repinned_or(
        &self,
        application: &ApplicationUuid,
        commit: &CommitSha,
        otherwise: Error,
    ) -> Error {
        match self.application(application).await {
            Ok(current) => repinned(application, commit, current).unwrap_or(otherwise),
            Err(_) => otherwise,
        }
    }

    /// Why a finished deployment built another commit than `commit`, the one pinned for it,
    /// as the error to report: [`Error::PinChanged`] when someone re-pinned the application
    /// meanwhile, [`Error::PinIgnored`] when it is still pinned to `commit` (a Coolify older
    /// than 4.1.0 ignores pins), or [`Error::OtherCommitUnexplained`] when the application
    /// cannot be read to tell (`GET /applications/{uuid}`).
    /// Whether a deployment built another commit is [`Deployment::is_of_commit`].
    ///
    /// ```no_run
    /// # use coolify_client::{ApplicationUuid, Client, CommitSha, Error, FollowOptions, StartedDeployment};
    /// # async fn run(client: &Client, app: &ApplicationUuid, commit: &CommitSha, started: &StartedDeployment) -> Result<(), Error> {
    /// let finished = client.follow(&started.deployment, &FollowOptions::default(), |_| {}).await?;
    /// if finished.resolved_commit().is_some() && !finished.is_of_commit(commit) {
    ///     return Err(client.explain_other_commit(app, commit).await);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn explain_other_commit(
        &self,
        application: &ApplicationUuid,
        commit: &CommitSha,
    ) -> Error {
        match self.application(application).await {
            Ok(current) => {
                repinned(application, commit, current).unwrap_or_else(|| Error::PinIgnored {
                    application: application.clone(),
                    pinned: commit.clone(),
                })
            }
            Err(error) => Error::OtherCommitUnexplained {
                application: application.clone(),
                expected: commit.clone(),
                source: Box::new(error),
            },
        }
    }

    /// Poll a deployment until it reaches a terminal status, reporting each status change
    /// and the resolved commit to `on_event`.
    ///
    /// Polls immediately, then on `options.poll`'s schedule; transient errors are retried by
    /// the client's retry policy. When the client's pacing leaves no poll before the deadline,
    /// it waits for the deadline and ends as the deadline does.
    /// [`Client::follow_many`] follows many deployments for the cost of one.
    ///
    /// # Errors
    ///
    /// [`Error::DeploymentFailed`] or [`Error::DeploymentCancelled`] when it ends so,
    /// [`Error::DeadlineExceeded`] when it is still running at the deadline, and the errors of
    /// [`Client::deployment`].
    #[tracing::instrument(skip(self, options, on_event), fields(%deployment))]
    pub async fn follow<F>(
        &self,
        deployment: &DeploymentUuid,
        options: &FollowOptions,
        on_event: F,
    ) -> Result<Deployment, Error>
    where
        F: FnMut(&FollowEvent) + Send,
    {
        let current = self.follow_to_end(deployment, options, on_event).await?;
        match current.status {
            DeploymentStatus::Failed => Err(Error::DeploymentFailed {
                deployment: deployment.clone(),
                commit: current.resolved_commit(),
            }),
            DeploymentStatus::CancelledByUser => Err(Error::DeploymentCancelled {
                deployment: deployment.clone(),
                commit: current.resolved_commit(),
            }),
            _ => Ok(current),
        }
    }

    /// [`Client::follow`], ending with the deployment as last read whatever terminal status it
    /// reached.
    async fn follow_to_end<F>(
        &self,
        deployment: &DeploymentUuid,
        options: &FollowOptions,
        mut on_event: F,
    ) -> Result<Deployment, Error>
    where
        F: FnMut(&FollowEvent) + Send,
    {
        let started = Instant::now();
        let deadline = started + options.deadline;
        let mut interval = options.poll.first;
        let mut last_status: Option<DeploymentStatus> = None;
        let mut commit_reported = false;
        loop {
            let current = match self.deployment_until(deployment, Some(deadline)).await {
                Ok(current) => current,
                Err(error @ Error::Throttled { .. }) => {
                    // No poll fits before the deadline: it ends as the deadline would.
                    tokio::time::sleep_until(deadline).await;
                    return Err(match last_status {
                        Some(last_status) => Error::DeadlineExceeded {
                            deployment: deployment.clone(),
                            after: options.deadline,
                            last_status,
                        },
                        None => Error::Unanswered {
                            deployment: deployment.clone(),
                            after: options.deadline,
                            last_status: None,
                            source: Box::new(error),
                        },
                    });
                }
                Err(error) if error.is_transient() && Instant::now() >= deadline => {
                    return Err(Error::Unanswered {
                        deployment: deployment.clone(),
                        after: options.deadline,
                        last_status,
                        source: Box::new(error),
                    });
                }
                Err(error) => return Err(error),
            };
            if last_status.as_ref() != Some(&current.status) {
                tracing::info!(status = %current.status, "deployment status");
                on_event(&FollowEvent::Status {
                    status: current.status.clone(),
                    elapsed: started.elapsed(),
                });
                last_status = Some(current.status.clone());
            }
            if !commit_reported && let Some(commit) = current.resolved_commit() {
                commit_reported = true;
                on_event(&FollowEvent::Commit { commit });
            }
            if current.status.is_terminal() {
                return Ok(current);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::DeadlineExceeded {
                    deployment: deployment.clone(),
                    after: options.deadline,
                    last_status: current.status,
                });
            }
            tokio::time::sleep_until((now + interval).min(deadline)).await;
            if Instant::now() >= deadline {
                // No poll is left that could still get an answer in time.
                return Err(Error::DeadlineExceeded {
                    deployment: deployment.clone(),
                    after: options.deadline,
                    last_status: current.status,
                });
            }
            interval = options.poll.next_after(interval);
        }
    }

    /// The newest deployment of an application (not of a preview) that ended `finished`,
    /// among its [`HISTORY_WINDOW`] newest; its commit is [`Deployment::resolved_commit`].
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn latest_finished_deployment(
        &self,
        application: &ApplicationUuid,
    ) -> Result<Option<Deployment>, Error> {
        self.scan(application, |deployment| {
            !deployment.is_preview() && deployment.status == DeploymentStatus::Finished
        })
        .await
    }

    /// The newest deployment of `commit` (any status, not of a preview) among the
    /// application's [`HISTORY_WINDOW`] newest.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn find_deployment_by_commit(
        &self,
        application: &ApplicationUuid,
        commit: &CommitSha,
    ) -> Result<Option<Deployment>, Error> {
        self.scan(application, |deployment| {
            !deployment.is_preview() && deployment.is_of_commit(commit)
        })
        .await
    }

    /// The newest `finished` deployment of `commit` among the application's [`HISTORY_WINDOW`]
    /// newest, not of a preview: the staging gate's evidence.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn find_finished_deployment_of_commit(
        &self,
        application: &ApplicationUuid,
        commit: &CommitSha,
    ) -> Result<Option<Deployment>, Error> {
        self.scan(application, |deployment| {
            !deployment.is_preview()
                && deployment.status == DeploymentStatus::Finished
                && deployment.is_of_commit(commit)
        })
        .await
    }

    /// The newest `finished` and the newest queued or in-progress deployment of an
    /// application (not of its previews), among its [`HISTORY_WINDOW`] newest, from one walk of its deployments:
    /// what it runs and what is about to replace it. One request when both are on the first
    /// page, where [`Client::latest_finished_deployment`] then
    /// [`Client::in_flight_deployment`] make two.
    ///
    /// ```no_run
    /// # use coolify_client::{ApplicationUuid, Client, Error};
    /// # async fn run(client: &Client, app: &ApplicationUuid) -> Result<(), Error> {
    /// let current = client.current_deployments(app).await?;
    /// if let Some(running) = &current.finished {
    ///     println!("runs {:?}", running.resolved_commit());
    /// }
    /// if let Some(next) = &current.in_flight {
    ///     println!("{} is {}", next.deployment_uuid, next.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn current_deployments(
        &self,
        application: &ApplicationUuid,
    ) -> Result<CurrentDeployments, Error> {
        let mut current = CurrentDeployments::default();
        self.walk(application, |deployment| {
            if deployment.is_preview() {
                return false;
            }
            if current.finished.is_none() && deployment.status == DeploymentStatus::Finished {
                current.finished = Some(deployment.clone());
            }
            if current.in_flight.is_none() && deployment.status.is_in_flight() {
                current.in_flight = Some(deployment.clone());
            }
            current.finished.is_some() && current.in_flight.is_some()
        })
        .await?;
        Ok(current)
    }

    /// The newest queued or in-progress deployment of an application (not of a preview, which
    /// Coolify runs beside it), so a caller can [`follow`](Client::follow) it instead of
    /// stacking another.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::deployments`].
    pub async fn in_flight_deployment(
        &self,
        application: &ApplicationUuid,
    ) -> Result<Option<Deployment>, Error> {
        self.scan(application, |deployment| {
            !deployment.is_preview() && deployment.status.is_in_flight()
        })
        .await
    }

    /// Walk an application's deployments page by page, newest first, `page_size` at a time
    /// (`GET /deployments/applications/{uuid}?skip=&take=` for each page).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `page_size` is 0; each page may fail as
    /// [`Client::deployments`] does.
    pub fn deployment_pages(
        &self,
        application: &ApplicationUuid,
        page_size: u32,
    ) -> Result<DeploymentPages, Error> {
        if page_size == 0 {
            return Err(Error::InvalidInput {
                what: "page size",
                value: page_size.to_string(),
                reason: "a page holds at least 1 deployment".to_owned(),
            });
        }
        Ok(DeploymentPages {
            client: self.clone(),
            application: application.clone(),
            page_size,
            skip: 0,
            done: false,
        })
    }

    /// The newest deployment matching `wanted` among the newest [`HISTORY_WINDOW`].
    pub(crate) async fn scan<P>(
        &self,
        application: &ApplicationUuid,
        mut wanted: P,
    ) -> Result<Option<Deployment>, Error>
    where
        P: FnMut(&Deployment) -> bool + Send,
    {
        let mut found = None;
        self.walk(application, |deployment| {
            if wanted(deployment) {
                found = Some(deployment.clone());
            }
            found.is_some()
        })
        .await?;
        Ok(found)
    }

    /// Hand the newest [`HISTORY_WINDOW`] deployments to `visit`, newest first, page by page,
    /// until it returns `true` (done) or the window ends.
    async fn walk<V>(&self, application: &ApplicationUuid, mut visit: V) -> Result<(), Error>
    where
        V: FnMut(&Deployment) -> bool + Send,
    {
        let mut skip = 0;
        while skip < HISTORY_WINDOW {
            let take = PAGE_SIZE.min(HISTORY_WINDOW - skip);
            let page = self.deployments(application, skip, take).await?;
            let received = u32::try_from(page.deployments.len()).unwrap_or(u32::MAX);
            if page.deployments.iter().any(&mut visit) {
                return Ok(());
            }
            skip = skip.saturating_add(received);
            if received < take || u64::from(skip) >= page.count {
                break;
            }
        }
        Ok(())
    }
}

/// The commit an application is pinned to, `HEAD` when it follows its branch.
fn pin_of(application: &crate::Application) -> String {
    application
        .git_commit_sha
        .clone()
        .filter(|sha| !sha.is_empty())
        .unwrap_or_else(|| "HEAD".to_owned())
}

/// [`Error::PinChanged`] when `current` is no longer pinned to `commit`.
fn repinned(
    application: &ApplicationUuid,
    commit: &CommitSha,
    current: crate::Application,
) -> Option<Error> {
    current
        .git_commit_sha
        .filter(|found| !commits_match(found, commit.as_str()))
        .map(|found| Error::PinChanged {
            application: application.clone(),
            expected: commit.clone(),
            found,
        })
}

/// An application's deployments, one page at a time, newest first; from
/// [`Client::deployment_pages`].
///
/// Coolify pages by offset: a deployment started while the pages are walked shifts the later
/// pages by one, so a deployment may appear twice (never go missing).
///
/// ```
/// # use coolify_client::{ApplicationUuid, Client, Error};
/// # async fn count(client: &Client, app: &ApplicationUuid) -> Result<usize, Error> {
/// let mut pages = client.deployment_pages(app, 50)?;
/// let mut seen = 0;
/// while let Some(page) = pages.next().await {
///     seen += page?.len();
/// }
/// # Ok(seen)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DeploymentPages {
    client: Client,
    application: ApplicationUuid,
    page_size: u32,
    skip: u32,
    done: bool,
}

impl DeploymentPages {
    /// The next page, `None` after the last one. After an error, calling again requests the same
    /// page again.
    pub async fn next(&mut self) -> Option<Result<Vec<Deployment>, Error>> {
        if self.done {
            return None;
        }
        let page = match self
            .client
            .deployments(&self.application, self.skip, self.page_size)
            .await
        {
            Ok(page) => page,
            Err(error) => return Some(Err(error)),
        };
        let received = u32::try_from(page.deployments.len()).unwrap_or(u32::MAX);
        self.skip = self.skip.saturating_add(received);
        if received < self.page_size || u64::from(self.skip) >= page.count {
            self.done = true;
        }
        if page.deployments.is_empty() {
            return None;
        }
        Some(Ok(page.deployments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planned_writes_of_deploy_commit_are_the_pin_and_the_deploy() {
        let app: ApplicationUuid = "vgsco4o4wc8w0ok8gwgk8w0o".parse().unwrap();
        let commit: CommitSha = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
        let planned: Vec<String> = Client::planned_deploy_commit(&app, &commit, ForceRebuild::No)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            planned,
            [
                "PATCH /api/v1/applications/vgsco4o4wc8w0ok8gwgk8w0o {\"git_commit_sha\": \"0123456789abcdef0123456789abcdef01234567\"}",
                "POST /api/v1/deploy {\"force\": false, \"uuid\": \"vgsco4o4wc8w0ok8gwgk8w0o\"}",
            ]
        );
    }

    #[test]
    fn poll_schedule_backs_off_to_its_max() {
        let schedule = PollSchedule::new(Duration::from_millis(400), Duration::from_secs(1));
        let second = schedule.next_after(schedule.first());
        assert_eq!(second, Duration::from_millis(600));
        assert_eq!(
            schedule.next_after(Duration::from_millis(900)),
            Duration::from_secs(1)
        );
        assert_eq!(
            PollSchedule::new(Duration::from_secs(2), Duration::from_secs(1)).max(),
            Duration::from_secs(2)
        );
    }
}
