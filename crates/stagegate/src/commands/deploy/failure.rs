//! What a failed deploy tells the user, and the automatic rollback.

use coolify_client::CommitSha;
use tag_policy::{ReleaseTag, Releases};

use super::AutoRollback;
use crate::config::EnvironmentName;
use crate::engine::{
    ContainerNotRunning, Engine, EnvironmentLive, ImageNotStarted, ProbeFailed, Target,
};
use crate::exit::{Aftermath, Exit, message};
use crate::repo::{oid, short};
use crate::session::Session;

/// A production deploy that failed.
pub(super) struct Failed<'a> {
    /// The release it deployed.
    pub(super) release: &'a ReleaseTag,
    /// The release's full commit SHA.
    pub(super) commit: &'a str,
    /// Why.
    pub(super) error: anyhow::Error,
    /// Whose fault.
    pub(super) fault: Fault,
    /// The command that runs it again.
    pub(super) rerun: String,
}

/// What production's apps ran before a deploy, where it differs from the release.
pub(super) struct Before {
    /// Each such app and its earlier commit (and image tag).
    targets: Vec<Target>,
    /// Their release tag (or commit) when every app ran the same one.
    name: Option<String>,
    /// That release's tag.
    tag: Option<ReleaseTag>,
    /// How production's apps were described before the deploy.
    described: String,
}

impl Before {
    pub(super) fn of(live: &EnvironmentLive, releases: &Releases, release: &CommitSha) -> Self {
        let targets: Vec<Target> = live
            .apps
            .iter()
            .enumerate()
            .filter_map(|(app, live)| {
                let commit = live
                    .live
                    .commit
                    .clone()
                    .filter(|before| before != release)?;
                let tag = oid(&commit)
                    .and_then(|oid| releases.at_commit(oid).last().map(|r| r.tag().clone()));
                let image_tag = live
                    .live
                    .image_tag
                    .as_deref()
                    .and_then(|tag| tag.parse::<coolify_client::ImageTag>().ok());
                Some(Target {
                    app,
                    commit,
                    tag,
                    image_tag,
                })
            })
            .collect();
        let first = targets.first();
        let same = targets
            .iter()
            .all(|target| Some(&target.commit) == first.map(|first| &first.commit));
        let tag = first.and_then(|target| target.tag.clone());
        let name = same
            .then(|| {
                tag.as_ref()
                    .map(|tag| tag.name().to_owned())
                    .or_else(|| first.map(|target| target.commit.to_string()))
            })
            .flatten();
        Self {
            targets,
            name,
            tag,
            described: live.describe(),
        }
    }

    /// The first such app's earlier commit.
    pub(super) fn commit(&self) -> Option<&CommitSha> {
        self.targets.first().map(|target| &target.commit)
    }

    /// How messages name what production goes back to.
    fn label(&self) -> String {
        match (&self.name, self.targets.as_slice()) {
            (Some(name), _) => name.clone(),
            (None, [only]) => only.commit.to_string(),
            (None, _) => "the releases each app ran before".to_owned(),
        }
    }
}

/// What to do about a failed production deploy that was not rolled back.
pub(super) fn fix_without_rollback(
    session: &Session,
    failed: &Failed<'_>,
    before: &Before,
    redeploy: bool,
    auto_rollback: AutoRollback,
) -> String {
    if failed.fault != Fault::Release {
        return failed.fault.advice(
            session,
            &failed.error,
            &failed.rerun,
            before.name.as_deref(),
        );
    }
    match (&before.name, before.tag.is_some()) {
        (Some(name), true) => format!(
            "Staging was not touched. Fix the release and tag a new version, or go back with `{}`",
            session.invocation.command(format_args!("rollback --to {name}"))
        ),
        (Some(name), false) => format!(
            "Staging was not touched. Fix the release and tag a new version; production ran {name} before"
        ),
        (None, _) if !before.targets.is_empty() => format!(
            "Staging was not touched. Fix the release and tag a new version; production's apps ran {} before",
            before.described
        ),
        (None, _) if redeploy => format!(
            "Staging was not touched. Production already ran {} before this deploy, so there was nothing older to restore automatically; read the deployment log, then deploy it again or run `{}`",
            failed.release,
            session.invocation.command("rollback")
        ),
        (None, _) if auto_rollback == AutoRollback::On => "Nothing to roll back to: production had no earlier finished deployment. Fix the release and tag a new version".to_owned(),
        (None, _) => "Staging was not touched. Fix the release and tag a new version".to_owned(),
    }
}

/// Put every app of production back on what it ran before a failed deploy, and describe
/// the result: what failed, what each environment runs now, and the next command.
pub(super) async fn roll_back(
    session: &Session,
    pipeline: &Engine,
    releases: &Releases,
    before: &Before,
    failed: Failed<'_>,
) -> anyhow::Error {
    let environment = EnvironmentName::Production;
    let before_label = before.label();
    let every_app = pipeline.config.environment(environment).has_several_apps();
    session.output.warn(format!(
        "{}; rolling production{} back to {before_label}",
        message(&failed.error),
        if every_app { "'s apps" } else { "" }
    ));
    let cause = match pipeline.roll_out(environment, &before.targets).await {
        Ok(rollback) => {
            let deployments: Vec<&str> = rollback
                .apps
                .iter()
                .map(|app| app.deployment.as_str())
                .collect();
            session.output.step(format!(
                "production rolled back to {before_label} (deployment{} {})",
                if deployments.len() > 1 { "s" } else { "" },
                deployments.join(", ")
            ));
            let _ = session
                .output
                .github_output("rolled_back_to", &before_label);
            format!("{}; rolled back to {before_label}", message(&failed.error))
        }
        Err(rollback_error) => format!(
            "{}; the automatic rollback to {before_label} failed too: {}",
            message(&failed.error),
            message(&rollback_error)
        ),
    };
    let state = pipeline
        .aftermath_with(
            releases,
            reported_health(environment, &failed.error, releases),
        )
        .await;
    let go_back = match &before.name {
        Some(name) => session
            .invocation
            .command(format_args!("rollback --to {name}")),
        None => session.invocation.command("rollback"),
    };
    let fix = if failed.fault == Fault::Release {
        format!(
            "{} did not go live. Fix it and tag a new version; if production is not on {before_label}, run `{go_back}`",
            failed.release,
        )
    } else {
        format!(
            "{} did not go live, and the release is not at fault: {} If production is not on {before_label}, run `{go_back}`",
            failed.release,
            failed
                .fault
                .advice(session, &failed.error, &failed.rerun, Some(&before_label)),
        )
    };
    let aftermath = Aftermath {
        cause,
        state,
        fix,
        exit: Exit::Failed,
    };
    summarize_failure(
        session,
        environment,
        failed.commit,
        Some(failed.release),
        &aftermath,
    );
    aftermath.into()
}

/// The failure of an environment's only app, an image app whose new image did not start.
pub(super) fn single_image_failure(
    pipeline: &Engine,
    environment: EnvironmentName,
    error: &anyhow::Error,
) -> Option<ImageNotStarted> {
    let missing = error.downcast_ref::<ImageNotStarted>()?;
    (pipeline.config.environment(environment).apps.len() == 1).then(|| missing.clone())
}

/// The end of a deploy whose new image did not start: the app is set back to its previous
/// tag, and the message says whether the previous release answered just now.
pub(super) async fn image_aftermath(
    pipeline: &Engine,
    releases: &Releases,
    error: &anyhow::Error,
    missing: &ImageNotStarted,
    session: &Session,
    (environment, commit, tag): (EnvironmentName, &str, Option<&ReleaseTag>),
    (untouched, rerun): (&str, &str),
) -> anyhow::Error {
    let mut state = pipeline.aftermath(releases).await;
    let what = match (&missing.restored, missing.previous_answers) {
        (Some(Ok(previous)), Some(true)) => format!(
            "; {environment} is set to image tag {previous} again and answered healthy just now: nothing changed"
        ),
        (Some(Ok(previous)), Some(false)) => format!(
            "; {environment} is set to image tag {previous} again, but its health endpoint did not prove the previous release just now: check the app in Coolify"
        ),
        (Some(Ok(previous)), None) => format!(
            "; {environment} is set to image tag {previous} again, as before this deploy (a tag of no known release, so its health was not checked)"
        ),
        (Some(Err(reason)), _) => format!(
            "; setting {environment} back to its previous image tag failed ({reason}): set the image tag back in Coolify before anything redeploys the app"
        ),
        (None, _) => format!("; {environment} had no image tag before, so it was left as it is"),
    };
    state.push_str(&what);
    let status = session.invocation.command("status");
    let fix = match (&missing.restored, missing.previous_answers) {
        (Some(Ok(_)), Some(true) | None) | (None, _) => {
            format!("{untouched} Push the image, then run `{rerun}`")
        }
        _ => format!(
            "{untouched} Find out why {environment}'s {} does not answer (`{status}`, the app's logs in Coolify); push the image, then run `{rerun}`",
            missing.label
        ),
    };
    let aftermath = Aftermath {
        cause: message(error),
        state,
        fix,
        exit: Exit::Failed,
    };
    summarize_failure(session, environment, commit, tag, &aftermath);
    aftermath.into()
}

/// What failed, as far as the advice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The release failed its own verification: its build failed or its probe did not pass.
    Release,
    /// The token was rejected or lacks an ability.
    Token,
    /// Coolify's deployment queue is full.
    QueueFull,
    /// Coolify or the way to it failed for a while: a timeout, a dropped connection, a 5xx.
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

impl Fault {
    pub(super) fn of(error: &anyhow::Error) -> Self {
        if Exit::of(error) == Exit::BadInput {
            return Self::Input;
        }
        for cause in error.chain() {
            if cause.is::<ProbeFailed>()
                || cause.is::<ContainerNotRunning>()
                || cause.is::<ImageNotStarted>()
            {
                return Self::Release;
            }
            if let Some(error) = cause.downcast_ref::<coolify_client::Error>() {
                return match error {
                    coolify_client::Error::DeploymentFailed { .. } => Self::Release,
                    coolify_client::Error::DeploymentCancelled { .. } => Self::Cancelled,
                    coolify_client::Error::PinChanged { .. } => Self::Concurrent,
                    coolify_client::Error::QueueFull { .. } => Self::QueueFull,
                    coolify_client::Error::PinRestored { source, .. } => match **source {
                        coolify_client::Error::QueueFull { .. } => Self::QueueFull,
                        ref inner if inner.is_token_problem() => Self::Token,
                        ref inner if inner.is_transient() => Self::Transient,
                        _ => Self::Other,
                    },
                    error if error.is_token_problem() => Self::Token,
                    error if error.is_transient() => Self::Transient,
                    _ => Self::Other,
                };
            }
        }
        Self::Other
    }

    /// What to do, for a failure that is not the release's.
    pub(super) fn advice(
        self,
        session: &Session,
        error: &anyhow::Error,
        rerun: &str,
        before: Option<&str>,
    ) -> String {
        let entries = session.journal.snapshot();
        let restored = error.chain().any(|cause| {
            matches!(
                cause.downcast_ref::<coolify_client::Error>(),
                Some(coolify_client::Error::PinRestored { .. })
            )
        });
        // A pin put back undoes this run's only change unless another app's deployment started.
        let unchanged = if entries.writes.is_empty() || (restored && entries.deployments.is_empty())
        {
            "Nothing was changed. "
        } else {
            ""
        };
        let ran_before = before
            .map(|before| format!(" (production ran {before} before)"))
            .unwrap_or_default();
        match self {
            Self::Token => format!(
                "{unchanged}The release is not at fault: give the token the `read`, `write` and `deploy` abilities (Keys & Tokens in Coolify), then run `{rerun}`"
            ),
            Self::QueueFull => format!(
                "{unchanged}The release is not at fault: wait until Coolify's deployment queue has room, then run `{rerun}`"
            ),
            Self::Transient => format!(
                "{unchanged}Coolify failed for a moment, not the release: run `{rerun}` again{ran_before}"
            ),
            Self::Concurrent => format!(
                "Another deploy of this app ran at the same time: once it ended, run `{}` and, if the release is not live, `{rerun}`",
                session.invocation.command("status")
            ),
            Self::Cancelled => {
                format!("The deployment was cancelled in Coolify: run `{rerun}` to deploy it again")
            }
            Self::Input => format!("{unchanged}Fix the input named above, then run `{rerun}`"),
            Self::Release | Self::Other => {
                format!("{unchanged}Fix the cause named above, then run `{rerun}`{ran_before}")
            }
        }
    }
}

/// What the health endpoint reported when a probe saw another version than the one deployed.
pub(super) fn reported_health(
    environment: EnvironmentName,
    error: &anyhow::Error,
    releases: &Releases,
) -> Option<(EnvironmentName, String)> {
    let probe = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ProbeFailed>())?;
    let health_probe::Verdict::Unhealthy {
        reason: health_probe::Failure::WrongVersion {
            pointer, actual, ..
        },
        ..
    } = &probe.0.verdict
    else {
        return None;
    };
    let reported = match actual {
        serde_json::Value::String(text) => match git2::Oid::from_str(text) {
            Ok(oid) if text.len() == 40 => {
                match releases
                    .at_commit(oid)
                    .last()
                    .map(|r| r.tag().name().to_owned())
                {
                    Some(tag) => format!("{} ({tag}) at `{pointer}`", short(text)),
                    None => format!("{} at `{pointer}`", short(text)),
                }
            }
            _ => format!("{text:?} at `{pointer}`"),
        },
        other => format!("{other} at `{pointer}`"),
    };
    Some((environment, reported))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn aftermath(
    pipeline: &Engine,
    releases: &Releases,
    error: anyhow::Error,
    fix: String,
    session: &Session,
    environment: EnvironmentName,
    commit: &str,
    tag: Option<&ReleaseTag>,
) -> anyhow::Error {
    let state = pipeline
        .aftermath_with(releases, reported_health(environment, &error, releases))
        .await;
    let mut cause = message(&error);
    if let Some(queue) = queue_contents(pipeline, &error).await {
        cause.push_str(&format!("; {queue}"));
    }
    let aftermath = Aftermath {
        cause,
        state,
        fix,
        exit: Exit::of(&error),
    };
    summarize_failure(session, environment, commit, tag, &aftermath);
    aftermath.into()
}

/// When Coolify's deployment queue was full: what it holds now.
pub(super) async fn queue_contents(pipeline: &Engine, error: &anyhow::Error) -> Option<String> {
    let full = error.chain().any(
        |cause| match cause.downcast_ref::<coolify_client::Error>() {
            Some(coolify_client::Error::QueueFull { .. }) => true,
            Some(coolify_client::Error::PinRestored { source, .. }) => {
                matches!(**source, coolify_client::Error::QueueFull { .. })
            }
            _ => false,
        },
    );
    if !full {
        return None;
    }
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        pipeline.coolify.deployments_in_flight(),
    )
    .await;
    Some(match read {
        Ok(Ok(deployments)) if deployments.is_empty() => {
            "Coolify's queue is empty again by now".to_owned()
        }
        Ok(Ok(deployments)) => {
            const SHOWN: usize = 5;
            let mut items: Vec<String> = deployments
                .iter()
                .take(SHOWN)
                .map(|deployment| {
                    let app = deployment.application_name.as_deref().unwrap_or("an app");
                    let commit = deployment
                        .resolved_commit()
                        .map(|commit| format!(" of {}", commit.short()))
                        .unwrap_or_default();
                    format!(
                        "{} ({app}{commit}, {})",
                        deployment.deployment_uuid, deployment.status
                    )
                })
                .collect();
            if deployments.len() > SHOWN {
                items.push(format!("and {} more", deployments.len() - SHOWN));
            }
            format!(
                "Coolify's queue holds {} deployment(s) now: {}",
                deployments.len(),
                items.join(", ")
            )
        }
        _ => "what Coolify's queue holds could not be read".to_owned(),
    })
}

/// Under GitHub Actions: the failure in the step summary (what failed, what each environment
/// runs now, the next command) and the `commit`, `tag` and `deployment` outputs.
pub(super) fn summarize_failure(
    session: &Session,
    environment: EnvironmentName,
    commit: &str,
    tag: Option<&ReleaseTag>,
    aftermath: &Aftermath,
) {
    let output = &session.output;
    let _ = output.github_output("commit", commit);
    if let Some(tag) = tag {
        let _ = output.github_output("tag", tag.name());
    }
    let started = session.journal.snapshot().deployments;
    if let Some((_, deployment)) = started.iter().rev().find(|(name, _)| *name == environment) {
        let _ = output.github_output("deployment", deployment);
    }
    let what = match tag {
        Some(tag) => format!("{tag} (`{}`)", short(commit)),
        None => format!("`{}`", short(commit)),
    };
    let deployments = if started.is_empty() {
        "none".to_owned()
    } else {
        started
            .iter()
            .map(|(name, deployment)| format!("`{deployment}` ({name})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = output.step_summary(&format!(
        "### {environment} deploy of {what} failed\n\n| | |\n| --- | --- |\n| what failed | {} |\n| deployments started | {deployments} |\n| now | {} |\n| next | {} |\n",
        table_cell(&aftermath.cause),
        table_cell(&aftermath.state),
        table_cell(&aftermath.fix)
    ));
}

/// Text safe in a Markdown table cell.
pub(super) fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
