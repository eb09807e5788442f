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
use crate::engine::record;
use crate::engine::{Engine, OnFailure, Settled, Target, seconds};
use crate::repo::{commit_sha, short};
use crate::session::{DryRun, Session};
use coolify_client::CommitSha;
use release_record::{Purpose, ReleaseRef};
use tag_policy::ReleaseTag;

mod failure;

pub(crate) use self::failure::table_cell;
use self::failure::{
    Before, Failed, aftermath, fix_staging, fix_without_rollback, image_aftermath,
    is_single_image_failure, roll_back,
};
use crate::engine::gate::staging_gate;
pub(crate) use crate::engine::gate::{refuse_downgrade, release_for_production};

pub use crate::engine::cost::{Cost, RollbackCost};
pub use crate::engine::{AppRollout, Rollout, Timings};

/// Options of `deploy staging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingOptions {
    /// The revision to deploy.
    pub commit: String,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl StagingOptions {
    /// The command's arguments that run these options again:
    /// `deploy staging --commit abc… --dry-run`.
    pub(crate) fn arguments(&self) -> String {
        let mut arguments = format!("deploy staging --commit {}", self.commit);
        if self.dry_run.is_dry() {
            arguments.push_str(" --dry-run");
        }
        arguments
    }

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
    /// The command's arguments that run these options again:
    /// `deploy production --tag v1.2.0 --auto-rollback`.
    pub(crate) fn arguments(&self) -> String {
        let mut arguments = format!("deploy production --tag {}", self.tag);
        for (set, flag) in [
            (self.auto_rollback == AutoRollback::On, " --auto-rollback"),
            (self.gate == GateCheck::Skip, " --skip-staging-gate"),
            (self.dry_run.is_dry(), " --dry-run"),
        ] {
            if set {
                arguments.push_str(flag);
            }
        }
        arguments
    }

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
/// [`BadInput`](crate::BadInput) for an unknown revision or a bad config; a failed deployment
/// or probe, with what each environment runs now.
pub async fn staging(session: &Session, options: &StagingOptions) -> anyhow::Result<DeployReport> {
    let environment = EnvironmentName::Staging;
    let engine = Engine::open(session).context("deploy staging")?;
    let commit = engine
        .repo
        .resolve_commit(&options.commit)
        .context("deploy staging")?;
    if engine.repo.is_on_a_remote_branch(commit) == Some(false) {
        // Coolify fetches the commit from the remote: pinning one it cannot fetch would leave
        // staging pinned to a commit it cannot build.
        return Err(anyhow::Error::new(crate::Refused(format!(
            "{} is on no branch of the remote (no remote-tracking branch contains it), and Coolify builds from the remote: push it first (`git push origin HEAD:refs/heads/BRANCH`), or `git fetch` if it was pushed from elsewhere; nothing was changed",
            short(&commit.to_string())
        )))
        .context("deploy staging"));
    }
    let releases = engine.releases()?;
    let tag = releases.at_commit(commit).last().map(|r| r.tag().clone());
    let sha = commit_sha(commit).context("deploy staging")?;
    let commit = sha.to_string();
    // From here on an interruption can say what this run changed.
    let rerun = StagingOptions {
        commit: commit.clone(),
        dry_run: options.dry_run,
    }
    .arguments();
    engine.journal.track(rerun.clone());
    let live = engine
        .live(environment, &releases)
        .await
        .context("deploy staging")?;
    let report = |action: Action, rollout: Option<Rollout>, planned: Vec<String>| DeployReport {
        environment,
        commit: commit.clone(),
        tag: tag.as_ref().map(|t| t.name().to_owned()),
        action,
        previous: (!live.is_empty()).then(|| live.describe()),
        rollout,
        planned,
        costs: Vec::new(),
    };

    if options.dry_run.is_dry() {
        let planned = engine.plan(environment, &sha, tag.as_ref())?;
        return finish(&engine, report(Action::Planned, None, planned));
    }

    let targets = Target::every_app(&engine.config, environment, &sha, tag.as_ref());
    let mut recording = engine.record.run(
        &engine.journal,
        &engine.config,
        environment,
        &app_indexes(&targets),
        &release_ref(&sha, tag.as_ref()),
        Purpose::Release,
    );
    let failure = match engine
        .roll_out(
            environment,
            &targets,
            OnFailure::FinishStarted,
            &mut recording,
        )
        .await
    {
        Ok(rollout) => {
            recording.settle(&record::verified(&rollout)).await;
            return finish(&engine, report(Action::Deployed, Some(rollout), Vec::new()));
        }
        Err(failure) => failure,
    };
    if let Some(settlement) = record::failed(&failure) {
        recording.settle(&settlement).await;
    }
    let failed = Failed {
        release: tag.as_ref(),
        commit: &sha,
        failure,
        context: format!("deploy staging {}", short(&commit)),
        rollback: false,
        rerun: engine.invocation.command(
            StagingOptions {
                commit: commit.clone(),
                dry_run: DryRun::No,
            }
            .arguments(),
        ),
    };
    if is_single_image_failure(&engine, &failed.failure) {
        return Err(
            image_aftermath(&engine, &releases, &failed, "Production was not touched.").await,
        );
    }
    let fix = fix_staging(&engine, &failed);
    Err(aftermath(&engine, &releases, &failed, fix).await)
}

/// Deploy a release tag to production, gated on staging.
///
/// # Errors
///
/// [`BadInput`](crate::BadInput) for a malformed, unknown or pre-release tag (before anything
/// is contacted); [`Refused`](crate::Refused) when the staging gate is not met, the tag is
/// older than production's, or a deployment stays in flight; a failed deployment or probe
/// (after an automatic rollback when asked), with what each environment runs now.
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
    let rerun = options.arguments();
    session.journal.track(rerun.clone());
    let engine = Engine::from_parts(session, repo, config).context(context.clone())?;
    let releases = engine.releases()?;
    let commit = release.commit().to_string();

    let gate = if options.gate == GateCheck::AsConfigured
        && engine.config.deploy.staging_gate == StagingGate::Required
    {
        let sha = commit_sha(release.commit()).context(context.clone())?;
        staging_gate(
            &engine,
            &sha,
            &format!("{} ({})", release.tag(), sha.short()),
            &releases,
        )
        .await
        .context(context.clone())?
        .gate()
    } else {
        engine.output.warn(format!(
            "the staging gate is skipped: {} ({}) goes to production without proof that staging ran it",
            release.tag(),
            short(&commit)
        ));
        release_record::Gate::skipped(match options.gate {
            GateCheck::AsConfigured => "staging_gate = false in deploy.toml",
            GateCheck::Skip => "--skip-staging-gate",
        })
    };

    let settled = engine
        .settle_production(&releases, options.dry_run)
        .await
        .context(context.clone())?;
    refuse_downgrade(
        &engine.invocation,
        &releases,
        &settled.live,
        &release,
        "deploy production",
    )
    .context(context.clone())?;

    deploy_release(
        &engine,
        &ReleaseDeploy {
            releases: &releases,
            release: &release,
            settled: &settled,
            auto_rollback: options.auto_rollback,
            dry_run: options.dry_run,
            context: &context,
            rerun,
            purpose: Purpose::Release,
            gate: Some(gate),
        },
    )
    .await
}

/// A release to put on production, with what `deploy production` or `rollback` found first.
pub(crate) struct ReleaseDeploy<'a> {
    /// The repository's releases.
    pub(crate) releases: &'a Releases,
    /// The release.
    pub(crate) release: &'a TaggedRelease,
    /// What production ran before and after waiting out a deployment in flight.
    pub(crate) settled: &'a Settled,
    /// `--auto-rollback`.
    pub(crate) auto_rollback: AutoRollback,
    /// `--dry-run`.
    pub(crate) dry_run: DryRun,
    /// What the command is doing, the start of its error line.
    pub(crate) context: &'a str,
    /// The arguments that run the command again.
    pub(crate) rerun: String,
    /// What the record says the deploy is: a release, or a rollback from what ran.
    pub(crate) purpose: Purpose,
    /// What the record says the deploy relied on: the staging gate it passed or skipped (none
    /// for a rollback, which goes back to a release production ran).
    pub(crate) gate: Option<release_record::Gate>,
}

/// Put a release on production (shared by `deploy production` and `rollback`).
pub(crate) async fn deploy_release(
    engine: &Engine,
    deploy: &ReleaseDeploy<'_>,
) -> anyhow::Result<DeployReport> {
    let environment = EnvironmentName::Production;
    let ReleaseDeploy {
        releases,
        release,
        settled,
        context,
        ..
    } = *deploy;
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
    let targets = Target::every_app(&engine.config, environment, &sha, Some(release.tag()));

    // Idempotent: a release that is live on every app and answers healthy is left alone.
    if live.commit() == Some(&sha) && live.in_flight().is_none() {
        let probe_started = std::time::Instant::now();
        let outcomes = engine
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
                return finish(engine, report(Action::Deployed, Some(rollout), Vec::new()));
            }
            return finish(engine, report(Action::AlreadyLive, None, Vec::new()));
        }
        if let Some((_, outcome)) = failing {
            engine.output.warn(format!(
                "production runs {} but is not healthy ({}); deploying it again",
                release.tag(),
                outcome.verdict
            ));
        }
    }

    if deploy.dry_run.is_dry() {
        let mut planned = engine.plan(environment, &sha, Some(release.tag()))?;
        for app in live.apps.iter().rev() {
            if let Some(in_flight) = &app.runs.in_flight {
                planned.insert(
                    0,
                    format!(
                        "wait for production deployment {} ({}) to end",
                        in_flight.deployment, in_flight.status
                    ),
                );
            }
        }
        return finish(engine, report(Action::Planned, None, planned));
    }

    // Under --auto-rollback the first app that fails stops the whole environment, so that
    // it goes back together within the time one app takes.
    let on_failure = match deploy.auto_rollback {
        AutoRollback::On => OnFailure::StopAll,
        AutoRollback::Off => OnFailure::FinishStarted,
    };
    let mut recording = engine
        .record
        .run(
            &engine.journal,
            &engine.config,
            environment,
            &app_indexes(&targets),
            &release_ref(&sha, Some(release.tag())),
            deploy.purpose.clone(),
        )
        .gate(deploy.gate.clone());
    let failure = match engine
        .roll_out(environment, &targets, on_failure, &mut recording)
        .await
    {
        Ok(rollout) => {
            recording.settle(&record::verified(&rollout)).await;
            return finish(engine, report(Action::Deployed, Some(rollout), Vec::new()));
        }
        Err(failure) => failure,
    };
    if let Some(settlement) = record::failed(&failure) {
        recording.settle(&settlement).await;
    }
    let before = Before::of(before_live, releases, &sha);
    let failed = Failed {
        release: Some(release.tag()),
        commit: &sha,
        failure,
        context: context.to_owned(),
        rerun: engine.invocation.command(&deploy.rerun),
        rollback: matches!(deploy.purpose, Purpose::Rollback { .. }),
    };
    // A new image that did not start leaves the old container running: nothing to roll back.
    if is_single_image_failure(engine, &failed.failure) {
        return Err(image_aftermath(engine, releases, &failed, "Staging was not touched.").await);
    }
    // Production's code changes only through a deployment: roll back only when this run
    // started one (a failed build, a failed probe), never after a refused pin or deploy.
    match (deploy.auto_rollback, before.commit()) {
        (AutoRollback::On, Some(_)) if failed.failure.started_a_deployment() => {
            Err(roll_back(engine, releases, &before, failed, &mut recording).await)
        }
        _ => {
            let fix = fix_without_rollback(
                engine,
                &failed,
                &before,
                before_live.commit() == Some(&sha),
                deploy.auto_rollback,
            );
            Err(aftermath(engine, releases, &failed, fix).await)
        }
    }
}

/// The positions of the apps `targets` deploy.
fn app_indexes(targets: &[Target]) -> Vec<usize> {
    targets.iter().map(|target| target.app_index).collect()
}

/// A commit and its release tag, as the record names them.
pub(crate) fn release_ref(sha: &CommitSha, tag: Option<&ReleaseTag>) -> ReleaseRef {
    tag.and_then(|tag| ReleaseRef::tagged(sha.clone(), tag.name()).ok())
        .unwrap_or_else(|| ReleaseRef::commit(sha.clone()))
}

fn finish(engine: &Engine, report: DeployReport) -> anyhow::Result<DeployReport> {
    let output = &engine.output;
    if report.action != Action::Planned {
        output.github_output("commit", &report.commit)?;
        if let Some(tag) = &report.tag {
            output.github_output("tag", tag)?;
        }
        if let Some(rollout) = &report.rollout {
            output.github_output("deployment", &rollout.deployment)?;
        }
        output.step_summary(&report.summary())?;
    }
    Ok(report)
}
