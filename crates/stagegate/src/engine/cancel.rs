//! A rollout that stops with deployments of its own still queued or building cancels them and
//! puts their apps' pins (or image tags) back, so that it leaves nothing in flight that nobody
//! follows and no pin that nothing deployed.

use std::time::Duration;

use coolify_client::{ApplicationPatch, DeploymentStatus, Error as CoolifyError};

use super::Engine;
use super::outcome::AppState;
use super::rollout::{Progress, Started, Step};
use crate::config::EnvironmentName;

/// How long one cancel may take: a Coolify that stopped answering must not hold the end of a
/// failed run for a request timeout per deployment.
const CANCEL_BUDGET: Duration = Duration::from_secs(10);

/// What cancelling one deployment found.
enum Cancelling {
    /// Cancelled now, or it had failed or been cancelled already: the app runs what it ran
    /// before, and its pin goes back.
    Ended,
    /// It finished before the cancel: the app runs the new commit.
    Finished,
    /// It could not be cancelled, and may still run; why.
    Left(String),
}

impl Engine {
    /// Cancel the deployments of these targets (where Coolify allows), all at once, and put
    /// each cancelled app's pin back, recording what each app is left in.
    pub(super) async fn cancel_unfinished(
        &self,
        environment: EnvironmentName,
        steps: &[Step<'_>],
        started: &[Option<Started>],
        positions: &[usize],
        progress: &mut Progress,
    ) {
        let cancelled = super::join_all(positions.iter().filter_map(|&position| {
            let step = steps.get(position)?;
            let started = started.get(position)?.as_ref()?;
            Some(async move { (position, self.cancel_one(environment, step, started).await) })
        }))
        .await;
        for (position, state) in cancelled {
            progress.set_state(position, state);
        }
    }

    /// Cancel one app's deployment and put its pin back; the state it leaves the app in.
    async fn cancel_one(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
        started: &Started,
    ) -> AppState {
        let name = self.name_of(environment, step.app);
        let deployment = &started.deployment;
        self.journal.write(format!(
            "cancel {environment} deployment {deployment} (app {})",
            step.app.uuid
        ));
        let cancelling =
            match tokio::time::timeout(CANCEL_BUDGET, self.coolify.cancel_deployment(deployment))
                .await
            {
                Ok(Ok(_)) => Cancelling::Ended,
                Ok(Err(CoolifyError::NotCancellable {
                    status: DeploymentStatus::Finished,
                    ..
                })) => Cancelling::Finished,
                Ok(Err(CoolifyError::NotCancellable { .. })) => Cancelling::Ended,
                Ok(Err(error @ CoolifyError::CancelUnsupported { .. })) => {
                    Cancelling::Left(error.to_string())
                }
                Ok(Err(error)) => {
                    Cancelling::Left(crate::exit::message(&anyhow::Error::new(error)))
                }
                Err(_) => Cancelling::Left(format!(
                    "Coolify did not answer within {}",
                    humantime::format_duration(CANCEL_BUDGET)
                )),
            };
        match cancelling {
            Cancelling::Ended => match self.put_pin_back(environment, step, started).await {
                Ok(pin) => {
                    self.output
                        .step(format!("{name}: deployment {deployment} cancelled; {pin}"));
                    AppState::Cancelled
                }
                Err(error) => {
                    self.output.warn(format!(
                        "{name}: deployment {deployment} cancelled, but putting its pin back failed: {}",
                        crate::exit::message(&anyhow::Error::new(error))
                    ));
                    AppState::Written
                }
            },
            Cancelling::Finished => {
                self.output.step(format!(
                    "{name}: deployment {deployment} finished before it could be cancelled"
                ));
                AppState::Deployed
            }
            Cancelling::Left(why) => {
                self.output.warn(format!(
                    "{name}: deployment {deployment} could not be cancelled and may still run: {why}"
                ));
                AppState::Deploying
            }
        }
    }

    /// Put an app whose deployment was cancelled back on the pin (or image tag) it had before
    /// this run; what it is set to, in words.
    async fn put_pin_back(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
        started: &Started,
    ) -> Result<String, CoolifyError> {
        let uuid = &step.app.uuid;
        match (&started.image_tag, &started.previous_pin) {
            (Some(image_tag), _) => {
                let Some(previous) = &started.previous_tag else {
                    return Ok(format!(
                        "app {uuid} keeps image tag {image_tag}, as it had no tag before"
                    ));
                };
                if previous == image_tag {
                    return Ok(format!("app {uuid} is on image tag {previous}, as before"));
                }
                self.journal.write(format!(
                    "set {environment} (app {uuid}) back to image tag {previous}"
                ));
                let patch = ApplicationPatch::new().docker_registry_image_tag(previous);
                self.coolify.update_application(uuid, &patch).await?;
                Ok(format!("app {uuid} is set to image tag {previous} again"))
            }
            (None, Some(previous)) => {
                if previous.eq_ignore_ascii_case(step.target.commit.as_str()) {
                    return Ok(format!("app {uuid} was pinned to it before"));
                }
                self.journal.write(format!(
                    "pin {environment} (app {uuid}) back to {}",
                    crate::repo::short(previous)
                ));
                let patch = ApplicationPatch::new().git_commit_sha(previous);
                self.coolify.update_application(uuid, &patch).await?;
                Ok(format!(
                    "app {uuid} is pinned to {} again",
                    crate::repo::short(previous)
                ))
            }
            (None, None) => Ok(format!("app {uuid} keeps its pin")),
        }
    }
}
