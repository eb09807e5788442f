//! What a failed deploy tells the user, and the automatic rollback.

//!
//! Every decision here is a `match` on the rollout's typed outcome ([`RolloutFailure`]): whose
//! fault it is ([`Fault`]), whether anything changed, whether to roll back, what to advise.

use coolify_client::CommitSha;
use tag_policy::{ReleaseTag, Releases};

use super::AutoRollback;
use crate::config::EnvironmentName;
use crate::engine::record::{self, Recording};
use crate::engine::{Cause, Engine, EnvironmentLive, Fault, OnFailure, RolloutFailure, Target};
use crate::exit::Aftermath;
use crate::repo::{oid, short};
use release_record::{Purpose, ReleaseRef, Settlement};

/// A deploy whose rollout failed.
pub(super) struct Failed<'a> {
    /// The release it deployed, for production.
    pub(super) release: Option<&'a ReleaseTag>,
    /// The commit it deployed.
    pub(super) commit: &'a CommitSha,
    /// What the rollout established.
    pub(super) failure: RolloutFailure,
    /// What the command was doing, the start of the error line: `deploy production v1.2.0`.
    pub(super) context: String,
    /// The command that runs it again.
    pub(super) rerun: String,
    /// Whether the deploy was a rollback.
    pub(super) rollback: bool,
}

impl Failed<'_> {
    /// Whose fault it is.
    pub(super) fn fault(&self) -> Fault {
        self.failure.fault()
    }

    /// What failed, as a path of steps.
    fn message(&self) -> String {
        format!("{}: {}", self.context, self.failure.message)
    }

    /// The deployments the failed rollout started, with their environment.
    fn started(&self) -> Vec<(EnvironmentName, String)> {
        self.failure
            .deployments()
            .map(|deployment| (self.failure.environment, deployment.to_owned()))
            .collect()
    }
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
            .filter_map(|(app_index, live)| {
                let commit = live
                    .runs
                    .commit
                    .clone()
                    .filter(|before| before != release)?;
                let tag = oid(&commit)
                    .and_then(|oid| releases.at_commit(oid).last().map(|r| r.tag().clone()));
                let image_tag = live
                    .runs
                    .image_tag
                    .as_deref()
                    .and_then(|tag| tag.parse::<coolify_client::ImageTag>().ok());
                Some(Target {
                    app_index,
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
    engine: &Engine,
    failed: &Failed<'_>,
    before: &Before,
    redeploy: bool,
    auto_rollback: AutoRollback,
) -> String {
    let fault = failed.fault();
    if fault != Fault::Release {
        return advice(engine, fault, failed, before.name.as_deref());
    }
    let release = failed
        .release
        .map(ToString::to_string)
        .unwrap_or_else(|| failed.commit.short().to_owned());
    if failed.rollback {
        // A rollback that failed: the release production ran before is newer than the one it
        // went back to, so `rollback --to` it would be refused; deploy it forward instead.
        let back = match &before.name {
            Some(name) if before.tag.is_some() => format!(
                "; to return production to {name}, which it ran before this rollback, run `{}`",
                engine
                    .invocation
                    .command(format_args!("deploy production --tag {name}"))
            ),
            _ => String::new(),
        };
        return format!(
            "Staging was not touched. The rollback to {release} failed: see which release a rollback takes now with `{}`{back}",
            engine.invocation.command("rollback --dry-run")
        );
    }
    match (&before.name, before.tag.is_some()) {
        (Some(name), true) => format!(
            "Staging was not touched. Fix the release and tag a new version, or go back with `{}`",
            engine.invocation.command(format_args!("rollback --to {name}"))
        ),
        (Some(name), false) => format!(
            "Staging was not touched. Fix the release and tag a new version; production ran {name} before"
        ),
        (None, _) if !before.targets.is_empty() => format!(
            "Staging was not touched. Fix the release and tag a new version; production's apps ran {} before",
            before.described
        ),
        (None, _) if redeploy => format!(
            "Staging was not touched. Production already ran {release} before this deploy, so there was nothing older to restore automatically; read the deployment log, then deploy it again or run `{}`",
            engine.invocation.command("rollback")
        ),
        (None, _) if auto_rollback == AutoRollback::On => "Nothing to roll back to: production had no earlier finished deployment. Fix the release and tag a new version".to_owned(),
        (None, _) => "Staging was not touched. Fix the release and tag a new version".to_owned(),
    }
}

/// What to do about a failed staging deploy.
pub(super) fn fix_staging(engine: &Engine, failed: &Failed<'_>) -> String {
    if matches!(failed.failure.cause, Cause::DeploymentFailed { .. }) {
        // A commit Coolify cannot fetch fails its build too.
        return format!(
            "Production was not touched. Read the deployment's log in Coolify; if it could not fetch {}, the commit may not be on the remote Coolify builds from: push it, then run `{}` again",
            failed.commit.short(),
            failed.rerun
        );
    }
    match failed.fault() {
        Fault::Release | Fault::Other => format!(
            "Production was not touched. Fix the cause, then run `{}` again",
            failed.rerun
        ),
        fault => format!(
            "Production was not touched. {}",
            advice(engine, fault, failed, None)
        ),
    }
}

/// Put every app of production back on what it ran before a failed deploy, and describe
/// the result: what failed, what each environment runs now, and the next command.
pub(super) async fn roll_back(
    engine: &Engine,
    releases: &Releases,
    before: &Before,
    failed: Failed<'_>,
    recording: &mut Recording,
) -> anyhow::Error {
    let environment = EnvironmentName::Production;
    let before_label = before.label();
    let every_app = engine.config.environment(environment).has_several_apps();
    let failure = failed.message();
    engine.output.warn(format!(
        "{failure}; rolling production{} back to {before_label}",
        if every_app { "'s apps" } else { "" }
    ));
    let mut started = failed.started();
    let after = super::release_ref(failed.commit, failed.release);
    let to = match (&before.tag, before.commit()) {
        (Some(tag), Some(commit)) => super::release_ref(commit, Some(tag)),
        (None, Some(commit)) => ReleaseRef::commit(commit.clone()),
        (_, None) => after.clone(),
    };
    // Only the apps the failed rollout may have changed go back: the others run what they ran.
    let section = engine.config.environment(environment);
    let targets: Vec<Target> = before
        .targets
        .iter()
        .filter(|target| {
            section
                .apps
                .get(target.app_index)
                .is_some_and(|app| failed.failure.may_have_changed(app.uuid.as_str()))
        })
        .cloned()
        .collect();
    let unchanged = before.targets.len() - targets.len();
    let mut restore = engine.record.run(
        &engine.journal,
        &engine.config,
        environment,
        &targets
            .iter()
            .map(|target| target.app_index)
            .collect::<Vec<_>>(),
        &to,
        Purpose::Restore { after },
    );
    // How long the rollback took until Coolify reported its deployments finished, when it did.
    let mut rolled_back_in = None;
    let rolled_out = if targets.is_empty() {
        None
    } else {
        Some(
            engine
                .roll_out(environment, &targets, OnFailure::Restore, &mut restore)
                .await,
        )
    };
    let cause = match rolled_out {
        None => {
            let _ = engine.output.github_output("rolled_back_to", &before_label);
            recording
                .settle(&Settlement::rolled_back(
                    to.clone(),
                    &format!("production is back on {before_label}: no app needed a redeploy"),
                ))
                .await;
            format!(
                "{failure}; rolled back to {before_label}: no app needed a redeploy, this run changed none"
            )
        }
        Some(Ok(rollback)) => {
            rolled_back_in = Some(
                rollback
                    .timings
                    .trigger_ms
                    .saturating_add(rollback.timings.deployment_ms),
            );
            restore.settle(&record::verified(&rollback)).await;
            recording
                .settle(&Settlement::rolled_back(
                    to.clone(),
                    &format!("production is back on {before_label}"),
                ))
                .await;
            let deployments: Vec<&str> = rollback
                .apps
                .iter()
                .map(|app| app.deployment.as_str())
                .collect();
            started.extend(
                deployments
                    .iter()
                    .map(|deployment| (environment, (*deployment).to_owned())),
            );
            engine.output.step(format!(
                "production rolled back to {before_label} (deployment{} {})",
                if deployments.len() > 1 { "s" } else { "" },
                deployments.join(", ")
            ));
            let _ = engine.output.github_output("rolled_back_to", &before_label);
            // With apps the failed run never changed, say how many went back.
            let redeployed = match unchanged {
                0 => String::new(),
                unchanged => format!(
                    " ({} app{} redeployed, {unchanged} had not changed)",
                    deployments.len(),
                    if deployments.len() == 1 { "" } else { "s" },
                ),
            };
            format!("{failure}; rolled back to {before_label}{redeployed}")
        }
        Some(Err(rollback)) => {
            if let Some(settlement) = record::failed(&rollback) {
                restore.settle(&settlement).await;
            }
            started.extend(
                rollback
                    .deployments()
                    .map(|deployment| (environment, deployment.to_owned())),
            );
            format!(
                "{failure}; the automatic rollback to {before_label} failed too: {}",
                rollback.message
            )
        }
    };
    let state = engine
        .aftermath_with(releases, reported(&failed.failure))
        .await;
    let go_back = match &before.name {
        Some(name) => engine
            .invocation
            .command(format_args!("rollback --to {name}")),
        None => engine.invocation.command("rollback"),
    };
    let release = failed.release.map(ToString::to_string).unwrap_or_default();
    // Once its deployment finished, the release was what production served.
    let what_happened = match (&failed.failure.cause, rolled_back_in) {
        (Cause::ProbeFailed { outcome, .. }, Some(rollback_ms)) => format!(
            "{release} served production for about {} after its deployment finished, then was rolled back",
            crate::engine::seconds(
                crate::engine::millis(outcome.elapsed).saturating_add(rollback_ms)
            )
        ),
        (Cause::ContainerNotRunning { .. }, Some(_)) => {
            format!(
                "{release} was deployed to production, failed its verification and was rolled back"
            )
        }
        (Cause::ProbeFailed { .. } | Cause::ContainerNotRunning { .. }, None) => {
            format!("{release} was deployed to production and failed its verification")
        }
        _ => format!("{release} did not go live"),
    };
    let fix = match failed.fault() {
        Fault::Release => format!(
            "{what_happened}. Fix it and tag a new version; if production is not on {before_label}, run `{go_back}`",
        ),
        fault => format!(
            "{release} did not go live. {} If production is not on {before_label}, run `{go_back}`",
            advice(engine, fault, &failed, Some(&before_label)),
        ),
    };
    let aftermath = Aftermath {
        cause,
        state,
        fix,
        exit: crate::exit::Exit::Failed,
        rollout: serde_json::to_value(&failed.failure).ok(),
    };
    summarize_failure(
        engine,
        environment,
        failed.commit.as_str(),
        failed.release,
        &started,
        &aftermath,
    );
    aftermath.into()
}

/// Whether the failure is an image that did not start on the environment's only app: the
/// app was set back to its previous tag, so nothing needs rolling back.
pub(super) fn is_single_image_failure(engine: &Engine, failure: &RolloutFailure) -> bool {
    matches!(failure.cause, Cause::ImageNotStarted { .. })
        && engine.config.environment(failure.environment).apps.len() == 1
}

/// The end of a deploy whose new image did not start: the app is set back to its previous
/// tag, and the message says whether the previous release answered just now.
pub(super) async fn image_aftermath(
    engine: &Engine,
    releases: &Releases,
    failed: &Failed<'_>,
    untouched: &str,
) -> anyhow::Error {
    let environment = failed.failure.environment;
    let Cause::ImageNotStarted {
        restored,
        previous_answers,
        ..
    } = &failed.failure.cause
    else {
        return aftermath(engine, releases, failed, untouched.to_owned()).await;
    };
    let label = failed
        .failure
        .apps
        .iter()
        .find(|app| Some(&app.app) == failed.failure.app.as_ref())
        .map(|app| app.label.clone())
        .unwrap_or_default();
    let mut state = engine.aftermath(releases).await;
    let what = match (restored, previous_answers) {
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
    let status = engine.invocation.command("status");
    let rerun = &failed.rerun;
    let fix = match (restored, previous_answers) {
        (Some(Ok(_)), Some(true) | None) | (None, _) => {
            format!("{untouched} Push the image, then run `{rerun}`")
        }
        _ => format!(
            "{untouched} Find out why {environment}'s {label} does not answer (`{status}`, the app's logs in Coolify); push the image, then run `{rerun}`",
        ),
    };
    let aftermath = Aftermath {
        cause: failed.message(),
        state,
        fix,
        exit: crate::exit::Exit::Failed,
        rollout: serde_json::to_value(&failed.failure).ok(),
    };
    summarize_failure(
        engine,
        environment,
        failed.commit.as_str(),
        failed.release,
        &failed.started(),
        &aftermath,
    );
    aftermath.into()
}

/// What to do, for a failure that is not the release's.
fn advice(engine: &Engine, fault: Fault, failed: &Failed<'_>, before: Option<&str>) -> String {
    let rerun = &failed.rerun;
    let unchanged = if failed.failure.nothing_changed() {
        "Nothing was changed. "
    } else {
        ""
    };
    let ran_before = before
        .map(|before| format!(" (production ran {before} before)"))
        .unwrap_or_default();
    match fault {
        Fault::Token => format!(
            "{unchanged}The release is not at fault: give the token the `read`, `write` and `deploy` abilities (Keys & Tokens in Coolify), then run `{rerun}`"
        ),
        Fault::QueueFull => format!(
            "{unchanged}The release is not at fault: wait until Coolify's deployment queue has room, then run `{rerun}`"
        ),
        Fault::Transient => format!(
            "{unchanged}Coolify failed for a moment, not the release: run `{rerun}` again{ran_before}"
        ),
        Fault::Concurrent => format!(
            "Another deploy of this app ran at the same time: once it ended, run `{}` and, if the release is not live, `{rerun}`",
            engine.invocation.command("status")
        ),
        Fault::Cancelled => {
            format!("The deployment was cancelled in Coolify: run `{rerun}` to deploy it again")
        }
        Fault::Input => format!("{unchanged}Fix the input named above, then run `{rerun}`"),
        Fault::Release | Fault::Other => {
            format!("{unchanged}Fix the cause named above, then run `{rerun}`{ran_before}")
        }
    }
}

/// What an environment's health endpoint reported when its probe saw another version.
fn reported(failure: &RolloutFailure) -> Option<(EnvironmentName, String)> {
    failure
        .reported_health()
        .map(|reported| (failure.environment, reported.to_owned()))
}

/// The error a failed deploy ends with: what failed (with what Coolify's queue held, when it
/// was full), what each environment runs now, and `fix`.
pub(super) async fn aftermath(
    engine: &Engine,
    releases: &Releases,
    failed: &Failed<'_>,
    fix: String,
) -> anyhow::Error {
    let state = engine
        .aftermath_with(releases, reported(&failed.failure))
        .await;
    let mut cause = failed.message();
    if let Cause::Coolify {
        queue: Some(queue), ..
    } = &failed.failure.cause
    {
        cause.push_str(&format!("; {queue}"));
    }
    let aftermath = Aftermath {
        cause,
        state,
        fix,
        exit: failed.failure.exit(),
        rollout: serde_json::to_value(&failed.failure).ok(),
    };
    summarize_failure(
        engine,
        failed.failure.environment,
        failed.commit.as_str(),
        failed.release,
        &failed.started(),
        &aftermath,
    );
    aftermath.into()
}

/// Under GitHub Actions: the failure in the step summary (what failed, the deployments it
/// started, what each environment runs now, the next command) and the `commit`, `tag` and
/// `deployment` outputs.
fn summarize_failure(
    engine: &Engine,
    environment: EnvironmentName,
    commit: &str,
    tag: Option<&ReleaseTag>,
    started: &[(EnvironmentName, String)],
    aftermath: &Aftermath,
) {
    let output = &engine.output;
    let _ = output.github_output("commit", commit);
    if let Some(tag) = tag {
        let _ = output.github_output("tag", tag.name());
    }
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
pub(crate) fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
