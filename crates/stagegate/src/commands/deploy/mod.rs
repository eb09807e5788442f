//! `deploy staging` and `deploy production`.
//!
//! Staging takes any commit; production takes only a release tag that the policy admits,
//! whose commit finished deploying on staging, that is not older than what production runs,
//! and it never stacks a deployment on one already in flight.

use std::fmt;

use anyhow::Context as _;
use serde::Serialize;
use tag_policy::{Releases, TaggedRelease};

use crate::config::{EnvironmentName, StagingGate};
use crate::engine::{Engine, Settled, Target, seconds};
use crate::repo::{commit_sha, short};
use crate::session::{DryRun, Session};

mod failure;

use self::failure::{
    Before, Failed, Fault, aftermath, fix_without_rollback, image_aftermath, roll_back,
    single_image_failure, table_cell,
};
use crate::engine::gate::check_staging_gate;
pub(crate) use crate::engine::gate::{refuse_downgrade, release_for_production};

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
        let planned = pipeline.plan(environment, &sha, tag.as_ref())?;
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
        let mut planned = pipeline.plan(environment, &sha, Some(release.tag()))?;
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
