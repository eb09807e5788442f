//! Deploying an environment's apps in waves that fit the server, for a constant cost to Coolify
//! whatever the number of apps.
//!
//! At most the environment's `max_parallel` deployments of this run are queued or building at
//! once; when one ends, the next app starts. Every deployment is followed by one
//! [`DeploymentWatch`](coolify_client::DeploymentWatch): one `GET /deployments` per poll for all
//! of them, whatever their number. Each app is verified (its health probe, or the watch of its
//! container) as soon as its own deployment finished, while the others go on. Starting an app,
//! following and verifying run together on the current task: an app waiting out a full queue
//! holds nothing else up.
//!
//! A deploy that finds Coolify's queue full (still full after the client waited out its
//! `Retry-After`) while this run has deployments in flight waits for one of them to end and
//! tries again: the run's own deployments then make the room. With none in flight the queue
//! stays full of others' deployments, and that is the failure; so it is at once for
//! [`OnFailure::StopAll`], whose cancelled deployments free their places in the queue for the
//! rollback that follows. That rollback ([`OnFailure::Restore`]) waits out a queue full of
//! others' deployments until `deploy.timeout`.
//!
//! After a failure no other app starts. With [`OnFailure::StopAll`] the run stops at once: the
//! verifications end, and every deployment of this run still queued or building is cancelled
//! and its app's pin put back ([`Engine::cancel_unfinished`]). With
//! [`OnFailure::FinishStarted`] the deployments started are followed and verified to their end.
//! Either way, no deployment of this run is left in flight unfollowed.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use coolify_client::{
    Deployment, DeploymentUuid, Error as CoolifyError, FollowEvent, WatchOptions, WatchUpdate,
};
use health_probe::Outcome;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::outcome::{AppState, Cause, CoolifyProblem, Phase, Stopped};
use super::record::Recording;
use super::rollout::{OnFailure, Progress, Started, Step, Timings};
use super::unordered::Unordered;
use super::{Engine, millis, seconds};
use crate::config::EnvironmentName;

/// How long the application the checks read stays fresh enough to deploy against: the first
/// wave's deploys use it, later apps are read again just before their deploy.
const FRESH_READ: Duration = Duration::from_secs(10);

/// What a successful run of waves established, per target in order.
pub(super) struct Done {
    /// Each app's deployment and the evidence that it serves its commit.
    pub(super) apps: Vec<(Started, Evidence)>,
    pub(super) timings: Timings,
}

/// What proves an app serves its commit.
#[derive(Debug, Clone, Default)]
pub(super) struct Evidence {
    /// Its health probe's outcome, for an app with a health URL.
    pub(super) probe: Option<Outcome>,
    /// Its container status, watched after the deployment, for an app without one.
    pub(super) container: Option<String>,
}

/// What starting one app gave: its deployment, or the phase, state and cause of the refusal.
type Triggered = Result<Started, (Phase, AppState, Stopped)>;

/// What one app's verification gave: the evidence, `None` when the run stopped it first.
type Verified = Result<Option<Evidence>, Stopped>;

/// The start of one app, in flight.
type Trigger<'a> = Pin<Box<dyn Future<Output = (usize, Triggered)> + Send + 'a>>;

/// The verification of one app, in flight.
type Verification<'a> = Pin<Box<dyn Future<Output = (usize, Verified)> + Send + 'a>>;

/// Something that happened while the waves ran.
enum Event {
    Triggered(usize, Triggered),
    Watched(Option<Result<WatchUpdate, CoolifyError>>),
    Verified(usize, Verified),
}

/// The state of a run of waves.
/// One of the run's deployments ended, as the watch said.
struct Ended {
    /// Its target's position in the run.
    position: usize,
    deployment: DeploymentUuid,
    /// Finished, or why not.
    outcome: Result<Deployment, CoolifyError>,
}

struct Run {
    /// Targets not started yet, in order.
    pending: VecDeque<usize>,
    /// Each target's deployment, once started.
    started: Vec<Option<Started>>,
    /// Each target's evidence, once verified.
    evidence: Vec<Option<Evidence>>,
    /// The deployments followed, with their target and when they were started.
    following: Vec<(DeploymentUuid, usize, Instant)>,
    /// Targets whose deployment may still run although nobody follows it (its deadline passed).
    unfollowed: Vec<usize>,
    /// A deploy found the queue full: start the next app only once a deployment ended.
    waiting_for_room: bool,
    /// The first failure, with its phase.
    failure: Option<(Phase, Stopped)>,
    /// Cancels the verifications when the whole environment stops.
    stop: CancellationToken,
    on_failure: OnFailure,
    /// The watch can no longer be polled.
    watch_over: bool,
    first_started: Option<Instant>,
    last_ended: Option<Instant>,
    /// Until when [`OnFailure::Restore`] tries again a deploy the queue refused.
    restore_until: Instant,
}

impl Run {
    /// Keep the first failure; with [`OnFailure::StopAll`] it stops the environment.
    fn fail(&mut self, phase: Phase, stopped: Stopped) {
        if self.failure.is_none() {
            self.failure = Some((phase, stopped));
            if self.on_failure == OnFailure::StopAll {
                self.stop.cancel();
            }
        }
    }

    fn stopping_all(&self) -> bool {
        self.failure.is_some() && self.on_failure == OnFailure::StopAll
    }
}

impl Engine {
    /// How deployments are followed: `deploy.timeout` for each, from when it was started; one
    /// poll for all of them, every 500 ms at first, slowing to every 2 s for a long build (a
    /// finished deployment is seen within 2 s, for 30 requests a minute at most).
    pub(super) fn watch_options(&self) -> WatchOptions {
        WatchOptions::with_deadline(self.config.deploy.timeout)
    }

    /// Deploy every step's app in waves of at most `max_parallel`, follow them with one poll
    /// and verify each as soon as its deployment finished; see the module docs.
    pub(super) async fn waves<'a>(
        &'a self,
        environment: EnvironmentName,
        steps: &'a [Step<'a>],
        on_failure: OnFailure,
        progress: &mut Progress,
        recording: &mut Recording,
    ) -> Result<Done, (Phase, Stopped)> {
        let max_parallel = self.config.environment(environment).max_parallel.max(1);
        let began = Instant::now();
        let mut run = Run {
            pending: (0..steps.len()).collect(),
            started: vec![None; steps.len()],
            evidence: vec![None; steps.len()],
            following: Vec::new(),
            unfollowed: Vec::new(),
            waiting_for_room: false,
            failure: None,
            stop: CancellationToken::new(),
            on_failure,
            watch_over: false,
            first_started: None,
            last_ended: None,
            restore_until: began + self.config.deploy.timeout,
        };
        let mut watch = self.coolify.watch(self.watch_options());
        let mut triggering: Option<Trigger<'a>> = None;
        let mut verifying: Unordered<'a, (usize, Verified)> = Unordered::new();
        loop {
            // Waiting for room is waiting for one of the run's deployments to end.
            run.waiting_for_room &= !run.following.is_empty();
            if run.failure.is_none()
                && !run.waiting_for_room
                && triggering.is_none()
                && run.following.len() < max_parallel
                && let Some(position) = run.pending.pop_front()
                && let Some(step) = steps.get(position)
            {
                triggering = Some(Box::pin(async move {
                    (position, self.trigger(environment, step).await)
                }));
            }
            // The run's own list, not the watch's: the watch forgets a deployment as it ends,
            // before the update that says how is taken.
            let follow = !run.following.is_empty() && !run.watch_over && !run.stopping_all();
            if triggering.is_none() && !follow && verifying.is_empty() {
                break;
            }
            let event = tokio::select! {
                biased;
                (position, verified) = verifying.next(), if !verifying.is_empty() => {
                    Event::Verified(position, verified)
                }
                (position, triggered) = started(&mut triggering), if triggering.is_some() => {
                    Event::Triggered(position, triggered)
                }
                update = watch.next(), if follow => Event::Watched(update),
            };
            match event {
                Event::Triggered(position, triggered) => {
                    triggering = None;
                    if let (Ok(started), Some(step)) = (&triggered, steps.get(position)) {
                        recording
                            .deployment_started(&step.app.uuid, &started.deployment)
                            .await;
                    }
                    self.triggered(&mut run, &mut watch, progress, position, triggered)
                        .await;
                }
                Event::Watched(update) => {
                    let ended = self.watched(environment, steps, &mut run, progress, update);
                    if let Some(Ended {
                        position,
                        outcome: Ok(_),
                        ..
                    }) = &ended
                        && let Some(step) = steps.get(*position)
                    {
                        recording.deployment_finished(&step.app.uuid).await;
                    }
                    if let Some(ended) = ended
                        && let Some(verification) =
                            self.ended(environment, steps, &mut run, progress, ended)
                    {
                        verifying.push(verification);
                    }
                }
                Event::Verified(position, verified) => match verified {
                    Ok(Some(evidence)) => {
                        progress.set_state(position, AppState::Verified);
                        run.evidence[position] = Some(evidence);
                    }
                    // Stopped by the run: the deployment finished, the app is not verified.
                    Ok(None) => {}
                    Err(stopped) => {
                        progress.set_state(position, AppState::Failed);
                        // What the deployment itself did wrong is the follow's; the rest is
                        // the proof's.
                        let phase = match *stopped.cause {
                            Cause::ImageNotStarted { .. } | Cause::OtherCommit { .. } => {
                                Phase::Follow
                            }
                            _ => Phase::Probe,
                        };
                        run.fail(phase, stopped);
                    }
                },
            }
        }
        let verified = Instant::now();
        if let Some((phase, stopped)) = run.failure.take() {
            // Nobody follows these any more: cancel them and put their pins back.
            let mut unfinished: Vec<usize> = run
                .following
                .iter()
                .map(|(_, position, _)| *position)
                .collect();
            unfinished.extend(run.unfollowed.iter().copied());
            if !unfinished.is_empty() {
                self.cancel_unfinished(environment, steps, &run.started, &unfinished, progress)
                    .await;
            }
            return Err((phase, stopped));
        }
        let first_started = run.first_started.unwrap_or(began);
        let last_ended = run.last_ended.unwrap_or(first_started);
        let apps = run
            .started
            .into_iter()
            .zip(run.evidence)
            .filter_map(|(started, evidence)| Some((started?, evidence.unwrap_or_default())))
            .collect();
        Ok(Done {
            apps,
            timings: Timings {
                trigger_ms: millis(first_started.duration_since(began)),
                deployment_ms: millis(last_ended.duration_since(first_started)),
                probe_ms: millis(verified.duration_since(last_ended)),
                total_ms: millis(verified.duration_since(began)),
            },
        })
    }

    /// Start one app: against the application the checks read when that is recent, else read
    /// it again first (its pin is what a refused or cancelled deploy puts back).
    async fn trigger(&self, environment: EnvironmentName, step: &Step<'_>) -> Triggered {
        if step.read_at.elapsed() <= FRESH_READ {
            return self
                .start_deployment(environment, step, &step.application)
                .await;
        }
        let uuid = &step.app.uuid;
        let application = self.coolify.application(uuid).await.map_err(|error| {
            (
                Phase::Pin,
                AppState::Untouched,
                Stopped::coolify(
                    step.target.app_index,
                    error,
                    format!("read {environment}'s app {uuid}"),
                ),
            )
        })?;
        self.start_deployment(environment, step, &application).await
    }

    /// An app's deploy came back: follow its deployment, or take the refusal. A full queue
    /// while this run has deployments in flight puts the app back first in line until one of
    /// them ended.
    async fn triggered(
        &self,
        run: &mut Run,
        watch: &mut coolify_client::DeploymentWatch,
        progress: &mut Progress,
        position: usize,
        triggered: Triggered,
    ) {
        match triggered {
            Ok(started) => {
                let now = Instant::now();
                progress.set(
                    position,
                    AppState::Deploying,
                    Some(started.deployment.to_string()),
                );
                run.first_started.get_or_insert(now);
                watch.add(started.deployment.clone());
                run.following
                    .push((started.deployment.clone(), position, now));
                if let Some(slot) = run.started.get_mut(position) {
                    *slot = Some(started);
                }
            }
            Err((_, state, stopped))
                if queue_is_full(&stopped.cause)
                    && !run.following.is_empty()
                    && run.failure.is_none()
                    && run.on_failure != OnFailure::StopAll =>
            {
                progress.set_state(position, state);
                self.output.step(format!(
                    "{}: Coolify's deployment queue is full; deploying it once one of this run's {} deployment{} in flight ended",
                    progress.label(position),
                    run.following.len(),
                    if run.following.len() == 1 { "" } else { "s" }
                ));
                run.pending.push_front(position);
                run.waiting_for_room = true;
            }
            Err((_, state, stopped))
                if queue_is_full(&stopped.cause)
                    && run.failure.is_none()
                    && run.on_failure == OnFailure::Restore
                    && Instant::now() < run.restore_until =>
            {
                // Nothing of this run's to wait for: try again, after the client's own wait
                // for the queue, until the deadline.
                progress.set_state(position, state);
                self.output.step(format!(
                    "{}: Coolify's deployment queue is still full of others' deployments; trying again until {} have passed",
                    progress.label(position),
                    humantime::format_duration(self.config.deploy.timeout)
                ));
                run.pending.push_front(position);
            }
            Err((phase, state, stopped)) => {
                progress.set_state(position, state);
                let stopped = if queue_is_full(&stopped.cause) {
                    self.with_queue(stopped).await
                } else {
                    stopped
                };
                run.fail(phase, stopped);
            }
        }
    }

    /// What the watch saw: a status line, or a deployment that ended (returned with its
    /// target); a watch that failed fails the run.
    fn watched(
        &self,
        environment: EnvironmentName,
        steps: &[Step<'_>],
        run: &mut Run,
        progress: &mut Progress,
        update: Option<Result<WatchUpdate, CoolifyError>>,
    ) -> Option<Ended> {
        let name = |position: usize| {
            steps
                .get(position)
                .map(|step| self.name_of(environment, step.app))
                .unwrap_or_default()
        };
        let position_of = |run: &Run, deployment: &DeploymentUuid| {
            run.following
                .iter()
                .find(|(followed, _, _)| followed == deployment)
                .map(|(_, position, started)| (*position, *started))
        };
        match update {
            Some(Ok(WatchUpdate::Event { deployment, event })) => {
                let (position, started) = position_of(run, &deployment)?;
                match event {
                    FollowEvent::Status { status, .. } => self.output.progress(format!(
                        "{}: deployment {deployment} {status} ({})",
                        name(position),
                        seconds(millis(started.elapsed()))
                    )),
                    FollowEvent::Commit { commit } => self.output.detail(format!(
                        "{}: deployment {deployment} builds {}",
                        name(position),
                        commit.short()
                    )),
                    _ => {}
                }
                None
            }
            Some(Ok(WatchUpdate::Ended {
                deployment,
                outcome,
            })) => {
                let (position, started) = position_of(run, &deployment)?;
                run.following
                    .retain(|(followed, _, _)| *followed != deployment);
                run.waiting_for_room = false;
                run.last_ended = Some(Instant::now());
                if outcome.is_ok() {
                    self.output.step(format!(
                        "{}: deployment {deployment} finished in {}",
                        name(position),
                        seconds(millis(started.elapsed()))
                    ));
                }
                Some(Ended {
                    position,
                    deployment,
                    outcome,
                })
            }
            Some(Ok(_)) => None,
            Some(Err(error)) => {
                run.watch_over = true;
                let first = run.following.first().map(|(_, position, _)| *position);
                let index = first
                    .and_then(|position| steps.get(position))
                    .map_or(0, |step| step.target.app_index);
                if let Some(position) = first {
                    progress.set_state(position, AppState::Deploying);
                }
                run.fail(
                    Phase::Follow,
                    Stopped::coolify(index, error, format!("follow {environment}'s deployments")),
                );
                None
            }
            None => {
                run.watch_over = true;
                None
            }
        }
    }

    /// A deployment ended: verify its app when it finished, else fail with why. The
    /// verification to run, if any.
    fn ended<'a>(
        &'a self,
        environment: EnvironmentName,
        steps: &'a [Step<'a>],
        run: &mut Run,
        progress: &mut Progress,
        ended: Ended,
    ) -> Option<Verification<'a>> {
        let Ended {
            position,
            deployment,
            outcome,
        } = ended;
        let step = steps.get(position)?;
        let started = run.started.get(position).cloned().flatten()?;
        let index = step.target.app_index;
        let uuid = deployment.to_string();
        let context = format!("follow {environment} deployment {deployment}");
        let stop = run.stop.clone();
        match outcome {
            Ok(finished) => {
                progress.set_state(position, AppState::Deployed);
                if run.stopping_all() {
                    return None;
                }
                Some(Box::pin(async move {
                    let verified = self
                        .verify(environment, step, &started, finished, &stop)
                        .await;
                    (position, verified)
                }))
            }
            Err(error @ CoolifyError::DeploymentFailed { .. }) if started.image_tag.is_some() => {
                // Coolify could not start the new image: say what it logged and set the
                // previous tag back, while the others go on.
                progress.set_state(position, AppState::Failed);
                Some(Box::pin(async move {
                    let stopped = self
                        .image_not_started(environment, index, step.app, &started, error)
                        .await;
                    (position, Err(stopped))
                }))
            }
            Err(error) => {
                let (state, cause) = match &error {
                    CoolifyError::DeploymentFailed { .. } => (
                        AppState::Failed,
                        Some(Cause::DeploymentFailed { deployment: uuid }),
                    ),
                    CoolifyError::DeploymentCancelled { .. } => (
                        AppState::Failed,
                        Some(Cause::DeploymentCancelled { deployment: uuid }),
                    ),
                    // Its deadline passed (or Coolify stopped answering): it may still run.
                    _ => {
                        run.unfollowed.push(position);
                        (AppState::Deploying, None)
                    }
                };
                progress.set_state(position, state);
                let stopped = match cause {
                    Some(cause) => Stopped {
                        app: Some(index),
                        cause: Box::new(cause),
                        error: anyhow::Error::new(error).context(context),
                    },
                    None => Stopped::coolify(index, error, context),
                };
                run.fail(Phase::Follow, stopped);
                None
            }
        }
    }
}

/// The start in flight, when there is one (its `select!` branch is off otherwise).
async fn started(triggering: &mut Option<Trigger<'_>>) -> (usize, Triggered) {
    match triggering.as_mut() {
        Some(trigger) => trigger.await,
        None => std::future::pending().await,
    }
}

/// Whether a refused deploy found Coolify's deployment queue full.
fn queue_is_full(cause: &Cause) -> bool {
    matches!(
        cause,
        Cause::Coolify {
            problem: CoolifyProblem::QueueFull,
            ..
        }
    )
}
