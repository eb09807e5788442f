//! Putting commits on an environment's apps, in phases: every check before the first write
//! (`checks.rs`), then waves of deployments that fit the server, each app proven to serve its
//! commit as soon as its deployment finished (`waves.rs`), and the typed outcome.

use coolify_client::{
    Application, CommitSha, DeploymentOrigin, DeploymentUuid, ForceRebuild, ImageTag,
};
use health_probe::Outcome;
use serde::Serialize;
use tag_policy::ReleaseTag;

use super::outcome::{AppOutcome, AppState, Phase, RolloutFailure, Stopped};
use super::record::Recording;
use super::{Engine, seconds};
use crate::config::{AppConfig, Config, EnvironmentName};
use crate::repo::short;

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
    pub(crate) app_index: usize,
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
            .map(|app_index| Self {
                app_index,
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
    /// From the end of the checks until the first deployment was started (pin and deploy).
    pub trigger_ms: u64,
    /// From then until Coolify reported the last deployment's terminal status.
    pub deployment_ms: u64,
    /// From then until the last app proved its commit (each app is verified as soon as its
    /// own deployment finished).
    pub probe_ms: u64,
    /// From the end of the checks until the last app proved its commit.
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

/// A deployment a roll-out started on one app.
#[derive(Debug, Clone)]
pub(super) struct Started {
    pub(super) deployment: DeploymentUuid,
    pub(super) origin: DeploymentOrigin,
    /// The image tag deployed, for an image app.
    pub(super) image_tag: Option<ImageTag>,
    /// The image tag the app had before.
    pub(super) previous_tag: Option<ImageTag>,
    /// The commit a git app was pinned to before (`HEAD` when none): what a cancelled
    /// deployment puts back.
    pub(super) previous_pin: Option<String>,
}

/// One app of a roll-out, checked before any write: its target, its config, for an image app
/// the tag to deploy, and the application as the checks read it.
pub(super) struct Step<'a> {
    pub(super) target: &'a Target,
    pub(super) app: &'a AppConfig,
    pub(super) image_tag: Option<ImageTag>,
    /// The application read by the checks: the first deploys pin against it instead of
    /// reading it again.
    pub(super) application: Application,
    /// When it was read.
    pub(super) read_at: tokio::time::Instant,
}

/// What a rollout does when one of its apps fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OnFailure {
    /// Start no other app, but follow and verify the deployments already started: staging,
    /// production without `--auto-rollback`, and a rollback itself.
    FinishStarted,
    /// Stop the whole environment at once: start no other app, cancel this run's deployments
    /// still queued or building (their pins put back) and stop verifying the others, so that
    /// `--auto-rollback` puts every changed app back within the time one app takes.
    StopAll,
    /// Going back after a failed deploy: as [`OnFailure::FinishStarted`], and a queue full of
    /// others' deployments is waited out until `deploy.timeout`, since an environment left
    /// half on the failed release is worse than a late rollback.
    Restore,
}

impl Engine {
    /// Put each target's commit on its app, in waves that fit the server (at most the
    /// environment's `max_parallel` deployments of this run queued or building at once, all
    /// followed with one poll), and prove each app serves its commit as soon as its deployment
    /// finished: its health probe, or the watch of its container.
    ///
    /// Everything that can be checked is checked before the first write: the probe settings
    /// of every app, each app's kind in Coolify and the token's deploy ability. After a
    /// failure no other app is started; what happens to the ones started is `on_failure`'s.
    pub(crate) async fn roll_out(
        &self,
        environment: EnvironmentName,
        targets: &[Target],
        on_failure: OnFailure,
        recording: &mut Recording,
    ) -> Result<Rollout, RolloutFailure> {
        let section = self.config.environment(environment);
        let mut progress = Progress {
            environment,
            indexes: targets.iter().map(|target| target.app_index).collect(),
            apps: targets
                .iter()
                .map(|target| AppOutcome {
                    app: section
                        .apps
                        .get(target.app_index)
                        .map(|app| app.uuid.to_string())
                        .unwrap_or_default(),
                    label: section
                        .apps
                        .get(target.app_index)
                        .map(|app| app.label.clone())
                        .unwrap_or_default(),
                    state: AppState::Untouched,
                    deployment: None,
                })
                .collect(),
        };
        let Some(first) = targets.first() else {
            return Err(progress.failed(
                Phase::Checks,
                Stopped::input(None, anyhow::anyhow!("nothing to deploy to {environment}")),
            ));
        };
        let steps = self
            .check_before_writes(environment, targets)
            .await
            .map_err(|stopped| progress.failed(Phase::Checks, stopped))?;
        let done = self
            .waves(environment, &steps, on_failure, &mut progress, recording)
            .await
            .map_err(|(phase, stopped)| progress.failed(phase, stopped))?;
        let apps: Vec<AppRollout> = steps
            .iter()
            .zip(&done.apps)
            .map(|(step, (deployment, evidence))| AppRollout {
                app: step.app.uuid.to_string(),
                label: step.app.label.clone(),
                commit: step.target.commit.to_string(),
                deployment: deployment.deployment.to_string(),
                joined_existing: deployment.origin == DeploymentOrigin::AlreadyQueued,
                probe: evidence.probe.clone(),
                container: evidence.container.clone(),
                image_tag: deployment.image_tag.as_ref().map(ToString::to_string),
            })
            .collect();
        Ok(Rollout {
            environment,
            commit: first.commit.to_string(),
            tag: first.tag.as_ref().map(|tag| tag.name().to_owned()),
            deployment: apps
                .first()
                .map(|app| app.deployment.clone())
                .unwrap_or_default(),
            joined_existing: done
                .apps
                .iter()
                .all(|(deployment, _)| deployment.origin == DeploymentOrigin::AlreadyQueued),
            timings: done.timings,
            probe: apps.iter().find_map(|app| app.probe.clone()),
            apps,
        })
    }

    /// Put one app on its target: set the image tag of an image app, pin the commit of a git
    /// app, and deploy, against `application` as just read; the journal records the write
    /// before it is sent. A failure says in which phase it came and what it left the app in.
    pub(super) async fn start_deployment(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
        application: &Application,
    ) -> Result<Started, (Phase, AppState, Stopped)> {
        let commit = step.target.commit.as_str();
        let uuid = &step.app.uuid;
        let index = step.target.app_index;
        let refused = |error: coolify_client::Error, context: String| {
            let phase = phase_of_start(&error);
            let state = if matches!(error, coolify_client::Error::PinRestored { .. }) {
                AppState::Restored
            } else {
                AppState::Written
            };
            (phase, state, Stopped::coolify(index, error, context))
        };
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
                self.journal
                    .deploy_request(Some((environment, uuid.to_string())));
                let deployment = self
                    .coolify
                    .deploy_image_tag_to(application, image_tag, &self.follow_options())
                    .await
                    .map_err(|error| {
                        refused(
                            error,
                            format!("deploy image tag {image_tag} to {environment} (app {uuid})"),
                        )
                    });
                self.journal.deploy_request(None);
                let deployment = match deployment {
                    Ok(deployment) => deployment,
                    Err(failed) => return Err(failed),
                };
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
                    previous_pin: None,
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
                self.journal
                    .deploy_request(Some((environment, uuid.to_string())));
                let deployment = self
                    .coolify
                    .deploy_commit_to(application, &step.target.commit, ForceRebuild::No)
                    .await
                    .map_err(|error| {
                        refused(
                            error,
                            format!("deploy {} to {environment} (app {uuid})", short(commit)),
                        )
                    });
                self.journal.deploy_request(None);
                let deployment = match deployment {
                    Ok(deployment) => deployment,
                    Err(failed) => return Err(failed),
                };
                Started {
                    deployment: deployment.deployment,
                    origin: deployment.origin,
                    image_tag: None,
                    previous_tag: None,
                    previous_pin: Some(
                        application
                            .git_commit_sha
                            .clone()
                            .filter(|pin| !pin.trim().is_empty())
                            .unwrap_or_else(|| "HEAD".to_owned()),
                    ),
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
}

/// In which phase a failure of `deploy_commit` or `deploy_image_tag` came: after the pin (or
/// tag) was written when the deploy itself was refused, else while pinning.
fn phase_of_start(error: &coolify_client::Error) -> Phase {
    match error {
        coolify_client::Error::PinRestored { .. }
        | coolify_client::Error::PinLeft { .. }
        | coolify_client::Error::PinChanged { .. }
        | coolify_client::Error::DeployRejected { .. }
        | coolify_client::Error::QueueFull { .. }
        | coolify_client::Error::ImageDeployBlocked { .. } => Phase::DeployRequest,
        _ => Phase::Pin,
    }
}

/// Up to how many apps a failure's message leaves to the description of what each app runs;
/// with more, it counts them per state ([`RolloutFailure::states`]).
const NAMED_APPS: usize = 2;

/// What each app of a rollout went through so far.
pub(super) struct Progress {
    environment: EnvironmentName,
    /// Each target's position in the environment's `apps`.
    indexes: Vec<usize>,
    /// Each target's app, in the targets' order.
    apps: Vec<AppOutcome>,
}

impl Progress {
    pub(super) fn set(&mut self, position: usize, state: AppState, deployment: Option<String>) {
        if let Some(app) = self.apps.get_mut(position) {
            app.state = state;
            if deployment.is_some() {
                app.deployment = deployment;
            }
        }
    }

    pub(super) fn set_state(&mut self, position: usize, state: AppState) {
        self.set(position, state, None);
    }

    /// The name in messages of the target at `position`.
    pub(super) fn label(&self, position: usize) -> String {
        let label = self
            .apps
            .get(position)
            .map(|app| app.label.as_str())
            .unwrap_or_default();
        if self.apps.len() > 1 {
            format!("{} {label}", self.environment)
        } else {
            self.environment.to_string()
        }
    }

    /// The position among the targets of the app at `index` in the environment's `apps`.
    pub(super) fn position_of(&self, index: usize) -> Option<usize> {
        self.indexes.iter().position(|&target| target == index)
    }

    /// The rollout's failure: the phase, the cause, and each app's state; with more apps than
    /// a message names one by one, the message ends with them counted per state.
    pub(super) fn failed(&self, phase: Phase, stopped: Stopped) -> RolloutFailure {
        let mut failure = RolloutFailure {
            environment: self.environment,
            phase,
            app: stopped
                .app
                .and_then(|index| self.apps.get(self.position_of(index)?))
                .map(|app| app.app.clone()),
            cause: *stopped.cause,
            message: crate::exit::message(&stopped.error),
            apps: self.apps.clone(),
        };
        if self.apps.len() > NAMED_APPS && phase != Phase::Checks {
            failure.message.push_str(&format!(
                "; {}'s {} apps: {}",
                self.environment,
                self.apps.len(),
                failure.states()
            ));
        }
        failure
    }
}
