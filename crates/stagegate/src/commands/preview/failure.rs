//! Why a preview was not verified: a typed cause, the words for it, how the record settles it
//! and what to do next.

use coolify_client::CommitSha;
use release_record::Settlement;

use crate::exit::{Aftermath, Exit};
use crate::repo::short;

/// The commit a preview built or reported, and whether it is the base branch's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OtherCommit {
    /// The commit (or the value the health endpoint reported).
    pub(super) value: String,
    /// The base branch, when the commit is its head.
    pub(super) base_branch: Option<String>,
}

impl OtherCommit {
    /// `111aaaa (the head of main, the pull request's base branch)`, or `111aaaa`.
    fn describe(&self) -> String {
        let value = if self.value.len() == 40 {
            short(&self.value).to_owned()
        } else {
            format!("{:?}", self.value)
        };
        match &self.base_branch {
            Some(branch) => {
                format!("{value} (the head of {branch}, the pull request's base branch)")
            }
            None => value,
        }
    }
}

/// Why a preview was not verified.
#[derive(Debug, Clone)]
pub(super) enum Cause {
    /// Coolify has no preview of the pull request: its answer to a preview deploy was
    /// "Pull request N not found for this resource." (nothing was deployed).
    NoPreview,
    /// Coolify refused or failed before a deployment existed (a queue full, the token, the
    /// network).
    Refused { message: String },
    /// Coolify's preview deployment failed.
    DeploymentFailed { deployment: String },
    /// Coolify could not start the preview's image (most often: the registry lacks the tag).
    ImageNotStarted {
        deployment: String,
        image: String,
        log_line: Option<String>,
    },
    /// The deployment was cancelled (a newer push, the pull request closed, someone).
    DeploymentCancelled { deployment: String },
    /// Following the deployment failed (Coolify stopped answering, the deadline).
    Follow { deployment: String, message: String },
    /// Coolify built another commit than the pull request's head.
    BuiltOther {
        deployment: String,
        built: OtherCommit,
    },
    /// The health endpoint reported another commit until the deadline.
    ReportsOther { reported: OtherCommit },
    /// The health check failed otherwise.
    Unhealthy { verdict: String },
}

/// A preview that was not verified: the cause, with what the failure message needs.
#[derive(Debug, Clone)]
pub(super) struct PreviewFailure {
    pub(super) cause: Cause,
    /// The pull request's number.
    pub(super) pull_request: u64,
    /// The commit the preview was to run.
    pub(super) commit: CommitSha,
    /// Where the preview answers.
    pub(super) url: String,
    /// The health URL that was probed.
    pub(super) health_url: String,
    /// The application.
    pub(super) app: String,
    /// The command that runs the deploy again.
    pub(super) rerun: String,
    /// The command that turns previews on or sets the app up.
    pub(super) setup: String,
}

/// Coolify's own limitation, worded once: what an API-triggered preview of a deploy-key or
/// plain-git app builds.
const BASE_BRANCH_BUILDS: &str = "Coolify builds the base branch in a preview deployed through its API when the app reaches its repository by a deploy key or plain git (it fetches the pull request's ref only for a GitHub App source, a public GitHub repository, or a deployment its webhook started)";

impl PreviewFailure {
    /// Whether Coolify started (or had) a deployment: the preview may have changed.
    pub(super) fn started_a_deployment(&self) -> bool {
        !matches!(self.cause, Cause::NoPreview | Cause::Refused { .. })
    }

    /// What failed, in one sentence.
    pub(super) fn what(&self) -> String {
        let number = self.pull_request;
        let commit = self.commit.short();
        match &self.cause {
            Cause::NoPreview => format!(
                "Coolify has no preview of pull request {number} for app {} (\"Pull request {number} not found for this resource.\"), and its webhook started no deployment of {commit}",
                self.app
            ),
            Cause::Refused { message } => message.clone(),
            Cause::DeploymentFailed { deployment } => {
                format!("Coolify's preview deployment {deployment} of pull request {number} failed")
            }
            Cause::ImageNotStarted {
                deployment,
                image,
                log_line,
            } => format!(
                "Coolify could not start {image} for the preview of pull request {number} in deployment {deployment} (the registry may not have it{})",
                log_line
                    .as_deref()
                    .map(|line| format!(": {line}"))
                    .unwrap_or_default()
            ),
            Cause::DeploymentCancelled { deployment } => format!(
                "Coolify's preview deployment {deployment} of pull request {number} was cancelled"
            ),
            Cause::Follow {
                deployment,
                message,
            } => format!(
                "following Coolify's preview deployment {deployment} of pull request {number} failed: {message}"
            ),
            Cause::BuiltOther { deployment, built } => {
                let mut text = format!(
                    "Coolify's preview deployment {deployment} of pull request {number} built {} instead of the pull request's head {commit}",
                    built.describe()
                );
                if built.base_branch.is_some() {
                    text.push_str(&format!(": {BASE_BRANCH_BUILDS}"));
                }
                text
            }
            Cause::ReportsOther { reported } => {
                let mut text = format!(
                    "the preview of pull request {number} at {} reports {} instead of {commit} until the probe's deadline",
                    self.health_url,
                    reported.describe()
                );
                if reported.base_branch.is_some() {
                    text.push_str(&format!(": {BASE_BRANCH_BUILDS}"));
                }
                text
            }
            Cause::Unhealthy { verdict } => format!(
                "the preview of pull request {number} at {} did not prove {commit}: {verdict}",
                self.health_url
            ),
        }
    }

    /// What the preview runs now, as far as this run knows.
    fn state(&self) -> String {
        let number = self.pull_request;
        let commit = self.commit.short();
        let url = &self.url;
        let preview = match &self.cause {
            Cause::DeploymentFailed { .. }
            | Cause::ImageNotStarted { .. }
            | Cause::DeploymentCancelled { .. } => format!(
                "the preview of pull request {number} ({url}) runs what it ran before, if anything"
            ),
            Cause::BuiltOther { built, .. } => format!(
                "the preview of pull request {number} ({url}) runs {}",
                built.describe()
            ),
            Cause::ReportsOther { reported } => format!(
                "the preview of pull request {number} ({url}) answers {}",
                reported.describe()
            ),
            _ => format!("the preview of pull request {number} ({url}) does not serve {commit}"),
        };
        format!("{preview}; staging and production were not touched")
    }

    /// What to do next.
    fn fix(&self) -> String {
        let rerun = &self.rerun;
        match &self.cause {
            Cause::NoPreview => format!(
                "For an app that builds from git only Coolify's pull-request webhook creates a preview, with Preview Deployments on (`{}` turns them on): connect the repository through a GitHub App source in Coolify, or add the app's webhook (Webhooks in the app's settings) to the repository for pull request events; Coolify deploys only pull requests by members and collaborators unless public pull request deployments are on. Then push to the pull request, or run `{rerun}`",
                self.setup
            ),
            Cause::Refused { .. } | Cause::Follow { .. } | Cause::DeploymentCancelled { .. } => {
                format!("Run `{rerun}` again")
            }
            Cause::DeploymentFailed { .. } => format!(
                "Read the deployment's log in Coolify, push a fix to the pull request, or run `{rerun}` after a failure of Coolify's own"
            ),
            Cause::ImageNotStarted { .. } => format!(
                "Push the image of {} to the registry (CI builds it for each commit), then run `{rerun}`",
                self.commit.short()
            ),
            Cause::BuiltOther { built, .. } if built.base_branch.is_some() => format!(
                "Let Coolify's webhook deploy previews (it builds the pull request's head whatever the source), or connect the repository through a GitHub App source; then push to the pull request, or run `{rerun}`"
            ),
            Cause::BuiltOther { .. } => format!(
                "Coolify builds the head its webhook last reported for the pull request: check that the webhook reaches Coolify, then run `{rerun}`"
            ),
            Cause::ReportsOther { reported } if reported.base_branch.is_some() => format!(
                "Let Coolify's webhook deploy previews, or connect the repository through a GitHub App source; then run `{rerun}`"
            ),
            Cause::ReportsOther { .. } | Cause::Unhealthy { .. } => format!(
                "Check the preview's health endpoint and its logs in Coolify, push a fix to the pull request, or run `{rerun}`"
            ),
        }
    }

    /// How the record settles it; `None` when no deployment was started.
    pub(super) fn settlement(&self) -> Option<Settlement> {
        let evidence = self.what();
        match &self.cause {
            Cause::NoPreview | Cause::Refused { .. } => None,
            Cause::DeploymentFailed { .. } | Cause::ImageNotStarted { .. } => {
                Some(Settlement::failed_in_coolify(&evidence))
            }
            Cause::BuiltOther { .. } | Cause::ReportsOther { .. } | Cause::Unhealthy { .. } => {
                Some(Settlement::failed_verification(&evidence))
            }
            Cause::DeploymentCancelled { .. } | Cause::Follow { .. } => {
                Some(Settlement::cancelled(&evidence))
            }
        }
    }

    /// The error the command ends with: an [`Aftermath`] once a deployment was started.
    pub(super) fn into_error(self, context: &str) -> anyhow::Error {
        if !self.started_a_deployment() {
            return anyhow::anyhow!("{}. {}", self.what(), self.fix()).context(context.to_owned());
        }
        Aftermath {
            cause: format!("{context}: {}", self.what()),
            state: self.state(),
            fix: self.fix(),
            exit: Exit::Failed,
            rollout: None,
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(cause: Cause) -> PreviewFailure {
        PreviewFailure {
            cause,
            pull_request: 42,
            commit: "2222222222222222222222222222222222222222".parse().unwrap(),
            url: "http://42.staging.example.com".to_owned(),
            health_url: "http://42.staging.example.com/healthz".to_owned(),
            app: "staging-app".to_owned(),
            rerun: "stagegate preview deploy --pr 42 --commit 2222222".to_owned(),
            setup: "stagegate setup".to_owned(),
        }
    }

    #[test]
    fn the_base_branch_build_is_explained_not_timed_out() {
        let built = failure(Cause::BuiltOther {
            deployment: "d1".to_owned(),
            built: OtherCommit {
                value: "1".repeat(40),
                base_branch: Some("main".to_owned()),
            },
        });
        let message = crate::exit::message(&built.clone().into_error("preview deploy --pr 42"));
        for expected in [
            "preview deploy --pr 42: Coolify's preview deployment d1 of pull request 42 built 1111111 (the head of main, the pull request's base branch) instead of the pull request's head 2222222",
            "deploy key or plain git",
            "Now: the preview of pull request 42 (http://42.staging.example.com) runs 1111111",
            "staging and production were not touched",
            "Let Coolify's webhook deploy previews",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        assert!(!message.contains("deadline"), "{message}");
        assert_eq!(
            built.settlement().unwrap().outcome(),
            release_record::Outcome::FailedVerification
        );
    }

    #[test]
    fn no_preview_says_what_creates_one_and_records_nothing() {
        let none = failure(Cause::NoPreview);
        assert!(none.settlement().is_none());
        let error = none.into_error("preview deploy --pr 42");
        assert_eq!(Exit::of(&error), Exit::Failed);
        let message = crate::exit::message(&error);
        for expected in [
            "Pull request 42 not found for this resource.",
            "only Coolify's pull-request webhook creates a preview",
            "`stagegate setup` turns them on",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
    }
}
