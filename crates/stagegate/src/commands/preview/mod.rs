//! `preview deploy`, `preview remove` and `preview list`: a pull request's preview of the
//! staging app in Coolify, verified like staging (its URL reports the pull request's head
//! commit) and reported to the pull request as a GitHub deployment of the transient
//! environment `pr-N`.
//!
//! - A Docker-image app's preview is deployed with the tag `image_tag` makes of the commit
//!   (Coolify creates the preview if it has none).
//! - A git app's preview comes from Coolify's pull-request webhook: `preview deploy` follows
//!   the webhook's deployment of the commit, and redeploys through Coolify's API only when
//!   none comes; Coolify then answers "Pull request N not found" unless its webhook created
//!   the preview, and builds the base branch for an app reached by a deploy key or plain git,
//!   which the commit check catches.
//! - The preview's URL is computed as Coolify makes it (its first domain in the app's
//!   `preview_url_template`), or given by `[preview] url`.

use std::fmt;

use coolify_client::PullRequestId;
use serde::Serialize;

pub use self::deploy::WEBHOOK_WAIT;
pub use crate::engine::Timings;
use crate::exit::BadInput;
use crate::repo::short;
use crate::session::{DryRun, Session};

mod deploy;
mod failure;
mod list;
mod remove;

/// Options of `preview deploy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOptions {
    /// `--pr`: the pull request's number.
    pub pull_request: u64,
    /// `--commit`: the commit the preview must run; `None` for the pull request's head from
    /// the GitHub Actions event (`pull_request.head.sha`), else `HEAD`.
    pub commit: Option<String>,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl DeployOptions {
    /// The preview of pull request `number`, at its head.
    pub fn pull_request(number: u64) -> Self {
        Self {
            pull_request: number,
            commit: None,
            dry_run: DryRun::No,
        }
    }

    /// The command's arguments that run these options again:
    /// `preview deploy --pr 42 --commit abc…`.
    pub(crate) fn arguments(&self, commit: &str) -> String {
        let mut arguments = format!(
            "preview deploy --pr {} --commit {commit}",
            self.pull_request
        );
        if self.dry_run.is_dry() {
            arguments.push_str(" --dry-run");
        }
        arguments
    }
}

/// Options of `preview remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveOptions {
    /// `--pr`: the pull request's number.
    pub pull_request: u64,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl RemoveOptions {
    /// Remove the preview of pull request `number`.
    pub fn pull_request(number: u64) -> Self {
        Self {
            pull_request: number,
            dry_run: DryRun::No,
        }
    }
}

/// What `preview deploy` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewAction {
    /// Deployed (or followed) and verified: the preview reports the commit.
    Verified,
    /// `--dry-run`: only planned.
    Planned,
}

/// How the preview's deployment came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Coolify's pull-request webhook started it; stagegate followed it.
    Webhook,
    /// stagegate redeployed the existing preview through Coolify's API (no webhook
    /// deployment of the commit came).
    Api,
    /// stagegate deployed the commit's image tag (a Docker-image app).
    ImageTag,
}

/// The result of `preview deploy`.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewReport {
    /// The pull request.
    pub pull_request: u64,
    /// Its environment in GitHub: `pr-42`.
    pub environment: String,
    /// The Coolify application previews are made of.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// The full SHA the preview runs.
    pub commit: String,
    /// Where the preview answers.
    pub url: String,
    /// The health endpoint that proved the commit.
    pub health_url: String,
    /// What was done.
    pub action: PreviewAction,
    /// How the deployment came about (absent in a dry run).
    pub trigger: Option<Trigger>,
    /// The Coolify deployment.
    pub deployment: Option<String>,
    /// The image tag deployed, for a Docker-image app.
    pub image_tag: Option<String>,
    /// The health evidence.
    pub probe: Option<health_probe::Outcome>,
    /// How long each phase took (`trigger_ms`: until Coolify's deployment was found or
    /// queued).
    pub timings: Option<Timings>,
    /// The GitHub deployment of the record, when there is a record.
    pub github_deployment: Option<u64>,
    /// Earlier runs of the pull request's preview marked no longer live in GitHub.
    pub retired: usize,
    /// With `--dry-run`: what would be done.
    pub planned: Vec<String>,
}

impl fmt::Display for PreviewReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            PreviewAction::Verified => {
                write!(
                    f,
                    "the preview of pull request {} serves {} at {}",
                    self.pull_request,
                    short(&self.commit),
                    self.url
                )?;
                if let Some(deployment) = &self.deployment {
                    let how = match self.trigger {
                        Some(Trigger::Webhook) => " (started by Coolify's webhook)",
                        Some(Trigger::Api) => " (redeployed through Coolify's API)",
                        Some(Trigger::ImageTag) | None => "",
                    };
                    write!(f, ": deployment {deployment}{how}")?;
                }
                if let Some(timings) = &self.timings {
                    write!(f, ", {timings}")?;
                }
                Ok(())
            }
            PreviewAction::Planned => {
                write!(
                    f,
                    "dry run: would deploy {} as the preview of pull request {} at {}:",
                    short(&self.commit),
                    self.pull_request,
                    self.url
                )?;
                for step in &self.planned {
                    write!(f, "\n  - {step}")?;
                }
                Ok(())
            }
        }
    }
}

/// What `preview remove` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoveAction {
    /// Coolify removed the preview.
    Removed,
    /// Coolify had no preview of the pull request: nothing to remove there.
    NoPreview,
    /// `--dry-run`: only planned.
    Planned,
}

/// The result of `preview remove`.
#[derive(Debug, Clone, Serialize)]
pub struct RemoveReport {
    /// The pull request.
    pub pull_request: u64,
    /// Its environment in GitHub: `pr-42`.
    pub environment: String,
    /// The Coolify application previews are made of.
    pub app: String,
    /// What was done in Coolify.
    pub action: RemoveAction,
    /// Runs of the preview marked inactive in GitHub (shown as destroyed).
    pub marked_inactive: usize,
    /// Why there is no record, when there is none.
    pub no_record: Option<String>,
    /// With `--dry-run`: what would be done.
    pub planned: Vec<String>,
}

impl fmt::Display for RemoveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self.pull_request;
        match self.action {
            RemoveAction::Removed => write!(
                f,
                "removed the preview of pull request {number} (app {}) from Coolify",
                self.app
            )?,
            RemoveAction::NoPreview => write!(
                f,
                "pull request {number} has no preview in Coolify (app {}): nothing to remove there",
                self.app
            )?,
            RemoveAction::Planned => {
                write!(
                    f,
                    "dry run: would remove the preview of pull request {number}:"
                )?;
                for step in &self.planned {
                    write!(f, "\n  - {step}")?;
                }
                return Ok(());
            }
        }
        match self.marked_inactive {
            0 => Ok(()),
            1 => write!(
                f,
                "; its GitHub deployment {} is marked inactive",
                self.environment
            ),
            runs => write!(
                f,
                "; {runs} GitHub deployments of {} are marked inactive",
                self.environment
            ),
        }
    }
}

/// One open preview, as `preview list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ListedPreview {
    /// The pull request.
    pub pull_request: u64,
    /// Its environment in GitHub: `pr-42`.
    pub environment: String,
    /// The full SHA it was deployed with.
    pub commit: String,
    /// Where it answers (absent when it cannot be known: see `preview deploy`).
    pub url: Option<String>,
    /// What the record says of its newest run (`verified`, `failed_verification`,
    /// `in_progress`, …); absent for a preview only Coolify knows of.
    pub outcome: Option<String>,
    /// The status of Coolify's newest deployment of it, when Coolify lists one.
    pub deployment_status: Option<String>,
    /// When its newest run (or deployment) started.
    pub since: Option<String>,
    /// How long ago that was, in seconds.
    pub age_seconds: Option<u64>,
    /// Whether the record knows it (a preview only Coolify knows of may have been removed).
    pub recorded: bool,
}

/// The result of `preview list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    /// The Coolify application previews are made of.
    pub app: String,
    /// The open previews, newest pull request first.
    pub previews: Vec<ListedPreview>,
    /// Why there is no record, when there is none (the list then comes from Coolify only).
    pub no_record: Option<String>,
}

impl fmt::Display for ListReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.previews.is_empty() {
            write!(f, "no open previews of app {}", self.app)?;
        } else {
            write!(f, "open previews of app {}:", self.app)?;
        }
        for preview in &self.previews {
            write!(
                f,
                "\n  {} {} at {}",
                preview.environment,
                short(&preview.commit),
                preview.url.as_deref().unwrap_or("an unknown URL")
            )?;
            let state = match (&preview.outcome, &preview.deployment_status) {
                (Some(outcome), _) => outcome.replace('_', " "),
                (None, Some(status)) => format!("deployment {status}, not in the record"),
                (None, None) => "not in the record".to_owned(),
            };
            write!(f, ", {state}")?;
            if let Some(age) = preview.age_seconds {
                write!(f, ", {} ago", age_text(age))?;
            }
        }
        if let Some(reason) = &self.no_record {
            write!(
                f,
                "\n(no release record: {reason}; the list comes from Coolify's deployments, where a removed preview still shows)"
            )?;
        }
        Ok(())
    }
}

/// An age in the largest unit that fits: `45s`, `12m`, `3h`, `2d`.
fn age_text(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m", seconds / 60),
        3_600..86_400 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// `--pr` as Coolify's pull request id.
fn pull_request(number: u64) -> Result<PullRequestId, BadInput> {
    PullRequestId::new(number).map_err(|_| {
        BadInput(format!(
            "--pr {number} is not a pull request: pull requests are numbered from 1"
        ))
    })
}

/// Deploy (or follow) the preview of a pull request and wait until it serves the commit.
///
/// # Errors
///
/// [`BadInput`] for a pull request 0, an unknown revision, a bad config, or a preview URL
/// that cannot be known; [`Refused`](crate::Refused) when the app has preview deployments
/// off; a preview Coolify did not make, a failed deployment, another commit built, or a
/// health check that did not prove the commit, with what the preview runs now.
pub async fn deploy(session: &Session, options: &DeployOptions) -> anyhow::Result<PreviewReport> {
    deploy::deploy(session, options).await
}

/// Remove the preview of a pull request in Coolify and mark its GitHub deployments inactive.
/// Removing a preview that does not exist is done, and says so.
///
/// # Errors
///
/// [`BadInput`] for a pull request 0 or a bad config; Coolify refusing the removal (the token
/// needs `write`; Coolify before 4.0.0-beta.474 has no such API).
pub async fn remove(session: &Session, options: &RemoveOptions) -> anyhow::Result<RemoveReport> {
    remove::remove(session, options).await
}

/// The open previews: their commit, URL and age, from the release record and Coolify.
///
/// # Errors
///
/// A bad config; Coolify unreachable or the app unknown.
pub async fn list(session: &Session) -> anyhow::Result<ListReport> {
    list::list(session).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_unit() {
        assert_eq!(age_text(45), "45s");
        assert_eq!(age_text(720), "12m");
        assert_eq!(age_text(3 * 3_600 + 5), "3h");
        assert_eq!(age_text(2 * 86_400 + 1), "2d");
    }

    #[test]
    fn pull_request_zero_is_bad_input() {
        let message = pull_request(0).unwrap_err().to_string();
        assert_eq!(
            message,
            "--pr 0 is not a pull request: pull requests are numbered from 1"
        );
        assert_eq!(pull_request(42).unwrap().get(), 42);
    }

    #[test]
    fn a_removal_says_what_it_did_in_coolify_and_in_github() {
        let mut report = RemoveReport {
            pull_request: 42,
            environment: "pr-42".to_owned(),
            app: "staging-app".to_owned(),
            action: RemoveAction::NoPreview,
            marked_inactive: 0,
            no_record: None,
            planned: Vec::new(),
        };
        assert_eq!(
            report.to_string(),
            "pull request 42 has no preview in Coolify (app staging-app): nothing to remove there"
        );
        report.action = RemoveAction::Removed;
        report.marked_inactive = 2;
        assert_eq!(
            report.to_string(),
            "removed the preview of pull request 42 (app staging-app) from Coolify; 2 GitHub deployments of pr-42 are marked inactive"
        );
    }
}
