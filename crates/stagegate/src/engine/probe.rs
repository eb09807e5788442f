//! Proving that an app serves its commit: the probe of each app with a health URL, and the
//! watch of the container of each app without one.

use std::time::Duration;

use coolify_client::Deployment;
use health_probe::{Outcome, ProbeSpec, ProgressEvent, Variables};
use serde::Serialize;
use tag_policy::ReleaseTag;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::outcome::{Cause, CoolifyProblem, Stopped};
use super::rollout::{Started, Step, Target};
use super::waves::Evidence;
use crate::config::{AppConfig, EnvironmentName};
use crate::output::Output;
use crate::repo::short;

/// How many times a deploy reads the container status of an app without a health URL.
pub const CONTAINER_CHECKS: u32 = 4;

/// How far apart those reads are: together they watch the container for 15 seconds, long
/// enough for a process that crashes on start to be seen restarting or exited.
pub const CONTAINER_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// A probe that did not prove the commit, in words: the verdict, with the rule that can stop
/// a probe early to word such a stop.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .1.describe(&.0.verdict))]
struct ProbeFailed(Outcome, EarlyStop);

/// The failure threshold and the switch-over window a probe ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EarlyStop {
    /// Consecutive counted failures that end the probe (0: none).
    pub failure_threshold: u32,
    /// The window from the start of the probe in which failures do not count.
    #[serde(rename = "switch_over_ms", serialize_with = "super::serialize_millis")]
    pub switch_over: Duration,
}

impl EarlyStop {
    pub(crate) fn of(probe: &health_probe::ProbeConfig) -> Self {
        Self {
            failure_threshold: probe.failure_threshold.unwrap_or(0),
            switch_over: probe.switch_over.unwrap_or_default(),
        }
    }

    /// The verdict in words: an early stop says how many failures after which window.
    pub(crate) fn describe(&self, verdict: &health_probe::Verdict) -> String {
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

/// An app without a health URL whose container did not stay running after its deployment,
/// in words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the container of {label} (app {app}) is {status} after its deployment finished")]
struct ContainerNotRunning {
    app: String,
    label: String,
    status: String,
}

impl Engine {
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
            let Some(app) = section.apps.get(target.app_index) else {
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
            probed.push(target.app_index);
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

    /// Prove one app serves its commit once its deployment finished: a git app's deployment
    /// built the commit it was pinned to (an image app's says `HEAD`: its probe proves the
    /// commit), then its health probe, or the watch of its container for an app without a
    /// health URL. `None` when `stop` ended it first.
    pub(super) async fn verify(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
        started: &Started,
        finished: Deployment,
        stop: &CancellationToken,
    ) -> Result<Option<Evidence>, Stopped> {
        let app = step.app;
        let index = step.target.app_index;
        let sha = &step.target.commit;
        if app.image.is_none()
            && let Some(built) = finished.resolved_commit()
            && !finished.is_of_commit(sha)
        {
            let context = format!(
                "{environment} deployment {} built {} instead of {}",
                started.deployment,
                built.short(),
                sha.short()
            );
            // Why it built another commit: re-pinned meanwhile, a Coolify that ignores
            // pins, or (when the app cannot be read) unexplained.
            let explanation = self.coolify.explain_other_commit(&app.uuid, sha).await;
            let problem = CoolifyProblem::of(&explanation);
            return Err(Stopped {
                app: Some(index),
                cause: Box::new(Cause::OtherCommit {
                    deployment: started.deployment.to_string(),
                    built: built.to_string(),
                    problem,
                }),
                error: anyhow::Error::new(explanation).context(context),
            });
        }
        let spec = self
            .probe_spec(environment, app, sha.as_str(), step.target.tag.as_ref())
            .map_err(|error| Stopped::input(Some(index), error))?;
        match spec {
            Some(spec) => {
                Ok(self
                    .probe_app(environment, step, &spec, stop)
                    .await?
                    .map(|outcome| Evidence {
                        probe: Some(outcome),
                        container: None,
                    }))
            }
            None => Ok(self
                .watch_container(environment, index, app, stop)
                .await?
                .map(|status| Evidence {
                    probe: None,
                    container: Some(status),
                })),
        }
    }

    /// Probe one app's health URL until it proves its commit; `None` when `stop` ended it.
    async fn probe_app(
        &self,
        environment: EnvironmentName,
        step: &Step<'_>,
        spec: &ProbeSpec,
        stop: &CancellationToken,
    ) -> Result<Option<Outcome>, Stopped> {
        let app = step.app;
        let name = self.name_of(environment, app);
        let commit = step.target.commit.short();
        self.output.step(format!(
            "{name}: probing {} until it reports {commit}",
            spec.url()
        ));
        let output = self.output.clone();
        let outcome = self
            .prober
            .probe_with(spec, stop, |event| {
                report_probe_event(&output, &name, event)
            })
            .await;
        if stop.is_cancelled() && !outcome.is_healthy() {
            return Ok(None);
        }
        let url = spec.url().to_string();
        if !outcome.is_healthy() {
            let early_stop = EarlyStop::of(&app.probe);
            return Err(Stopped {
                app: Some(step.target.app_index),
                cause: Box::new(Cause::ProbeFailed {
                    url: url.clone(),
                    outcome: Box::new(outcome.clone()),
                    early_stop,
                    reported: self.reported_version(&outcome),
                }),
                error: anyhow::Error::new(ProbeFailed(outcome, early_stop))
                    .context(format!("probe {url}")),
            });
        }
        self.output.step(format!(
            "{name}: {url} serves {commit} ({} attempts)",
            outcome.attempt_count()
        ));
        Ok(Some(outcome))
    }

    /// What a health endpoint reported when a probe saw another version than the one
    /// deployed: `abc1234 (v1.1.0) at `/commit``, or the value it reported.
    fn reported_version(&self, outcome: &Outcome) -> Option<String> {
        let health_probe::Verdict::Unhealthy {
            reason:
                health_probe::Failure::WrongVersion {
                    pointer, actual, ..
                },
            ..
        } = &outcome.verdict
        else {
            return None;
        };
        Some(match actual {
            serde_json::Value::String(text) => match git2::Oid::from_str(text) {
                Ok(oid) if text.len() == 40 => {
                    let tag = self.releases().ok().and_then(|releases| {
                        releases
                            .at_commit(oid)
                            .last()
                            .map(|release| release.tag().name().to_owned())
                    });
                    match tag {
                        Some(tag) => format!("{} ({tag}) at `{pointer}`", short(text)),
                        None => format!("{} at `{pointer}`", short(text)),
                    }
                }
                _ => format!("{text:?} at `{pointer}`"),
            },
            other => format!("{other} at `{pointer}`"),
        })
    }

    /// For an app without a health URL: read its container status [`CONTAINER_CHECKS`]
    /// times, [`CONTAINER_CHECK_INTERVAL`] apart, and fail unless it is running (and not
    /// unhealthy) every time (a worker that crashes on start is restarting or exited by then).
    /// `None` when `stop` ended it.
    async fn watch_container(
        &self,
        environment: EnvironmentName,
        index: usize,
        app: &AppConfig,
        stop: &CancellationToken,
    ) -> Result<Option<String>, Stopped> {
        self.output.step(format!(
            "{environment} {}: no health URL; watching its container for {}",
            app.label,
            humantime::format_duration(CONTAINER_CHECK_INTERVAL * (CONTAINER_CHECKS - 1))
        ));
        let mut last = String::new();
        for check in 0..CONTAINER_CHECKS {
            if check > 0
                && stop
                    .run_until_cancelled(tokio::time::sleep(CONTAINER_CHECK_INTERVAL))
                    .await
                    .is_none()
            {
                return Ok(None);
            }
            let application = self.coolify.application(&app.uuid).await.map_err(|error| {
                Stopped::coolify(
                    index,
                    error,
                    format!(
                        "read the container status of {environment}'s {}",
                        app.describe()
                    ),
                )
            })?;
            let status = application.status.clone().unwrap_or_default();
            if !application.container_status().is_running_ok() {
                let status = if status.is_empty() {
                    "unknown".to_owned()
                } else {
                    status
                };
                return Err(Stopped {
                    app: Some(index),
                    cause: Box::new(Cause::ContainerNotRunning {
                        status: status.clone(),
                    }),
                    error: anyhow::Error::new(ContainerNotRunning {
                        app: app.uuid.to_string(),
                        label: app.label.clone(),
                        status,
                    }),
                });
            }
            last = status;
        }
        self.output.step(format!(
            "{environment} {}: container {last} throughout",
            app.label
        ));
        Ok(Some(last))
    }
}

pub(crate) fn report_probe_event(output: &Output, environment: &str, event: &ProgressEvent) {
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
