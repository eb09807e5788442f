//! What the deploying flows share: the open repository, config, Coolify client and prober,
//! and the one way a commit is put on an environment (pin, deploy, follow, probe).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use coolify_client::{
    ApplicationPatch, Client, CommitSha, Deployment, DeploymentOrigin, DeploymentUuid, FollowEvent,
    FollowOptions, ForceRebuild, ImageTag, PollSchedule,
};
use health_probe::{Outcome, ProbeSpec, Prober, ProgressEvent, Variables};
use serde::Serialize;
use tag_policy::{ReleaseTag, Releases};
use tokio_util::sync::CancellationToken;

use crate::config::{AppConfig, Config, EnvironmentName};
use crate::exit::Refused;
use crate::image::Placeholder;
use crate::output::Output;
use crate::repo::{Repo, commit_sha, oid, short};
use crate::session::Session;

/// An open repository, its config and the clients, for one flow.
pub(crate) struct Pipeline {
    pub(crate) repo: Repo,
    pub(crate) config: Config,
    pub(crate) coolify: Client,
    pub(crate) prober: Prober,
    pub(crate) output: Output,
    /// How the user runs stagegate, for the commands messages name.
    pub(crate) invocation: crate::Invocation,
    /// What this flow changed so far.
    pub(crate) journal: crate::journal::Journal,
}

/// How long the reads that describe what each environment runs may take at the end of a
/// failure: a Coolify that stopped answering must not hold the error line back for minutes.
const AFTERMATH_BUDGET: Duration = Duration::from_secs(5);

/// What production looked like before and after waiting for an in-flight deployment.
#[derive(Debug, Clone)]
pub(crate) struct Settled {
    /// Before any wait.
    pub(crate) before: EnvironmentLive,
    /// Once no deployment is in flight (or, in a dry run, the same as `before`).
    pub(crate) live: EnvironmentLive,
    /// The in-flight deployments that were waited for, one per app that had one.
    pub(crate) waited: Vec<Waited>,
}

/// An in-flight deployment that was followed to its end.
#[derive(Debug, Clone)]
pub(crate) struct Waited {
    /// Its uuid.
    pub(crate) deployment: String,
    /// The commit it built.
    pub(crate) commit: Option<CommitSha>,
    /// Whether it finished (rather than failed or was cancelled).
    pub(crate) finished: bool,
    /// How long it was followed.
    pub(crate) waited: Duration,
}

/// What putting a commit on an environment did.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The full SHA now serving.
    pub commit: String,
    /// The release tag deployed, if any.
    pub tag: Option<String>,
    /// The Coolify deployment that built it.
    pub deployment: String,
    /// Whether the deployment was queued by this run or joined an identical one in flight.
    pub joined_existing: bool,
    /// How long each phase took.
    pub timings: Timings,
    /// The health evidence of the first app with a health URL (absent only when every app
    /// deployed has none).
    pub probe: Option<Outcome>,
    /// Each app's deployment and evidence, in config order.
    pub apps: Vec<AppRollout>,
}

/// What putting a commit on one app did.
#[derive(Debug, Clone, Serialize)]
pub struct AppRollout {
    /// The Coolify application uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// The full SHA it now serves.
    pub commit: String,
    /// The Coolify deployment.
    pub deployment: String,
    /// Whether the deployment was queued by this run or joined an identical one in flight.
    pub joined_existing: bool,
    /// The health evidence, for an app with a health URL.
    pub probe: Option<Outcome>,
    /// The container status read after the deployment, for an app without a health URL.
    pub container: Option<String>,
    /// The image tag deployed, for a Docker-image app.
    pub image_tag: Option<String>,
}

/// What one app of an environment is to run.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The app's position in the environment's `apps`.
    pub(crate) app: usize,
    /// The commit.
    pub(crate) commit: CommitSha,
    /// Its release tag, if any.
    pub(crate) tag: Option<ReleaseTag>,
    /// For an image app: the tag to deploy instead of the one the template gives (the tag
    /// it ran before, for an automatic rollback).
    pub(crate) image_tag: Option<ImageTag>,
}

impl Target {
    /// The same commit on every app of an environment.
    pub(crate) fn every_app(
        config: &Config,
        environment: EnvironmentName,
        commit: &CommitSha,
        tag: Option<&ReleaseTag>,
    ) -> Vec<Self> {
        (0..config.environment(environment).apps.len())
            .map(|app| Self {
                app,
                commit: commit.clone(),
                tag: tag.cloned(),
                image_tag: None,
            })
            .collect()
    }
}

/// Phase durations of a rollout, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// Pin and trigger.
    pub trigger_ms: u64,
    /// From trigger until Coolify reported a terminal status.
    pub deployment_ms: u64,
    /// From then until the health endpoint proved the commit.
    pub probe_ms: u64,
    /// Everything.
    pub total_ms: u64,
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deployment {}, probe {}, total {}",
            seconds(self.deployment_ms),
            seconds(self.probe_ms),
            seconds(self.total_ms)
        )
    }
}

/// The release tags of a commit, lowest precedence first (none for no commit).
fn release_tags(commit: Option<&CommitSha>, releases: &Releases) -> Vec<String> {
    commit
        .and_then(oid)
        .map(|oid| {
            releases
                .at_commit(oid)
                .map(|release| release.tag().name().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The team's own workflows that still deploy one of production's apps on a push.
pub(crate) fn production_deploys_on_push(
    pipeline: &Pipeline,
) -> Vec<crate::legacy::ProductionDeployOnPush> {
    pipeline
        .config
        .production
        .apps
        .iter()
        .flat_map(|app| {
            crate::legacy::production_deploys_on_push(pipeline.repo.root(), app.uuid.as_str())
        })
        .collect()
}

pub(crate) fn seconds(millis: u64) -> String {
    format!("{:.1}s", millis as f64 / 1000.0)
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What an environment runs, as far as Coolify knows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Live {
    /// The commit of the newest finished deployment.
    pub commit: Option<CommitSha>,
    /// Its deployment uuid.
    pub deployment: Option<String>,
    /// The release tags of that commit, lowest precedence first.
    pub tags: Vec<String>,
    /// A queued or running deployment, if any.
    pub in_flight: Option<InFlight>,
    /// For a Docker-image app: the image tag it is set to (its commit is read from the tag
    /// through `image_tag`, when the tag has the template's shape).
    pub image_tag: Option<String>,
}

/// A deployment that has not finished.
#[derive(Debug, Clone, Serialize)]
pub struct InFlight {
    /// Its uuid.
    pub deployment: String,
    /// Its commit, once Coolify resolved it.
    pub commit: Option<CommitSha>,
    /// `queued` or `in_progress`.
    pub status: String,
}

impl Live {
    /// `v1.2.0 (abc1234)`, `abc1234`, `image tag latest (commit unknown)`, or `no finished
    /// deployment`.
    pub fn describe(&self) -> String {
        match (&self.commit, self.tags.last(), &self.image_tag) {
            (Some(commit), Some(tag), _) => format!("{tag} ({})", commit.short()),
            (Some(commit), None, _) => commit.short().to_owned(),
            (None, _, Some(image_tag)) if self.deployment.is_some() => {
                format!("image tag {image_tag} (commit unknown)")
            }
            (None, _, _) => "no finished deployment".to_owned(),
        }
    }
}

/// What one app of an environment runs.
#[derive(Debug, Clone, Serialize)]
pub struct AppLive {
    /// The Coolify application uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// What it runs.
    pub live: Live,
}

/// What an environment runs: each app, in config order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EnvironmentLive {
    /// One entry per app.
    pub apps: Vec<AppLive>,
}

impl EnvironmentLive {
    /// The commit every app runs, when they all run the same one.
    pub fn commit(&self) -> Option<&CommitSha> {
        let first = self.apps.first()?.live.commit.as_ref()?;
        self.apps
            .iter()
            .all(|app| app.live.commit.as_ref() == Some(first))
            .then_some(first)
    }

    /// Whether no app has a finished deployment.
    pub fn is_empty(&self) -> bool {
        self.apps.iter().all(|app| app.live.commit.is_none())
    }

    /// The first in-flight deployment of any app, with the app's label.
    pub fn in_flight(&self) -> Option<(&str, &InFlight)> {
        self.apps.iter().find_map(|app| {
            app.live
                .in_flight
                .as_ref()
                .map(|in_flight| (app.label.as_str(), in_flight))
        })
    }

    /// The highest release any app runs.
    pub fn current_release(&self, releases: &Releases) -> Option<ReleaseTag> {
        self.apps
            .iter()
            .filter_map(|app| app.live.current_release(releases))
            .max()
    }

    /// `v1.2.0 (abc1234)` when every app runs it, else `web v1.2.0 (abc1234), worker v1.1.0
    /// (def5678)`; `no finished deployment` when no app has one.
    pub fn describe(&self) -> String {
        match self.apps.as_slice() {
            [only] => only.live.describe(),
            apps if self.commit().is_some() => apps[0].live.describe(),
            apps => apps
                .iter()
                .map(|app| format!("{} {}", app.label, app.live.describe()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl Live {
    /// The highest release tag of the live commit.
    pub fn current_release(&self, releases: &Releases) -> Option<ReleaseTag> {
        self.tags
            .iter()
            .filter_map(|name| releases.find(name))
            .map(|release| release.tag().clone())
            .max()
    }
}

impl Pipeline {
    /// What production runs once no deployment is in flight: reads what is live, waits for
    /// an in-flight deployment (except in a dry run, which never waits), then reads again.
    pub(crate) async fn settle_production(
        &self,
        releases: &Releases,
        dry_run: crate::DryRun,
    ) -> anyhow::Result<Settled> {
        let before = self.live(EnvironmentName::Production, releases).await?;
        if dry_run.is_dry() || before.in_flight().is_none() {
            return Ok(Settled {
                live: before.clone(),
                before,
                waited: Vec::new(),
            });
        }
        let waited = self.wait_for_in_flight(EnvironmentName::Production).await?;
        let live = self.live(EnvironmentName::Production, releases).await?;
        Ok(Settled {
            before,
            live,
            waited,
        })
    }

    /// Open the repository and config and build the clients.
    pub(crate) fn open(session: &Session) -> anyhow::Result<Self> {
        let repo = session.open_repo()?;
        let config = session.load_config(&repo)?;
        let token = config.token(&session.environment)?;
        {
            use secrecy::ExposeSecret as _;
            session.output.add_secret(token.expose_secret());
        }
        for environment in EnvironmentName::ALL {
            for app in &config.environment(environment).apps {
                for (name, value) in app.probe.headers.iter().flatten() {
                    if is_secret_header(name) {
                        session.output.add_secret(value);
                    }
                }
            }
        }
        let coolify = Client::builder(config.coolify.url.as_str(), token)
            .user_agent(concat!("stagegate/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("set up the Coolify client")?;
        let prober = Prober::new().context("set up the health prober")?;
        Ok(Self {
            repo,
            config,
            coolify,
            prober,
            output: session.output.clone(),
            invocation: session.invocation.clone(),
            journal: session.journal.clone(),
        })
    }

    pub(crate) fn releases(&self) -> anyhow::Result<Releases> {
        Releases::list(self.repo.git(), &self.config.tags).context("list the release tags")
    }

    /// What an environment runs now: each app's newest finished and in-flight deployment.
    pub(crate) async fn live(
        &self,
        environment: EnvironmentName,
        releases: &Releases,
    ) -> anyhow::Result<EnvironmentLive> {
        let mut apps = Vec::new();
        for app in &self.config.environment(environment).apps {
            apps.push(AppLive {
                app: app.uuid.to_string(),
                label: app.label.clone(),
                live: self.app_live(environment, app, releases).await?,
            });
        }
        Ok(EnvironmentLive { apps })
    }

    /// What one app runs now.
    pub(crate) async fn app_live(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        releases: &Releases,
    ) -> anyhow::Result<Live> {
        let context = || {
            if self.config.environment(environment).has_several_apps() {
                format!("read the deployments of {environment}'s {}", app.label)
            } else {
                format!("read {environment}'s deployments")
            }
        };
        let finished = self
            .coolify
            .latest_finished_deployment(&app.uuid)
            .await
            .with_context(context)?;
        let in_flight = self
            .coolify
            .in_flight_deployment(&app.uuid)
            .await
            .with_context(context)?;
        let mut live = self.describe_live(finished.as_ref(), in_flight.as_ref(), releases);
        if app.image.is_some() {
            // A Docker-image app's deployments say `HEAD`: its tag says what it runs.
            let application = self
                .coolify
                .application(&app.uuid)
                .await
                .with_context(context)?;
            let image_tag = application
                .docker_registry_image_tag
                .clone()
                .unwrap_or_else(|| "latest".to_owned());
            live.commit = finished
                .as_ref()
                .and_then(|_| self.commit_of_image_tag(app, &image_tag, releases));
            live.tags = release_tags(live.commit.as_ref(), releases);
            live.image_tag = Some(image_tag);
            if let Some(in_flight) = live.in_flight.as_mut() {
                in_flight.commit = None;
            }
        }
        Ok(live)
    }

    /// The commit an image tag stands for, read through the app's `image_tag` template: the
    /// full SHA of `{commit}`, the commit `{short_commit}` names in this repository, or the
    /// release of `{version}`.
    pub(crate) fn commit_of_image_tag(
        &self,
        app: &AppConfig,
        image_tag: &str,
        releases: &Releases,
    ) -> Option<CommitSha> {
        let captures = app.image.as_ref()?.tag.captures(image_tag)?;
        let mut found: Option<git2::Oid> = None;
        for (placeholder, value) in captures {
            let commit = match placeholder {
                Placeholder::Commit => git2::Oid::from_str(&value).ok(),
                Placeholder::ShortCommit => self.repo.resolve_commit(&value).ok(),
                Placeholder::Version => releases
                    .iter()
                    .find(|release| release.tag().version_str() == value)
                    .map(|release| release.commit()),
            }?;
            if found.is_some_and(|found| found != commit) {
                return None;
            }
            found = Some(commit);
        }
        commit_sha(found?).ok()
    }

    fn describe_live(
        &self,
        finished: Option<&Deployment>,
        in_flight: Option<&Deployment>,
        releases: &Releases,
    ) -> Live {
        let commit = finished.and_then(Deployment::resolved_commit);
        let tags = release_tags(commit.as_ref(), releases);
        Live {
            commit,
            deployment: finished.map(|d| d.deployment_uuid.to_string()),
            tags,
            in_flight: in_flight.map(|d| InFlight {
                deployment: d.deployment_uuid.to_string(),
                commit: d.resolved_commit(),
                status: d.status.to_string(),
            }),
            image_tag: None,
        }
    }

    /// The placeholders of `expect_json`.
    pub(crate) fn variables(
        environment: EnvironmentName,
        commit: &str,
        tag: Option<&ReleaseTag>,
    ) -> Variables {
        let mut variables = Variables::new()
            .with_identity("commit", commit)
            .with_identity("short_commit", short(commit))
            .with("environment", environment.as_str());
        if let Some(tag) = tag {
            variables.insert_identity("tag", tag.name());
            variables.insert_identity("version", tag.version_str());
        }
        variables
    }

    /// The probe of one app with a health URL; `None` for an app without one.
    pub(crate) fn probe_spec(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        commit: &str,
        tag: Option<&ReleaseTag>,
    ) -> anyhow::Result<Option<ProbeSpec>> {
        let Some(url) = &app.health_url else {
            return Ok(None);
        };
        app.probe
            .to_spec(url.clone(), &Self::variables(environment, commit, tag))
            .map(Some)
            .map_err(|error| {
                crate::BadInput(format!("{}: [probe]: {error}", self.config.path.display())).into()
            })
    }

    /// Probe every app of `targets` that has a health URL, all at once, until each proves it
    /// serves its commit; one outcome per probed app, with the app's position.
    pub(crate) async fn probe(
        &self,
        environment: EnvironmentName,
        targets: &[Target],
    ) -> anyhow::Result<Vec<(usize, Outcome)>> {
        let section = self.config.environment(environment);
        let mut probed = Vec::new();
        let mut specs = Vec::new();
        let mut names = Vec::new();
        for target in targets {
            let Some(app) = section.apps.get(target.app) else {
                continue;
            };
            let Some(spec) = self.probe_spec(
                environment,
                app,
                target.commit.as_str(),
                target.tag.as_ref(),
            )?
            else {
                continue;
            };
            let name = self.name_of(environment, app);
            self.output.step(format!(
                "{name}: probing {} until it reports {}",
                spec.url(),
                target.commit.short()
            ));
            probed.push(target.app);
            specs.push(spec);
            names.push(name);
        }
        let output = self.output.clone();
        let concurrency = specs.len();
        let outcomes = self
            .prober
            .probe_many(
                specs,
                concurrency,
                &CancellationToken::new(),
                move |index, event| {
                    if let Some(name) = names.get(index) {
                        report_probe_event(&output, name, event);
                    }
                },
            )
            .await;
        Ok(probed.into_iter().zip(outcomes).collect())
    }

    /// How deployments are followed: `deploy.timeout` as the deadline, polled every 750 ms at
    /// most (a finished deployment is seen within that, at well under two requests a second).
    fn follow_options(&self) -> FollowOptions {
        FollowOptions::with_deadline(self.config.deploy.timeout).poll(PollSchedule::new(
            Duration::from_millis(500),
            Duration::from_millis(750),
        ))
    }

    /// The image tag a target deploys on an image app (`None` for a git app).
    fn image_tag_of(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        target: &Target,
    ) -> anyhow::Result<Option<ImageTag>> {
        let Some(image) = &app.image else {
            return Ok(None);
        };
        if let Some(image_tag) = &target.image_tag {
            return Ok(Some(image_tag.clone()));
        }
        image
            .tag
            .expand(
                target.commit.as_str(),
                target.tag.as_ref().map(ReleaseTag::version_str),
            )
            .map(Some)
            .map_err(|reason| {
                crate::BadInput(format!(
                    "{}: `image_tag` of {environment}'s {} (app {}): {reason}; nothing was changed",
                    self.config.path.display(),
                    app.label,
                    app.uuid
                ))
                .into()
            })
    }

    /// Refuse, before any write, an app whose kind in Coolify differs from the config: a
    /// Docker-image app without `image` (a pin would change nothing it runs), a git app with
    /// it, or another image than the one configured.
    async fn check_app_kind(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
    ) -> anyhow::Result<()> {
        let application = self
            .coolify
            .application(&app.uuid)
            .await
            .with_context(|| format!("read {environment}'s app {}", app.uuid))?;
        let path = self.config.path.display();
        match (&app.image, application.is_image_app()) {
            (None, true) => Err(crate::BadInput(format!(
                "{environment}'s app {} is a Docker-image application in Coolify (image {}): set `image = \"{}\"` for it in {path}, so that a deploy sets its image tag instead of a git commit; nothing was changed",
                app.uuid,
                application.docker_registry_image_name.as_deref().unwrap_or("unknown"),
                application.docker_registry_image_name.as_deref().unwrap_or("registry/name"),
            ))
            .into()),
            (Some(image), false) => Err(crate::BadInput(format!(
                "{environment}'s app {} builds from git in Coolify, but {path} gives it `image = \"{}\"`: remove `image` and `image_tag`, or make it a Docker-image application in Coolify; nothing was changed",
                app.uuid, image.name
            ))
            .into()),
            (Some(image), true)
                if application.docker_registry_image_name.as_deref()
                    != Some(image.name.as_str()) =>
            {
                Err(crate::BadInput(format!(
                    "{environment}'s app {} runs image {} in Coolify, but {path} says {}: run `{}` to set it, or fix `image`; nothing was changed",
                    app.uuid,
                    application.docker_registry_image_name.as_deref().unwrap_or("none"),
                    image.name,
                    self.invocation.command("setup")
                ))
                .into())
            }
            _ => Ok(()),
        }
    }

    /// An image deployment failed: say what Coolify logged, put the previous tag back (the
    /// old container keeps running, so no redeploy is needed) and check once that the
    /// previous release still answers.
    async fn image_not_started(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        deployment: &Started,
        error: coolify_client::Error,
    ) -> anyhow::Error {
        let image_tag = deployment
            .image_tag
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let image = app
            .image
            .as_ref()
            .map(|image| format!("{}:{image_tag}", image.name))
            .unwrap_or_default();
        let log_line = match self.coolify.deployment(&deployment.deployment).await {
            Ok(read) => read.log_lines().into_iter().rev().find(|line| {
                line.contains("Failed to start container")
                    || line.contains("manifest unknown")
                    || line.contains("not found")
            }),
            Err(_) => None,
        };
        let mut restored = None;
        let mut previous_answers = None;
        if let Some(previous) = &deployment.previous_tag {
            self.journal.write(format!(
                "set {environment} (app {}) back to image tag {previous}",
                app.uuid
            ));
            let patch = ApplicationPatch::new().docker_registry_image_tag(previous);
            match self.coolify.update_application(&app.uuid, &patch).await {
                Ok(_) => {
                    self.output.step(format!(
                        "{environment}: app {} is set to image tag {previous} again",
                        app.uuid
                    ));
                    restored = Some(Ok(previous.to_string()));
                }
                Err(restore) => restored = Some(Err(restore.to_string())),
            }
            let releases = self.releases().ok();
            let commit = releases
                .as_ref()
                .and_then(|releases| self.commit_of_image_tag(app, previous.as_str(), releases));
            if let (Some(commit), Some(releases)) = (&commit, &releases) {
                let release = oid(commit)
                    .and_then(|oid| releases.at_commit(oid).last().map(|r| r.tag().clone()));
                if let Ok(Some(spec)) =
                    self.probe_spec(environment, app, commit.as_str(), release.as_ref())
                {
                    previous_answers = Some(self.prober.check(&spec).await.passed());
                }
            }
        }
        anyhow::Error::new(error).context(ImageNotStarted {
            environment,
            app: app.uuid.to_string(),
            label: app.label.clone(),
            image,
            log_line,
            restored,
            previous_answers,
        })
    }

    /// Follow a deployment of `app` to its end, reporting status changes.
    pub(crate) async fn follow(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        deployment: &coolify_client::DeploymentUuid,
    ) -> Result<Deployment, coolify_client::Error> {
        let output = self.output.clone();
        let options = self.follow_options();
        let name = self.name_of(environment, app);
        self.coolify
            .follow(deployment, &options, move |event| match event {
                FollowEvent::Status { status, elapsed } => output.progress(format!(
                    "{name}: deployment {deployment} {status} ({})",
                    seconds(millis(*elapsed))
                )),
                FollowEvent::Commit { commit } => output.detail(format!(
                    "{name}: deployment {deployment} builds {}",
                    commit.short()
                )),
                _ => {}
            })
            .await
    }

    /// How progress lines name an app: `production` with one app, `production worker` with
    /// several.
    pub(crate) fn name_of(&self, environment: EnvironmentName, app: &AppConfig) -> String {
        if self.config.environment(environment).has_several_apps() {
            format!("{environment} {}", app.label)
        } else {
            environment.to_string()
        }
    }

    /// Pin each target's commit on its app, deploy them all, follow every deployment, probe
    /// every health URL and watch every app without one, until all prove their commit.
    ///
    /// Everything that can be checked is checked before the first write: the probe settings
    /// of every app and the token's deploy ability.
    pub(crate) async fn roll_out(
        &self,
        environment: EnvironmentName,
        targets: &[Target],
    ) -> anyhow::Result<Rollout> {
        let Some(first) = targets.first() else {
            return Err(anyhow::anyhow!("nothing to deploy to {environment}"));
        };
        let steps = self.check_before_writes(environment, targets).await?;
        let started = Instant::now();
        let mut deployments = Vec::with_capacity(steps.len());
        for step in &steps {
            deployments.push(self.start_deployment(environment, step).await?);
        }
        let triggered = Instant::now();
        self.follow_all(environment, &steps, &deployments).await?;
        let deployed = Instant::now();
        for (step, deployment) in steps.iter().zip(&deployments) {
            self.output.step(format!(
                "{}: deployment {} finished in {}",
                self.name_of(environment, step.app),
                deployment.deployment,
                seconds(millis(deployed.duration_since(triggered)))
            ));
        }
        let (outcomes, containers) = tokio::join!(
            self.probe(environment, targets),
            self.watch_containers(environment, targets)
        );
        let outcomes = outcomes?;
        self.check_outcomes(environment, targets, &outcomes)?;
        let done = Instant::now();
        let containers = containers?;
        let apps = steps
            .iter()
            .zip(&deployments)
            .map(|(step, deployment)| {
                let index = step.target.app;
                AppRollout {
                    app: step.app.uuid.to_string(),
                    label: step.app.label.clone(),
                    commit: step.target.commit.to_string(),
                    deployment: deployment.deployment.to_string(),
                    joined_existing: deployment.origin == DeploymentOrigin::AlreadyQueued,
                    probe: of_app(&outcomes, index).cloned(),
                    container: of_app(&containers, index).cloned(),
                    image_tag: deployment.image_tag.as_ref().map(ToString::to_string),
                }
            })
            .collect();
        Ok(Rollout {
            environment,
            commit: first.commit.to_string(),
            tag: first.tag.as_ref().map(|tag| tag.name().to_owned()),
            deployment: deployments
                .first()
                .map(|deployment| deployment.deployment.to_string())
                .unwrap_or_default(),
            joined_existing: deployments
                .iter()
                .all(|deployment| deployment.origin == DeploymentOrigin::AlreadyQueued),
            timings: Timings {
                trigger_ms: millis(triggered.duration_since(started)),
                deployment_ms: millis(deployed.duration_since(triggered)),
                probe_ms: millis(done.duration_since(deployed)),
                total_ms: millis(done.duration_since(started)),
            },
            probe: outcomes.into_iter().next().map(|(_, outcome)| outcome),
            apps,
        })
    }

    /// Everything a roll-out can check before its first write: each app's probe settings and
    /// image tag, each app's kind in Coolify, and the token's deploy ability. A pin followed by
    /// a refused deploy would leave the app pinned to a commit it does not run (a token
    /// without `write` fails the pin itself).
    async fn check_before_writes<'a>(
        &'a self,
        environment: EnvironmentName,
        targets: &'a [Target],
    ) -> anyhow::Result<Vec<Step<'a>>> {
        let section = self.config.environment(environment);
        let mut steps = Vec::with_capacity(targets.len());
        for target in targets {
            let app = section.apps.get(target.app).ok_or_else(|| {
                anyhow::anyhow!("{environment} has no app number {}", target.app + 1)
            })?;
            self.probe_spec(
                environment,
                app,
                target.commit.as_str(),
                target.tag.as_ref(),
            )?;
            let image_tag = self.image_tag_of(environment, app, target)?;
            steps.push(Step {
                target,
                app,
                image_tag,
            });
        }
        for step in &steps {
            self.check_app_kind(environment, step.app).await?;
        }
        let every_app: Vec<String> = steps.iter().map(|step| step.app.uuid.to_string()).collect();
        self.coolify.check_deploy_ability().await.with_context(|| {
            format!(
                "check that the token may deploy {environment} (app {}); nothing was changed",
                every_app.join(", app ")
            )
        })?;
        Ok(steps)
    }

    /// Put one app on its target: set the image tag of an image app, pin the commit of a git
    /// app, and deploy; the journal records the write before it is sent.
    async fn start_deployment(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
    ) -> anyhow::Result<Started> {
        let commit = step.target.commit.as_str();
        let uuid = &step.app.uuid;
        let started = match (&step.app.image, &step.image_tag) {
            (Some(image), Some(image_tag)) => {
                self.output.step(format!(
                    "{environment}: setting app {uuid} to image {}:{image_tag} ({}) and deploying",
                    image.name,
                    short(commit)
                ));
                self.journal.write(format!(
                    "set {environment} (app {uuid}) to image tag {image_tag}"
                ));
                let deployment = self
                    .coolify
                    .deploy_image_tag(uuid, image_tag, &self.follow_options())
                    .await
                    .with_context(|| {
                        format!("deploy image tag {image_tag} to {environment} (app {uuid})")
                    })?;
                for waited in &deployment.waited_for {
                    self.output.step(format!(
                        "{environment}: waited for deployment {} of app {uuid} to end ({}) before deploying {image_tag}",
                        waited.deployment_uuid, waited.status
                    ));
                }
                Started {
                    deployment: deployment.deployment,
                    origin: deployment.origin,
                    image_tag: Some(deployment.tag),
                    previous_tag: deployment.previous_tag,
                }
            }
            _ => {
                self.output.step(format!(
                    "{environment}: pinning app {uuid} to {} and deploying",
                    short(commit)
                ));
                self.journal.write(format!(
                    "pin {environment} (app {uuid}) to {}",
                    short(commit)
                ));
                let deployment = self
                    .coolify
                    .deploy_commit(uuid, &step.target.commit, ForceRebuild::No)
                    .await
                    .with_context(|| {
                        format!("deploy {} to {environment} (app {uuid})", short(commit))
                    })?;
                Started {
                    deployment: deployment.deployment,
                    origin: deployment.origin,
                    image_tag: None,
                    previous_tag: None,
                }
            }
        };
        self.journal
            .deployment(environment, started.deployment.to_string());
        if started.origin == DeploymentOrigin::AlreadyQueued {
            self.output.step(format!(
                "{environment}: a deployment of {} was already queued for app {uuid}; following {} instead of stacking another",
                short(commit),
                started.deployment
            ));
        }
        Ok(started)
    }

    /// Follow every deployment at once; fail on the first that did not finish, or that built
    /// another commit than its git app was pinned to (an image app's deployment says `HEAD`:
    /// its probe proves the commit).
    async fn follow_all(
        &self,
        environment: EnvironmentName,
        steps: &[Step<'_>],
        deployments: &[Started],
    ) -> anyhow::Result<()> {
        let followed =
            join_all(steps.iter().zip(deployments).map(|(step, deployment)| {
                self.follow(environment, step.app, &deployment.deployment)
            }))
            .await;
        for ((step, deployment), result) in steps.iter().zip(deployments).zip(followed) {
            let app = step.app;
            let finished = match result {
                Ok(finished) => finished,
                Err(error @ coolify_client::Error::DeploymentFailed { .. })
                    if deployment.image_tag.is_some() =>
                {
                    return Err(self
                        .image_not_started(environment, app, deployment, error)
                        .await);
                }
                Err(error) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "follow {environment} deployment {}",
                        deployment.deployment
                    )));
                }
            };
            if app.image.is_some() {
                continue;
            }
            let sha = &step.target.commit;
            if let Some(built) = finished.resolved_commit()
                && !finished.is_of_commit(sha)
            {
                let context = format!(
                    "{environment} deployment {} built {} instead of {}",
                    deployment.deployment,
                    built.short(),
                    sha.short()
                );
                return Err(anyhow::Error::new(
                    self.coolify.explain_other_commit(&app.uuid, sha).await,
                )
                .context(context));
            }
        }
        Ok(())
    }

    /// Fail on the first unhealthy probe; report each healthy one.
    fn check_outcomes(
        &self,
        environment: EnvironmentName,
        targets: &[Target],
        outcomes: &[(usize, Outcome)],
    ) -> anyhow::Result<()> {
        let section = self.config.environment(environment);
        for (index, outcome) in outcomes {
            let Some(app) = section.apps.get(*index) else {
                continue;
            };
            let url = app
                .health_url
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            if !outcome.is_healthy() {
                return Err(anyhow::Error::new(ProbeFailed(
                    outcome.clone(),
                    EarlyStop::of(&app.probe),
                ))
                .context(format!("probe {url}")));
            }
            let commit = targets
                .iter()
                .find(|target| target.app == *index)
                .map(|target| target.commit.short().to_owned())
                .unwrap_or_default();
            self.output.step(format!(
                "{}: {url} serves {commit} ({} attempts)",
                self.name_of(environment, app),
                outcome.attempt_count()
            ));
        }
        Ok(())
    }

    /// For every app of `targets` without a health URL: read its container status
    /// [`CONTAINER_CHECKS`] times, [`CONTAINER_CHECK_INTERVAL`] apart, and fail unless it is
    /// running (and not unhealthy) every time (a worker that crashes on start is restarting or exited by then).
    async fn watch_containers(
        &self,
        environment: EnvironmentName,
        targets: &[Target],
    ) -> anyhow::Result<Vec<(usize, String)>> {
        let section = self.config.environment(environment);
        let watched: Vec<&AppConfig> = targets
            .iter()
            .filter_map(|target| section.apps.get(target.app))
            .filter(|app| app.health_url.is_none())
            .collect();
        if watched.is_empty() {
            return Ok(Vec::new());
        }
        for app in &watched {
            self.output.step(format!(
                "{environment} {}: no health URL; watching its container for {}",
                app.label,
                humantime::format_duration(CONTAINER_CHECK_INTERVAL * (CONTAINER_CHECKS - 1))
            ));
        }
        let mut last = vec![String::new(); watched.len()];
        for check in 0..CONTAINER_CHECKS {
            if check > 0 {
                tokio::time::sleep(CONTAINER_CHECK_INTERVAL).await;
            }
            for (app, last) in watched.iter().zip(last.iter_mut()) {
                let application = self.coolify.application(&app.uuid).await.with_context(|| {
                    format!(
                        "read the container status of {environment}'s {} (app {})",
                        app.label, app.uuid
                    )
                })?;
                let status = application.status.clone().unwrap_or_default();
                if !application.container_status().is_running_ok() {
                    return Err(anyhow::Error::new(ContainerNotRunning {
                        app: app.uuid.to_string(),
                        label: app.label.clone(),
                        status: if status.is_empty() {
                            "unknown".to_owned()
                        } else {
                            status
                        },
                    }));
                }
                *last = status;
            }
        }
        for (app, status) in watched.iter().zip(&last) {
            self.output.step(format!(
                "{environment} {}: container {status} throughout",
                app.label
            ));
        }
        Ok(targets
            .iter()
            .filter(|target| {
                section
                    .apps
                    .get(target.app)
                    .is_some_and(|app| app.health_url.is_none())
            })
            .map(|target| target.app)
            .zip(last)
            .collect())
    }

    /// Wait for every in-flight deployment of an environment's apps instead of stacking
    /// another; past the deploy timeout, refuse.
    pub(crate) async fn wait_for_in_flight(
        &self,
        environment: EnvironmentName,
    ) -> anyhow::Result<Vec<Waited>> {
        let mut all = Vec::new();
        for app in &self.config.environment(environment).apps {
            if let Some(waited) = self.wait_for_app(environment, app).await? {
                all.push(waited);
            }
        }
        Ok(all)
    }

    async fn wait_for_app(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
    ) -> anyhow::Result<Option<Waited>> {
        let Some(in_flight) = self
            .coolify
            .in_flight_deployment(&app.uuid)
            .await
            .with_context(|| format!("read {environment}'s deployments"))?
        else {
            return Ok(None);
        };
        self.output.step(format!(
            "{}: deployment {} is {}; waiting for it before deploying",
            self.name_of(environment, app),
            in_flight.deployment_uuid,
            in_flight.status
        ));
        let started = Instant::now();
        let waited = |finished: Option<&Deployment>| Waited {
            deployment: in_flight.deployment_uuid.to_string(),
            commit: finished
                .and_then(Deployment::resolved_commit)
                .or_else(|| in_flight.resolved_commit()),
            finished: finished.is_some(),
            waited: started.elapsed(),
        };
        match self
            .follow(environment, app, &in_flight.deployment_uuid)
            .await
        {
            Ok(finished) => Ok(Some(waited(Some(&finished)))),
            Err(coolify_client::Error::DeploymentFailed { .. })
            | Err(coolify_client::Error::DeploymentCancelled { .. }) => Ok(Some(waited(None))),
            Err(coolify_client::Error::DeadlineExceeded { after, .. }) => Err(Refused(format!(
                "{environment} deployment {} is still in flight after {}; wait for it or cancel it in Coolify, then run this again",
                in_flight.deployment_uuid,
                humantime::format_duration(after)
            ))
            .into()),
            Err(error) => Err(anyhow::Error::new(error)
                .context(format!("wait for {environment} deployment {}", in_flight.deployment_uuid))),
        }
    }

    /// A sentence on what each environment runs now, for the end of a failure message; it
    /// never fails (an unreadable environment is said to be unknown) and takes at most
    /// [`AFTERMATH_BUDGET`].
    pub(crate) async fn aftermath(&self, releases: &Releases) -> String {
        self.aftermath_with(releases, None).await
    }

    /// [`Pipeline::aftermath`], adding what an environment's health endpoint reported when
    /// that differs from what Coolify deployed.
    pub(crate) async fn aftermath_with(
        &self,
        releases: &Releases,
        health: Option<(EnvironmentName, String)>,
    ) -> String {
        let until = tokio::time::Instant::now() + AFTERMATH_BUDGET;
        let mut parts = Vec::new();
        for environment in EnvironmentName::ALL {
            let section = self.config.environment(environment);
            let reported = health
                .as_ref()
                .filter(|(name, _)| *name == environment)
                .map(|(_, reported)| reported);
            let mut texts = Vec::new();
            for app in &section.apps {
                let pinned =
                    match tokio::time::timeout_at(until, self.coolify.application(&app.uuid)).await
                    {
                        Ok(Ok(application)) => application.pinned_commit().map(str::to_owned),
                        _ => None,
                    };
                let live =
                    tokio::time::timeout_at(until, self.app_live(environment, app, releases)).await;
                let (runs, unknown) = match live {
                    Err(_) => (
                        format!(
                            "unknown (Coolify did not answer within {})",
                            seconds(millis(AFTERMATH_BUDGET))
                        ),
                        true,
                    ),
                    Ok(Err(_)) => ("unknown (Coolify unreachable)".to_owned(), true),
                    Ok(Ok(live)) => {
                        let mut text = live.describe();
                        if let Some(pinned) = pinned
                            && live.commit.as_ref().map(CommitSha::as_str) != Some(pinned.as_str())
                        {
                            text.push_str(&format!(" (app pinned to {})", short(&pinned)));
                        }
                        if let Some(in_flight) = live.in_flight {
                            text.push_str(&format!(
                                ", deployment {} still {}",
                                in_flight.deployment, in_flight.status
                            ));
                        }
                        (text, false)
                    }
                };
                texts.push((app, runs, unknown));
            }
            let text = match texts.as_slice() {
                [(_, runs, true)] => format!("{environment}: {runs}"),
                [(_, runs, false)] => match reported {
                    Some(reported) => format!(
                        "{environment}'s latest finished Coolify deployment is {runs}, but its health endpoint still reports {reported}"
                    ),
                    None => format!("{environment} runs {runs}"),
                },
                several => {
                    let mut text = format!(
                        "{environment}: {}",
                        several
                            .iter()
                            .map(|(app, runs, unknown)| if *unknown {
                                format!("{} {runs}", app.label)
                            } else {
                                format!("{} runs {runs}", app.label)
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    if let Some(reported) = reported {
                        text.push_str(&format!(" (a health endpoint still reports {reported})"));
                    }
                    text
                }
            };
            parts.push(text);
        }
        parts.join("; ")
    }
}

/// A deployment a roll-out started on one app.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    deployment: DeploymentUuid,
    origin: DeploymentOrigin,
    /// The image tag deployed, for an image app.
    image_tag: Option<ImageTag>,
    /// The image tag the app had before.
    previous_tag: Option<ImageTag>,
}

/// One app of a roll-out, checked before any write: its target, its config and, for an image
/// app, the tag to deploy.
struct Step<'a> {
    target: &'a Target,
    app: &'a AppConfig,
    image_tag: Option<ImageTag>,
}

/// What a roll-out found for the app at `index` of its environment, if anything.
fn of_app<T>(found: &[(usize, T)], index: usize) -> Option<&T> {
    found
        .iter()
        .find(|(app, _)| *app == index)
        .map(|(_, value)| value)
}

/// Coolify could not start an image app's new image (most often: the registry does not have
/// the tag); the app was set back to its previous tag.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Coolify could not start {image} on {environment}'s {label} (app {app}) (the registry may not have it{})", log_line.as_deref().map(|line| format!(": {line}")).unwrap_or_default())]
pub struct ImageNotStarted {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The app's uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// `name:tag`.
    pub image: String,
    /// The deployment log's line on it, when the token may read logs.
    pub log_line: Option<String>,
    /// The tag the app was set back to, or why that failed; `None` when it had none before.
    pub restored: Option<Result<String, String>>,
    /// Whether the previous release answered healthy just now; `None` when not checked.
    pub previous_answers: Option<bool>,
}

/// How many times a deploy reads the container status of an app without a health URL.
pub const CONTAINER_CHECKS: u32 = 4;

/// How far apart those reads are: together they watch the container for 15 seconds, long
/// enough for a process that crashes on start to be seen restarting or exited.
pub const CONTAINER_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// An app without a health URL whose container did not stay running after its deployment.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the container of {label} (app {app}) is {status} after its deployment finished")]
pub struct ContainerNotRunning {
    /// The app's uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// Coolify's container status.
    pub status: String,
}

/// Run futures concurrently on the current task and collect their outputs in order.
pub(crate) async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Whether a probe header's value is a credential, to keep out of every output.
fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth", "token", "key", "secret", "cookie", "password", "session",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// A probe that did not prove the commit; its evidence travels with the error, with the
/// rule that can stop a probe early to word such a stop.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .1.describe(&.0.verdict))]
pub struct ProbeFailed(pub Outcome, pub EarlyStop);

/// The failure threshold and the switch-over window a probe ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EarlyStop {
    /// Consecutive counted failures that end the probe (0: none).
    pub failure_threshold: u32,
    /// The window from the start of the probe in which failures do not count.
    pub switch_over: Duration,
}

impl EarlyStop {
    fn of(probe: &health_probe::ProbeConfig) -> Self {
        Self {
            failure_threshold: probe.failure_threshold.unwrap_or(0),
            switch_over: probe.switch_over.unwrap_or_default(),
        }
    }

    /// The verdict in words: an early stop says how many failures after which window.
    fn describe(&self, verdict: &health_probe::Verdict) -> String {
        match verdict {
            health_probe::Verdict::Unhealthy {
                reason,
                stopped_by: health_probe::Stop::FailureThreshold,
            } if self.switch_over.is_zero() => format!(
                "health check failed {} times in a row (last: {reason})",
                self.failure_threshold
            ),
            health_probe::Verdict::Unhealthy {
                reason,
                stopped_by: health_probe::Stop::FailureThreshold,
            } => format!(
                "health check failed {} times in a row after the {} switch-over (last: {reason})",
                self.failure_threshold,
                humantime::format_duration(self.switch_over)
            ),
            other => other.to_string(),
        }
    }
}

fn report_probe_event(output: &Output, environment: &str, event: &ProgressEvent) {
    match event {
        ProgressEvent::AttemptFinished {
            attempt,
            consecutive_passes,
            success_threshold,
        } => output.progress(format!(
            "{environment}: health {attempt} ({consecutive_passes}/{success_threshold} passes)"
        )),
        ProgressEvent::Waiting { .. } | ProgressEvent::Started { .. } => {
            output.detail(format!("{environment}: {event}"));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn join_all_runs_futures_together_and_keeps_their_order() {
        let started = tokio::time::Instant::now();
        let outputs = join_all([3u64, 1, 2].map(|seconds| async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            seconds
        }))
        .await;
        assert_eq!(outputs, [3, 1, 2]);
        // Together: as long as the slowest, not the sum.
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert!(
            join_all(Vec::<std::future::Ready<u8>>::new())
                .await
                .is_empty()
        );
    }

    #[test]
    fn an_environment_reads_as_one_release_only_when_every_app_runs_it() {
        let commit = |c: char| CommitSha::new(c.to_string().repeat(40)).unwrap();
        let app = |label: &str, commit: Option<CommitSha>, tags: &[&str]| AppLive {
            app: format!("{label}-uuid"),
            label: label.to_owned(),
            live: Live {
                commit,
                deployment: Some("d".to_owned()),
                tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
                ..Live::default()
            },
        };
        let same = EnvironmentLive {
            apps: vec![
                app("web", Some(commit('a')), &["v1.0.0"]),
                app("worker", Some(commit('a')), &["v1.0.0"]),
            ],
        };
        assert_eq!(same.commit(), Some(&commit('a')));
        assert_eq!(same.describe(), "v1.0.0 (aaaaaaa)");
        let mixed = EnvironmentLive {
            apps: vec![
                app("web", Some(commit('b')), &["v1.1.0"]),
                app("worker", Some(commit('a')), &["v1.0.0"]),
            ],
        };
        assert_eq!(mixed.commit(), None);
        assert_eq!(
            mixed.describe(),
            "web v1.1.0 (bbbbbbb), worker v1.0.0 (aaaaaaa)"
        );
        assert!(!mixed.is_empty());
        assert!(EnvironmentLive::default().is_empty());
    }
}
