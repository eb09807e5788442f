//! What a rollout established when it did not prove every app: a value, not an error chain.
//!
//! [`Engine::roll_out`](super::Engine::roll_out) ends in a [`Rollout`](super::Rollout) or a
//! [`RolloutFailure`]: the phase it failed in, the app, the cause with its evidence (the
//! deployment, the probe outcome, what Coolify's queue held) and what each app went through.
//! The flows decide with a `match` on it (the advice, whether to roll back, "nothing changed"),
//! and it serialises, so the same value is what gets recorded and reported.

use std::fmt;

use coolify_client::Error as CoolifyError;
use health_probe::Outcome;
use serde::Serialize;

use super::probe::EarlyStop;
use crate::config::EnvironmentName;
use crate::exit::Exit;

/// Where a rollout failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the first write: probe settings, image tags, each app's kind, the token.
    Checks,
    /// Pinning a git app's commit or setting an image app's tag.
    Pin,
    /// Asking Coolify to deploy, after the pin.
    DeployRequest,
    /// Following a deployment to its end.
    Follow,
    /// Proving an app serves its commit: its health probe, or its container's watch.
    Probe,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Checks => "checks",
            Self::Pin => "pin",
            Self::DeployRequest => "deploy request",
            Self::Follow => "follow",
            Self::Probe => "probe",
        })
    }
}

/// What went wrong with Coolify, as far as what to do next goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoolifyProblem {
    /// The token was rejected or lacks an ability.
    Token,
    /// Coolify's deployment queue is full.
    QueueFull,
    /// Coolify or the way to it failed for a while: a timeout, a dropped connection, a 5xx.
    Transient,
    /// Another deploy re-pinned the app at the same time.
    Concurrent,
    /// Anything else Coolify refused or failed.
    Other,
}

impl CoolifyProblem {
    /// The problem a client error stands for.
    pub(crate) fn of(error: &CoolifyError) -> Self {
        match error {
            CoolifyError::QueueFull { .. } => Self::QueueFull,
            CoolifyError::PinChanged { .. } => Self::Concurrent,
            CoolifyError::PinRestored { source, .. } => match **source {
                CoolifyError::QueueFull { .. } => Self::QueueFull,
                ref inner if inner.is_token_problem() => Self::Token,
                ref inner if inner.is_transient() => Self::Transient,
                _ => Self::Other,
            },
            error if error.is_token_problem() => Self::Token,
            error if error.is_transient() => Self::Transient,
            _ => Self::Other,
        }
    }
}

/// Why a rollout failed, with its evidence.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// The config, or an app's kind in Coolify against the config, is wrong.
    Input,
    /// A request to Coolify was refused or failed.
    Coolify {
        /// What kind of problem.
        problem: CoolifyProblem,
        /// Whether the client put the pin back after a refused deploy (the app is as before).
        pin_restored: bool,
        /// When the queue was full: what it holds now.
        #[serde(skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
    },
    /// The deployment ended `failed`.
    DeploymentFailed {
        /// The deployment.
        deployment: String,
    },
    /// The deployment was cancelled.
    DeploymentCancelled {
        /// The deployment.
        deployment: String,
    },
    /// The deployment built another commit than the app was pinned to.
    OtherCommit {
        /// The deployment.
        deployment: String,
        /// The commit it built.
        built: String,
        /// Why, as far as Coolify tells.
        problem: CoolifyProblem,
    },
    /// Coolify could not start an image app's new image; the app was set back to its
    /// previous tag.
    ImageNotStarted {
        /// The deployment.
        deployment: String,
        /// `name:tag`.
        image: String,
        /// The deployment log's line on it, when the token may read logs.
        log_line: Option<String>,
        /// The tag the app was set back to, or why that failed; `None` when it had none.
        restored: Option<Result<String, String>>,
        /// Whether the previous release answered healthy just now; `None` when not checked.
        previous_answers: Option<bool>,
    },
    /// The health probe did not prove the commit.
    ProbeFailed {
        /// The health URL.
        url: String,
        /// The probe's evidence.
        outcome: Box<Outcome>,
        /// The rule that can stop a probe early.
        early_stop: EarlyStop,
        /// What the endpoint reported instead, when another version answered.
        reported: Option<String>,
    },
    /// An app without a health URL whose container did not stay running.
    ContainerNotRunning {
        /// Coolify's container status.
        status: String,
    },
}

/// Whose fault a failure is, as far as the advice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fault {
    /// The release failed its own verification: its build failed or its probe did not pass.
    Release,
    /// The token was rejected or lacks an ability.
    Token,
    /// Coolify's deployment queue is full.
    QueueFull,
    /// Coolify or the way to it failed for a while.
    Transient,
    /// Another deploy re-pinned the app at the same time.
    Concurrent,
    /// Someone cancelled the deployment.
    Cancelled,
    /// The config or another input is wrong.
    Input,
    /// Anything else.
    Other,
}

impl From<CoolifyProblem> for Fault {
    fn from(problem: CoolifyProblem) -> Self {
        match problem {
            CoolifyProblem::Token => Self::Token,
            CoolifyProblem::QueueFull => Self::QueueFull,
            CoolifyProblem::Transient => Self::Transient,
            CoolifyProblem::Concurrent => Self::Concurrent,
            CoolifyProblem::Other => Self::Other,
        }
    }
}

impl Cause {
    /// Whose fault it is.
    pub(crate) fn fault(&self) -> Fault {
        match self {
            Self::Input => Fault::Input,
            Self::Coolify { problem, .. } | Self::OtherCommit { problem, .. } => (*problem).into(),
            Self::DeploymentFailed { .. }
            | Self::ImageNotStarted { .. }
            | Self::ProbeFailed { .. }
            | Self::ContainerNotRunning { .. } => Fault::Release,
            Self::DeploymentCancelled { .. } => Fault::Cancelled,
        }
    }
}

/// How far one app of a rollout got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Nothing was written to it.
    Untouched,
    /// Its pin (or image tag) was written, then put back: it is as before.
    Restored,
    /// A write to it was sent and did not lead to a deployment.
    Written,
    /// Its deployment was started (or joined) and has not ended.
    Deploying,
    /// Its deployment finished.
    Deployed,
    /// It proved it serves its commit.
    Verified,
    /// Its deployment or its verification failed.
    Failed,
    /// Its deployment was cancelled by this run, which stopped, and its pin (or image tag) was
    /// put back: it runs what it ran before.
    Cancelled,
}

impl AppState {
    /// Every state, in the order a summary lists them: what needs attention first.
    const ORDER: [Self; 8] = [
        Self::Failed,
        Self::Written,
        Self::Deploying,
        Self::Deployed,
        Self::Cancelled,
        Self::Restored,
        Self::Verified,
        Self::Untouched,
    ];

    /// The state in a summary's words.
    fn words(self) -> &'static str {
        match self {
            Self::Untouched => "untouched",
            Self::Restored => "put back",
            Self::Written => "pinned without a deployment",
            Self::Deploying => "still deploying",
            Self::Deployed => "deployed, not verified",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled and put back",
        }
    }
}

/// What one app of a rollout went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppOutcome {
    /// The Coolify application uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// How far it got.
    pub state: AppState,
    /// Its deployment, once started.
    pub deployment: Option<String>,
}

/// A rollout that did not prove every app.
#[derive(Debug, Clone, Serialize)]
pub struct RolloutFailure {
    /// Which environment.
    pub environment: EnvironmentName,
    /// Where it failed.
    pub phase: Phase,
    /// The app it failed on (`None` for a check of the whole environment).
    pub app: Option<String>,
    /// Why, with the evidence.
    pub cause: Cause,
    /// What failed, as a path of steps: the error line's text.
    pub message: String,
    /// Each app of the rollout, in config order.
    pub apps: Vec<AppOutcome>,
}

impl RolloutFailure {
    /// Whose fault it is.
    pub(crate) fn fault(&self) -> Fault {
        self.cause.fault()
    }

    /// The exit status it ends the command with.
    pub fn exit(&self) -> Exit {
        match self.cause {
            Cause::Input => Exit::BadInput,
            _ => Exit::Failed,
        }
    }

    /// Whether the environment is as before the rollout: no app was written to, or every
    /// write was put back.
    pub fn nothing_changed(&self) -> bool {
        self.apps.iter().all(|app| {
            matches!(
                app.state,
                AppState::Untouched | AppState::Restored | AppState::Cancelled
            )
        })
    }

    /// Whether the app with this uuid may run the new commit now (its deployment ran, or may
    /// still run): what going back has to redeploy. An app the rollout did not write to, or
    /// whose deployment was cancelled and pin put back, runs what it ran before.
    pub fn may_have_changed(&self, app: &str) -> bool {
        self.apps
            .iter()
            .find(|outcome| outcome.app == app)
            .is_some_and(|outcome| {
                !matches!(
                    outcome.state,
                    AppState::Untouched | AppState::Restored | AppState::Cancelled
                )
            })
    }

    /// Each app's state, counted, for an error line that stays short with many apps: the
    /// failed apps by name, the first few of each other state, and how many more, e.g. `1
    /// failed (api-17), 2 cancelled and put back (api-18, api-19), 77 untouched (api-20, api-21,
    /// api-22 and 74 more)`; `--format json` has the full list.
    pub fn states(&self) -> String {
        const NAMED: usize = 3;
        AppState::ORDER
            .iter()
            .filter_map(|state| {
                let labels: Vec<&str> = self
                    .apps
                    .iter()
                    .filter(|app| app.state == *state)
                    .map(|app| app.label.as_str())
                    .collect();
                if labels.is_empty() {
                    return None;
                }
                let named = if *state == AppState::Failed {
                    labels.len()
                } else {
                    NAMED
                };
                Some(format!(
                    "{} {} ({})",
                    labels.len(),
                    state.words(),
                    super::first_few(&labels, named)
                ))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a deployment was started on some app (the code it runs may have changed).
    pub fn started_a_deployment(&self) -> bool {
        self.apps.iter().any(|app| app.deployment.is_some())
    }

    /// The deployments it started, in config order.
    pub fn deployments(&self) -> impl Iterator<Item = &str> {
        self.apps.iter().filter_map(|app| app.deployment.as_deref())
    }

    /// What the health endpoint reported when the probe saw another version.
    pub fn reported_health(&self) -> Option<&str> {
        match &self.cause {
            Cause::ProbeFailed { reported, .. } => reported.as_deref(),
            _ => None,
        }
    }
}

/// A failure inside one phase, before the rollout gives it its phase and the state of every
/// app: the app's position among the rollout's targets, the cause, and the error whose text
/// is the message.
pub(super) struct Stopped {
    pub(super) app: Option<usize>,
    pub(super) cause: Box<Cause>,
    pub(super) error: anyhow::Error,
}

impl Stopped {
    /// The config or an app's kind is wrong.
    pub(super) fn input(app: Option<usize>, error: anyhow::Error) -> Self {
        Self {
            app,
            cause: Box::new(Cause::Input),
            error,
        }
    }

    /// A request to Coolify failed; `context` says what it was for.
    pub(super) fn coolify(app: usize, error: CoolifyError, context: String) -> Self {
        Self {
            app: Some(app),
            cause: Box::new(Cause::Coolify {
                problem: CoolifyProblem::of(&error),
                pin_restored: matches!(error, CoolifyError::PinRestored { .. }),
                queue: None,
            }),
            error: anyhow::Error::new(error).context(context),
        }
    }
}

impl fmt::Display for RolloutFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RolloutFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(cause: Cause, states: &[AppState]) -> RolloutFailure {
        RolloutFailure {
            environment: EnvironmentName::Production,
            phase: Phase::Follow,
            app: Some("app".to_owned()),
            cause,
            message: "follow production deployment d1: deployment d1 failed".to_owned(),
            apps: states
                .iter()
                .enumerate()
                .map(|(index, state)| AppOutcome {
                    app: format!("app{index}"),
                    label: format!("app {index}"),
                    state: *state,
                    deployment: matches!(
                        state,
                        AppState::Deploying
                            | AppState::Deployed
                            | AppState::Verified
                            | AppState::Failed
                    )
                    .then(|| format!("d{index}")),
                })
                .collect(),
        }
    }

    #[test]
    fn every_cause_has_a_fault_and_an_exit() {
        let failed = failure(
            Cause::DeploymentFailed {
                deployment: "d1".to_owned(),
            },
            &[AppState::Failed],
        );
        assert_eq!(failed.fault(), Fault::Release);
        assert_eq!(failed.exit(), Exit::Failed);
        assert!(failed.started_a_deployment());
        assert!(!failed.nothing_changed());
        let input = failure(Cause::Input, &[AppState::Untouched, AppState::Untouched]);
        assert_eq!(input.fault(), Fault::Input);
        assert_eq!(input.exit(), Exit::BadInput);
        assert!(input.nothing_changed());
        let queue = failure(
            Cause::Coolify {
                problem: CoolifyProblem::QueueFull,
                pin_restored: true,
                queue: None,
            },
            &[AppState::Restored],
        );
        assert_eq!(queue.fault(), Fault::QueueFull);
        assert!(queue.nothing_changed());
        let half = failure(
            Cause::Coolify {
                problem: CoolifyProblem::QueueFull,
                pin_restored: true,
                queue: None,
            },
            &[AppState::Deploying, AppState::Restored],
        );
        assert!(!half.nothing_changed());
        assert_eq!(half.deployments().collect::<Vec<_>>(), ["d0"]);
    }

    #[test]
    fn a_failure_serialises_with_its_phase_cause_and_apps() {
        let failed = failure(
            Cause::DeploymentCancelled {
                deployment: "d1".to_owned(),
            },
            &[AppState::Failed],
        );
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["phase"], "follow");
        assert_eq!(json["cause"]["kind"], "deployment_cancelled");
        assert_eq!(json["cause"]["deployment"], "d1");
        assert_eq!(json["apps"][0]["state"], "failed");
        assert_eq!(json["environment"], "production");
    }

    #[test]
    fn states_count_every_app_naming_the_failed_and_the_first_few_of_the_rest() {
        let mut states = vec![AppState::Untouched; 10];
        states[0] = AppState::Verified;
        states[1] = AppState::Failed;
        states[2] = AppState::Cancelled;
        states[3] = AppState::Failed;
        let failed = failure(
            Cause::DeploymentFailed {
                deployment: "d1".to_owned(),
            },
            &states,
        );
        assert_eq!(
            failed.states(),
            "2 failed (app 1, app 3), 1 cancelled and put back (app 2), 1 verified (app 0), 6 untouched (app 4, app 5, app 6 and 3 more)"
        );
        assert!(!failed.nothing_changed());
        assert!(failed.may_have_changed("app1"));
        assert!(!failed.may_have_changed("app2"), "cancelled and put back");
        assert!(!failed.may_have_changed("app9"), "untouched");
        assert!(!failed.may_have_changed("another app"));
        let cancelled = failure(
            Cause::DeploymentFailed {
                deployment: "d1".to_owned(),
            },
            &[AppState::Cancelled, AppState::Restored, AppState::Untouched],
        );
        assert!(cancelled.nothing_changed());
    }
}
