//! `deploy staging` and `deploy production`.
//!
//! Staging takes any commit; production takes only a release tag that the policy admits,
//! whose commit finished deploying on staging, that is not older than what production runs,
//! and it never stacks a deployment on one already in flight.

use std::fmt;

use anyhow::Context as _;
use coolify_client::{Client, CommitSha, ForceRebuild};
use serde::Serialize;
use tag_policy::{ReleaseTag, Releases, TaggedRelease};

use crate::config::{EnvironmentName, StagingGate};
use crate::engine::{Engine, Settled, Target, seconds};
use crate::exit::{Aftermath, BadInput, Exit, Refused, message};
use crate::repo::{commit_sha, oid, short};
use crate::session::{DryRun, Session};

pub use crate::engine::cost::{Cost, RollbackCost};
pub use crate::engine::{
    AppLive, AppRollout, ContainerNotRunning, EnvironmentLive, ImageNotStarted, InFlight, Live,
    ProbeFailed, Rollout, Timings,
};

/// Options of `deploy staging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingOptions {
    /// The revision to deploy.
    pub commit: String,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl StagingOptions {
    /// Deploy `HEAD`.
    pub fn head() -> Self {
        Self::revision("HEAD")
    }

    /// Deploy a revision.
    pub fn revision(revision: impl Into<String>) -> Self {
        Self {
            commit: revision.into(),
            dry_run: DryRun::No,
        }
    }
}

/// `--auto-rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoRollback {
    /// Leave production as the failure left it.
    #[default]
    Off,
    /// Redeploy the release that was live before, then fail.
    On,
}

/// `--skip-staging-gate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GateCheck {
    /// Check the staging gate if the config requires it.
    #[default]
    AsConfigured,
    /// Skip it for this deploy.
    Skip,
}

/// Options of `deploy production`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionOptions {
    /// The release tag.
    pub tag: String,
    /// `--auto-rollback`.
    pub auto_rollback: AutoRollback,
    /// `--skip-staging-gate`.
    pub gate: GateCheck,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl ProductionOptions {
    /// Deploy `tag` with the defaults.
    pub fn tag(tag: impl Into<String>) -> Self {
        Self {
            tag: tag.into(),
            auto_rollback: AutoRollback::Off,
            gate: GateCheck::AsConfigured,
            dry_run: DryRun::No,
        }
    }
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Deployed and verified.
    Deployed,
    /// Already live and healthy: nothing done.
    AlreadyLive,
    /// `--dry-run`: only planned.
    Planned,
}

/// The result of `deploy staging`, `deploy production` and `rollback`.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The commit.
    pub commit: String,
    /// The release tag, if any.
    pub tag: Option<String>,
    /// What was done.
    pub action: Action,
    /// What the environment ran before.
    pub previous: Option<String>,
    /// The deployment and its evidence, when one ran.
    pub rollout: Option<Rollout>,
    /// With `--dry-run`: the writes that would be made.
    pub planned: Vec<String>,
    /// With `rollback --dry-run`: what deploying the release again costs on each app.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub costs: Vec<RollbackCost>,
}

impl fmt::Display for DeployReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.tag {
            Some(tag) => format!("{tag} ({})", short(&self.commit)),
            None => short(&self.commit).to_owned(),
        };
        match self.action {
            Action::Deployed => {
                write!(f, "{} now serves {what}", self.environment)?;
                if let Some(rollout) = &self.rollout {
                    match rollout.apps.as_slice() {
                        [] | [_] => write!(f, ": deployment {}", rollout.deployment)?,
                        apps => {
                            for (index, app) in apps.iter().enumerate() {
                                let separator = if index == 0 { ":" } else { "," };
                                write!(
                                    f,
                                    "{separator} {} runs {what} (deployment {})",
                                    app.label, app.deployment
                                )?;
                            }
                        }
                    }
                    write!(f, ", {}", rollout.timings)?;
                }
                Ok(())
            }
            Action::AlreadyLive => write!(
                f,
                "{} already runs {what} and is healthy: nothing to do",
                self.environment
            ),
            Action::Planned => {
                write!(f, "dry run: would deploy {what} to {}:", self.environment)?;
                for write in &self.planned {
                    write!(f, "\n  - {write}")?;
                }
                for cost in &self.costs {
                    if self.costs.len() > 1 {
                        write!(f, "\ncost on {}: {}", cost.label, cost.cost)?;
                    } else {
                        write!(f, "\ncost: {}", cost.cost)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl DeployReport {
    fn summary(&self) -> String {
        let mut text = format!(
            "### {} deploy\n\n| | |\n| --- | --- |\n| commit | `{}` |\n",
            self.environment, self.commit
        );
        if let Some(tag) = &self.tag {
            text.push_str(&format!("| tag | `{tag}` |\n"));
        }
        if let Some(previous) = &self.previous {
            text.push_str(&format!("| previous | {previous} |\n"));
        }
        match &self.rollout {
            Some(rollout) => text.push_str(&format!(
                "| deployment | `{}` |\n| deployment time | {} |\n| probe time | {} ({} attempts) |\n| total | {} |\n",
                rollout.deployment,
                seconds(rollout.timings.deployment_ms),
                seconds(rollout.timings.probe_ms),
                rollout.probe.as_ref().map_or(0, health_probe::Outcome::attempt_count),
                seconds(rollout.timings.total_ms)
            )),
            None => text.push_str(&format!("| result | {} |\n", self)),
        }
        for app in self.rollout.iter().flat_map(|rollout| &rollout.apps) {
            if self
                .rollout
                .as_ref()
                .is_some_and(|rollout| rollout.apps.len() > 1)
            {
                let image = app
                    .image_tag
                    .as_deref()
                    .map(|tag| format!(", image tag `{tag}`"))
                    .unwrap_or_default();
                text.push_str(&format!(
                    "| {} | deployment `{}`{image} |\n",
                    table_cell(&app.label),
                    app.deployment
                ));
            }
        }
        text
    }
}

/// Deploy a commit to staging and wait until staging serves it.
///
/// # Errors
///
/// [`BadInput`] for an unknown revision or a bad config; a failed deployment or probe, with
/// what each environment runs now.
pub async fn staging(session: &Session, options: &StagingOptions) -> anyhow::Result<DeployReport> {
    let environment = EnvironmentName::Staging;
    let pipeline = Engine::open(session).context("deploy staging")?;
    let commit = pipeline
        .repo
        .resolve_commit(&options.commit)
        .context("deploy staging")?;
    if pipeline.repo.is_on_a_remote_branch(commit) == Some(false) {
        session.output.warn(format!(
            "{} is on no remote branch: Coolify clones from the remote and cannot build it until it is pushed",
            short(&commit.to_string())
        ));
    }
    let releases = pipeline.releases()?;
    let tag = releases.at_commit(commit).last().map(|r| r.tag().clone());
    let sha = commit_sha(commit).context("deploy staging")?;
    let commit = sha.to_string();
    // From here on an interruption can say what this run changed.
    session.journal.track(format!(
        "deploy staging --commit {commit}{}",
        if options.dry_run.is_dry() {
            " --dry-run"
        } else {
            ""
        }
    ));
    let live = pipeline
        .live(environment, &releases)
        .await
        .context("deploy staging")?;

    if options.dry_run.is_dry() {
        let planned = plan(&pipeline, environment, &sha, tag.as_ref())?;
        return finish(
            session,
            DeployReport {
                environment,
                commit,
                tag: tag.map(|t| t.name().to_owned()),
                action: Action::Planned,
                previous: (!live.is_empty()).then(|| live.describe()),
                rollout: None,
                planned,
                costs: Vec::new(),
            },
        );
    }

    let targets = Target::every_app(&pipeline.config, environment, &sha, tag.as_ref());
    match pipeline.roll_out(environment, &targets).await {
        Ok(rollout) => finish(
            session,
            DeployReport {
                environment,
                commit,
                tag: tag.map(|t| t.name().to_owned()),
                action: Action::Deployed,
                previous: (!live.is_empty()).then(|| live.describe()),
                rollout: Some(rollout),
                planned: Vec::new(),
                costs: Vec::new(),
            },
        ),
        Err(error) => {
            let error = error.context(format!("deploy staging {}", short(&commit)));
            let rerun = session
                .invocation
                .command(format_args!("deploy staging --commit {commit}"));
            if let Some(missing) = single_image_failure(&pipeline, environment, &error) {
                return Err(image_aftermath(
                    &pipeline,
                    &releases,
                    &error,
                    &missing,
                    session,
                    (environment, &commit, tag.as_ref()),
                    ("Production was not touched.", &rerun),
                )
                .await);
            }
            let fix = match Fault::of(&error) {
                Fault::Release | Fault::Other => {
                    format!("Production was not touched. Fix the cause, then run `{rerun}` again")
                }
                fault => format!(
                    "Production was not touched. {}",
                    fault.advice(session, &error, &rerun, None)
                ),
            };
            Err(aftermath(
                &pipeline,
                &releases,
                error,
                fix,
                session,
                environment,
                &commit,
                tag.as_ref(),
            )
            .await)
        }
    }
}

/// Deploy a release tag to production, gated on staging.
///
/// # Errors
///
/// [`BadInput`] for a malformed, unknown or pre-release tag (before anything is contacted);
/// [`Refused`] when the staging gate is not met, the tag is older than production's, or a
/// deployment stays in flight; a failed deployment or probe (after an automatic rollback when
/// asked), with what each environment runs now.
pub async fn production(
    session: &Session,
    options: &ProductionOptions,
) -> anyhow::Result<DeployReport> {
    let context = format!("deploy production {}", options.tag);
    let repo = session.open_repo().context(context.clone())?;
    let config = session.load_config(&repo).context(context.clone())?;
    // The tag policy first: nothing is contacted for a tag that may not go to production.
    let release = release_for_production(&session.invocation, &repo, &config.tags, &options.tag)
        .context(context.clone())?;
    // From here on an interruption can say what this run changed.
    let mut rerun = format!("deploy production --tag {}", options.tag);
    for (set, flag) in [
        (
            options.auto_rollback == AutoRollback::On,
            " --auto-rollback",
        ),
        (options.gate == GateCheck::Skip, " --skip-staging-gate"),
        (options.dry_run.is_dry(), " --dry-run"),
    ] {
        if set {
            rerun.push_str(flag);
        }
    }
    session.journal.track(rerun);
    let pipeline = Engine::open(session).context(context.clone())?;
    let releases = pipeline.releases()?;
    let commit = release.commit().to_string();

    if options.gate == GateCheck::AsConfigured
        && pipeline.config.deploy.staging_gate == StagingGate::Required
    {
        check_staging_gate(&pipeline, &release)
            .await
            .context(context.clone())?;
    } else {
        session.output.warn(format!(
            "the staging gate is skipped: {} ({}) goes to production without proof that staging ran it",
            release.tag(),
            short(&commit)
        ));
    }

    let settled = pipeline
        .settle_production(&releases, options.dry_run)
        .await
        .context(context.clone())?;
    refuse_downgrade(
        &session.invocation,
        &releases,
        &settled.live,
        &release,
        "deploy production",
    )
    .context(context.clone())?;

    deploy_release(
        session,
        &pipeline,
        &releases,
        &release,
        &settled,
        options.auto_rollback,
        options.dry_run,
        &context,
    )
    .await
}

/// Put a release on production (shared by `deploy production` and `rollback`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn deploy_release(
    session: &Session,
    pipeline: &Engine,
    releases: &Releases,
    release: &TaggedRelease,
    settled: &Settled,
    auto_rollback: AutoRollback,
    dry_run: DryRun,
    context: &str,
) -> anyhow::Result<DeployReport> {
    let environment = EnvironmentName::Production;
    let sha = commit_sha(release.commit()).context(context.to_owned())?;
    let commit = sha.to_string();
    let live = &settled.live;
    // Deployments of this very commit that were in flight and finished: this run joined them.
    let joined = (!settled.waited.is_empty()
        && settled
            .waited
            .iter()
            .all(|waited| waited.finished && waited.commit.as_ref() == Some(&sha)))
    .then(|| settled.waited.first())
    .flatten();
    // What ran before: before the joined deployment, or once the one waited for ended.
    let before_live = if joined.is_some() {
        &settled.before
    } else {
        live
    };
    let previous = (!before_live.is_empty()).then(|| before_live.describe());
    let report = |action: Action, rollout: Option<Rollout>, planned: Vec<String>| DeployReport {
        environment,
        commit: commit.clone(),
        tag: Some(release.tag().name().to_owned()),
        action,
        previous: previous.clone(),
        rollout,
        planned,
        costs: Vec::new(),
    };
    let targets = Target::every_app(&pipeline.config, environment, &sha, Some(release.tag()));

    // Idempotent: a release that is live on every app and answers healthy is left alone.
    if live.commit() == Some(&sha) && live.in_flight().is_none() {
        let probe_started = std::time::Instant::now();
        let outcomes = pipeline
            .probe(environment, &targets)
            .await
            .context(context.to_owned())?;
        let failing = outcomes.iter().find(|(_, outcome)| !outcome.is_healthy());
        if failing.is_none() {
            if let Some(joined) = joined {
                let deployment_ms = crate::engine::millis(joined.waited);
                let probe_ms = crate::engine::millis(probe_started.elapsed());
                let rollout = Rollout {
                    environment,
                    commit: commit.clone(),
                    tag: Some(release.tag().name().to_owned()),
                    deployment: joined.deployment.clone(),
                    joined_existing: true,
                    timings: Timings {
                        trigger_ms: 0,
                        deployment_ms,
                        probe_ms,
                        total_ms: deployment_ms.saturating_add(probe_ms),
                    },
                    probe: outcomes.into_iter().next().map(|(_, outcome)| outcome),
                    apps: Vec::new(),
                };
                return finish(session, report(Action::Deployed, Some(rollout), Vec::new()));
            }
            return finish(session, report(Action::AlreadyLive, None, Vec::new()));
        }
        if let Some((_, outcome)) = failing {
            session.output.warn(format!(
                "production runs {} but is not healthy ({}); deploying it again",
                release.tag(),
                outcome.verdict
            ));
        }
    }

    if dry_run.is_dry() {
        let mut planned = plan(pipeline, environment, &sha, Some(release.tag()))?;
        for app in live.apps.iter().rev() {
            if let Some(in_flight) = &app.live.in_flight {
                planned.insert(
                    0,
                    format!(
                        "wait for production deployment {} ({}) to end",
                        in_flight.deployment, in_flight.status
                    ),
                );
            }
        }
        return finish(session, report(Action::Planned, None, planned));
    }

    let error = match pipeline.roll_out(environment, &targets).await {
        Ok(rollout) => {
            return finish(session, report(Action::Deployed, Some(rollout), Vec::new()));
        }
        Err(error) => error.context(context.to_owned()),
    };

    let before = Before::of(before_live, releases, &sha);
    let fault = Fault::of(&error);
    let rerun = session.invocation.command(
        session
            .journal
            .snapshot()
            .rerun
            .unwrap_or_else(|| format!("deploy production --tag {}", release.tag())),
    );
    // A new image that did not start leaves the old container running: nothing to roll back.
    if let Some(missing) = single_image_failure(pipeline, environment, &error) {
        return Err(image_aftermath(
            pipeline,
            releases,
            &error,
            &missing,
            session,
            (environment, &commit, Some(release.tag())),
            ("Staging was not touched.", &rerun),
        )
        .await);
    }
    // Production's code changes only through a deployment: roll back only when this run
    // started one (a failed build, a failed probe), never after a refused pin or deploy.
    let started_one = session
        .journal
        .snapshot()
        .deployments
        .iter()
        .any(|(name, _)| *name == environment);
    let failed = Failed {
        release: release.tag(),
        commit: &commit,
        error,
        fault,
        rerun,
    };
    match (auto_rollback, before.commit()) {
        (AutoRollback::On, Some(_)) if started_one => {
            Err(roll_back(session, pipeline, releases, &before, failed).await)
        }
        _ => {
            let fix = fix_without_rollback(
                session,
                &failed,
                &before,
                before_live.commit() == Some(&sha),
                auto_rollback,
            );
            Err(aftermath(
                pipeline,
                releases,
                failed.error,
                fix,
                session,
                environment,
                &commit,
                Some(release.tag()),
            )
            .await)
        }
    }
}

/// A production deploy that failed.
struct Failed<'a> {
    /// The release it deployed.
    release: &'a ReleaseTag,
    /// The release's full commit SHA.
    commit: &'a str,
    /// Why.
    error: anyhow::Error,
    /// Whose fault.
    fault: Fault,
    /// The command that runs it again.
    rerun: String,
}

/// What production's apps ran before a deploy, where it differs from the release.
struct Before {
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
    fn of(live: &EnvironmentLive, releases: &Releases, release: &CommitSha) -> Self {
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
    fn commit(&self) -> Option<&CommitSha> {
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
fn fix_without_rollback(
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
async fn roll_back(
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
fn single_image_failure(
    pipeline: &Engine,
    environment: EnvironmentName,
    error: &anyhow::Error,
) -> Option<ImageNotStarted> {
    let missing = error.downcast_ref::<ImageNotStarted>()?;
    (pipeline.config.environment(environment).apps.len() == 1).then(|| missing.clone())
}

/// The end of a deploy whose new image did not start: the app is set back to its previous
/// tag, and the message says whether the previous release answered just now.
async fn image_aftermath(
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
enum Fault {
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
    fn of(error: &anyhow::Error) -> Self {
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
    fn advice(
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
fn reported_health(
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

/// Parse, admit and find a tag for production.
pub(crate) fn release_for_production(
    invocation: &crate::Invocation,
    repo: &crate::repo::Repo,
    policy: &tag_policy::TagPolicy,
    name: &str,
) -> anyhow::Result<TaggedRelease> {
    let tag = policy.parse(name).map_err(|error| {
        BadInput(format!(
            "{error}; production takes release tags like {}1.4.2",
            policy.prefix()
        ))
    })?;
    policy
        .admit_to_production(&tag)
        .map_err(|error| BadInput(error.to_string()))?;
    tag_policy::find_release(repo.git(), policy, name).map_err(|error| match error {
        tag_policy::Error::TagNotFound { .. } => BadInput(format!(
            "tag `{name}` does not exist in {}; fetch it (`git fetch --tags`) or create it with `{}`",
            repo.root().display(),
            invocation.command("release")
        ))
        .into(),
        other => anyhow::Error::new(other).context(format!("read tag {name}")),
    })
}

async fn check_staging_gate(pipeline: &Engine, release: &TaggedRelease) -> anyhow::Result<()> {
    let sha = commit_sha(release.commit()).context("check the staging gate")?;
    let commit = sha.as_str();
    let staging = &pipeline.config.staging;
    let several = staging.has_several_apps();
    let mut missing = Vec::new();
    let mut reasons = Vec::new();
    for app in &staging.apps {
        if app.image.is_some() {
            match image_gate(pipeline, app, &sha, release).await? {
                None => continue,
                Some(reason) => {
                    reasons.push(reason);
                    missing.push(app);
                    continue;
                }
            }
        }
        let evidence = pipeline
            .coolify
            .find_finished_deployment_of_commit(&app.uuid, &sha)
            .await
            .context("check the staging gate")?;
        match evidence {
            Some(deployment) if several => pipeline.output.step(format!(
                "staging gate: {} ({}) finished on staging's {} in deployment {}",
                release.tag(),
                short(commit),
                app.label,
                deployment.deployment_uuid
            )),
            Some(deployment) => pipeline.output.step(format!(
                "staging gate: {} ({}) finished on staging in deployment {}",
                release.tag(),
                short(commit),
                deployment.deployment_uuid
            )),
            None => missing.push(app),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let deploy = pipeline
        .invocation
        .command(format_args!("deploy staging --commit {commit}"));
    if !reasons.is_empty() {
        return Err(Refused(format!(
            "staging gate: {} ({}) is not verified on staging: {}; deploy it to staging first with `{deploy}`",
            release.tag(),
            short(commit),
            reasons.join("; ")
        ))
        .into());
    }
    Err(if several {
        let apps: Vec<String> = missing
            .iter()
            .map(|app| format!("{} (app {})", app.label, app.uuid))
            .collect();
        Refused(format!(
            "staging gate: commit {commit} ({}) has no finished deployment on staging's {}; every app of staging must run it first: deploy it to staging with `{deploy}`",
            release.tag(),
            apps.join(" and ")
        ))
    } else {
        Refused(format!(
            "staging gate: commit {commit} ({}) has no finished staging deployment; deploy it to staging first with `{deploy}`",
            release.tag(),
        ))
    }
    .into())
}

/// The staging gate for an image app. Coolify keeps no record of which tag a deployment ran
/// (its rows say `HEAD`), so it holds when the app is set to the commit's tag now, its newest
/// deployment finished, and its health endpoint reports the commit now (an app without one:
/// its container runs). `None` when it holds, else why not.
async fn image_gate(
    pipeline: &Engine,
    app: &crate::config::AppConfig,
    sha: &CommitSha,
    release: &TaggedRelease,
) -> anyhow::Result<Option<String>> {
    let Some(image) = &app.image else {
        return Ok(None);
    };
    let commit = sha.as_str();
    let name = format!("staging's {} (app {})", app.label, app.uuid);
    let expected = match image.tag.expand(commit, None) {
        Ok(expected) => expected,
        Err(reason) => return Ok(Some(format!("{name}: {reason}"))),
    };
    let application = pipeline
        .coolify
        .application(&app.uuid)
        .await
        .context("check the staging gate")?;
    let current = application
        .docker_registry_image_tag
        .as_deref()
        .unwrap_or("latest");
    if current != expected.as_str() {
        return Ok(Some(format!(
            "{name} is set to image tag {current}, not {expected}"
        )));
    }
    let latest = pipeline
        .coolify
        .deployments(&app.uuid, 0, 1)
        .await
        .context("check the staging gate")?
        .deployments
        .into_iter()
        .next();
    match latest {
        Some(deployment) if deployment.status == coolify_client::DeploymentStatus::Finished => {}
        Some(deployment) => {
            return Ok(Some(format!(
                "{name}'s newest deployment {} is {}",
                deployment.deployment_uuid, deployment.status
            )));
        }
        None => return Ok(Some(format!("{name} has no deployment"))),
    }
    match pipeline.probe_spec(EnvironmentName::Staging, app, commit, None)? {
        Some(spec) => {
            let attempt = pipeline.prober.check(&spec).await;
            if !attempt.passed() {
                return Ok(Some(format!(
                    "{name}'s health endpoint does not report {} now ({attempt})",
                    short(commit)
                )));
            }
        }
        None => {
            let status = application.container_status();
            if !status.is_running_ok() {
                return Ok(Some(format!(
                    "{name}'s container is {}",
                    application.status.as_deref().unwrap_or("unknown")
                )));
            }
        }
    }
    pipeline.output.step(format!(
        "staging gate: {} ({}) runs on {name} as {}:{expected}, and answers now",
        release.tag(),
        short(commit),
        image.name
    ));
    Ok(None)
}

/// Refuse to deploy a release older than production's unless it is a rollback.
pub(crate) fn refuse_downgrade(
    invocation: &crate::Invocation,
    releases: &Releases,
    live: &EnvironmentLive,
    target: &TaggedRelease,
    verb: &str,
) -> anyhow::Result<()> {
    // Commits before versions: the commit production runs is never a downgrade of itself,
    // whichever of its tags is named.
    if live.commit().and_then(oid) == Some(target.commit()) {
        return Ok(());
    }
    let target = target.tag();
    let Some(current) = live.current_release(releases) else {
        return Ok(());
    };
    if target.cmp_precedence(&current).is_lt() {
        return Err(Refused(format!(
            "{target} is older than {current}, which production runs; `{verb}` only moves forward: to go back, run `{}`",
            invocation.command(format_args!("rollback --to {target}"))
        ))
        .into());
    }
    Ok(())
}

fn plan(
    pipeline: &Engine,
    environment: EnvironmentName,
    sha: &CommitSha,
    tag: Option<&ReleaseTag>,
) -> anyhow::Result<Vec<String>> {
    let commit = sha.as_str();
    let section = pipeline.config.environment(environment);
    let mut planned: Vec<String> = Vec::new();
    for app in &section.apps {
        let requests = match &app.image {
            Some(image) => {
                let image_tag = image
                    .tag
                    .expand(commit, tag.map(ReleaseTag::version_str))
                    .map_err(|reason| {
                        BadInput(format!(
                            "{}: `image_tag` of {environment}'s {}: {reason}",
                            pipeline.config.path.display(),
                            app.label
                        ))
                    })?;
                Client::planned_deploy_image_tag(&app.uuid, &image_tag)
            }
            None => Client::planned_deploy_commit(&app.uuid, sha, ForceRebuild::No),
        };
        planned.extend(requests.iter().map(ToString::to_string));
    }
    planned.push(format!(
        "follow the deployment{} until it ends (deadline {})",
        if section.has_several_apps() { "s" } else { "" },
        humantime::format_duration(pipeline.config.deploy.timeout)
    ));
    for app in &section.apps {
        match pipeline.probe_spec(environment, app, commit, tag)? {
            Some(spec) => planned.push(format!(
                "probe {} until it reports {} ({} consecutive passes, deadline {})",
                spec.url(),
                short(commit),
                spec.success_threshold(),
                humantime::format_duration(spec.deadline())
            )),
            None => planned.push(format!(
                "watch the container of {} (app {}) for {}: it must stay running",
                app.label,
                app.uuid,
                humantime::format_duration(
                    crate::engine::CONTAINER_CHECK_INTERVAL * (crate::engine::CONTAINER_CHECKS - 1)
                )
            )),
        }
    }
    Ok(planned)
}

#[allow(clippy::too_many_arguments)]
async fn aftermath(
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
async fn queue_contents(pipeline: &Engine, error: &anyhow::Error) -> Option<String> {
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
fn summarize_failure(
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
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn finish(session: &Session, report: DeployReport) -> anyhow::Result<DeployReport> {
    if report.action != Action::Planned {
        session.output.github_output("commit", &report.commit)?;
        if let Some(tag) = &report.tag {
            session.output.github_output("tag", tag)?;
        }
        if let Some(rollout) = &report.rollout {
            session
                .output
                .github_output("deployment", &rollout.deployment)?;
        }
        session.output.step_summary(&report.summary())?;
    }
    Ok(report)
}
