//! Putting commits on an environment's apps, in phases: every check before the first write,
//! start each app's deployment, follow them all, prove each app serves its commit.

use std::time::Instant;

use coolify_client::{CommitSha, DeploymentOrigin, DeploymentUuid, ForceRebuild, ImageTag};
use health_probe::Outcome;
use serde::Serialize;
use tag_policy::ReleaseTag;

use super::outcome::{AppOutcome, AppState, Cause, CoolifyProblem, Phase, RolloutFailure, Stopped};
use super::record::Recording;
use super::{Engine, join_all, millis, seconds};
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

/// A deployment a roll-out started on one app.
#[derive(Debug, Clone)]
pub(super) struct Started {
    pub(super) deployment: DeploymentUuid,
    pub(super) origin: DeploymentOrigin,
    /// The image tag deployed, for an image app.
    pub(super) image_tag: Option<ImageTag>,
    /// The image tag the app had before.
    pub(super) previous_tag: Option<ImageTag>,
}

/// One app of a roll-out, checked before any write: its target, its config and, for an image
/// app, the tag to deploy.
pub(super) struct Step<'a> {
    pub(super) target: &'a Target,
    pub(super) app: &'a AppConfig,
    pub(super) image_tag: Option<ImageTag>,
}

/// What a roll-out found for the app at `index` of its environment, if anything.
fn of_app<T>(found: &[(usize, T)], index: usize) -> Option<&T> {
    found
        .iter()
        .find(|(app, _)| *app == index)
        .map(|(_, value)| value)
}

impl Engine {
    /// Pin each target's commit on its app, deploy them all, follow every deployment, probe
    /// every health URL and watch every app without one, until all prove their commit.
    ///
    /// Everything that can be checked is checked before the first write: the probe settings
    /// of every app and the token's deploy ability.
    pub(crate) async fn roll_out(
        &self,
        environment: EnvironmentName,
        targets: &[Target],
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
        let started = Instant::now();
        let mut deployments = Vec::with_capacity(steps.len());
        for (position, step) in steps.iter().enumerate() {
            match self.start_deployment(environment, step).await {
                Ok(deployment) => {
                    progress.set(
                        position,
                        AppState::Deploying,
                        Some(deployment.deployment.to_string()),
                    );
                    recording
                        .deployment_started(&step.app.uuid, &deployment.deployment)
                        .await;
                    deployments.push(deployment);
                }
                Err((phase, state, stopped)) => {
                    progress.set(position, state, None);
                    return Err(progress.failed(phase, stopped));
                }
            }
        }
        let triggered = Instant::now();
        self.follow_all(environment, &steps, &deployments, &mut progress)
            .await
            .map_err(|stopped| progress.failed(Phase::Follow, stopped))?;
        let deployed = Instant::now();
        for step in &steps {
            recording.deployment_finished(&step.app.uuid).await;
        }
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
        let outcomes =
            outcomes.map_err(|error| progress.failed(Phase::Probe, Stopped::input(None, error)))?;
        for (index, outcome) in &outcomes {
            if outcome.is_healthy() {
                progress.set_app(*index, AppState::Verified);
            }
        }
        if let Ok(containers) = &containers {
            for (index, _) in containers {
                progress.set_app(*index, AppState::Verified);
            }
        }
        if let Err(stopped) = self.check_outcomes(environment, targets, &outcomes) {
            progress.fail_app(stopped.app);
            return Err(progress.failed(Phase::Probe, stopped));
        }
        let done = Instant::now();
        let containers = match containers {
            Ok(containers) => containers,
            Err(stopped) => {
                progress.fail_app(stopped.app);
                return Err(progress.failed(Phase::Probe, stopped));
            }
        };
        let apps = steps
            .iter()
            .zip(&deployments)
            .map(|(step, deployment)| {
                let index = step.target.app_index;
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

    /// Put one app on its target: set the image tag of an image app, pin the commit of a git
    /// app, and deploy; the journal records the write before it is sent. A failure says in
    /// which phase it came and what it left the app in.
    async fn start_deployment(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
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
                    .deploy_image_tag(uuid, image_tag, &self.follow_options())
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
                    Err(failed) => return Err(self.with_queue(failed).await),
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
                    .deploy_commit(uuid, &step.target.commit, ForceRebuild::No)
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
                    Err(failed) => return Err(self.with_queue(failed).await),
                };
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
        progress: &mut Progress,
    ) -> Result<(), Stopped> {
        let followed =
            join_all(steps.iter().zip(deployments).map(|(step, deployment)| {
                self.follow(environment, step.app, &deployment.deployment)
            }))
            .await;
        for (position, result) in followed.iter().enumerate() {
            let state = if result.is_ok() {
                AppState::Deployed
            } else {
                AppState::Failed
            };
            progress.set_state(position, state);
        }
        for ((step, deployment), result) in steps.iter().zip(deployments).zip(followed) {
            let app = step.app;
            let index = step.target.app_index;
            let uuid = deployment.deployment.to_string();
            let finished = match result {
                Ok(finished) => finished,
                Err(error @ coolify_client::Error::DeploymentFailed { .. })
                    if deployment.image_tag.is_some() =>
                {
                    return Err(self
                        .image_not_started(environment, index, app, deployment, error)
                        .await);
                }
                Err(error) => {
                    let context =
                        format!("follow {environment} deployment {}", deployment.deployment);
                    return Err(match error {
                        coolify_client::Error::DeploymentFailed { .. } => Stopped {
                            app: Some(index),
                            cause: Box::new(Cause::DeploymentFailed { deployment: uuid }),
                            error: anyhow::Error::new(error).context(context),
                        },
                        coolify_client::Error::DeploymentCancelled { .. } => Stopped {
                            app: Some(index),
                            cause: Box::new(Cause::DeploymentCancelled { deployment: uuid }),
                            error: anyhow::Error::new(error).context(context),
                        },
                        error => Stopped::coolify(index, error, context),
                    });
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
                // Why it built another commit: re-pinned meanwhile, a Coolify that ignores
                // pins, or (when the app cannot be read) unexplained.
                let explanation = self.coolify.explain_other_commit(&app.uuid, sha).await;
                let problem = CoolifyProblem::of(&explanation);
                let error = anyhow::Error::new(explanation).context(context);
                progress.fail_app(Some(index));
                return Err(Stopped {
                    app: Some(index),
                    cause: Box::new(Cause::OtherCommit {
                        deployment: uuid,
                        built: built.to_string(),
                        problem,
                    }),
                    error,
                });
            }
        }
        Ok(())
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

/// What each app of a rollout went through so far.
struct Progress {
    environment: EnvironmentName,
    /// Each target's position in the environment's `apps`.
    indexes: Vec<usize>,
    /// Each target's app, in the targets' order.
    apps: Vec<AppOutcome>,
}

impl Progress {
    fn set(&mut self, position: usize, state: AppState, deployment: Option<String>) {
        if let Some(app) = self.apps.get_mut(position) {
            app.state = state;
            if deployment.is_some() {
                app.deployment = deployment;
            }
        }
    }

    fn set_state(&mut self, position: usize, state: AppState) {
        self.set(position, state, None);
    }

    /// The app at this position in the environment's `apps` failed.
    fn fail_app(&mut self, index: Option<usize>) {
        if let Some(index) = index {
            self.set_app(index, AppState::Failed);
        }
    }

    /// The state of the app at this position in the environment's `apps`.
    fn set_app(&mut self, index: usize, state: AppState) {
        if let Some(position) = self.position_of(index) {
            self.set_state(position, state);
        }
    }

    /// The position among the targets of the app at `index` in the environment's `apps`.
    fn position_of(&self, index: usize) -> Option<usize> {
        self.indexes.iter().position(|&target| target == index)
    }

    fn failed(&self, phase: Phase, stopped: Stopped) -> RolloutFailure {
        RolloutFailure {
            environment: self.environment,
            phase,
            app: stopped
                .app
                .and_then(|index| self.apps.get(self.position_of(index)?))
                .map(|app| app.app.clone()),
            cause: *stopped.cause,
            message: crate::exit::message(&stopped.error),
            apps: self.apps.clone(),
        }
    }
}
